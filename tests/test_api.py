"""The Python API (augcli/api.py), used as a user would: datasets on disk, `augcli expand` through the CLI, then
the API asked for the same outputs. Its promise is byte equality with the files expand wrote."""

from __future__ import annotations

import io
import os
import pickle
import re
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from augcli import api
from augcli.cli import app
from augcli.errors import DatasetError, RecipeError
from augcli.manifest import read_records
from augcli.recipe import Block
from augcli.transforms import REGISTRY
from tests.conftest import REPO, textured, write_image, write_recipe

# One step of every transform family, each with p: 1; a one_of block (step paths like "8.1"); a mixing step in the
# main list and in a class's own list (bees), so the label the API infers from the source id decides the steps.
EVERY_FAMILY = """\
seed: 11
copies: 2
transforms:
  - {name: affine, angle_range: [-20, 20], scale_range: [0.9, 1.1], p: 1}
  - {name: color_jitter, p: 1}
  - {name: gaussian_noise, p: 1}
  - {name: jpeg_compression, p: 1}
  - {name: motion_blur, p: 1}
  - {name: fog, p: 1}
  - {name: coarse_dropout, p: 1}
  - {name: morphology, p: 1}
  - {name: rand_augment, p: 1}
  - {name: histogram_matching, p: 1}
  - {name: cutmix, p: 1}
  - name: one_of
    transforms:
      - {name: blend, p: 1}
      - {name: mosaic, p: 1}
  - {name: plugin, function: "augcli.transforms.plugin:Identity", p: 1}
classes:
  bees:
    transforms:
      - {name: rot90, p: 1}
      - {name: sepia, p: 1}
      - {name: blend, p: 1}
"""


def run(runner, *args) -> None:
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, result.output


def augmented_rows(output: Path) -> list[dict]:
    return [r for r in read_records(output / "manifest.jsonl") if r.get("kind") == "augmented"]


def exif_jpeg(path: Path, orientation: int) -> None:
    exif = Image.Exif()
    exif[0x0112] = orientation
    buffer = io.BytesIO()
    Image.fromarray(textured(40, 56, seed=9)[:, :, ::-1].copy()).save(buffer, "JPEG", exif=exif.tobytes())
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buffer.getvalue())


def build_split_dataset(root: Path) -> None:
    """8-bit JPEG, 16-bit PNG, BGRA PNG, grey PNG and an EXIF-rotated JPEG, in two classes and two splits."""
    write_image(root / "train" / "ants" / "a.jpg", textured(40, 56, seed=1))
    write_image(root / "train" / "ants" / "deep.png", textured(40, 56, "rgb16", seed=2))
    write_image(root / "train" / "ants" / "alpha.png", textured(40, 56, "rgba", seed=3))
    exif_jpeg(root / "train" / "ants" / "turned.jpg", 6)
    write_image(root / "train" / "bees" / "grey.png", textured(40, 56, "gray", seed=4))
    write_image(root / "train" / "bees" / "b.jpg", textured(40, 56, seed=5))
    write_image(root / "train" / "bees" / "b16.png", textured(40, 56, "rgb16", seed=6))
    write_image(root / "val" / "ants" / "v.jpg", textured(40, 56, seed=7))


def families_in(steps: list) -> set[str]:
    found = set()
    for step in steps:
        found |= families_in(step.transforms) if isinstance(step, Block) else {step.family}
    return found


