"""`augcli tta`: deterministic named views of a split, each with an inverse map back to the source."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import cv2
import numpy as np
import pytest

from augcli.cli import app
from augcli.manifest import read_records
from augcli.views import TEN_CROP, map_back, to_source
from tests.conftest import CONFIGS, REPO, make_dataset, textured, tree_bytes, write_image, write_recipe

EXACT = ["identity", "hflip", "vflip", "rot90", "rot180", "rot270", "transpose", *TEN_CROP]
RECIPE = """
format: png
tta:
  crop_fraction: 0.75
  views: [identity, hflip, vflip, rot90, rot180, rot270, transpose, ten_crop, scale_0.5, scale_1.5]
"""


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    # odd, non-square sizes catch off-by-one and width/height swaps; png sources keep the check exact
    layout = {"train/cat": 2, "test/cat": 2, "test/dog": 1}
    return make_dataset(tmp_path_factory.mktemp("data") / "ds", layout, size=(21, 34), suffix=".png")


def run_tta(runner, tmp_path: Path, dataset: Path, *extra: str, recipe: str = RECIPE, name: str = "out"):
    recipe_path = write_recipe(tmp_path / f"{name}.yaml", recipe)
    out = tmp_path / name
    workers = [] if "--workers" in extra else ["--workers", "1"]  # a pool only where the test is about workers
    result = runner.invoke(app, ["tta", str(recipe_path), str(dataset), "-o", str(out), "-q", *workers, *extra])
    return result, out


def view_rows(out: Path) -> list[dict]:
    return [r for r in read_records(out / "manifest.jsonl") if r["type"] == "output"]


def load(path: Path) -> np.ndarray:
    return cv2.imread(str(path), cv2.IMREAD_UNCHANGED)


def test_views_are_named_grouped_and_only_of_the_test_split(runner, dataset: Path, tmp_path: Path) -> None:
    result, out = run_tta(runner, tmp_path, dataset)
    assert result.exit_code == 0, result.output
    rows = view_rows(out)
    header = next(iter(read_records(out / "manifest.jsonl")))
    assert header["kind"] == "tta" and header["split"] == "test"
    expected = [*EXACT[:7], *TEN_CROP, "scale_0.5", "scale_1.5"]
    assert header["views"] == expected and len(expected) == 19
    groups = defaultdict(list)
    for row in rows:
        groups[row["group"]].append(row["view"])
        assert row["kind"] == "tta" and row["split"] == "test" and row["group"] == row["source"]
        assert row["path"] == row["source"].removesuffix(".png") + f"__{row['view']}.png"
    assert sorted(groups) == ["test/cat/img_000.png", "test/cat/img_001.png", "test/dog/img_000.png"]
    assert all(views == expected for views in groups.values())
    files = {p.relative_to(out).as_posix() for p in out.rglob("*.png")}
    assert files == {r["path"] for r in rows}
    assert "3 sources (split test) x 19 views: 57 images written" in result.output


def test_inverse_maps_every_view_pixel_to_its_source_pixel(runner, dataset: Path, tmp_path: Path) -> None:
    result, out = run_tta(runner, tmp_path, dataset)
    assert result.exit_code == 0, result.output
    checked = set()
    for row in view_rows(out):
        if row["view"] not in EXACT:
            continue
        source, view = load(dataset / row["source"]), load(out / row["path"])
        assert view.shape[:2] == (row["height"], row["width"])
        ys, xs = np.mgrid[0 : view.shape[0], 0 : view.shape[1]]
        mapped = to_source(row["inverse"], np.stack([xs.ravel(), ys.ravel()], axis=1))
        assert np.allclose(mapped, np.round(mapped))
        sx, sy = np.round(mapped).astype(int).T
        assert np.array_equal(view[ys.ravel(), xs.ravel()], source[sy, sx]), row["view"]
        if row["box"]:
            x0, y0, x1, y1 = row["box"]
            assert (x1 - x0, y1 - y0) == (row["width"], row["height"]) == (round(34 * 0.75), round(21 * 0.75))
            assert sx.min() == x0 and sx.max() == x1 - 1 and sy.min() == y0 and sy.max() == y1 - 1
        checked.add(row["view"])
    assert checked == set(EXACT)


def test_mapping_a_view_back_recovers_the_source(runner, dataset: Path, tmp_path: Path) -> None:
    result, out = run_tta(runner, tmp_path, dataset)
    assert result.exit_code == 0, result.output
    rows = {(r["source"], r["view"]): r for r in view_rows(out)}
    key = "test/dog/img_000.png"
    source = load(dataset / key)
    size = (source.shape[1], source.shape[0])
    for name in ("hflip", "vflip", "rot90", "rot270", "transpose"):
        back, covered = map_back(load(out / rows[(key, name)]["path"]), rows[(key, name)]["inverse"], size)
        assert covered.all() and np.array_equal(back, source), name
    crop = rows[(key, "crop_bottom_right_hflip")]
    back, covered = map_back(load(out / crop["path"]), crop["inverse"], size)
    x0, y0, x1, y1 = crop["box"]
    assert covered[y0:y1, x0:x1].all() and covered.sum() == (x1 - x0) * (y1 - y0)
    assert np.array_equal(back[y0:y1, x0:x1], source[y0:y1, x0:x1])


def test_scale_inverse_maps_centres_and_edges(runner, dataset: Path, tmp_path: Path) -> None:
    result, out = run_tta(runner, tmp_path, dataset)
    assert result.exit_code == 0, result.output
    for row in view_rows(out):
        if not row["view"].startswith("scale_"):
            continue
        factor = float(row["view"].removeprefix("scale_"))
        w, h = row["width"], row["height"]
        assert (w, h) == (round(34 * factor), round(21 * factor))
        points = [((w - 1) / 2, (h - 1) / 2), (-0.5, -0.5), (w - 0.5, h - 0.5)]
        expected = [((34 - 1) / 2, (21 - 1) / 2), (-0.5, -0.5), (34 - 0.5, 21 - 0.5)]
        assert np.allclose(to_source(row["inverse"], points), expected)
        # the recorded inverse agrees with the image: mapping the view back is close to the source
        back, _ = map_back(load(out / row["path"]), row["inverse"], (34, 21), cv2.INTER_LINEAR)
        error = np.abs(back.astype(int) - load(dataset / row["source"]).astype(int))[2:-2, 2:-2]
        assert error.mean() < 25


def test_tta_is_deterministic_and_worker_count_free(runner, dataset: Path, tmp_path: Path) -> None:
    trees = []
    for workers in ("1", "2"):
        result, out = run_tta(runner, tmp_path, dataset, "--workers", workers, name=f"w{workers}")
        assert result.exit_code == 0, result.output
        trees.append(tree_bytes(out))
    assert trees[0] == trees[1]
    assert all(json.loads(line) for line in trees[0]["manifest.jsonl"].decode().splitlines())


def test_split_and_views_from_the_command_line(runner, dataset: Path, tmp_path: Path) -> None:
    result, out = run_tta(runner, tmp_path, dataset, "--split", "train", "--views", "five_crop,hflip")
    assert result.exit_code == 0, result.output
    rows = view_rows(out)
    assert {r["split"] for r in rows} == {"train"} and len(rows) == 2 * 6
    assert [r["view"] for r in rows[:6]] == [*TEN_CROP[:5], "hflip"]


def test_bad_views_and_missing_split_are_usage_errors(runner, dataset: Path, tmp_path: Path) -> None:
    result, _ = run_tta(runner, tmp_path, dataset, "--views", "identity,hflipp", name="a")
    assert result.exit_code == 2 and "unknown view 'hflipp'" in result.output
    result, _ = run_tta(runner, tmp_path, dataset, recipe="tta: {views: [scale_9]}\n", name="b")
    assert result.exit_code == 2 and "scale_9" in result.output
    result, _ = run_tta(runner, tmp_path, dataset, "--split", "val", name="c")
    assert result.exit_code == 2 and "no images in split 'val'" in result.output and "test, train" in result.output


def test_shipped_tta_config_on_a_flat_dataset(runner, sample_copy: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = runner.invoke(
        app, ["tta", str(CONFIGS / "tta.yaml"), str(sample_copy), "-o", str(out), "-q", "--workers", "2"]
    )
    assert result.exit_code == 0, result.output
    rows = view_rows(out)
    assert len(rows) == 30 * 18 and {r["split"] for r in rows} == {None}


def test_readme_documents_every_view_name() -> None:
    readme = (REPO / "README.md").read_text()
    section = readme.split("## Test-time augmentation", 1)[1].split("\n## ", 1)[0]
    for name in ["identity", "hflip", "vflip", "rot90", "rot180", "rot270", "transpose", "five_crop", "ten_crop"]:
        assert f"`{name}`" in section, name
    assert "configs/tta.yaml" in section and "scale_" in section


@pytest.mark.parametrize("kind", ["gray", "rgba", "rgb16"])
def test_every_image_kind_keeps_depth_and_channels(runner, tmp_path: Path, kind: str) -> None:
    source = textured(19, 26, kind=kind, seed=3)
    write_image(tmp_path / "ds" / "test" / "a" / "x.png", source)
    views = "hflip,rot90,crop_center_hflip,scale_0.9"
    result, out = run_tta(runner, tmp_path, tmp_path / "ds", "--views", views, recipe="format: keep\n")
    assert result.exit_code == 0, result.output
    for row in view_rows(out):
        view = load(out / row["path"])
        assert view.dtype == source.dtype and view.ndim == source.ndim
        assert row["channels"] == (1 if source.ndim == 2 else source.shape[2])
        if row["view"] != "scale_0.9":
            back, covered = map_back(view, row["inverse"], (26, 19))
            assert np.array_equal(back[covered], source[covered]), row["view"]


def test_boxes_predicted_on_views_come_back_to_the_source(runner, tmp_path: Path, dataset: Path) -> None:
    from augcli.views import boxes_to_source

    result, out = run_tta(runner, tmp_path, dataset)
    assert result.exit_code == 0, result.output
    box = np.array([[3.0, 4.0, 11.0, 17.0]])  # on the source (34 x 21 px), corner coordinates
    rows = [r for r in read_records(out / "manifest.jsonl") if r["type"] == "output"]
    for row in rows:
        # where the box lands on the view: the forward map is the inverse of `inverse`
        on_view = boxes_to_source(np.linalg.inv(np.asarray(row["inverse"], dtype=np.float64)), box)
        back = boxes_to_source(row["inverse"], on_view)
        assert np.allclose(back, box, atol=1e-6), (row["view"], back)
        if row["view"] == "hflip":
            assert np.allclose(on_view, [[34 - 11, 4, 34 - 3, 17]])
