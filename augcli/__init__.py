"""augcli: offline, reproducible, auditable image dataset augmentation."""

__version__ = "0.1.0"
