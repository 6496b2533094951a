"""`augcli convert` and the albumentations mapping table.

albumentations is imported here only (never by augcli): the pipelines are saved by albumentations itself with
`A.save`, converted, and for deterministic settings both libraries are run on the same image. Tests that need
albumentations skip cleanly without it.
"""

from __future__ import annotations

import importlib.util
import inspect
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from augcli.albumentations_map import ALBUMENTATIONS_VERSION, MAPPING, Notes, colour
from augcli.cli import app
from augcli.convert import convert_file, convert_text
from augcli.errors import ExitCode, RecipeError
from augcli.recipe import load_recipe
from augcli.transforms import REGISTRY
from tests.conftest import REPO

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")  # albumentations 2.0.8 queries PyPI on import otherwise


@pytest.fixture(scope="module")
def A():  # noqa: N802  (albumentations' own alias)
    albumentations = pytest.importorskip("albumentations")
    if albumentations.__version__ != ALBUMENTATIONS_VERSION:
        pytest.skip(f"the mapping is for albumentations {ALBUMENTATIONS_VERSION}, not {albumentations.__version__}")
    return albumentations


def readme_tool():
    spec = importlib.util.spec_from_file_location(
        "readme_albumentations", REPO / "scripts" / "readme_albumentations.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ---- the table --------------------------------------------------------------------------------------------------


def albumentations_image_transforms(A) -> dict[str, str]:  # noqa: N803
    """Every public class of albumentations that is an ImageOnlyTransform (pixel) or a DualTransform (spatial)."""
    from albumentations.core.transforms_interface import DualTransform, ImageOnlyTransform

    found = {}
    for name in dir(A):
        cls = getattr(A, name)
        if name.startswith("_") or not inspect.isclass(cls) or cls in (DualTransform, ImageOnlyTransform):
            continue
        if issubclass(cls, ImageOnlyTransform):
            found[name] = "pixel"
        elif issubclass(cls, DualTransform):
            found[name] = "spatial"
    return found


def test_every_albumentations_transform_has_a_row(A) -> None:  # noqa: N803
    installed = albumentations_image_transforms(A)
    missing = sorted(set(installed) - set(MAPPING))
    assert not missing, f"albumentations transforms without a row in augcli/albumentations_map.py: {missing}"
    assert sorted(set(MAPPING) - set(installed)) == [], "rows for classes albumentations does not have"
    assert {name: MAPPING[name].kind for name in installed} == installed


def test_the_table_names_real_augcli_steps() -> None:
    for name, entry in MAPPING.items():
        assert entry.params, name
        if entry.augcli is None:
            assert entry.convert is None, name
        else:
            assert entry.augcli in REGISTRY or entry.augcli == "sequence", (name, entry.augcli)
            assert entry.convert is not None, name
        assert entry.exact or entry.differs, f"{name}: a related step says how it differs"


def test_readme_albumentations_table_is_current() -> None:
    tool = readme_tool()
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert tool.with_table(readme, tool.render_table()) == readme, "run scripts/readme_albumentations.py"
    for name in MAPPING:
        assert f"| `{name}` |" in readme


def test_augcli_never_imports_albumentations(tmp_path: Path) -> None:
    pipeline = tmp_path / "p.json"
    pipeline.write_text(
        json.dumps(
            {
                "__version__": "2.0.8",
                "transform": {
                    "__class_fullname__": "Compose",
                    "p": 1.0,
                    "transforms": [{"__class_fullname__": "HorizontalFlip", "p": 1.0}],
                },
            }
        )
    )
    code = (
        "import sys; sys.modules['albumentations'] = None\n"  # any import of it now fails
        "from augcli.cli import app; from typer.testing import CliRunner\n"
        f"r = CliRunner().invoke(app, ['convert', {str(pipeline)!r}, '-o', {str(tmp_path / 'r.yaml')!r}])\n"
        "assert r.exit_code == 0, r.output\n"
        "assert not [m for m in sys.modules if m.startswith('albumentations') and sys.modules[m] is not None]\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)


# ---- conversion of saved pipelines ------------------------------------------------------------------------------


def save(A, transforms, path: Path, fmt: str = "yaml", p: float = 1.0) -> Path:  # noqa: N803
    A.save(A.Compose(transforms, p=p), str(path), data_format=fmt)
    return path


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_blocks_and_probabilities(A, tmp_path: Path, fmt: str) -> None:  # noqa: N803
    import cv2

    pipeline = save(
        A,
        [
            A.HorizontalFlip(p=0.5),
            A.Rotate(limit=20, border_mode=cv2.BORDER_REFLECT_101, p=0.7),
            A.OneOf([A.GaussianBlur(sigma_limit=(0.5, 1.5), p=0.25), A.MedianBlur(blur_limit=(3, 5), p=0.75)], p=0.4),
            A.SomeOf([A.InvertImg(p=1.0), A.ToGray(p=0.5), A.Solarize(p=0.2)], n=2, p=0.9),
            A.Sequential([A.RandomGamma(gamma_limit=(90, 110), p=1.0)], p=0.25),
        ],
        tmp_path / f"p.{fmt}",
        fmt,
        p=0.8,
    )
    result = convert_file(pipeline, tmp_path / "r.yaml")
    assert result.skipped == [] and result.converted == result.total == 8
    load_recipe(tmp_path / "r.yaml")  # the written file is a valid recipe
    (top,) = yaml.safe_load((tmp_path / "r.yaml").read_text())["transforms"]
    assert top["name"] == "sequence" and top["p"] == 0.8
    hflip, rotate, one_of, some_of, sequence = top["transforms"]
    assert hflip == {"name": "hflip", "p": 0.5}
    assert rotate == {
        "name": "rotate",
        "p": 0.7,
        "angle_range": [-20, 20],
        "border_mode": "reflect",
        "interpolation": "linear",
    }
    # OneOf: children's p are the weights; the chosen one always runs.
    assert one_of["p"] == 0.4 and one_of["weights"] == [0.25, 0.75]
    assert [c.get("p", 1.0) for c in one_of["transforms"]] == [1.0, 1.0]
    assert one_of["transforms"][1] == {"name": "median_blur", "size_range": [3, 5]}
    # SomeOf: n -> n_range, children keep their own p.
    assert some_of["n_range"] == [2, 2] and some_of["p"] == 0.9
    assert [c.get("p", 1.0) for c in some_of["transforms"]] == [1.0, 0.5, 0.2]
    assert sequence == {"name": "sequence", "p": 0.25, "transforms": [{"name": "gamma", "gamma_range": [0.9, 1.1]}]}


def test_what_is_not_converted_is_reported_with_its_line_and_path(A, tmp_path: Path) -> None:  # noqa: N803
    import cv2

    pipeline = save(
        A,
        [
            A.HorizontalFlip(p=1.0),
            A.OneOf([A.RingingOvershoot(p=1.0), A.Superpixels(p=1.0)]),
            A.Rotate(limit=10, crop_border=True, border_mode=cv2.BORDER_CONSTANT, p=1.0),
            A.Normalize(),
        ],
        tmp_path / "p.yaml",
    )
    lines = (tmp_path / "p.yaml").read_text().splitlines()
    result = CliRunner().invoke(app, ["convert", str(pipeline), "-o", str(tmp_path / "r.yaml")])
    assert result.exit_code == ExitCode.FAILURES == 1, result.output
    recipe_text = (tmp_path / "r.yaml").read_text()
    for name, path in [
        ("RingingOvershoot", "transforms[1].transforms[0]"),
        ("Superpixels", "transforms[1].transforms[1]"),
        ("Rotate", "transforms[2]"),
        ("Normalize", "transforms[3]"),
    ]:
        (problem,) = [line for line in result.stderr.splitlines() if f" {path} {name}:" in line]
        line_number = int(re.search(r"p\.yaml:(\d+): ", problem).group(1))
        assert f"__class_fullname__: {name}" in lines[line_number - 1], (problem, lines[line_number - 1])
        assert f"{path} {name}:" in recipe_text  # listed in the recipe's header comment too
    assert "crop_border=True" in result.stderr
    recipe = yaml.safe_load(recipe_text)
    assert [s["name"] for s in recipe["transforms"]] == ["hflip", "rotate"]  # the one_of lost all its children
    assert "2 of 5 transforms converted" in result.stdout


def test_json_paths_without_lines(A, tmp_path: Path) -> None:  # noqa: N803
    pipeline = save(A, [A.Superpixels(p=1.0)], tmp_path / "p.json", "json")
    result = convert_file(pipeline)
    (problem,) = result.skipped
    assert str(problem).startswith(f"{pipeline}: transforms[0] Superpixels: no equivalent")


def test_colours_borders_and_ranges() -> None:
    notes = Notes()
    assert colour((10, 20, 30), notes) == [30, 20, 10]  # RGB -> BGR
    assert colour(7.0, notes) == 7 and notes.skipped == []
    assert colour(300, notes) is None and "0-255" in notes.skipped[0]
    text = yaml.safe_dump(
        {
            "__version__": "2.0.8",
            "transform": {
                "__class_fullname__": "Compose",
                "p": 1,
                "transforms": [
                    {
                        "__class_fullname__": "ShiftScaleRotate",
                        "p": 1,
                        "shift_limit_x": [0, 0],
                        "shift_limit_y": [0, 0],
                        "scale_limit": [-0.2, 0.1],
                        "rotate_limit": [-30, 30],
                        "border_mode": 2,
                        "interpolation": 0,
                        "fill": 0,
                    },
                    {
                        "__class_fullname__": "RGBShift",
                        "p": 1,
                        "r_shift_limit": [-51, 51],
                        "g_shift_limit": [0, 0],
                        "b_shift_limit": [0, 25.5],
                    },
                    {
                        "__class_fullname__": "ColorJitter",
                        "p": 1,
                        "brightness": [0.8, 1.2],
                        "contrast": [1, 1],
                        "saturation": [1, 1],
                        "hue": [-0.1, 0.1],
                    },
                    {
                        "__class_fullname__": "Affine",
                        "p": 1,
                        "shear": {"x": [5, 10], "y": [0, 0]},
                        "scale": {"x": [1, 1], "y": [1, 1]},
                    },
                ],
            },
        }
    )
    result = convert_text(text)
    ssr, rgb, jitter, affine = result.recipe["transforms"]
    assert ssr["scale_range"] == [0.8, 1.1] and ssr["angle_range"] == [-30, 30]
    assert ssr["border_mode"] == "symmetric" and ssr["interpolation"] == "nearest" and "fill" not in ssr
    assert rgb["r_shift_range"] == [-0.2, 0.2] and rgb["b_shift_range"] == [0, 0.1]
    assert jitter["hue_range"] == [-36, 36]
    assert affine["shear_x_range"] == [-10, -5]  # the angles turn the other way
    assert result.skipped == []


def test_not_a_pipeline(tmp_path: Path) -> None:
    (tmp_path / "r.yaml").write_text("version: 1\ntransforms: []\n")
    with pytest.raises(RecipeError, match="not a saved albumentations pipeline"):
        convert_file(tmp_path / "r.yaml")
    result = CliRunner().invoke(app, ["convert", str(tmp_path / "missing.yaml"), "-o", str(tmp_path / "o.yaml")])
    assert result.exit_code == ExitCode.USAGE and "pipeline file not found" in result.stderr


def test_every_converter_gives_a_valid_step_for_default_arguments(A, tmp_path: Path) -> None:  # noqa: N803
    """Each mapped transform, saved with its defaults (required sizes filled in), converts to a valid recipe."""
    required = {"size": (32, 32), "height": 32, "width": 32, "max_size": 32}
    transforms = []
    for name, entry in sorted(MAPPING.items()):
        if entry.convert is None:
            continue
        cls = getattr(A, name)
        params = inspect.signature(cls.__init__).parameters
        kwargs = {k: v for k, v in required.items() if k in params and params[k].default is inspect.Parameter.empty}
        if name in ("LongestMaxSize", "SmallestMaxSize"):
            kwargs = {"max_size": 32}
        transforms.append(cls(**kwargs, p=1.0))
    result = convert_file(save(A, transforms, tmp_path / "all.yaml"), tmp_path / "r.yaml")
    invalid = [
        str(p) for p in result.skipped if "not valid in augcli" in p.message or "unexpected arguments" in p.message
    ]
    assert invalid == []
    load_recipe(tmp_path / "r.yaml")


# ---- same pixels ------------------------------------------------------------------------------------------------


def image_bgr() -> np.ndarray:
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:48, 0:64]
    base = np.stack([xx * 4, yy * 5, (xx + yy) * 2], -1).astype(np.float64)
    return np.clip(base + rng.normal(0, 20, base.shape), 0, 255).astype(np.uint8)


def both(A, transform, tmp_path: Path, rgb: bool = True) -> tuple[np.ndarray, np.ndarray, list]:  # noqa: N803
    """(albumentations' output, augcli's output), both BGR, for one transform on the same image.

    albumentations gets the image as RGB (its convention) unless `rgb` is false."""
    import cv2

    from augcli.api import Augmenter

    bgr = image_bgr()
    pipeline = save(A, [transform], tmp_path / "p.yaml")
    conversion = convert_file(pipeline, tmp_path / "r.yaml")
    assert conversion.skipped == [], conversion.skipped
    if rgb:
        theirs = cv2.cvtColor(
            A.Compose([transform])(image=cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))["image"], cv2.COLOR_RGB2BGR
        )
    else:
        theirs = A.Compose([transform])(image=bgr)["image"]
    ours = Augmenter(tmp_path / "r.yaml").augment(bgr, "c/x.png", suffix=".png").image
    return theirs, ours, conversion.notes


