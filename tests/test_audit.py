"""`augcli audit` end to end: expand a real dataset through the CLI, tamper with it in every way a CI
audit must catch, and check the exit code and the finding for each; the untouched dataset passes."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest

from augcli.cli import app
from augcli.phash import dhash, near_pairs
from tests.conftest import write_image, write_recipe

RECIPE = """
seed: 11
copies: 2
format: png
transforms:
  - {name: hflip, p: 0.5}
  - {name: rotate, angle_range: [-20, 20], border_mode: reflect}
  - {name: brightness_contrast, brightness_range: [-0.2, 0.2], contrast_range: [-0.2, 0.2]}
  - {name: random_erasing, p: 0.5}
"""
LAYOUT = {"train/ants": 3, "train/bees": 3, "val/ants": 2, "val/bees": 2, "test/ants": 1}


def blocky(seed: int) -> np.ndarray:
    """Random coarse blocks: unlike smooth gradients, every seed gets a far-apart difference hash."""
    cells = np.random.default_rng(seed).integers(0, 256, (6, 8, 3), dtype=np.uint8)
    return cv2.resize(cells, (64, 48), interpolation=cv2.INTER_NEAREST)


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, Path, Path]:
    from typer.testing import CliRunner

    root = tmp_path_factory.mktemp("built")
    for index, (folder, count) in enumerate(sorted(LAYOUT.items())):
        for n in range(count):
            write_image(root / "data" / folder / f"img_{n}.png", blocky(index * 100 + n))
    recipe = write_recipe(root / "recipe.yaml", RECIPE)
    result = CliRunner().invoke(
        app, ["expand", str(recipe), str(root / "data"), "-o", str(root / "out"), "-q", "--workers", "1"]
    )
    assert result.exit_code == 0, result.output
    return root / "data", root / "out", recipe


@pytest.fixture
def case(built, tmp_path: Path) -> tuple[Path, Path, Path]:
    """A private copy of the built dataset, its source and recipe, free to tamper with."""
    data, out, recipe = built
    return (
        Path(shutil.copytree(data, tmp_path / "data")),
        Path(shutil.copytree(out, tmp_path / "out")),
        Path(shutil.copy(recipe, tmp_path / "recipe.yaml")),
    )


def audit(runner, out: Path, *args: str, fmt: str = "json"):
    result = runner.invoke(app, ["audit", str(out), "--workers", "1", "--format", fmt, *map(str, args)])
    report = json.loads(result.stdout) if fmt == "json" and result.stdout.startswith("{") else None
    return result, report


def checks(report: dict) -> set[str]:
    return {f["check"] for f in report["findings"]}


def rows(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]


def write_rows(out: Path, records: list[dict]) -> None:
    (out / "manifest.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))


def edit_row(out: Path, pick: Callable[[dict], bool], change: Callable[[dict], None]) -> dict:
    records = rows(out)
    row = next(r for r in records if r["type"] == "output" and pick(r))
    change(row)
    write_rows(out, records)
    return row


def augmented(row: dict) -> bool:
    return row["kind"] == "augmented"


# --- the untouched dataset ------------------------------------------------------------------------------


def test_untouched_dataset_passes_every_check(runner, case) -> None:
    data, out, recipe = case
    result, report = audit(runner, out, "--source", data, "--recipe", recipe, "--replay", "1.0")
    assert result.exit_code == 0, result.stdout
    assert report["exit_code"] == 0 and report["findings"] == []
    assert report["rows"] == report["files_hashed"] == 6 * 3 + 5  # 6 train sources x (original + 2), 5 eval
    assert report["replayed"] == report["replay_matched"] == 12
    assert report["balance"]["train"]["ants"] == {"originals": 3, "augmented": 6}
    assert report["balance"]["val"]["bees"] == {"originals": 2, "augmented": 0}


def test_text_report_and_pool_of_workers(runner, case) -> None:
    _, out, _ = case
    result = runner.invoke(app, ["audit", str(out), "--workers", "2", "--replay", "3"])
    assert result.exit_code == 0, result.output
    assert "replay: 3 of 3 outputs rebuilt byte for byte" in result.output
    assert result.output.strip().endswith("clean: 0 leakage, 0 integrity, 0 warnings")


# --- tampering: one way at a time -----------------------------------------------------------------------


def edit_byte(data: Path, out: Path, recipe: Path) -> list[str]:
    target = next(out.glob("train/ants/*__aug00.png"))
    content = bytearray(target.read_bytes())
    content[len(content) // 2] ^= 0xFF
    target.write_bytes(bytes(content))
    return []


def delete_file(data: Path, out: Path, recipe: Path) -> list[str]:
    (out / "val/bees/img_1.png").unlink()
    return []


def add_file(data: Path, out: Path, recipe: Path) -> list[str]:
    write_image(out / "train/bees/extra.png", blocky(999))
    return []


def relabel_row(data: Path, out: Path, recipe: Path) -> list[str]:
    edit_row(out, lambda r: r["path"] == "train/ants/img_0__aug01.png", lambda r: r.update(label="bees"))
    return []


def val_copy_into_train(data: Path, out: Path, recipe: Path) -> list[str]:
    shutil.copy(out / "val/ants/img_0.png", out / "train/ants/img_9.png")
    return []


def blend_from_val(data: Path, out: Path, recipe: Path) -> list[str]:
    edit_row(
        out, lambda r: r["path"] == "train/bees/img_1__aug00.png", lambda r: r["sources"].append("val/bees/img_0.png")
    )
    return []


def path_to_etc_passwd(data: Path, out: Path, recipe: Path) -> list[str]:
    edit_row(out, lambda r: r["path"] == "test/ants/img_0.png", lambda r: r.update(path="../../etc/passwd"))
    return []


def absolute_path(data: Path, out: Path, recipe: Path) -> list[str]:
    edit_row(out, lambda r: r["path"] == "test/ants/img_0.png", lambda r: r.update(path="/etc/hostname"))
    return []


def symlink_outside(data: Path, out: Path, recipe: Path) -> list[str]:
    target = out / "val/ants/img_1.png"
    outside = out.parent / "elsewhere.png"
    shutil.move(target, outside)
    os.symlink(outside, target)
    return []


def duplicate_path(data: Path, out: Path, recipe: Path) -> list[str]:
    records = rows(out)
    records.insert(-1, next(r for r in records if r["type"] == "output"))
    records[-1]["outputs"] += 1  # keep the footer consistent: only the duplicate is wrong
    write_rows(out, records)
    return []


def malformed_json(data: Path, out: Path, recipe: Path) -> list[str]:
    lines = (out / "manifest.jsonl").read_text().splitlines(keepends=True)
    lines.insert(3, '{"type": "output", "path": \n')
    (out / "manifest.jsonl").write_text("".join(lines))
    return []


def row_missing_sha(data: Path, out: Path, recipe: Path) -> list[str]:
    edit_row(out, augmented, lambda r: r.pop("sha256"))
    return []


def cut_manifest(data: Path, out: Path, recipe: Path) -> list[str]:
    write_rows(out, rows(out)[:-1])
    return []


def change_recipe(data: Path, out: Path, recipe: Path) -> list[str]:
    recipe.write_text(RECIPE.replace("seed: 11", "seed: 12"))
    return ["--recipe", str(recipe)]


def edit_header_recipe(data: Path, out: Path, recipe: Path) -> list[str]:
    records = rows(out)
    records[0]["recipe"]["copies"] = 3  # claims a recipe other than the one the hash was taken over
    write_rows(out, records)
    return []


def symlinked_folder(data: Path, out: Path, recipe: Path) -> list[str]:
    os.symlink(data / "val", out / "train" / "more")
    return []


def change_source(data: Path, out: Path, recipe: Path) -> list[str]:
    write_image(data / "train/bees/img_2.png", blocky(4242))
    return ["--source", str(data)]


def delete_source(data: Path, out: Path, recipe: Path) -> list[str]:
    (data / "val/ants/img_1.png").unlink()
    return ["--source", str(data)]


def edited_transform_param(data: Path, out: Path, recipe: Path) -> list[str]:
    """The file and its sha256 still agree; only rebuilding from the params can tell they are wrong."""

    def shift(row: dict) -> None:
        step = next(s for s in row["transforms"] if s["name"] == "brightness_contrast")
        step["params"]["brightness"] = 0.15 if step["params"]["brightness"] < 0.1 else 0.0

    edit_row(out, lambda r: r["path"] == "train/ants/img_0__aug00.png", shift)
    return ["--replay", "1.0"]


TAMPERING = [
    (edit_byte, 3, "changed", "train/ants/img_"),
    (delete_file, 3, "missing", "val/bees/img_1.png"),
    (add_file, 3, "orphan", "train/bees/extra.png"),
    (relabel_row, 3, "label_mismatch", "row says split 'train' class 'bees'"),
    (val_copy_into_train, 4, "near_duplicate", "0 bits (dHash) from train image train/ants/img_9.png"),
    (blend_from_val, 4, "source_leak", "train output derives from val/bees/img_0.png (val split)"),
    (path_to_etc_passwd, 3, "unsafe_path", "'../../etc/passwd'"),
    (absolute_path, 3, "unsafe_path", "'/etc/hostname'"),
    (symlink_outside, 3, "unsafe_path", "leads outside"),
    (duplicate_path, 3, "duplicate_path", "listed twice"),
    (malformed_json, 3, "malformed_row", "not valid JSON"),
    (row_missing_sha, 3, "malformed_row", "missing key 'sha256'"),
    (cut_manifest, 3, "incomplete", "no footer"),
    (change_recipe, 3, "recipe_mismatch", "keys that differ: seed"),
    (edit_header_recipe, 3, "recipe_mismatch", "edited header"),
    (symlinked_folder, 3, "orphan", "train/more folder symlink"),
    (change_source, 3, "source_changed", "train/bees/img_2.png"),
    (delete_source, 3, "source_missing", "val/ants/img_1.png"),
    (edited_transform_param, 3, "replay_mismatch", "replayed bytes differ"),
]


@pytest.mark.parametrize(("tamper", "code", "check", "text"), TAMPERING, ids=[t[0].__name__ for t in TAMPERING])
def test_tampering_is_caught(runner, case, tamper, code: int, check: str, text: str) -> None:
    args = tamper(*case)
    result, report = audit(runner, case[1], *args)
    assert result.exit_code == code, result.stdout
    assert report["exit_code"] == code
    found = [f for f in report["findings"] if f["check"] == check]
    assert found, f"no {check} finding in {report['findings']}"
    assert any(text in f"{f['path']} {f['message']}" for f in found), found
    assert report["findings"][0]["severity"] in ("integrity", "leakage")


def test_edited_param_passes_without_replay(runner, case) -> None:
    edited_transform_param(*case)
    result, _ = audit(runner, case[1])
    assert result.exit_code == 0, result.stdout  # the hashes agree: only --replay proves the params


def test_leakage_outranks_integrity(runner, case) -> None:
    edit_byte(*case)
    val_copy_into_train(*case)
    result, report = audit(runner, case[1])
    assert result.exit_code == 4
    assert {"changed", "orphan", "near_duplicate"} <= checks(report)


def test_unsafe_row_is_never_opened(runner, case, tmp_path: Path) -> None:
    secret = tmp_path / "secret.png"
    write_image(secret, blocky(1))
    edit_row(case[1], lambda r: r["path"] == "test/ants/img_0.png", lambda r: r.update(path=f"../{secret.name}"))
    _, report = audit(runner, case[1])
    assert report["files_hashed"] == 22  # every row but the unsafe one


# --- renderings, manifest-only audits, usage errors -----------------------------------------------------


def test_github_format_annotates_files(runner, case) -> None:
    edit_byte(*case)
    result, _ = audit(runner, case[1], fmt="github")
    assert result.exit_code == 3
    errors = [line for line in result.stdout.splitlines() if line.startswith("::error ")]
    assert len(errors) == 1
    assert f"file={case[1]}/train/ants/img_".replace(":", "%3A") in errors[0]
    assert "title=augcli audit%3A changed::sha256 differs" in errors[0]


def test_manifest_alone_checks_rows_not_files(runner, case) -> None:
    delete_file(*case)
    result, report = audit(runner, case[1] / "manifest.jsonl")
    assert result.exit_code == 0, result.stdout  # files are not looked at
    assert report["files_checked"] is False and report["files_hashed"] == 0
    blend_from_val(*case)
    path_to_etc_passwd(*case)
    result, report = audit(runner, case[1] / "manifest.jsonl")
    assert result.exit_code == 4
    assert {"source_leak", "unsafe_path"} <= checks(report)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "xml"], "--format must be one of"),
        (["--replay", "ten"], "--replay takes a count"),
        (["--replay", "1.5"], "--replay takes a count"),
        (["--source", "/nonexistent/dataset"], "is not a folder"),
        (["--recipe", "/nonexistent/recipe.yaml"], "recipe file not found"),
    ],
)
def test_usage_errors_exit_2(runner, case, args: list[str], message: str) -> None:
    result = runner.invoke(app, ["audit", str(case[1]), *args])
    assert result.exit_code == 2
    assert message in result.output


def test_missing_target_and_foreign_folder(runner, tmp_path: Path) -> None:
    assert runner.invoke(app, ["audit", str(tmp_path / "nope")]).exit_code == 2
    result = runner.invoke(app, ["audit", str(tmp_path)])
    assert result.exit_code == 3 and "holds no manifest.jsonl" in result.output


def test_identity_outputs_and_imbalance_are_reported_not_failed(runner, tmp_path: Path) -> None:
    for n in range(4):
        write_image(tmp_path / "data" / ("ants" if n else "bees") / f"img_{n}.png", blocky(n))
    recipe = write_recipe(tmp_path / "r.yaml", "copies: 1\nformat: png\ntransforms: [{name: hflip, p: 0.0}]\n")
    expanded = runner.invoke(app, ["expand", str(recipe), str(tmp_path / "data"), "-o", str(tmp_path / "out"), "-q"])
    assert expanded.exit_code == 0, expanded.output
    result, report = audit(runner, tmp_path / "out", "--imbalance-warn", "2")
    assert result.exit_code == 0, result.stdout
    assert len(report["identity"]) == 4 and all(
        i["how"] in ("identical_bytes", "no_transforms") for i in report["identity"]
    )
    assert [f["check"] for f in report["findings"]] == ["imbalance"]
    assert "ants has 6 images, bees 2" in report["findings"][0]["message"]


# --- the perceptual hash ----------------------------------------------------------------------------------


def test_dhash_survives_reencoding_and_separates_different_images() -> None:
    image = blocky(5)
    _, jpeg = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 70])
    recompressed = cv2.imdecode(jpeg, cv2.IMREAD_UNCHANGED)
    assert bin(dhash(image) ^ dhash(recompressed)).count("1") <= 2
    assert bin(dhash(image) ^ dhash(blocky(6))).count("1") > 12
    assert dhash(image.astype(np.uint16) * 257) == dhash(image)  # 16-bit and grey kinds hash alike
    assert dhash(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)) == dhash(image)


def test_near_pairs_finds_exactly_the_pairs_within_threshold() -> None:
    queries = np.array([0b0, 0xFFFF_FFFF_FFFF_FFFF], dtype=np.uint64)
    pool = np.array([0b111, 0b1, 0xFFFF_FFFF_FFFF_FFF0, 0b1111_1111], dtype=np.uint64)
    assert sorted(near_pairs(queries, pool, 3, block=1)) == [(0, 0, 3), (0, 1, 1)]
    assert sorted(near_pairs(queries, pool, 4)) == [(0, 0, 3), (0, 1, 1), (1, 2, 4)]
    assert list(near_pairs(queries, pool, -1)) == []
