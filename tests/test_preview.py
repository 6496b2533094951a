"""`augcli preview`: tiles equal expand's files, captions, --each, reading only what is shown, the CLI."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

import augcli.preview as preview_module
from augcli.cli import app
from augcli.preview import preview
from tests.conftest import CONFIGS, REPO, make_dataset, textured, write_image, write_recipe

MIXED_RECIPE = """
seed: 11
copies: 3
transforms:
  - {name: hflip, p: 0.5}
  - {name: rotate, angle_range: [-20, 20], border_mode: reflect, p: 0.8}
  - name: one_of
    transforms:
      - {name: gaussian_noise, sigma_range: [0.01, 0.03]}
      - {name: brightness_contrast, brightness_range: [-0.2, 0.2]}
"""


def mixed_dataset(root: Path) -> Path:
    """Every image kind the sheet must draw: JPEG colour, grey PNG, RGBA PNG, 16-bit PNG."""
    make_dataset(root, {"cats": 3})
    write_image(root / "dogs" / "grey.png", textured(kind="gray", seed=5))
    write_image(root / "dogs" / "alpha.png", textured(kind="rgba", seed=6))
    write_image(root / "dogs" / "deep.png", textured(kind="rgb16", seed=7))
    return root


def test_tiles_are_byte_identical_to_expand_outputs(tmp_path, runner):
    data = mixed_dataset(tmp_path / "data")
    recipe = write_recipe(tmp_path / "r.yaml", MIXED_RECIPE)
    out = tmp_path / "out"
    assert runner.invoke(app, ["expand", str(recipe), str(data), "-o", str(out), "--workers", "1", "-q"]).exit_code == 0
    page = tmp_path / "page"
    result = runner.invoke(app, ["preview", str(recipe), str(data), "--html", "-o", str(page), "--per-class", "5"])
    assert result.exit_code == 0, result.output
    assert "24 tiles in 6 rows" in result.output  # 6 sources x (original + 3 copies)
    tiles = sorted(p.relative_to(page / "tiles").as_posix() for p in (page / "tiles").rglob("*") if p.is_file())
    assert len(tiles) == 24
    assert sum("__aug" in t for t in tiles) == 18
    for tile in tiles:
        assert (page / "tiles" / tile).read_bytes() == (out / tile).read_bytes(), tile
    manifest = [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]
    by_path = {row["path"]: row for row in manifest if row["type"] == "output"}
    text = (page / "index.html").read_text()
    details = [json.loads(html.unescape(d)) for d in re.findall(r"<pre>(.*?)</pre>", text, re.S)]
    assert len(details) == 24
    for shown in details:  # the page carries what the manifest records for each copy
        if shown["kind"] == "augmented":
            row = by_path[shown["path"]]
            assert (shown["transforms"], shown["seed"], shown["copy"]) == (row["transforms"], row["seed"], row["copy"])


def test_seed_option_matches_expand_with_that_seed(tmp_path, runner):
    data = make_dataset(tmp_path / "data", {"a": 2})
    recipe = write_recipe(tmp_path / "r.yaml", MIXED_RECIPE)
    reseeded = write_recipe(tmp_path / "r7.yaml", MIXED_RECIPE.replace("seed: 11", "seed: 7"))
    out = tmp_path / "out"
    assert (
        runner.invoke(app, ["expand", str(reseeded), str(data), "-o", str(out), "--workers", "1", "-q"]).exit_code == 0
    )
    page = tmp_path / "page"
    args = ["preview", str(recipe), str(data), "--html", "-o", str(page), "--seed", "7", "--copies", "2"]
    assert runner.invoke(app, args).exit_code == 0
    copies = sorted((page / "tiles").rglob("*__aug*"))
    assert [p.name for p in copies] == [f"img_00{s}__aug0{c}.jpg" for s in (0, 1) for c in (0, 1)]
    for path in copies:
        assert path.read_bytes() == (out / path.relative_to(page / "tiles")).read_bytes()


def test_sheet_is_deterministic_and_draws_every_image_kind(tmp_path, runner):
    data = mixed_dataset(tmp_path / "data")
    recipe = write_recipe(tmp_path / "r.yaml", MIXED_RECIPE)
    sheets = []
    for name in ("one.png", "two.png"):
        args = ["preview", str(recipe), str(data), "-o", str(tmp_path / name), "--per-class", "3"]
        assert runner.invoke(app, args).exit_code == 0
        sheets.append((tmp_path / name).read_bytes())
    assert sheets[0] == sheets[1]
    sheet = cv2.imdecode(np.frombuffer(sheets[0], np.uint8), cv2.IMREAD_UNCHANGED)
    assert sheet.dtype == np.uint8 and sheet.ndim == 3 and sheet.shape[2] == 3
    assert 1400 <= sheet.shape[1] <= 1600  # the default layout fills about 1600 px
    assert not list(tmp_path.glob(".*.tmp"))
    args = ["preview", str(recipe), str(data), "-o", str(tmp_path / "small.png"), "--per-class", "3", "--colors", "64"]
    assert runner.invoke(app, args).exit_code == 0
    with Image.open(tmp_path / "small.png") as small:
        assert small.mode == "P" and small.size == (sheet.shape[1], sheet.shape[0])
    assert (tmp_path / "small.png").stat().st_size < len(sheets[0]) / 2


def test_readme_shows_a_preview_image_made_by_the_tool():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "![augcli preview" in readme and "(docs/preview.png)" in readme
    image = REPO / "docs" / "preview.png"
    assert image.stat().st_size < 400_000
    with Image.open(image) as shown:
        assert shown.format == "PNG" and shown.width == 1600


def test_captions_name_class_source_and_applied_params(tmp_path):
    data = make_dataset(tmp_path / "data", {"ants": 4, "bees": 4})
    recipe = write_recipe(
        tmp_path / "r.yaml",
        "copies: 2\ntransforms:\n  - {name: hflip}\n  - {name: rotate, angle_range: [-12.25, -12.25]}\n",
    )
    result = preview(recipe, data, per_class=3, copies=5)
    assert len(result.rows) == 6 and all(len(row) == 3 for row in result.rows)  # copies capped at the recipe's 2
    for row in result.rows:
        label, name = row[0].details["label"], row[0].details["source"].split("/")[-1]
        assert all(tile.caption[0] == f"{label}: {name}" for tile in row)
        assert row[0].caption[1].startswith("original 56x40")
        assert [tile.caption[1].split(":")[0] for tile in row[1:]] == ["copy 0", "copy 1"]
        assert all(tile.caption[2:] == ["hflip", "rotate -12.2"] for tile in row[1:])
    again = preview(recipe, data, per_class=3)
    assert [r[0].path for r in again.rows] == [r[0].path for r in result.rows]  # the pick follows the seed
    reseeded = preview(recipe, data, per_class=3, seed=99)
    assert [r[0].path for r in reseeded.rows] != [r[0].path for r in result.rows]


def test_each_shows_low_middle_high_of_every_range(tmp_path, runner):
    data = make_dataset(tmp_path / "data", {"a": 2, "b": 2})
    recipe = write_recipe(
        tmp_path / "r.yaml",
        """
