"""Generate the small demo dataset that ships in ``sample_data/``.

augcli is an offline tool, so its demos and tests must not depend on
downloading a public dataset. This script draws a tiny class-folder image
dataset (``<out>/<class>/<name>.jpg``) from a fixed seed instead: three
shape classes whose label is obvious at a glance, on textured, noisy,
gradient backgrounds with fine detail so that blur, noise and JPEG
augmentations have something visible to act on. Image sizes vary and are
mostly non-square so crop and resize code paths get exercised.

Re-running it with the same NumPy/OpenCV versions gives byte-identical files.

Usage:
    python scripts/make_sample_data.py [OUT_DIR] [--force]
"""

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

SEED = 20240601
IMAGES_PER_CLASS = 10
JPEG_QUALITY = 90
WIDTH_RANGE = (200, 320)
HEIGHT_RANGE = (160, 260)

DEFAULT_OUT_DIR = Path(__file__).resolve().parent.parent / "sample_data"


def random_colour(rng, low=0, high=256):
    return tuple(int(c) for c in rng.integers(low, high, size=3))


def smooth_noise(rng, height, width, cell):
    # Blurring upsampled coarse noise gives soft blotches (uneven lighting,
    # paper grain) without the blocky grid that plain interpolation leaves.
    coarse = rng.random((height // cell + 2, width // cell + 2)).astype(np.float32)
    upsampled = cv2.resize(coarse, (width, height), interpolation=cv2.INTER_LINEAR)
    return cv2.GaussianBlur(upsampled, (0, 0), sigmaX=cell / 2)


def gradient_background(rng, height, width):
    start = np.array(random_colour(rng, 40, 220), dtype=np.float32)
    end = np.array(random_colour(rng, 40, 220), dtype=np.float32)
    angle = rng.uniform(0, 2 * np.pi)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    projection = xs * np.cos(angle) + ys * np.sin(angle)
    t = (projection - projection.min()) / max(float(np.ptp(projection)), 1.0)
    return start + t[..., None] * (end - start)


def textured_background(rng, height, width):
    image = gradient_background(rng, height, width)
    blotches = smooth_noise(rng, height, width, cell=int(rng.integers(16, 40)))
    grain = smooth_noise(rng, height, width, cell=3)
    shading = 0.75 + 0.5 * blotches + 0.25 * (grain - grain.mean())
    image *= shading[..., None]
    add_scribbles(rng, image, count=int(rng.integers(6, 14)))
    return image


def add_scribbles(rng, image, count):
    # Thin faint lines are high-frequency detail that blur visibly removes.
    height, width = image.shape[:2]
    shade = np.zeros((height, width), dtype=np.float32)
    for _ in range(count):
        start = (int(rng.integers(0, width)), int(rng.integers(0, height)))
        end = (int(rng.integers(0, width)), int(rng.integers(0, height)))
        cv2.line(shade, start, end, float(rng.uniform(-40, 40)), 1, cv2.LINE_AA)
    image += shade[..., None]


def shape_fill_colour(rng, background_mean, candidates=8):
    # Take the most contrasting of a few random colours so the label stays readable.
    options = rng.integers(0, 256, size=(candidates, 3)).astype(np.float32)
    distances = np.abs(options - background_mean).sum(axis=1)
    return tuple(float(c) for c in options[int(np.argmax(distances))])


def darker(colour, factor=0.45):
    return tuple(c * factor for c in colour)


def draw_circles(rng, image):
    height, width = image.shape[:2]
    for _ in range(int(rng.integers(1, 4))):
        radius = int(rng.integers(min(height, width) // 8, min(height, width) // 3))
        centre = (int(rng.integers(radius, width - radius)), int(rng.integers(radius, height - radius)))
        colour = shape_fill_colour(rng, image.mean(axis=(0, 1)))
        cv2.circle(image, centre, radius, colour, -1, cv2.LINE_AA)
        cv2.circle(image, centre, radius, darker(colour), 2, cv2.LINE_AA)
        # Concentric rings add fine detail inside the shape.
        for ring in range(radius // 3, radius, max(radius // 4, 3)):
            cv2.circle(image, centre, ring, darker(colour, 0.75), 1, cv2.LINE_AA)


def draw_triangles(rng, image):
    height, width = image.shape[:2]
    for _ in range(int(rng.integers(1, 3))):
        size = rng.uniform(0.2, 0.38) * min(height, width)
        centre = np.array([rng.uniform(size, width - size), rng.uniform(size, height - size)])
        rotation = rng.uniform(0, 2 * np.pi)
        angles = rotation + np.array([0, 2 * np.pi / 3, 4 * np.pi / 3])
        corners = centre + size * np.stack([np.cos(angles), np.sin(angles)], axis=1)
        points = np.round(corners * 16).astype(np.int32).reshape(-1, 1, 2)
        colour = shape_fill_colour(rng, image.mean(axis=(0, 1)))
        # Sub-pixel shift (4 bits) keeps rotated edges smooth.
        cv2.fillPoly(image, [points], colour, cv2.LINE_AA, shift=4)
        cv2.polylines(image, [points], True, darker(colour), 2, cv2.LINE_AA, shift=4)
        inner = np.round((centre + 0.5 * (corners - centre)) * 16).astype(np.int32).reshape(-1, 1, 2)
        cv2.polylines(image, [inner], True, darker(colour, 0.7), 1, cv2.LINE_AA, shift=4)


def draw_stripes(rng, image):
    height, width = image.shape[:2]
    patch_w = int(rng.uniform(0.45, 0.75) * width)
    patch_h = int(rng.uniform(0.45, 0.75) * height)
    period = int(rng.integers(8, 18))
    angle = rng.uniform(0, np.pi)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    phase = (xs * np.cos(angle) + ys * np.sin(angle)) / period
    # Soft-edged bands rather than hard 0/1 so resizing shows aliasing gradually.
    bands = np.clip(np.sin(2 * np.pi * phase) * 3, -1, 1) * 0.5 + 0.5
    mask = rotated_rect_mask(rng, height, width, patch_w, patch_h)
    colour_a = np.array(shape_fill_colour(rng, image.mean(axis=(0, 1))), dtype=np.float32)
    colour_b = np.array(darker(tuple(colour_a), 0.35), dtype=np.float32)
    stripes = colour_b + bands[..., None] * (colour_a - colour_b)
    image[:] = image * (1 - mask[..., None]) + stripes * mask[..., None]


def rotated_rect_mask(rng, height, width, patch_w, patch_h):
    centre = (float(rng.uniform(0.35, 0.65) * width), float(rng.uniform(0.35, 0.65) * height))
    tilt = float(rng.uniform(-30, 30))
    corners = cv2.boxPoints((centre, (patch_w, patch_h), tilt))
    mask = np.zeros((height, width), dtype=np.float32)
    cv2.fillPoly(mask, [np.round(corners * 16).astype(np.int32)], 1.0, cv2.LINE_AA, shift=4)
    return mask


SHAPE_DRAWERS = {
    "circles": draw_circles,
    "stripes": draw_stripes,
    "triangles": draw_triangles,
}


def add_sensor_noise(rng, image):
    sigma = rng.uniform(4, 9)
    return image + rng.normal(0, sigma, size=image.shape).astype(np.float32)


def make_image(class_name, index):
    # Seed per image so editing one class does not reshuffle the others.
    class_number = list(SHAPE_DRAWERS).index(class_name)
    rng = np.random.default_rng([SEED, class_number, index])
    width = int(rng.integers(WIDTH_RANGE[0], WIDTH_RANGE[1] + 1))
    height = int(rng.integers(HEIGHT_RANGE[0], HEIGHT_RANGE[1] + 1))
    image = textured_background(rng, height, width)
    SHAPE_DRAWERS[class_name](rng, image)
    image = add_sensor_noise(rng, image)
    return np.clip(np.round(image), 0, 255).astype(np.uint8)


def encode_jpeg(image):
    ok, buffer = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise RuntimeError("OpenCV failed to encode JPEG")
    return buffer.tobytes()


def write_dataset(out_dir):
    """Write every image and return (file count, total bytes)."""
    file_count = 0
    total_bytes = 0
    for class_name in SHAPE_DRAWERS:
        class_dir = out_dir / class_name
        class_dir.mkdir(parents=True, exist_ok=True)
        for index in range(IMAGES_PER_CLASS):
            data = encode_jpeg(make_image(class_name, index))
            (class_dir / f"{class_name}_{index:02d}.jpg").write_bytes(data)
            file_count += 1
            total_bytes += len(data)
    return file_count, total_bytes


def parse_args(argv):
    parser = argparse.ArgumentParser(description="Generate augcli's demo image dataset.")
    parser.add_argument(
        "out_dir",
        nargs="?",
        type=Path,
        default=DEFAULT_OUT_DIR,
        help=f"output directory (default: {DEFAULT_OUT_DIR})",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="write even if the output directory is not empty",
    )
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    out_dir = args.out_dir
    if out_dir.exists() and any(out_dir.iterdir()) and not args.force:
        print(f"error: {out_dir} is not empty (use --force to overwrite)", file=sys.stderr)
        return 1
    file_count, total_bytes = write_dataset(out_dir)
    print(f"wrote {file_count} images in {len(SHAPE_DRAWERS)} classes ({total_bytes / 1024:.0f} KB) to {out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
