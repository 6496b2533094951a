"""The one family of user-facing errors, and the one place they become exit codes.

The library raises these with messages written for users; the CLI prints the message (no traceback)
and exits with the code the class names.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    FAILURES = 1  # the run finished but some inputs could not be processed
    USAGE = 2  # bad command line, recipe or paths: nothing was done
    INTEGRITY = 3  # audit: files missing, changed or unlisted
    LEAKAGE = 4  # audit: evaluation data reached the train split
    INTERRUPTED = 130


class AugcliError(Exception):
    """Base class: a problem the user can act on."""

    exit_code: ExitCode = ExitCode.USAGE


class RecipeError(AugcliError):
    """The recipe file is unreadable or does not validate."""


class DatasetError(AugcliError):
    """The dataset root or its layout is unusable."""


class OutputError(AugcliError):
    """The output location is unusable (inside the input, not empty, not writable)."""


class StorageError(AugcliError):
    """A URL cannot be used: the extra is missing, or the store refused the request."""


class ClusterError(AugcliError):
    """The Dask extra is missing, or the cluster cannot be reached or used."""


class WorkerVersionError(ClusterError):
    """A worker runs other versions of the libraries that decide the output bytes than the driver."""


class ImageReadError(AugcliError):
    """One source image could not be decoded; the run skips it and reports it.

    `reason` is a short stable code (empty, not_an_image, truncated, too_large, ...) that the
    summary groups by and the manifest records.
    """

    exit_code = ExitCode.FAILURES

    def __init__(self, path: str, reason: str, detail: str = "") -> None:
        self.path = path
        self.reason = reason
        self.detail = detail
        super().__init__(f"{path}: {reason}" + (f" ({detail})" if detail else ""))


class ManifestError(AugcliError):
    """A manifest is missing, malformed or of an unknown schema version."""

    exit_code = ExitCode.INTEGRITY
