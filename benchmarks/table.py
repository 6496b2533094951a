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
    cpu_ms: float | None = None  # CPU milliseconds per output, whole process tree (workers included)

    def cells(self) -> list[str]:
        ratio = "" if self.ratio is None else f"{self.ratio:.2f}"
        met = {True: "yes", False: "**no**", None: ""}[self.met]
        cpu = "" if self.cpu_ms is None else f"{self.cpu_ms:.2f}"
        return [self.measure, self.value, cpu, self.versus, ratio, self.target, met]


def render(rows: list[Row]) -> str:
    header = ["measure", "value", "CPU ms/output", "compared with", "ratio", "target", "met"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row.cells()) + " |" for row in rows]
    return "\n".join(lines)
