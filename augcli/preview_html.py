"""`augcli preview --html`: a self-contained folder (index.html, sheet.png, tiles/...) viewable offline.

Tiles keep their expand-relative paths under tiles/, so `tiles/<path>` can be compared with the file
`expand` writes at `<out>/<path>`. Formats browsers do not show (TIFF) get an extra PNG to display.
"""

from __future__ import annotations

import html
import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import quote

import cv2

from augcli import review as reviewing
from augcli.imageio import write_atomic
from augcli.sheet import default_tile_size, displayable, draw_sheet, encode_png
from augcli.textsafe import printable

BROWSER_FORMATS = {".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp"}
STYLE = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 16px; background: #fafafa; color: #191919; }
h1 { font-size: 18px; } section { border-top: 1px solid #ccc; padding: 8px 0; }
.row { display: flex; flex-wrap: wrap; gap: 12px; }
figure { margin: 0; width: SIZEpx; }
figure img { width: SIZEpx; height: SIZEpx; object-fit: contain; background: #3c3c3c; image-rendering: auto; }
figcaption { font-size: 12px; word-wrap: break-word; } figcaption b { font-size: 13px; }
pre { font-size: 11px; white-space: pre-wrap; background: #eee; padding: 4px; }
"""


def write_page(result: Any, folder: Path, tile_size: int | None = None, review: bool = False) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    columns = max((len(r) for r in result.rows), default=1)
    size = tile_size or min(default_tile_size(columns), 260)
    write_atomic(folder / "sheet.png", encode_png(draw_sheet(result.rows, result.title, tile_size)))
    sections = []
    for row in result.rows:
        figures = [_figure(folder, tile, review) for tile in row]
        sections.append(f'<section><div class="row">{"".join(figures)}</div></section>')
    skipped = "".join(
        f"<li>{_text(s['source'])}: {_text(s['reason'])} ({_text(s['message'])})</li>" for s in result.skipped
    )
    page = "\n".join(
        [
            "<!doctype html>",
            '<html lang="en"><head><meta charset="utf-8">',
            f"<title>{_text(result.title)}</title>",
            f"<style>{STYLE.replace('SIZE', str(size))}</style></head><body>",
            f"<h1>{_text(result.title)}</h1>",
            '<p>The whole sheet as one image: <a href="sheet.png">sheet.png</a>. '
            "Each tile links to its file; the details are what the manifest would record.</p>",
            f"<p>Not shown (unreadable):</p><ul>{skipped}</ul>" if skipped else "",
            reviewing.page_header() if review else "",
            *sections,
            reviewing.page_script(result.recipe_sha256, result.title) if review else "",
            "</body></html>",
            "",
        ]
    )
    index = folder / "index.html"
    write_atomic(index, page.encode("utf-8"))
    return index


def _figure(folder: Path, tile: Any, review: bool = False) -> str:
    relative = f"tiles/{tile.path}"
    target = folder / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(target, tile.data)
    shown = relative
    overlay = getattr(tile, "overlay", None)  # annotated datasets: show the boxes and mask, link the file
    if overlay is not None or os.path.splitext(tile.path)[1].lower() not in BROWSER_FORMATS:  # e.g. TIFF
        shown = f"{relative}.view.png"
        ok, buffer = cv2.imencode(".png", overlay if overlay is not None else displayable(tile.image))
        if ok:
            write_atomic(folder / shown, buffer.tobytes())
    lines = "<br>".join(
        f"<b>{_text(line)}</b>" if number == 0 else _text(line) for number, line in enumerate(tile.caption)
    )
    details = html.escape(json.dumps(tile.details, indent=1, ensure_ascii=True))
    reviewed = review and tile.details.get("kind") == "augmented"  # verdicts name expand's output paths
    opening = f'<figure data-path="{html.escape(tile.path, quote=True)}">' if reviewed else "<figure>"
    return (
        f'{opening}<a href="{_url(relative)}"><img src="{_url(shown)}" alt="{_text(tile.path)}" '
        f'loading="lazy"></a><figcaption>{lines}{reviewing.tile_controls(tile.path) if reviewed else ""}'
        f"<details><summary>details</summary><pre>{details}</pre></details></figcaption></figure>"
    )


def _text(text: str) -> str:
    """Text for the page: printable first (a name that is not valid UTF-8 could not even be encoded into the
    page, and control characters would be invisible), then HTML-escaped."""
    return html.escape(printable(text))


def _url(path: str) -> str:
    """Relative link; undecodable file names were kept as surrogate escapes and go back to their bytes."""
    return quote(path.encode("utf-8", "surrogateescape"))
