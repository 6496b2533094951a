"""`augcli audit s3://bucket/expanded [--source s3://bucket/data]`: the local audit, on objects.

The manifest is fetched once to a temporary local file (the streaming pass reads it line by line); every
output and source is then read through storage.py by the same worker functions as a local audit, and the
orphan check lists the output's objects. Paths from the manifest are vetted lexically (an object key has
no symlink to follow out of the output).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from augcli import storage
from augcli.audit import _Audit, source_location
from augcli.audit_report import AuditReport, balance_warnings
from augcli.errors import DatasetError, ManifestError
from augcli.executor import default_workers
from augcli.imageio import DEFAULT_MAX_PIXELS
from augcli.manifest import MANIFEST_NAME
from augcli.recipe import load_recipe


def audit_remote(
    target: str,
    *,
    source: str | None = None,
    recipe: str | Path | None = None,
    replay: float | None = None,
    near_dup_threshold: int = 6,
    imbalance_warn: float = 3.0,
    workers: int | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> AuditReport:
    target = target.rstrip("/")
    shown = storage.redact(target)
    files = not target.endswith(".jsonl")  # a folder of objects, or a manifest object alone
    if files:
        out, manifest_rel = target, MANIFEST_NAME
    else:
        out, _, manifest_rel = target.rpartition("/")
    source_root = source_location(source)
    wanted = load_recipe(recipe) if recipe is not None else None
    report = AuditReport(shown, storage.redact(storage.join(out, manifest_rel)), files)
    run = _Audit(report, out if files else None, source_root, workers or default_workers())  # type: ignore[arg-type]
    run.wanted, run.threshold, run.max_pixels, run.replay = wanted, near_dup_threshold, max_pixels, replay
    with tempfile.TemporaryDirectory(prefix="augcli-audit-") as local:
        manifest = Path(local) / MANIFEST_NAME
        try:
            storage.download(out, manifest_rel, manifest)
        except FileNotFoundError:
            if files and not storage.exists(target):
                raise DatasetError(f"nothing to audit at {shown}: give an expanded dataset or its manifest") from None
            raise ManifestError(
                f"{shown} holds no {MANIFEST_NAME}: not an expanded dataset, or its run never finished"
            ) from None
        except OSError as exc:
            raise DatasetError(f"cannot read {shown}: {storage.describe(exc)}") from None
        run.run(manifest)
    balance_warnings(report, imbalance_warn)
    return report
