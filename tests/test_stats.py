"""`augcli stats`: step firing rates against the recipe's p, sampled params, outputs per class, warnings."""

from __future__ import annotations

import json
from pathlib import Path

from augcli.cli import app
from augcli.expand import expand
from augcli.stats import binomial_interval
from tests.conftest import make_dataset, write_recipe

RECIPE = """\
seed: 7
copies: 10
transforms:
  - {name: hflip, p: 0.5}
  - {name: vflip, p: 0}
  - {name: rotate, angle_range: [-15, 15], p: 0.7}
  - name: one_of
    p: 0.6
    weights: [3, 1]
    transforms:
      - {name: gaussian_noise, sigma_range: [0.01, 0.02]}
      - {name: gaussian_blur, sigma_range: [0.5, 0.5]}
  - name: some_of
    n_range: [1, 2]
    transforms:
      - {name: invert}
      - {name: grayscale}
      - {name: rot90, k_range: [1, 3]}
"""

EXPECTED = {"0": 0.5, "1": 0.0, "2": 0.7, "3.0": 0.6 * 0.75, "3.1": 0.6 * 0.25, "4.0": 0.5, "4.1": 0.5, "4.2": 0.5}


def _run(tmp_path: Path, recipe: str = RECIPE) -> Path:
    data = make_dataset(tmp_path / "data", {"train/a": 10, "train/b": 10, "val/a": 2}, size=(24, 32))
    out = tmp_path / "out"
    expand(write_recipe(tmp_path / "recipe.yaml", recipe), data, out, workers=1)
    return out


def _fired_in_manifest(out: Path) -> tuple[int, dict[str, int]]:
    """Count firings straight from the manifest, independently of augcli.stats."""
    rows = [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]
    augmented = [r for r in rows if r["type"] == "output" and r["kind"] == "augmented"]
    fired: dict[str, int] = {}
    for row in augmented:
        for applied in row["transforms"]:
            fired[applied["step"]] = fired.get(applied["step"], 0) + 1
    return len(augmented), fired


def test_binomial_interval_known_values() -> None:
    # P(X <= 39) = 0.018 < 0.025 <= P(X <= 40) = 0.028 for Binomial(100, 0.5); symmetric at the top
    assert binomial_interval(100, 0.5) == (40, 60)
    assert binomial_interval(50, 0.0) == (0, 0)
    assert binomial_interval(50, 1.0) == (50, 50)


