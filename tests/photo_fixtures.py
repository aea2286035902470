"""Test images: real photos from scikit-image, synthetic shapes, and hostile files."""

from __future__ import annotations

import io
import zipfile

from PIL import Image, ImageDraw
from skimage import data

FACE_BOX_ASTRONAUT = (177, 66, 95, 95)  # (x, y, w, h) found by the Haar cascade


def photo(name: str, fmt: str = "JPEG", size: tuple[int, int] | None = None) -> bytes:
    image = Image.fromarray(getattr(data, name)()).convert("RGB")
    if size:
        image = image.resize(size)
    buffer = io.BytesIO()
    image.save(buffer, fmt)
    return buffer.getvalue()


def synthetic_subject() -> tuple[bytes, Image.Image]:
    """A cat-textured disk on a flat light background, and its true mask."""
    mask = Image.new("L", (512, 512), 0)
    ImageDraw.Draw(mask).ellipse((106, 106, 406, 406), fill=255)
    subject = Image.fromarray(data.chelsea()).resize((512, 512))
    image = Image.composite(subject, Image.new("RGB", (512, 512), (235, 235, 235)), mask)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue(), mask


def decompression_bomb_png() -> bytes:
    """A tiny file that declares 100 megapixels."""
    buffer = io.BytesIO()
    Image.new("1", (10_000, 10_000)).save(buffer, "PNG")
    return buffer.getvalue()


def zip_bomb() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("huge.png", bytes(60 * 1024 * 1024))
    return buffer.getvalue()


def mixed_zip(images: int = 12) -> bytes:
    """`images` good photos in folders, a text file, a traversal name, a nested ZIP, a hidden file."""
    names = ["astronaut", "coffee", "chelsea"]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("photos/", b"")
        for index in range(images - 1):
            archive.writestr(f"photos/set-{index % 2}/pic-{index // 2}.jpg", photo(names[index % 3], size=(256, 256)))
        archive.writestr("../evil.png", photo("coffee", "PNG", size=(200, 200)))
        archive.writestr("notes.txt", b"not an image")
        archive.writestr(".DS_Store", b"\0\0")
        inner = io.BytesIO()
        with zipfile.ZipFile(inner, "w") as nested:
            nested.writestr("inner.jpg", photo("astronaut", size=(64, 64)))
        archive.writestr("more.zip", inner.getvalue())
    return buffer.getvalue()


SUBJECT_BOX = (106, 106, 407, 407)  # (left, top, right, bottom) of subject_on's mask, right/bottom exclusive


def subject_on(background: tuple[int, int, int], size: int = 512) -> tuple[bytes, Image.Image]:
    """synthetic_subject's cat-textured disk on a flat background of the given colour, as a
    PNG, and its true mask (scaled to `size`: the disk keeps its place relative to the image)."""
    mask = Image.new("L", (512, 512), 0)
    ImageDraw.Draw(mask).ellipse((106, 106, 406, 406), fill=255)
    subject = Image.fromarray(data.chelsea()).resize((512, 512))
    image = Image.composite(subject, Image.new("RGB", (512, 512), background), mask)
    if size != 512:
        image, mask = image.resize((size, size)), mask.resize((size, size))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue(), mask


def cutout_of(image_png: bytes, mask: Image.Image) -> Image.Image:
    """The image with `mask` as its alpha: what a perfect background removal gives."""
    cutout = Image.open(io.BytesIO(image_png)).convert("RGBA")
    cutout.putalpha(mask)
    return cutout


def stripes(size: tuple[int, int] = (800, 400)) -> bytes:
    """A background image: vertical stripes, blue then green (left and right halves), as JPEG."""
    image = Image.new("RGB", size, (0, 0, 255))
    ImageDraw.Draw(image).rectangle((size[0] // 2, 0, size[0], size[1]), fill=(0, 255, 0))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=95)
    return buffer.getvalue()