# name -> (transform factory, largest difference allowed in 8-bit levels)
SAME_PIXELS = {
    "HorizontalFlip": (lambda A, cv2: A.HorizontalFlip(p=1), 0),
    "VerticalFlip": (lambda A, cv2: A.VerticalFlip(p=1), 0),
    "Transpose": (lambda A, cv2: A.Transpose(p=1), 0),
    "Rotate constant": (
        lambda A, cv2: A.Rotate(limit=(15, 15), border_mode=cv2.BORDER_CONSTANT, fill=(10, 20, 30), p=1),
        0,
    ),
    "Rotate reflect": (lambda A, cv2: A.Rotate(limit=(-20, -20), border_mode=cv2.BORDER_REFLECT_101, p=1), 0),
    "Affine rotate+scale": (
        lambda A, cv2: A.Affine(rotate=(10, 10), scale=1.1, border_mode=cv2.BORDER_REPLICATE, p=1),
        0,
    ),
    "Affine shear": (lambda A, cv2: A.Affine(shear={"x": (10, 10), "y": (-5, -5)}, border_mode=0, p=1), 0),
    # 0.0625 x 64 and 0.0625 x 48 are whole pixels: albumentations rounds shifts, augcli does not.
    "ShiftScaleRotate": (
        lambda A, cv2: A.ShiftScaleRotate(
            shift_limit=(0.0625, 0.0625), scale_limit=(0.1, 0.1), rotate_limit=(10, 10), border_mode=0, p=1
        ),
        0,
    ),
    "RandomBrightnessContrast": (
        lambda A, cv2: A.RandomBrightnessContrast(brightness_limit=(0.1, 0.1), contrast_limit=(0, 0), p=1),
        1,
    ),
    "GaussianBlur": (lambda A, cv2: A.GaussianBlur(blur_limit=0, sigma_limit=(1, 1), p=1), 1),
    "MedianBlur": (lambda A, cv2: A.MedianBlur(blur_limit=(5, 5), p=1), 0),
    "Blur": (lambda A, cv2: A.Blur(blur_limit=(5, 5), p=1), 0),
    "Morphological": (lambda A, cv2: A.Morphological(scale=(3, 3), operation="erosion", p=1), 0),
    "InvertImg": (lambda A, cv2: A.InvertImg(p=1), 0),
    "ToGray": (lambda A, cv2: A.ToGray(p=1), 1),
    "ToSepia": (lambda A, cv2: A.ToSepia(p=1), 1),
    "Solarize": (lambda A, cv2: A.Solarize(threshold_range=(0.5, 0.5), p=1), 0),
    "Posterize": (lambda A, cv2: A.Posterize(num_bits=3, p=1), 0),
    "RandomGamma": (lambda A, cv2: A.RandomGamma(gamma_limit=(150, 150), p=1), 1),
    "RGBShift": (
        lambda A, cv2: A.RGBShift(r_shift_limit=(20, 20), g_shift_limit=(-10, -10), b_shift_limit=(5, 5), p=1),
        1,
    ),
    "ColorJitter brightness": (
        lambda A, cv2: A.ColorJitter(brightness=(1.2, 1.2), contrast=(1, 1), saturation=(1, 1), hue=(0, 0), p=1),
        1,
    ),
    "ColorJitter saturation": (
        lambda A, cv2: A.ColorJitter(brightness=(1, 1), contrast=(1, 1), saturation=(0.5, 0.5), hue=(0, 0), p=1),
        1,
    ),
    "ColorJitter hue": (
        lambda A, cv2: A.ColorJitter(brightness=(1, 1), contrast=(1, 1), saturation=(1, 1), hue=(0.1, 0.1), p=1),
        1,
    ),
    "HueSaturationValue hue": (
        lambda A, cv2: A.HueSaturationValue(
            hue_shift_limit=(10, 10), sat_shift_limit=(0, 0), val_shift_limit=(0, 0), p=1
        ),
        1,
    ),
    "Sharpen": (lambda A, cv2: A.Sharpen(alpha=(0.5, 0.5), lightness=(1, 1), p=1), 1),
    "Emboss": (lambda A, cv2: A.Emboss(alpha=(0.5, 0.5), strength=(0.5, 0.5), p=1), 1),
    "Equalize": (lambda A, cv2: A.Equalize(by_channels=True, p=1), 0),
    "Resize": (lambda A, cv2: A.Resize(32, 40, p=1), 1),
    "SmallestMaxSize": (lambda A, cv2: A.SmallestMaxSize(max_size=32, p=1), 1),
    "LongestMaxSize": (lambda A, cv2: A.LongestMaxSize(max_size=32, p=1), 1),
    "CenterCrop": (lambda A, cv2: A.CenterCrop(30, 40, p=1), 0),
    "RandomResizedCrop whole": (
        lambda A, cv2: A.RandomResizedCrop(size=(48, 64), scale=(1, 1), ratio=(4 / 3, 4 / 3), p=1),
        1,
    ),
    "Downscale": (
        lambda A, cv2: A.Downscale(scale_range=(0.5, 0.5), interpolation_pair={"downscale": 0, "upscale": 0}, p=1),
        0,
    ),
    "PixelDropout all": (lambda A, cv2: A.PixelDropout(dropout_prob=1.0, drop_value=(10, 20, 30), p=1), 0),
    "FancyPCA zero": (lambda A, cv2: A.FancyPCA(alpha=0, p=1), 0),
}


