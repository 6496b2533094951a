"""augcli export: csv index, Hugging Face imagefolder and WebDataset shards, each read back by its real reader
(skipped when `datasets` / `webdataset` are not installed: pip install -e '.[test-exports]'); and the class-folder
output keeps ImageFolder's rules (sorted class folders -> indices)."""

from __future__ import annotations

import csv
import json
import os
from collections import Counter
from pathlib import Path

import cv2
import numpy as np
import pytest

from augcli.cli import app
from augcli.export import CSV_COLUMNS
from tests.conftest import tree_bytes, write_image, write_recipe
from tests.test_split import textured_blocks

LAYOUT = {"train/ants": 4, "train/bees": 3, "train/wasps": 3, "val/ants": 2, "val/bees": 2, "val/wasps": 1}
RECIPE = """
seed: 3
copies: 2
format: png
transforms:
  - {name: hflip, p: 0.5}
  - {name: brightness_contrast, brightness_range: [-0.2, 0.2], contrast_range: [-0.2, 0.2]}
"""
# torchvision.datasets.folder.IMG_EXTENSIONS: the files ImageFolder takes
TORCHVISION_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")


@pytest.fixture(scope="module")
def expanded(tmp_path_factory) -> Path:
    from typer.testing import CliRunner

    root = tmp_path_factory.mktemp("export")
    for index, (folder, count) in enumerate(sorted(LAYOUT.items())):
        for n in range(count):
            write_image(root / "data" / folder / f"img_{n}.png", textured_blocks(index * 50 + n))
    recipe = write_recipe(root / "recipe.yaml", RECIPE)
    result = CliRunner().invoke(
        app, ["expand", str(recipe), str(root / "data"), "-o", str(root / "out"), "--workers", "1", "-q"]
    )
    assert result.exit_code == 0, result.output
    return root / "out"


def output_rows(out: Path) -> list[dict]:
    rows = [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]
    return sorted((r for r in rows if r["type"] == "output"), key=lambda r: r["path"])


