"""Image-quality transforms: lossy compression artefacts (JPEG, WebP) at a sampled quality.

The codecs work on 8 bits: 16-bit images come back with 8-bit precision scaled to 16 bits, as a real
round trip through the format would leave them. Alpha is kept.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from augcli.kernels import quality as k
from augcli.transforms.base import IntRange, Transform, bounded, register


class _Quality(Transform):
    family: ClassVar[str] = "quality"


@register
class JpegCompression(_Quality):
    """Add JPEG artefacts by encoding and decoding at a random quality."""

    name: Literal["jpeg_compression"] = "jpeg_compression"
    quality_range: IntRange = bounded((40, 90), 1, 100, "JPEG quality (lower: stronger artefacts)")
    example: ClassVar[dict[str, Any]] = {"name": "jpeg_compression", "quality_range": [30, 80], "p": 0.3}

    def apply(self, image, params, ctx):
        return k.jpeg_compression(image, **params)


@register
class WebpCompression(_Quality):
    """Add WebP artefacts by encoding and decoding at a random quality."""

    name: Literal["webp_compression"] = "webp_compression"
    quality_range: IntRange = bounded((40, 90), 1, 100, "WebP quality (lower: stronger artefacts)")
    example: ClassVar[dict[str, Any]] = {"name": "webp_compression", "quality_range": [30, 80], "p": 0.3}

    def apply(self, image, params, ctx):
        return k.webp_compression(image, **params)