def test_observed_rates_lie_in_their_intervals(runner, tmp_path: Path) -> None:
    out = _run(tmp_path)
    result = runner.invoke(app, ["stats", str(out), "--format", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    trials, fired = _fired_in_manifest(out)
    assert trials == 200 and report["augmented"] == 200
    steps = {s["step"]: s for s in report["steps"]}
    assert set(steps) == set(EXPECTED)
    for key, expected in EXPECTED.items():
        step = steps[key]
        assert abs(step["expected"] - expected) < 1e-12, key
        assert step["trials"] == 200 and step["fired"] == fired.get(key, 0), key
        low, high = step["interval_95"]
        assert low <= step["observed"] <= high, (key, step)
        assert not step["outside_95"]
    angle = steps["2"]["params"]["angle"]
    assert -15 <= angle["min"] < angle["median"] < angle["max"] <= 15 and angle["count"] == fired["2"]
    assert steps["4.2"]["params"]["k"]["min"] >= 1 and steps["4.2"]["params"]["k"]["max"] <= 3
    outputs = {(o["split"], o["label"]): o for o in report["outputs"]}
    assert outputs[("train", "a")] == {"split": "train", "label": "a", "original": 10, "augmented": 100, "skipped": 0}
    assert outputs[("val", "a")]["original"] == 2 and outputs[("val", "a")]["augmented"] == 0


def test_p_zero_warns_never_fired_and_a_fixed_range_does_not(runner, tmp_path: Path) -> None:
    out = _run(tmp_path)
    result = runner.invoke(app, ["stats", str(out)])
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.output.splitlines() if line.startswith("warning:")]
    # vflip has p: 0; gaussian_blur's sigma_range is [0.5, 0.5], so its constant sigma is no warning
    assert warnings == ["warning: step 1 (vflip) never fired in 200 augmented outputs (expected rate 0)"]
    assert "rotate" in result.output and "angle" in result.output and "min -1" in result.output


def _write_manifest(path: Path, rows: list[dict], recipe: dict) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    header = {"type": "header", "schema": 1, "versions": {}, "recipe_sha256": "0" * 64, "recipe": recipe}
    lines = [header, *rows, {"type": "footer"}]
    (path / "manifest.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lines))
    return path


def _augmented(index: int, transforms: list[dict]) -> dict:
    return {"type": "output", "path": f"a/x{index}.png", "kind": "augmented", "label": "a", "split": None,
            "transforms": transforms}  # fmt: skip


def test_constant_param_over_a_real_range_and_a_far_off_rate_warn(runner, tmp_path: Path) -> None:
    recipe = {
        "transforms": [
            {"name": "rotate", "angle_range": [-15, 15], "p": 1.0},
            {"name": "hflip", "p": 0.1},
            {"name": "gaussian_blur", "sigma_range": [0.5, 0.5], "p": 1.0},
        ]
    }
    rows = [
        _augmented(
            i,
            [
                {"name": "rotate", "step": "0", "params": {"angle": 3.0}},
                {"name": "hflip", "step": "1", "params": {}},
                {"name": "gaussian_blur", "step": "2", "params": {"sigma": 0.5}},
            ],
        )
        for i in range(40)
    ]
    out = _write_manifest(tmp_path / "out", rows, recipe)
    result = runner.invoke(app, ["stats", str(out / "manifest.jsonl"), "--format", "json"])
    assert result.exit_code == 0, result.output
    warnings = json.loads(result.output)["warnings"]
    assert len(warnings) == 2, warnings
    assert warnings[0].startswith("step 0 (rotate): angle was 3 in all 40 firings although angle_range is [-15, 15]")
    assert warnings[1].startswith("step 1 (hflip) fired in 40 of 40 outputs (1.000), far outside its expected 0.100")


def test_class_overrides_are_their_own_scope(runner, tmp_path: Path) -> None:
    recipe = RECIPE.replace("copies: 10", "copies: 4\nclasses:\n  b:\n    transforms: [{name: vflip, p: 1}]")
    out = _run(tmp_path, recipe)
    report = json.loads(runner.invoke(app, ["stats", str(out), "--format", "json"]).output)
    steps = {s["step"]: s for s in report["steps"]}
    assert steps["classes.b:0"]["fired"] == steps["classes.b:0"]["trials"] == 40
    assert steps["0"]["trials"] == 40  # class a only


def test_plots_are_one_png_per_step_and_param_and_deterministic(runner, tmp_path: Path) -> None:
    out = _run(tmp_path)
    first, second = tmp_path / "plots1", tmp_path / "plots2"
    for folder in (first, second):
        assert runner.invoke(app, ["stats", str(out), "--plots", str(folder)]).exit_code == 0
    names = sorted(p.name for p in first.iterdir())
    assert names == [
        "step2_rotate_angle.png",
        "step3.0_gaussian_noise_noise_seed.png",
        "step3.0_gaussian_noise_sigma.png",
        "step3.1_gaussian_blur_sigma.png",
        "step4.2_rot90_k.png",
    ]
    for name in names:
        data = (first / name).read_bytes()
        assert data.startswith(b"\x89PNG") and data == (second / name).read_bytes()


def test_bad_format_and_missing_manifest_exit_2(runner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["stats", str(tmp_path), "--format", "xml"])
    assert result.exit_code == 2 and "--format must be one of text, json" in result.output
    result = runner.invoke(app, ["stats", str(tmp_path)])
    assert result.exit_code == 2 and "no manifest" in result.output
