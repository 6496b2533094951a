"""Spot-check sign-off: verdicts given on the preview page hold the expanded dataset in `audit --review`."""

from __future__ import annotations

import json
import re
from pathlib import Path

from augcli.cli import app
from tests.conftest import CONFIGS

RECIPE = CONFIGS / "default.yaml"


def page_review(page: str, verdicts: dict[str, str]) -> dict:
    """The file the page's button saves: its embedded header plus the chosen verdicts."""
    sha = re.search(r'recipe_sha256: "([0-9a-f]{64})"', page).group(1)
    return {"kind": "augcli-review", "schema": 1, "recipe_sha256": sha, "verdicts": verdicts}


def test_a_tile_marked_bad_fails_the_audit_and_the_sign_off_is_recorded(runner, tmp_path: Path, sample_copy) -> None:
    site = tmp_path / "preview"
    shown = runner.invoke(app, ["preview", str(RECIPE), str(sample_copy), "-o", str(site), "--html", "--review"])
    assert shown.exit_code == 0, shown.output
    page = (site / "index.html").read_text(encoding="utf-8")
    paths = re.findall(r'<figure data-path="([^"]+)"', page)
    assert paths and all("__aug" in p for p in paths), "every augmented tile, and only those, can be judged"
    assert page.count('type="radio"') == 2 * len(paths) and "saveVerdicts()" in page

    out = tmp_path / "out"
    assert runner.invoke(app, ["expand", str(RECIPE), str(sample_copy), "-o", str(out), "-q"]).exit_code == 0
    review = tmp_path / "review.json"
    review.write_text(json.dumps(page_review(page, {paths[0]: "bad", paths[1]: "ok"})))
    audit = runner.invoke(app, ["audit", str(out), "--review", str(review), "--format", "json", "--workers", "1"])
    report = json.loads(audit.stdout)
    assert audit.exit_code == 3
    assert [(f["check"], f["path"]) for f in report["findings"] if f["check"].startswith("review")] == [
        ("review_rejected", paths[0])
    ]
    assert json.loads((out / "review.json").read_text())["verdicts"] == {paths[0]: "bad", paths[1]: "ok"}

    approved = tmp_path / "approved.json"
    approved.write_text(json.dumps(page_review(page, {paths[0]: "ok", paths[1]: "ok"})))
    again = runner.invoke(app, ["audit", str(out), "--review", str(approved), "--workers", "1"])
    assert again.exit_code == 0, again.output
    plain = runner.invoke(app, ["audit", str(out), "--workers", "1"])
    assert plain.exit_code == 0 and "review.json" not in plain.output, "the recorded sign-off is not an orphan"


def test_a_review_of_another_recipe_fails(runner, tmp_path: Path, sample_copy) -> None:
    out = tmp_path / "out"
    assert runner.invoke(app, ["expand", str(RECIPE), str(sample_copy), "-o", str(out), "-q"]).exit_code == 0
    review = tmp_path / "review.json"
    review.write_text(json.dumps({"kind": "augcli-review", "recipe_sha256": "0" * 64, "verdicts": {}}))
    audit = runner.invoke(app, ["audit", str(out), "--review", str(review), "--workers", "1"])
    assert audit.exit_code == 3 and "review_mismatch" in audit.output


def test_review_needs_the_html_page_and_a_review_file(runner, tmp_path: Path, sample_copy) -> None:
    sheet = runner.invoke(app, ["preview", str(RECIPE), str(sample_copy), "-o", str(tmp_path / "s.png"), "--review"])
    assert sheet.exit_code == 2 and "--review needs --html" in sheet.output
    (tmp_path / "junk.json").write_text("{}")
    out = tmp_path / "out"
    assert runner.invoke(app, ["expand", str(RECIPE), str(sample_copy), "-o", str(out), "-q"]).exit_code == 0
    audit = runner.invoke(app, ["audit", str(out), "--review", str(tmp_path / "junk.json")])
    assert audit.exit_code == 2 and "not a review file" in audit.output
