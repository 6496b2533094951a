"""Regenerate the transform table in README.md from the registry.

The table sits between `<!-- transforms:start -->` and `<!-- transforms:end -->`; everything outside the
markers is left alone. Parameters and defaults are not repeated here: `augcli transforms NAME` shows them.

Usage:
    python scripts/readme_transforms.py           # rewrite README.md in place
    python scripts/readme_transforms.py --check   # exit 1 if README.md is out of date
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"
START, END = "<!-- transforms:start -->", "<!-- transforms:end -->"
# Families in reading order; any family not listed (a new one) follows, alphabetically.
FAMILY_ORDER = ("geometry", "color", "noise", "blur", "weather", "dropout", "mix")


def family_key(family: str) -> tuple[int, str]:
    return (FAMILY_ORDER.index(family) if family in FAMILY_ORDER else len(FAMILY_ORDER), family)


def escape(cell: str) -> str:
    return cell.replace("|", "\\|")


def render_table() -> str:
    """The Markdown table for every registered transform: grouped by family, names sorted within it."""
    from augcli.transforms import REGISTRY

    rows = sorted(REGISTRY.items(), key=lambda item: (family_key(item[1].family), item[0]))
    lines = ["| name | family | what it does |", "|---|---|---|"]
    lines += [f"| `{name}` | {spec.family} | {escape(spec.summary())} |" for name, spec in rows]
    lines += ["", f"{len(rows)} transforms."]
    return "\n".join(lines)


def with_table(text: str, table: str, start: str = START, end: str = END) -> str:
    """README text with the region between the markers replaced by `table`."""
    first, last = text.find(start), text.find(end)
    if first < 0 or last < first:
        raise SystemExit(f"{README.name}: markers {start} ... {end} not found")
    return text[: first + len(start)] + "\n" + table + "\n" + text[last:]


def rewrite(table: str, start: str, end: str, what: str, argv: list[str] | None, doc: str) -> int:
    """Rewrite one marked region of README.md (or, with --check, say whether it is out of date)."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report whether README.md is up to date")
    args = parser.parse_args(argv)
    current = README.read_text(encoding="utf-8")
    wanted = with_table(current, table, start, end)
    if args.check:
        if current != wanted:
            print(f"{README.name}: {what} is out of date; run `make docs`", file=sys.stderr)
            return 1
        return 0
    if current != wanted:
        README.write_text(wanted, encoding="utf-8")
    return 0


def main(argv: list[str] | None = None) -> int:
    return rewrite(render_table(), START, END, "transform table", argv, __doc__)


if __name__ == "__main__":
    sys.exit(main())
