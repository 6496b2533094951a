"""Spot-check sign-off: a person marks preview tiles as acceptable or not; CI holds the dataset to it.

`augcli preview --html --review` adds an OK / bad choice under every augmented tile and a button that saves the
verdicts as `review.json` (the page works offline: the file is built in the browser). `augcli audit OUT --review
review.json` then fails when a reviewed output is marked bad, or when the review was made with another recipe
than the dataset's, and records the verdicts beside the manifest (`OUT/review.json`).
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from augcli.errors import AugcliError
from augcli.imageio import write_atomic

REVIEW_NAME = "review.json"
REVIEW_KIND = "augcli-review"

SCRIPT = """
<script>
const REVIEW = {kind: "KIND", schema: 1, recipe_sha256: "SHA", title: TITLE};
function saveVerdicts() {
  const verdicts = {};
  document.querySelectorAll("figure[data-path]").forEach(f => {
    const chosen = f.querySelector("input[type=radio]:checked");
    if (chosen) verdicts[f.dataset.path] = chosen.value;
  });
  const text = JSON.stringify({...REVIEW, verdicts: verdicts}, null, 1);
  const link = document.createElement("a");
  link.href = URL.createObjectURL(new Blob([text], {type: "application/json"}));
  link.download = "NAME";
  link.click();
  document.getElementById("saved").textContent = Object.keys(verdicts).length + " verdicts saved as NAME";
}
</script>
"""


def page_script(recipe_sha256: str, title: str) -> str:
    return (
        SCRIPT.replace("KIND", REVIEW_KIND)
        .replace("SHA", recipe_sha256)
        .replace("TITLE", json.dumps(title).replace("</", "<\\/"))
        .replace("NAME", REVIEW_NAME)
    )


def page_header() -> str:
    return (
        '<p><b>Review:</b> mark each augmented tile OK or bad, then <button onclick="saveVerdicts()">save '
        f'verdicts</button> <span id="saved"></span>. Hand the file to <code>augcli audit OUT --review '
        f"{REVIEW_NAME}</code>: it fails when a reviewed output is marked bad.</p>"
    )


def tile_controls(path: str) -> str:
    """The OK / bad choice under one augmented tile, named after its expand output path."""
    name = html.escape(path, quote=True)
    return (
        f'<div class="review"><label><input type="radio" name="{name}" value="ok"> OK</label> '
        f'<label><input type="radio" name="{name}" value="bad"> bad</label></div>'
    )


def load_review(path: str | Path) -> dict[str, Any]:
    try:
        review = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise AugcliError(f"review file not found: {path}") from None
    except (OSError, ValueError) as exc:
        raise AugcliError(f"{path}: not a review file ({exc})") from None
    verdicts = review.get("verdicts") if isinstance(review, dict) else None
    valid = isinstance(verdicts, dict) and all(v in ("ok", "bad") for v in verdicts.values())
    if review.get("kind") != REVIEW_KIND or not valid:
        raise AugcliError(f"{path}: not a review file saved by `augcli preview --html --review`")
    return review


def review_findings(report: Any, header: dict[str, Any], paths: set[str], review: dict[str, Any], where: str):
    """Add the review's findings to an audit report: bad verdicts and a review of another recipe fail it."""
    if review.get("recipe_sha256") != header.get("recipe_sha256"):
        report.add(
            "review_mismatch",
            "integrity",
            f"{where} reviews recipe {str(review.get('recipe_sha256'))[:12]}, the dataset was made with "
            f"{str(header.get('recipe_sha256'))[:12]}: review the current recipe's preview",
        )
    for path, verdict in sorted(review["verdicts"].items()):
        if path not in paths:
            report.add("review_unknown", "warning", f"reviewed in {where} but not an output of this dataset", path)
        elif verdict == "bad":
            report.add("review_rejected", "integrity", f"marked bad in {where} by a reviewer", path)
    report.totals[("info", "reviewed")] += len(review["verdicts"])


def record(out: Path, review: dict[str, Any]) -> None:
    """The verdicts beside the manifest, so the dataset carries its sign-off."""
    write_atomic(out / REVIEW_NAME, (json.dumps(review, indent=1, sort_keys=True) + "\n").encode("utf-8"))