@pytest.mark.parametrize("case", SAME_PIXELS)
def test_same_pixels_as_albumentations(A, tmp_path: Path, case: str) -> None:  # noqa: N803
    import cv2

    factory, tolerance = SAME_PIXELS[case]
    theirs, ours, _ = both(A, factory(A, cv2), tmp_path)
    assert theirs.shape == ours.shape
    assert int(np.abs(theirs.astype(int) - ours.astype(int)).max()) <= tolerance


def test_jpeg_same_bytes_when_albumentations_gets_bgr(A, tmp_path: Path) -> None:  # noqa: N803
    """albumentations encodes the array it gets as if it were BGR (cv2.imencode): fed RGB, its chroma
    subsampling works on swapped channels. Fed the BGR image, the outputs are identical."""
    theirs, ours, _ = both(A, A.ImageCompression(quality_range=(80, 80), p=1), tmp_path, rgb=False)
    assert np.array_equal(theirs, ours)


def test_coarse_dropout_same_area_and_fill(A, tmp_path: Path) -> None:  # noqa: N803
    """Hole positions are random in both; one hole of half each side is erased with the same colour."""
    transform = A.CoarseDropout(
        num_holes_range=(1, 1), hole_height_range=(0.5, 0.5), hole_width_range=(0.5, 0.5), fill=(10, 20, 30), p=1
    )
    theirs, ours, _ = both(A, transform, tmp_path)
    source = image_bgr()
    for out in (theirs, ours):
        erased = np.all(out == [30, 20, 10], axis=-1)
        assert erased.sum() == 24 * 32
        assert np.array_equal(out[~erased], source[~erased])


def test_shifts_that_are_not_whole_pixels_are_noted(A, tmp_path: Path) -> None:  # noqa: N803
    theirs, ours, notes = both(A, A.Affine(translate_percent=(0.05, 0.05), border_mode=0, p=1), tmp_path)
    assert any("whole pixels" in n.message for n in notes)
    assert not np.array_equal(theirs, ours)  # 3.2 px: albumentations shifts 3
