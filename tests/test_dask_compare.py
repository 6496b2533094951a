"""benchmarks/dask_compare.py keeps running and says what it measured (no timing asserted)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from benchmarks.dask_compare import Sample, _rows, dask_rows
from benchmarks.recipes import write_recipes
from tests.conftest import make_dataset


def test_without_distributed_one_row_says_so(tmp_path: Path, monkeypatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "distributed" else real(name, *a))
    rows = dask_rows(["augcli"], tmp_path / "r.yaml", tmp_path, tmp_path, 2, 1, tmp_path)
    assert len(rows) == 1 and "not installed" in rows[0].measure


def test_ratios_pair_neighbouring_runs() -> None:
    # The machine got twice as slow between the two repetitions: paired ratios stay 1.2 and 0.9.
    samples = {
        ("1x", "pool"): [Sample(10, 10, 1000), Sample(20, 20, 1000)],
        ("1x", "cluster"): [Sample(10, 12, 1000), Sample(20, 24, 1000)],
        ("scaled", "pool"): [Sample(9, 40, 4000), Sample(18, 80, 4000)],
        ("scaled", "cluster"): [Sample(10, 44, 4000), Sample(20, 88, 4000)],
    }
    rows = _rows(samples, workers=2, scale="4x dataset")
    cpu, scaled_rate = rows[1], rows[-1]
    assert cpu.ratio == pytest.approx(1.2) and cpu.target == "<= 1.1" and cpu.met is False
    assert scaled_rate.ratio == pytest.approx(0.9) and scaled_rate.target == ">= 0.85" and scaled_rate.met is True
    assert rows[0].value == "15.00"  # pool CPU ms per output, median of 10 and 20


@pytest.mark.bench
def test_one_repetition_on_a_tiny_dataset(tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    dataset = make_dataset(tmp_path / "data", {"train/ants": 2, "val/bees": 1}, size=(48, 64))
    scaled = make_dataset(tmp_path / "scaled", {"train/ants": 4, "val/bees": 2}, size=(48, 64))
    recipe = write_recipes(tmp_path, copies=2, quality=90, splits=["train", "val"])["typical"]
    rows = dask_rows([sys.executable, "-m", "augcli"], recipe, dataset, scaled, 1, 1, tmp_path)
    assert [row.target for row in rows] == ["", "<= 1.1", "", "", ">= 0.85"]
    assert "2x dataset (6 sources)" in rows[-1].measure
    assert not list(tmp_path.glob("out-*")), "outputs are removed after each run"