def test_augment_and_replay_give_the_bytes_expand_wrote(runner, tmp_path: Path) -> None:
    root, out = tmp_path / "data", tmp_path / "out"
    build_split_dataset(root)
    recipe_path = write_recipe(tmp_path / "recipe.yaml", EVERY_FAMILY)
    recipe = api.load_recipe(recipe_path)
    assert families_in(recipe.transforms) == {spec.family for spec in REGISTRY.values()}  # a new family: add it
    run(runner, "expand", recipe_path, root, "-o", out, "-q", "--workers", "1")
    rows = augmented_rows(out)
    assert len(rows) == 2 * 7
    assert {step["name"] for r in rows for step in r["transforms"]} >= {"cutmix", "blend", "mosaic", "plugin"}
    assert all(len(r["sources"]) > 1 for r in rows)  # every output mixed in a partner

    augmenter = api.Augmenter(recipe_path, dataset_root=root)
    pickled = pickle.loads(pickle.dumps(augmenter))  # as a data loader sends it to its worker processes
    for row in rows:
        written = (out / row["path"]).read_bytes()
        source = root / row["source"]
        suffix = os.path.splitext(row["path"])[1]
        result = augmenter.augment(source, row["source"], copy=row["copy"], suffix=suffix)
        assert result.data == written, row["path"]
        assert (result.applied, result.seed, result.sources, result.label) == (
            row["transforms"],
            row["seed"],
            row["sources"],
            row["label"],
        )
        assert result.sha256 == row["sha256"]
        assert pickled.augment(source.read_bytes(), row["source"], copy=row["copy"]).data == written  # default suffix
        replayed = augmenter.replay(row, source)
        assert (replayed.data, replayed.applied, replayed.seed) == (written, row["transforms"], row["seed"]), row[
            "path"
        ]
        if suffix == ".png":  # lossless: the pixels are the file's, in OpenCV's channel order and bit depth
            on_disk = cv2.imdecode(np.frombuffer(written, np.uint8), cv2.IMREAD_UNCHANGED)
            assert result.image.dtype == on_disk.dtype and np.array_equal(result.image, on_disk), row["path"]
    depths = {r["source"]: r["bit_depth"] for r in rows}
    assert depths["train/ants/deep.png"] == 16 and depths["train/bees/grey.png"] == 8

    # A decoded array works too (the read policy applied: upright), and a copy beyond `copies` is just another draw.
    turned = cv2.imread(str(root / "train" / "ants" / "turned.jpg"))  # cv2.imread applies EXIF orientation too
    from_array = augmenter.augment(turned, "train/ants/turned.jpg", copy=1)
    assert from_array.data == (out / "train" / "ants" / "turned__aug01.jpg").read_bytes()
    later = augmenter.augment(root / "train" / "ants" / "a.jpg", "train/ants/a.jpg", copy=7)
    assert later.data != (out / "train" / "ants" / "a__aug01.jpg").read_bytes()


def test_without_a_dataset_root_labels_come_from_the_source_id(runner, tmp_path: Path) -> None:
    root, out = tmp_path / "flat", tmp_path / "out"
    for n in range(2):
        write_image(root / "cats" / f"c{n}.png", textured(32, 40, seed=n))
        write_image(root / "dogs" / "deep" / f"d{n}.jpg", textured(32, 40, seed=10 + n))  # nested in its class
    recipe = "seed: 4\ncopies: 2\ntransforms: [{name: rotate}]\nclasses: {dogs: {transforms: [{name: vflip}]}}\n"
    run(runner, "expand", write_recipe(tmp_path / "r.yaml", recipe), root, "-o", out, "-q", "--workers", "1")
    augmenter = api.Augmenter(recipe)  # YAML text
    for row in augmented_rows(out):
        result = augmenter.augment((root / row["source"]).read_bytes(), row["source"], copy=row["copy"])
        assert result.data == (out / row["path"]).read_bytes(), row["path"]
        assert result.label == row["label"]
    assert api.Augmenter(recipe).place("train/cats/x.jpg") == ("train", "cats")
    assert api.Augmenter(recipe).place("train/x.jpg") == (None, "train")
    with pytest.raises(ValueError, match="cannot tell the label of 'x.jpg'"):
        augmenter.augment(root / "cats" / "c0.png", "x.jpg")
    assert augmenter.augment(root / "cats" / "c0.png", "x.jpg", label="dogs").applied[0]["name"] == "vflip"


