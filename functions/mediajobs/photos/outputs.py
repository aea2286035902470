"""How a processed photo is delivered: cropped to its subject, sized, put on a background
(`processing.encode` then encodes it). Plain functions over PIL images, in the order
`processing.process_photo` applies them.

A cutout's alpha is its mask: 0 is background, 255 is subject.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL import Image as PILImage

Box = tuple[int, int, int, int]  # (left, top, right, bottom), right and bottom exclusive
Colour = tuple[int, int, int]

SUBJECT_ALPHA = 64  # a pixel at least this opaque is part of the subject's box


def parse_colour(value: str) -> Colour:
    """'#rrggbb' as an (r, g, b) tuple."""
    if len(value) != 7 or not value.startswith("#"):
        raise ValueError(f"{value!r} is not a colour '#rrggbb'")
    return (int(value[1:3], 16), int(value[3:5], 16), int(value[5:7], 16))


def alpha_of(image: PILImage.Image) -> PILImage.Image:
    """The image's mask (mode L): its alpha, or fully opaque when it has none."""
    from PIL import Image

    if image.mode == "RGBA":
        return image.getchannel("A")
    return Image.new("L", image.size, 255)


def subject_box(mask: PILImage.Image, margin: float = 0.0) -> Box | None:
    """The tight box around the mask's opaque pixels, grown by `margin` of its longer side on
    each side and clamped to the image; None when nothing is opaque."""
    import numpy as np

    opaque = np.asarray(mask) >= SUBJECT_ALPHA
    rows, cols = np.flatnonzero(opaque.any(axis=1)), np.flatnonzero(opaque.any(axis=0))
    if not len(rows):
        return None
    left, top, right, bottom = int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1
    pad = round(max(right - left, bottom - top) * margin)
    return (max(0, left - pad), max(0, top - pad), min(mask.width, right + pad), min(mask.height, bottom + pad))


def fit_long_edge(image: PILImage.Image, long_edge: int | None) -> PILImage.Image:
    """The image scaled down so that its longer side is `long_edge`; never scaled up, and
    unchanged when `long_edge` is None (the original size)."""
    if long_edge is None or max(image.size) <= long_edge:
        return image
    scale = long_edge / max(image.size)
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    if image.mode == "RGBA":  # premultiplied, so transparent pixels' colours do not bleed into edges
        return image.convert("RGBa").resize(size, resample=3, reducing_gap=3.0).convert("RGBA")
    return image.resize(size, resample=3, reducing_gap=3.0)


def on_colour(image: PILImage.Image, colour: Colour) -> PILImage.Image:
    """The image over a solid colour, as RGB."""
    from PIL import Image

    if image.mode != "RGBA":
        return image.convert("RGB")
    flat = Image.new("RGB", image.size, colour)
    flat.paste(image, mask=image.getchannel("A"))
    return flat


def cover(background: PILImage.Image, size: tuple[int, int]) -> PILImage.Image:
    """The background scaled to cover `size` (aspect kept) and cropped at its centre, as RGB."""
    from PIL import ImageOps

    return ImageOps.fit(background.convert("RGB"), size, method=3, centering=(0.5, 0.5))


def on_image(image: PILImage.Image, background: PILImage.Image) -> PILImage.Image:
    """The image over `background`, which is cover-fitted behind it, as RGB."""
    behind = cover(background, image.size)
    if image.mode == "RGBA":
        behind.paste(image, mask=image.getchannel("A"))
        return behind
    return image.convert("RGB")
