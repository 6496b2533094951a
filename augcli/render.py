"""Text the CLI shows: the expand summary and the transform listing. Returns strings; never prints."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from augcli.errors import AugcliError
from augcli.textsafe import printable


def expand_summary(result: Any) -> str:
    rows = [("split", "class", "sources", "originals", "augmented", "after", "skipped")]
    for (split, label), c in sorted(result.counts.items(), key=lambda kv: (kv[0][0] or "", kv[0][1])):
        after = str(c.originals + c.augmented)
        counts = (str(c.sources), str(c.originals), str(c.augmented), after, str(c.skipped))
        rows.append((printable(split or "-"), printable(label) or "(images)", *counts))
    lines = _table(rows, left=2)
    objects = getattr(result, "objects", None)
    if objects:  # annotated datasets: objects per class, in the sources and in everything written
        table = [("split", "objects of class", "before", "after")]
        for split, per_class in sorted(objects.items()):
            table += [(printable(split), printable(name), str(b), str(a)) for name, (b, a) in sorted(per_class.items())]
        lines += ["", *_table(table, left=2)]
    rate = result.outputs / result.seconds if result.seconds else 0.0
    lines.append("")
    lines.append(
        f"{result.sources} sources read, {result.outputs} images written in {result.seconds:.1f} s "
        f"({rate:.0f} images/s) -> {result.output}"
    )
    lines.append(f"manifest: {result.manifest}")
    if getattr(result, "resumed", 0):
        lines.append(
            f"resumed: {result.resumed} sources already done were verified and kept; {result.processed} processed"
        )
    if result.empty_classes:
        lines.append(f"empty class folders: {', '.join(result.empty_classes)}")
    if result.ignored:
        lines.append(f"{result.ignored} non-image files ignored")
    for warning in getattr(result, "warnings", []):
        lines.append(f"warning: {warning}")
    if result.skipped:
        reasons = Counter(row["reason"] for row in result.skipped)
        lines.append(
            f"{len(result.skipped)} files skipped: " + ", ".join(f"{r} {n}" for r, n in sorted(reasons.items()))
        )
        for row in result.skipped[:20]:
            lines.append(f"  {row['source']}: {row['reason']}: {row['message']}")
        if len(result.skipped) > 20:
            lines.append(f"  ... {len(result.skipped) - 20} more (see the manifest's skipped rows)")
    return _one_line_each(lines)


def _table(rows: list[tuple[str, ...]], left: int) -> list[str]:
    """Columns padded to their widest cell; the first `left` columns left-aligned, the rest right-aligned."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(
            cell.ljust(w) if i < left else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in rows
    ]


def tta_summary(result: Any) -> str:
    where = f"split {result.split}" if result.split else "every image"
    lines = [
        f"{result.sources} sources ({where}) x {len(result.views)} views: {result.outputs} images written "
        f"in {result.seconds:.1f} s -> {result.output}",
        f"views: {', '.join(result.views)}",
        f"manifest: {result.manifest}",
    ]
    if result.skipped:
        lines.append(f"{len(result.skipped)} files skipped:")
        lines.extend(f"  {row['source']}: {row['reason']}: {row['message']}" for row in result.skipped[:20])
    return _one_line_each(lines)


def _one_line_each(lines: list[str]) -> str:
    """Join summary lines, each made printable: they carry file names, class names and messages quoting them
    (a name holding a newline or an escape sequence must not split a line or colour the terminal)."""
    return "\n".join(printable(line) for line in lines)


def transform_table() -> str:
    from augcli.recipe import BLOCKS
    from augcli.transforms import REGISTRY

    lines = []
    by_family: dict[str, list[str]] = {}
    for name, spec in REGISTRY.items():
        by_family.setdefault(spec.family, []).append(name)
    for family in sorted(by_family):
        lines.append(f"{family}:")
        for name in sorted(by_family[family]):
            spec = REGISTRY[name]
            lines.append(f"  {name:<24} {spec.summary()}")
            lines.append(f"  {'':<24} {_parameters_line(spec)}")
    lines.append("composition:")
    for name, block in BLOCKS.items():
        lines.append(f"  {name:<24} {(block.__doc__ or '').strip()}")
    lines.append(f"\n{len(REGISTRY)} transforms. `augcli transforms NAME` shows one with a YAML example.")
    return "\n".join(lines)


def transform_detail(name: str) -> str:
    from augcli.recipe import suggest
    from augcli.transforms import REGISTRY

    spec = REGISTRY.get(name)
    if spec is None:
        raise AugcliError(f"unknown transform {name!r}{suggest(name, sorted(REGISTRY))}")
    lines = [f"{name} ({spec.family}): {spec.summary()}", "", "parameters:"]
    for field_name, info in spec.model_fields.items():
        if field_name == "name":
            continue
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        bounds = f" within {extra['bounds']}" if "bounds" in extra else ""
        lines.append(f"  {field_name} = {json.dumps(_default(info))}{bounds}  {info.description or ''}".rstrip())
    lines += ["", "example:", f"  - {json.dumps(spec.example or {'name': name})}"]
    return "\n".join(lines)


def _parameters_line(spec: Any) -> str:
    parts = [f"{n}={json.dumps(_default(i))}" for n, i in spec.model_fields.items() if n != "name"]
    return " ".join(parts)


def _default(info: Any) -> Any:
    value = info.get_default(call_default_factory=True)
    return list(value) if isinstance(value, tuple) else value
