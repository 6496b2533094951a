"""One row of the benchmark table and the Markdown it renders to; every section of `make bench` returns Rows."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Row:
    measure: str
    value: str
    versus: str = ""
    ratio: float | None = None
    target: str = ""
    met: bool | None = None

    def cells(self) -> list[str]:
        ratio = "" if self.ratio is None else f"{self.ratio:.2f}"
        met = {True: "yes", False: "**no**", None: ""}[self.met]
        return [self.measure, self.value, self.versus, ratio, self.target, met]


def render(rows: list[Row]) -> str:
    header = ["measure", "value", "compared with", "ratio", "target", "met"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row.cells()) + " |" for row in rows]
    return "\n".join(lines)