transforms:
  - {name: rotate, angle_range: [-30, 30], p: 0.1}
  - name: one_of
    transforms:
      - {name: brightness_contrast, brightness_range: [-0.2, 0.4], contrast_range: [0, 0]}
      - {name: hflip}
""",
    )
    result = preview(recipe, data, each=True)
    assert [row[1].details["step"] for row in result.rows] == ["0", "1.0", "1.1"]
    assert [len(row) for row in result.rows] == [4, 4, 2]  # original + low/mid/high; a fixed range is not varied
    rotate = result.rows[0]
    assert [t.caption[1] for t in rotate[1:]] == ["angle_range low: -30", "angle_range mid: 0", "angle_range high: 30"]
    assert [t.caption[2] for t in rotate[1:]] == ["-> angle=-30", "-> angle=0", "-> angle=30"]
    assert [t.caption[1] for t in result.rows[1][1:]][::2] == [
        "brightness_range low: -0.2",
        "brightness_range high: 0.4",
    ]
    assert result.rows[2][1].caption[1:] == ["always applied"]
    sheet = tmp_path / "each.png"
    args = ["preview", str(recipe), str(data), "--each", "-o", str(sheet)]
    cli = runner.invoke(app, args)
    assert cli.exit_code == 0 and "10 tiles in 3 rows" in cli.output
    page = tmp_path / "page"
    assert runner.invoke(app, [*args[:-2], "--html", "-o", str(page)]).exit_code == 0
    text = (page / "index.html").read_text()
    assert "angle_range low: -30" in text and "angle_range high: 30" in text
    assert (page / "tiles" / "each" / "0_rotate_angle_range_high.jpg").is_file()


def test_each_middle_of_an_integer_range_is_an_integer(tmp_path):
    data = make_dataset(tmp_path / "data", {"a": 1})
    recipe = write_recipe(tmp_path / "r.yaml", "transforms:\n  - {name: rot90, k_range: [0, 3]}\n")
    row = preview(recipe, data, each=True).rows[0]
    assert [t.caption[1] for t in row[1:]] == ["k_range low: 0", "k_range mid: 1", "k_range high: 3"]
    assert [t.details["transforms"][0]["params"]["k"] for t in row[1:]] == [0, 1, 3]


def test_preview_reads_only_the_sources_it_shows(tmp_path, monkeypatch, runner):
    data = make_dataset(tmp_path / "data", {"a": 6, "b": 6, "c": 6})
    (data / "c" / "img_900.jpg").write_bytes(b"not an image at all")  # in a class that is not shown
    recipe = write_recipe(tmp_path / "r.yaml", MIXED_RECIPE)
    decoded: list[str] = []
    real_decode = preview_module.decode
    monkeypatch.setattr(
        preview_module, "decode", lambda data, name, *a: decoded.append(name) or real_decode(data, name, *a)
    )
    result = preview(recipe, data, per_class=2, classes=["a", "b"])
    assert sorted(decoded) == sorted(row[0].details["source"] for row in result.rows)
    assert len(decoded) == 4 and not result.skipped
    decoded.clear()
    preview(recipe, data, each=True)
    assert len(decoded) == 1
    args = ["preview", str(recipe), str(data), "--classes", "a,b", "-o", str(tmp_path / "s.png")]
    assert runner.invoke(app, args).exit_code == 0


def test_an_unreadable_pick_is_reported_and_the_next_source_shown(tmp_path, runner):
    data = make_dataset(tmp_path / "data", {"a": 2})
    (data / "a" / "broken.jpg").write_bytes(b"\xff\xd8\xff truncated")
    recipe = write_recipe(tmp_path / "r.yaml", MIXED_RECIPE)
    result = runner.invoke(app, ["preview", str(recipe), str(data), "-o", str(tmp_path / "s.png"), "--per-class", "3"])
    assert result.exit_code == 0
    assert "8 tiles in 2 rows" in result.stdout
    assert re.search(r"not shown: a/broken\.jpg: (corrupt|not_an_image)", result.stderr)


def test_split_dataset_shows_the_augmented_split(tmp_path):
    data = make_dataset(tmp_path / "data", {"train/x": 2, "val/x": 2})
    recipe = write_recipe(tmp_path / "r.yaml", MIXED_RECIPE)
    result = preview(recipe, data, per_class=5)
    assert {row[0].details["split"] for row in result.rows} == {"train"}
    val = preview(recipe, data, split="val")
    assert all(len(row) == 1 for row in val.rows)  # not augmented: expand copies it unchanged


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--classes", "ants,bess"], "did you mean 'bees'"),
        (["--split", "train"], "no split folders"),
    ],
)
def test_usage_errors(tmp_path, runner, extra, message):
    data = make_dataset(tmp_path / "data", {"ants": 1, "bees": 1})
    recipe = write_recipe(tmp_path / "r.yaml", MIXED_RECIPE)
    result = runner.invoke(app, ["preview", str(recipe), str(data), "-o", str(tmp_path / "s.png"), *extra])
    assert result.exit_code == 2 and message in result.stderr


def test_output_is_refused_inside_the_dataset_or_with_a_wrong_suffix(tmp_path, runner):
    data = make_dataset(tmp_path / "data", {"a": 1})
    recipe = write_recipe(tmp_path / "r.yaml", MIXED_RECIPE)
    inside = runner.invoke(app, ["preview", str(recipe), str(data), "-o", str(data / "a" / "sheet.png")])
    assert inside.exit_code == 2 and "inside the dataset" in inside.stderr
    assert not (data / "a" / "sheet.png").exists()
    jpeg = runner.invoke(app, ["preview", str(recipe), str(data), "-o", str(tmp_path / "sheet.jpg")])
    assert jpeg.exit_code == 2 and ".png" in jpeg.stderr


def test_the_three_issue_commands_on_sample_data(sample_copy, tmp_path, runner):
    recipe = str(CONFIGS / "default.yaml")
    sheet = runner.invoke(app, ["preview", recipe, str(sample_copy), "-o", str(tmp_path / "preview.png")])
    assert sheet.exit_code == 0 and "30 tiles in 6 rows" in sheet.output
    each = runner.invoke(app, ["preview", recipe, str(sample_copy), "--each", "-o", str(tmp_path / "transforms.png")])
    assert each.exit_code == 0
    page = runner.invoke(app, ["preview", recipe, str(sample_copy), "--html", "-o", str(tmp_path / "preview")])
    assert page.exit_code == 0
    text = (tmp_path / "preview" / "index.html").read_text()
    assert "http" not in text.replace("http-equiv", "") and "<script" not in text  # offline, self-contained
    for link in re.findall(r'(?:src|href)="([^"]+)"', text):
        assert (tmp_path / "preview" / link).is_file(), link
    for name in ("preview.png", "transforms.png"):
        assert cv2.imread(str(tmp_path / name)) is not None


@pytest.mark.parametrize(
    ("name", "params", "caption"),
    [
        ("rotate", {"angle": -12.3456}, "rotate -12.3"),
        ("hflip", {}, "hflip"),
        (
            "hue_saturation_value",
            {"hue_shift": 2.999, "saturation": -0.2},
            "hue_saturation_value hue_shift=3 saturation=-0.2",
        ),
        ("salt_and_pepper", {"amount": 0.00712, "noise_seed": 548237779}, "salt_and_pepper 0.0071"),
        ("random_erasing", {"boxes": [[210, 73, 41, 63]]}, "random_erasing boxes=[[210,73,41,63]]"),
    ],
)
def test_short_step_captions(name, params, caption):
    assert preview_module.short_step(name, params) == caption


def test_each_shows_every_operation_of_a_policy_at_its_low_middle_and_high_bin(tmp_path, sample_copy) -> None:
    from augcli.preview import preview as build
    from augcli.transforms.policy import RAND_AUGMENT_SPACE

    recipe = tmp_path / "r.yaml"
    recipe.write_text("transforms: [{name: rand_augment, num_ops: 2, magnitude: 9, num_magnitude_bins: 31}]\n")
    result = build(recipe, sample_copy, each=True)
    assert len(result.rows) == len(RAND_AUGMENT_SPACE)
    rotate = next(row for row in result.rows if row[1].caption[1].startswith("rotate"))
    assert [tile.caption[1] for tile in rotate[1:]] == ["rotate low: 0", "rotate middle: 15", "rotate high: 30"]
    assert (
        rotate[1].data != rotate[3].data and rotate[3].details["transforms"][0]["params"]["ops"][0]["magnitude"] == 30
    )
