"""Regenerate the "Coming from albumentations" table in README.md from augcli/albumentations_map.py.

The table sits between `<!-- albumentations:start -->` and `<!-- albumentations:end -->`; everything outside the
markers is left alone. tests/test_convert.py checks that the table is current and that every albumentations
2.0.8 image transform has a row.

Usage:
    python scripts/readme_albumentations.py           # rewrite README.md in place
    python scripts/readme_albumentations.py --check   # exit 1 if README.md is out of date
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"
START, END = "<!-- albumentations:start -->", "<!-- albumentations:end -->"


def escape(cell: str) -> str:
    return cell.replace("|", "\\|")


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
    start, end = text.find(START), text.find(END)
    if start < 0 or end < start:
        raise SystemExit(f"{README.name}: markers {START} ... {END} not found")
    return text[: start + len(START)] + "\n" + table + "\n" + text[end:]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report whether README.md is up to date")
    args = parser.parse_args(argv)
    current = README.read_text(encoding="utf-8")
    wanted = with_table(current, render_table())
    if args.check:
        if current != wanted:
            print(
                f"{README.name}: albumentations table is out of date; run scripts/readme_albumentations.py",
                file=sys.stderr,
            )
            return 1
        return 0
    if current != wanted:
        README.write_text(wanted, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
