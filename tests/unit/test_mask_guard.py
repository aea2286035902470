"""The mask guard: our background removal keeps rembg's own masks.

Whatever the photo pipeline does to go faster than rembg's `remove()` (decoding once, cheaper
resizes, its own composite and encoder), the model must see the same input and the alpha we
ship must match `remove()`'s: IoU >= 0.995 on every image of a small set. A change to the
model's input (another resize filter, another normalisation, a quantised model) moves the mask
edges and fails here: measured on this set, resizing the model's input bilinear instead of
Lanczos gives IoU 0.990 (astronaut) and 0.937 (chelsea)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from mediajobs.photos.options import PhotoOptions
from mediajobs.photos.processing import model_available, process_photo, session_for
from tests.photo_fixtures import photo, synthetic_subject

MODEL = "u2netp"
GUARD_IOU = 0.995

pytestmark = pytest.mark.skipif(not model_available(MODEL), reason=f"{MODEL} is not installed (make setup)")


def bench_set() -> dict[str, bytes]:
    """Photos of the shapes the bench uses: a portrait, an object, an animal, a synthetic cut."""
    return {
        "astronaut.jpg": photo("astronaut"),
        "coffee.png": photo("coffee", "PNG"),
        "chelsea.jpg": photo("chelsea", size=(640, 480)),
        "disk.png": synthetic_subject()[0],
    }


def iou(first: np.ndarray, second: np.ndarray, threshold: int = 128) -> float:
    a, b = first >= threshold, second >= threshold
    union = np.logical_or(a, b).sum()
    return 1.0 if union == 0 else float(np.logical_and(a, b).sum() / union)


def rembg_alpha(data: bytes) -> np.ndarray:
    import rembg

    image = Image.open(io.BytesIO(data)).convert("RGB")
    cutout = rembg.remove(image, session=session_for(MODEL, 1))
    return np.asarray(cutout.convert("RGBA"))[:, :, 3]


def our_alpha(data: bytes, name: str) -> np.ndarray:
    options = PhotoOptions.model_validate({"model": MODEL, "crop": "none", "output_format": "png"})
    result = process_photo(data, name, options, threads=1)
    return np.asarray(Image.open(io.BytesIO(result.data)).convert("RGBA"))[:, :, 3]


@pytest.mark.parametrize("name", sorted(bench_set()))
def test_every_mask_matches_rembgs_own(name: str) -> None:
    data = bench_set()[name]
    ours, theirs = our_alpha(data, name), rembg_alpha(data)
    assert ours.shape == theirs.shape
    assert iou(ours, theirs) >= GUARD_IOU
    assert ours.max() == 255 and ours.min() == 0  # a real cut: some subject, some background


def test_the_guard_fails_when_the_model_sees_another_input() -> None:
    """The guard's threshold is tight enough to notice a changed model input: the same photo
    fed to the model at a quarter of its resolution (then scaled back) no longer passes."""
    data = bench_set()["astronaut.jpg"]
    image = Image.open(io.BytesIO(data)).convert("RGB")
    small = image.resize((image.width // 8, image.height // 8), Image.Resampling.NEAREST)
    buffer = io.BytesIO()
    small.resize(image.size, Image.Resampling.NEAREST).save(buffer, "PNG")
    assert iou(our_alpha(buffer.getvalue(), "blocky.png"), rembg_alpha(data)) < GUARD_IOU
