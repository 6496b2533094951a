"""Blur kernels."""

from __future__ import annotations

import math

import cv2
import numpy as np

from augcli.kernels._common import keep_shape, merge_alpha, split_alpha


def gaussian_blur(image: np.ndarray, *, sigma: float) -> np.ndarray:
    """Gaussian blur with a kernel wide enough for the sigma (3 sigma each side). Alpha is not blurred."""
    if sigma <= 0:
        return image.copy()
    color, alpha = split_alpha(image)
    ksize = 2 * math.ceil(3 * sigma) + 1
    blurred = cv2.GaussianBlur(color, (ksize, ksize), sigmaX=sigma, sigmaY=sigma, borderType=cv2.BORDER_REFLECT_101)
    return merge_alpha(keep_shape(blurred, color), alpha)
