"""Domain adaptation towards a reference image: histogram matching, Fourier domain adaptation (FDA) and
pixel distribution adaptation (mean/std or PCA statistics).

Each kernel takes the image and a reference of any size, depth and channel count (`as_reference_for`
brings it to the image's channels and value scale); alpha is carried through untouched. A blend weight
mixes the adapted picture with the input (1 is fully adapted).
"""

from __future__ import annotations

import cv2
import numpy as np

from augcli.kernels._common import max_value, merge_alpha, split_alpha, to_dtype


def as_reference_for(reference: np.ndarray, image: np.ndarray) -> np.ndarray:
    """The reference's colour part as float64 with the image's colour channel count, on the image's scale."""
    colour, _ = split_alpha(image)
    ref, _ = split_alpha(reference)
    if ref.ndim == 3 and ref.shape[2] == 1:
        ref = ref[:, :, 0]
    wanted = 1 if colour.ndim == 2 or colour.shape[2] == 1 else 3
    if wanted == 1 and ref.ndim == 3:
        ref = cv2.cvtColor(ref, cv2.COLOR_BGR2GRAY)
    elif wanted == 3 and ref.ndim == 2:
        ref = cv2.cvtColor(ref, cv2.COLOR_GRAY2BGR)
    out = ref.astype(np.float64) * (max_value(image.dtype) / max_value(ref.dtype))
    return out.reshape(out.shape[0], out.shape[1], -1)


def _planes(image: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """Colour part as float64 height x width x channels, and the alpha plane (or None)."""
    colour, alpha = split_alpha(image)
    values = colour.astype(np.float64)
    return values.reshape(values.shape[0], values.shape[1], -1), alpha


def _finish(adapted: np.ndarray, image: np.ndarray, blend: float, alpha: np.ndarray | None) -> np.ndarray:
    colour, _ = split_alpha(image)
    original = colour.astype(np.float64).reshape(adapted.shape)
    mixed = blend * adapted + (1.0 - blend) * original
    out = to_dtype(np.clip(mixed, 0.0, max_value(image.dtype)), image.dtype).reshape(colour.shape)
    return np.ascontiguousarray(merge_alpha(out, alpha))


def histogram_matching(image: np.ndarray, reference: np.ndarray, *, blend: float) -> np.ndarray:
    """Map each channel's values so its cumulative histogram follows the reference's (scikit-image's
    match_histograms: every distinct value goes to the reference value at the same quantile)."""
    if blend == 0:
        return image.copy()
    values, alpha = _planes(image)
    ref = as_reference_for(reference, image)
    adapted = np.empty_like(values)
    for c in range(values.shape[2]):
        source = values[:, :, c].ravel()
        levels, inverse, counts = np.unique(source, return_inverse=True, return_counts=True)
        ref_levels, ref_counts = np.unique(ref[:, :, c].ravel(), return_counts=True)
        quantiles = np.cumsum(counts) / source.size
        ref_quantiles = np.cumsum(ref_counts) / ref_counts.sum()
        adapted[:, :, c] = np.interp(quantiles, ref_quantiles, ref_levels)[inverse].reshape(values.shape[:2])
    return _finish(adapted, image, blend, alpha)


def fda(image: np.ndarray, reference: np.ndarray, *, beta: float) -> np.ndarray:
    """Fourier domain adaptation (Yang & Soatto, 2020): the low-frequency amplitude of each channel, a
    centred window of half-size floor(beta * shorter side) (at least the mean), is replaced by the
    reference's (resized to the image); the phase, which carries the content, is kept. beta 0 is a copy."""
    if beta == 0:
        return image.copy()
    values, alpha = _planes(image)
    height, width = values.shape[:2]
    ref = as_reference_for(reference, image)
    ref = cv2.resize(ref, (width, height), interpolation=cv2.INTER_LINEAR).reshape(height, width, -1)
    border = int(np.floor(min(height, width) * beta))
    cy, cx = height // 2, width // 2
    window = (slice(max(0, cy - border), cy + border + 1), slice(max(0, cx - border), cx + border + 1))
    adapted = np.empty_like(values)
    for c in range(values.shape[2]):
        spectrum = np.fft.fftshift(np.fft.fft2(values[:, :, c]))
        ref_amplitude = np.abs(np.fft.fftshift(np.fft.fft2(ref[:, :, c])))
        amplitude, phase = np.abs(spectrum), np.angle(spectrum)
        amplitude[window] = ref_amplitude[window]
        swapped = np.fft.ifftshift(amplitude * np.exp(1j * phase))
        adapted[:, :, c] = np.real(np.fft.ifft2(swapped))
    return _finish(adapted, image, 1.0, alpha)


def pixel_distribution(image: np.ndarray, reference: np.ndarray, *, method: str, blend: float) -> np.ndarray:
    """Match the colour statistics of the reference.

    standard: each channel's mean and standard deviation. pca: the mean and covariance of the colour
    vectors (the image's principal components whitened, then coloured with the reference's; component
    signs made comparable by pointing each component's largest entry up). A flat channel only moves to
    the reference mean."""
    if blend == 0:
        return image.copy()
    values, alpha = _planes(image)
    ref = as_reference_for(reference, image)
    pixels, ref_pixels = values.reshape(-1, values.shape[2]), ref.reshape(-1, ref.shape[2])
    mean, ref_mean = pixels.mean(axis=0), ref_pixels.mean(axis=0)
    if method == "standard" or pixels.shape[1] == 1:
        std, ref_std = pixels.std(axis=0), ref_pixels.std(axis=0)
        gain = np.where(std > 1e-9, ref_std / np.maximum(std, 1e-9), 1.0)
        adapted = (pixels - mean) * gain + ref_mean
    elif method == "pca":
        vectors, spread = _components(pixels - mean)
        ref_vectors, ref_spread = _components(ref_pixels - ref_mean)
        gain = np.where(spread > 1e-9, np.sqrt(ref_spread / np.maximum(spread, 1e-9)), 1.0)
        adapted = ((pixels - mean) @ vectors) * gain @ ref_vectors.T + ref_mean
    else:
        raise ValueError(f"unknown pixel distribution method {method!r}")
    return _finish(adapted.reshape(values.shape), image, blend, alpha)


def _components(centred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Principal axes (columns, largest variance first) and their variances."""
    covariance = centred.T @ centred / max(1, len(centred))
    spread, vectors = np.linalg.eigh(covariance)
    order = np.argsort(spread)[::-1]
    spread, vectors = np.maximum(spread[order], 0.0), vectors[:, order]
    signs = np.sign(vectors[np.argmax(np.abs(vectors), axis=0), np.arange(vectors.shape[1])])
    return vectors * np.where(signs == 0, 1.0, signs), spread
