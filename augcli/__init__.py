"""augcli: offline, reproducible, auditable image dataset augmentation.

The Python API (README "Python API") is importable from here; it loads on first use, so `augcli --help` and
`import augcli` stay light.
"""

from augcli.version import __version__

API = ("AugmentResult", "Augmenter", "audit", "expand", "load_recipe")
__all__ = ["__version__", *API]


def __getattr__(name: str):
    if name in API:
        from augcli import api

        return getattr(api, name)
    raise AttributeError(f"module 'augcli' has no attribute {name!r}")
