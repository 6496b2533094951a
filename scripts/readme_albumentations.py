"""Regenerate the "Coming from albumentations" table in README.md from augcli/albumentations_map.py.

The table sits between `<!-- albumentations:start -->` and `<!-- albumentations:end -->`; everything outside the
markers is left alone. tests/test_convert.py checks that the table is current and that every albumentations
2.0.8 image transform has a row.

Usage:
    python scripts/readme_albumentations.py           # rewrite README.md in place
    python scripts/readme_albumentations.py --check   # exit 1 if README.md is out of date
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the sibling script that rewrites marked regions
import readme_transforms  # noqa: E402
from readme_transforms import escape  # noqa: E402

START, END = "<!-- albumentations:start -->", "<!-- albumentations:end -->"


def render_table() -> str:
    from augcli.albumentations_map import ALBUMENTATIONS_VERSION, MAPPING, counts

    lines = ["| albumentations | kind | augcli | parameters, or why there is none |", "|---|---|---|---|"]
    for name, entry in sorted(MAPPING.items()):
        related = "" if entry.exact else " (related)"
        target = "none" if entry.augcli is None else f"`{entry.augcli}`{related}"
        detail = entry.params + (f". Differs: {entry.differs}" if entry.differs else "")
        lines.append(f"| `{name}` | {entry.kind} | {target} | {escape(detail)} |")
    exact, related, none = counts()
    lines += [
        "",
        f"{len(MAPPING)} albumentations {ALBUMENTATIONS_VERSION} transforms: {exact} map to the same operation, "
        f"{related} to a related one (converted, with a note), {none} have no equivalent (reported, exit 1).",
    ]
    return "\n".join(lines)


def with_table(text: str, table: str) -> str:
    return readme_transforms.with_table(text, table, START, END)


def main(argv: list[str] | None = None) -> int:
    return readme_transforms.rewrite(render_table(), START, END, "albumentations table", argv, __doc__)


if __name__ == "__main__":
    sys.exit(main())
