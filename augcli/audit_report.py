"""What `augcli audit` found, and its three renderings: text for people, JSON for machines, GitHub
workflow commands for CI annotations. Returns strings; never prints."""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from augcli.errors import ExitCode
from augcli.textsafe import printable

KEEP_PER_CHECK = 200  # findings listed per check; the rest are counted (a 100k-row disaster stays readable)


@dataclass
class Finding:
    check: str  # missing, changed, orphan, duplicate_path, malformed_row, unsafe_path, label_mismatch, ...
    severity: str  # "leakage", "integrity" or "warning"
    message: str
    path: str | None = None  # relative to the audited output folder (or the source dataset for source_*)
    line: int | None = None  # manifest line


@dataclass
class AuditReport:
    target: str
    manifest: str
    files_checked: bool
    rows: int = 0
    files_hashed: int = 0
    findings: list[Finding] = field(default_factory=list)
    totals: Counter = field(default_factory=Counter)  # (severity, check) -> count, listed or not
    balance: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)  # split -> class -> counts
    near_duplicates: list[dict[str, Any]] = field(default_factory=list)
    identity: list[dict[str, Any]] = field(default_factory=list)
    replayed: int = 0
    replay_matched: int = 0

    def add(self, check: str, severity: str, message: str, path: str | None = None, line: int | None = None) -> None:
        self.totals[(severity, check)] += 1
        if self.totals[(severity, check)] <= KEEP_PER_CHECK:
            self.findings.append(Finding(check, severity, message, path, line))

    def count(self, severity: str) -> int:
        return sum(n for (s, _), n in self.totals.items() if s == severity)

    @property
    def exit_code(self) -> ExitCode:
        """Leakage outranks integrity: a leak silently inflates evaluation scores, so CI must say so first."""
        if self.count("leakage"):
            return ExitCode.LEAKAGE
        if self.count("integrity"):
            return ExitCode.INTEGRITY
        return ExitCode.OK


def to_json(report: AuditReport) -> str:
    data = asdict(report)
    data["totals"] = [{"severity": s, "check": c, "count": n} for (s, c), n in sorted(report.totals.items())]
    data["exit_code"] = int(report.exit_code)
    return json.dumps(data, indent=2, sort_keys=True)


def to_text(report: AuditReport) -> str:
    lines = [f"audit of {report.target} ({report.rows} rows, {report.files_hashed} files hashed)"]
    if not report.files_checked:
        lines.append("manifest only: files, orphans and near-duplicates not checked")
    for finding in report.findings:
        where = f"{finding.path}: " if finding.path else ""
        at = f" (manifest line {finding.line})" if finding.line else ""
        lines.append(f"{finding.severity.upper():9} {finding.check:15} {where}{finding.message}{at}")
    for (severity, check), n in sorted(report.totals.items()):
        if n > KEEP_PER_CHECK:
            lines.append(f"{severity.upper():9} {check:15} ... and {n - KEEP_PER_CHECK} more")
    lines += ["", "split       class             originals  augmented"]
    for split, classes in sorted(report.balance.items()):
        for label, c in sorted(classes.items()):
            lines.append(f"{printable(split):11} {printable(label):16} {c['originals']:10} {c['augmented']:10}")
    identity = {c.removeprefix("identity_"): n for (s, c), n in report.totals.items() if s == "info"}
    if identity:
        kinds = ", ".join(f"{how} {n}" for how, n in sorted(identity.items()))
        lines.append(f"identity outputs (every gate failed, or no visible change): {sum(identity.values())} ({kinds})")
        lines += [f"  {item['path']} ({item['how']})" for item in report.identity[:20]]
    if report.replayed:
        lines.append(f"replay: {report.replay_matched} of {report.replayed} outputs rebuilt byte for byte")
    verdict = {ExitCode.OK: "clean", ExitCode.LEAKAGE: "LEAKAGE", ExitCode.INTEGRITY: "INTEGRITY FAILURE"}
    lines.append(
        f"{verdict[report.exit_code]}: {report.count('leakage')} leakage, {report.count('integrity')} integrity, "
        f"{report.count('warning')} warnings"
    )
    # Paths and messages name files: one holding a newline or an escape sequence must stay on its line and never
    # reach the terminal raw. JSON and github keep (their own encoding of) the exact names.
    return "\n".join(printable(line) for line in lines)


def to_github(report: AuditReport) -> str:
    """Workflow commands (`::error file=...,line=...::message`) that GitHub shows as annotations."""
    lines = []
    for finding in report.findings:
        command = "warning" if finding.severity == "warning" else "error"
        props = []
        if finding.path and finding.check.startswith("source_"):
            props.append(f"file={_prop(finding.path)}")
        elif finding.path:
            props.append(f"file={_prop(os.path.join(report.target, finding.path))}")
        else:
            props.append(f"file={_prop(report.manifest)}")
            if finding.line:
                props.append(f"line={finding.line}")
        props.append(f"title={_prop(f'augcli audit: {finding.check}')}")
        lines.append(f"::{command} {','.join(props)}::{_data(finding.message)}")
    lines.append(to_text(report).splitlines()[-1])
    return "\n".join(lines)


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _prop(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def balance_warnings(report: AuditReport, ratio: float) -> None:
    for split, classes in report.balance.items():
        totals = {label: c["originals"] + c["augmented"] for label, c in classes.items()}
        if len(totals) < 2:
            continue
        most, least = max(totals, key=totals.__getitem__), min(totals, key=totals.__getitem__)
        if totals[least] == 0 or totals[most] / totals[least] > ratio:
            report.add(
                "imbalance",
                "warning",
                f"split {split}: {most} has {totals[most]} images, {least} {totals[least]} (ratio above {ratio:g})",
            )