def rgb(path: Path) -> np.ndarray:
    return cv2.cvtColor(cv2.imread(str(path), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


def export(runner, out: Path, *args: object):
    result = runner.invoke(app, ["export", str(out), *map(str, args)])
    assert result.exit_code == 0, result.output
    return result


def test_csv_index(runner, expanded, tmp_path):
    export(runner, expanded, "--to", "csv", "-o", tmp_path / "index.csv")
    with open(tmp_path / "index.csv", newline="") as handle:
        table = list(csv.DictReader(handle))
    rows = output_rows(expanded)
    assert tuple(table[0]) == CSV_COLUMNS and len(table) == len(rows)
    for line, row in zip(table, rows, strict=True):
        assert {k: line[k] for k in CSV_COLUMNS} == {k: str(row[k]) for k in CSV_COLUMNS}
        assert (int(line["height"]), int(line["width"])) == cv2.imread(str(expanded / line["path"])).shape[:2]


def test_default_destinations_are_beside_and_never_inside(runner, expanded, tmp_path):
    result = runner.invoke(app, ["export", str(expanded), "--to", "csv"])
    assert result.exit_code == 0 and (expanded.parent / "out.csv").is_file()
    (expanded.parent / "out.csv").unlink()
    inside = runner.invoke(app, ["export", str(expanded), "--to", "hf", "-o", str(expanded / "hf")])
    assert inside.exit_code == 2 and "inside" in inside.output
    unknown = runner.invoke(app, ["export", str(expanded), "--to", "parquet", "-o", str(tmp_path / "p")])
    assert unknown.exit_code == 2 and "csv, hf, webdataset" in unknown.output
    audit = runner.invoke(app, ["audit", str(expanded), "--workers", "1"])
    assert audit.exit_code == 0, audit.output  # exports never write into the audited tree


def test_imagefolder_metadata_files(runner, expanded, tmp_path):
    export(runner, expanded, "--to", "hf", "-o", tmp_path / "hf")
    rows = output_rows(expanded)
    for split in ("train", "val"):
        meta = [json.loads(line) for line in (tmp_path / "hf" / split / "metadata.jsonl").read_text().splitlines()]
        mine = [r for r in rows if r["split"] == split]
        assert [m["file_name"] for m in meta] == [r["path"][len(split) + 1 :] for r in mine]
        for m, r in zip(meta, mine, strict=True):
            assert set(m) == {"file_name", "label", "source", "kind", "sha256", "transforms"}
            assert (m["label"], m["source"], m["kind"], m["sha256"]) == (
                r["label"],
                r["source"],
                r["kind"],
                r["sha256"],
            )
            assert json.loads(m["transforms"]) == r["transforms"]
            assert (tmp_path / "hf" / split / m["file_name"]).read_bytes() == (expanded / r["path"]).read_bytes()


def test_imagefolder_loads_with_datasets(runner, expanded, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    datasets = pytest.importorskip("datasets")
    export(runner, expanded, "--to", "hf", "-o", tmp_path / "hf")
    loaded = datasets.load_dataset("imagefolder", data_dir=str(tmp_path / "hf"), cache_dir=str(tmp_path / "cache"))
    rows = output_rows(expanded)
    assert set(loaded) == {"train", "validation"}  # datasets names the val folder "validation"
    for name, split in (("train", "train"), ("validation", "val")):
        mine = {r["sha256"]: r for r in rows if r["split"] == split}
        part = loaded[name]
        assert len(part) == len(mine)
        assert Counter(part["label"]) == Counter(r["label"] for r in mine.values())
        for example in part.select(range(0, len(part), 7)):
            row = mine[example["sha256"]]
            assert (example["label"], example["kind"], example["source"]) == (row["label"], row["kind"], row["source"])
            assert np.array_equal(np.asarray(example["image"].convert("RGB")), rgb(expanded / row["path"]))


def test_webdataset_shards(runner, expanded, tmp_path):
    result = export(runner, expanded, "--to", "webdataset", "-o", tmp_path / "wds", "--shard-size", 10)
    rows = output_rows(expanded)
    per_split = Counter(r["split"] for r in rows)
    expected = sorted(f"{s}-{k:06d}.tar" for s, n in per_split.items() for k in range(-(-n // 10)))
    assert sorted(os.listdir(tmp_path / "wds")) == expected
    assert "0=ants, 1=bees, 2=wasps" in result.output
    export(runner, expanded, "--to", "webdataset", "-o", tmp_path / "again", "--shard-size", 10)
    assert tree_bytes(tmp_path / "again") == tree_bytes(tmp_path / "wds")  # deterministic tar bytes
    import tarfile

    with tarfile.open(tmp_path / "wds" / "train-000000.tar") as tar:
        members = tar.getmembers()
    assert [m.name for m in members[:3]] == ["0000000.png", "0000000.json", "0000000.cls"]
    assert {(m.mtime, m.uid, m.gid, m.uname, m.gname, m.mode) for m in members} == {(0, 0, 0, "", "", 0o644)}


def test_webdataset_loads_with_webdataset(runner, expanded, tmp_path):
    wds = pytest.importorskip("webdataset")
    export(runner, expanded, "--to", "webdataset", "-o", tmp_path / "wds", "--shard-size", 10)
    rows = {r["path"]: r for r in output_rows(expanded)}
    classes = sorted({r["label"] for r in rows.values()})
    seen = []
    for split in ("train", "val"):
        shards = sorted(str(p) for p in (tmp_path / "wds").glob(f"{split}-*.tar"))
        for sample in wds.WebDataset(shards, shardshuffle=False).decode("rgb8"):
            meta = sample["json"]
            row = rows[meta["path"]]
            assert meta == row and row["split"] == split
            assert sample["cls"] == classes.index(row["label"])
            assert np.array_equal(sample["png"], rgb(expanded / row["path"]))
            seen.append(meta["path"])
    assert sorted(seen) == sorted(rows)


def test_class_folders_keep_imagefolder_semantics(expanded):
    """torchvision's ImageFolder: every directory of the split root is a class (hidden ones too), indexed in
    sorted order; only files with its extensions are samples; a class without one is an error. So: the same
    class folders in every split (else the indices shift between train and val), nothing else there."""
    rows = output_rows(expanded)
    classes = sorted({r["label"] for r in rows})
    for split in ("train", "val"):
        root = expanded / split
        folders = sorted(entry.name for entry in os.scandir(root) if entry.is_dir())
        assert folders == classes, split
        class_to_idx = {name: index for index, name in enumerate(folders)}
        samples = sorted(
            (p.relative_to(root).as_posix(), class_to_idx[p.relative_to(root).parts[0]])
            for p in root.rglob("*")
            if p.is_file() and p.suffix.lower() in TORCHVISION_EXTENSIONS
        )
        assert all(p.suffix.lower() in TORCHVISION_EXTENSIONS for p in root.rglob("*") if p.is_file())
        mine = sorted((r["path"][len(split) + 1 :], class_to_idx[r["label"]]) for r in rows if r["split"] == split)
        assert samples == mine
        assert {index for _, index in samples} == set(range(len(classes)))


def test_expand_can_export_as_it_finishes(tmp_path: Path, sample_copy: Path) -> None:
    from typer.testing import CliRunner

    out = tmp_path / "out"
    recipe = Path(__file__).resolve().parents[1] / "configs" / "default.yaml"
    result = CliRunner().invoke(app, ["expand", str(recipe), str(sample_copy), "-o", str(out), "-q", "--export", "csv"])
    assert result.exit_code == 0, result.output
    index = (tmp_path / "out.csv").read_text().splitlines()
    assert index[0].startswith("path,label,split,kind") and len(index) == 1 + 150