def test_a_mixing_recipe_without_a_dataset_root_names_the_step() -> None:
    recipe = {
        "transforms": [{"name": "hflip"}, {"name": "one_of", "transforms": [{"name": "rot90"}, {"name": "mosaic"}]}]
    }
    with pytest.raises(DatasetError, match=r"step transforms\.1\.1 \(mosaic\) .*dataset_root="):
        api.Augmenter(recipe)
    with pytest.raises(DatasetError, match=r"classes\.cats\.transforms\.0 \(cutmix\)"):
        api.Augmenter({"classes": {"cats": {"transforms": [{"name": "cutmix"}]}}})


def test_load_recipe_errors_name_the_file_and_line(tmp_path: Path) -> None:
    path = write_recipe(tmp_path / "bad.yaml", "seed: 1\ntransforms:\n  - {name: rotat}\n")
    with pytest.raises(RecipeError, match=r"bad\.yaml:3: transforms\[0\]: unknown transform 'rotat'.*'rotate'"):
        api.load_recipe(path)
    with pytest.raises(RecipeError, match=r"bad\.yaml:3"):
        api.load_recipe(str(path))
    with pytest.raises(RecipeError, match=r"<recipe text>:2: copies: .*greater than or equal to 0"):
        api.load_recipe("seed: 1\ncopies: -1\n")
    with pytest.raises(RecipeError, match="recipe file not found: .*missing.yaml"):
        api.load_recipe(tmp_path / "missing.yaml")
    with pytest.raises(RecipeError, match="recipe file not found: recipes/default"):
        api.load_recipe("recipes/default")  # one line without ':' is a path, not YAML text
    recipe = api.load_recipe({"seed": 2, "transforms": [{"name": "hflip"}]})
    assert api.load_recipe(recipe) is recipe and api.load_recipe("{seed: 2, transforms: [{name: hflip}]}") == recipe


# --- the README's example, run as the README shows it ------------------------------------------------------------


def readme_example() -> str:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    found = re.search(
        r"<!-- python-api-example:start -->\n```python\n(.*?)```\n<!-- python-api-example:end -->", readme, re.S
    )
    assert found, "README.md lost its Python API example markers"
    return found.group(1)


def test_readme_dataset_example_matches_expand(tmp_path: Path, monkeypatch) -> None:
    root = tmp_path / "data"
    for label, seed in (("ants", 0), ("bees", 10)):
        for n in range(3):
            write_image(root / "train" / label / f"{label}{n}.png", textured(40, 56, seed=seed + n))
    write_image(root / "val" / "ants" / "held_out.png", 255 - textured(40, 56, seed=99))  # unlike any train image
    recipe = "seed: 5\ncopies: 2\ntransforms:\n  - {name: rotate}\n  - {name: color_jitter}\n  - {name: cutmix, p: 1}\n"
    write_recipe(tmp_path / "recipe.yaml", recipe)
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(readme_example(), "README.md (Python API example)", "exec"), namespace)

    images, image, target = namespace["images"], namespace["image"], namespace["target"]
    assert len(images) == 6 and images.classes == ["ants", "bees"]
    assert image.shape == (40, 56, 3) and image.dtype == np.uint8 and target == 0
    # Epoch e of a source is the copy e expand writes; the API's expand() takes the recipe as a Recipe object here.
    result = api.expand(api.load_recipe(recipe), root, tmp_path / "out", workers=1)
    assert result.outputs == 6 + 6 * 2 + 1 and not result.skipped
    seen = []
    for epoch in (0, 1):
        images.set_epoch(epoch)
        for index in range(len(images)):
            rgb, label = images[index]
            source_id, _ = images.items[index]
            stem = source_id.removesuffix(".png")
            written = cv2.imread(str(tmp_path / "out" / f"{stem}__aug{epoch:02d}.png"))
            assert np.array_equal(rgb, written[:, :, ::-1]), (source_id, epoch)
            assert label == images.classes.index(source_id.split("/")[1])
            seen.append(rgb.tobytes())
    assert len(set(seen)) == len(seen)  # every (image, epoch) differs
    report = api.audit(tmp_path / "out", source=root, recipe=recipe, replay=1.0, workers=1)
    assert report.exit_code == 0 and report.replayed == report.replay_matched == 12, report.findings
