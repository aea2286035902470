"""Photo outputs (background, format, crop, size, mask), checked on pixels, without the stack.

Background removal is replaced by the image's true mask (tests/photo_fixtures.subject_on), so
every pixel's expected value is known; tests/integration/test_photo_outputs.py runs the model.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pydantic
import pytest
from PIL import Image

from mediajobs.photos import outputs, processing
from mediajobs.photos.options import BackgroundImage, PhotoOptions
from mediajobs.validation import describe
from tests import photo_fixtures as fx

RED = (255, 0, 0)


def beyond_edge(size: int = 512) -> np.ndarray:
    """Each pixel's distance outside subject_on's circle (centre 256, radius 150), negative inside."""
    scale = size / 512
    yy, xx = np.mgrid[:size, :size]
    return np.asarray(np.hypot(xx + 0.5 - 256 * scale, yy + 0.5 - 256 * scale) - 150 * scale)


@pytest.fixture
def known_mask(monkeypatch: pytest.MonkeyPatch) -> None:
    """Background removal that returns the subject's true mask as alpha."""

    def remove_background(image: Image.Image, model: str, threads: int = 0) -> Image.Image:
        mask = Image.new("L", (512, 512), 0)
        from PIL import ImageDraw

        ImageDraw.Draw(mask).ellipse((106, 106, 406, 406), fill=255)
        cutout = image.convert("RGBA")
        cutout.putalpha(mask.resize(image.size))
        return cutout

    monkeypatch.setattr(processing, "remove_background", remove_background)


def run(data: bytes, background: bytes | None = None, **options: Any) -> tuple[processing.PhotoResult, Image.Image]:
    result = processing.process_photo(data, "subject.png", PhotoOptions.model_validate(options), background=background)
    return result, Image.open(io.BytesIO(result.data))


# pure operations


def test_subject_box_is_the_masks_bounding_box_grown_by_the_margin_and_clamped() -> None:
    _, mask = fx.subject_on(RED)
    assert outputs.subject_box(mask) == fx.SUBJECT_BOX
    pad = round(301 * 0.1)
    left, top, right, bottom = fx.SUBJECT_BOX
    assert outputs.subject_box(mask, 0.1) == (left - pad, top - pad, right + pad, bottom + pad)
    assert outputs.subject_box(mask, 2.0) == (0, 0, 512, 512)
    assert outputs.subject_box(Image.new("L", (40, 30), 0)) is None
    faint = Image.new("L", (40, 30), outputs.SUBJECT_ALPHA - 1)  # soft haze is not the subject
    faint.putpixel((5, 7), 255)
    assert outputs.subject_box(faint) == (5, 7, 6, 8)


def test_fit_long_edge_scales_down_only_and_keeps_the_aspect() -> None:
    wide = Image.new("RGB", (1000, 500))
    assert outputs.fit_long_edge(wide, 512).size == (512, 256)
    assert outputs.fit_long_edge(Image.new("RGB", (300, 900)), 512).size == (171, 512)
    small = Image.new("RGB", (300, 200))
    assert outputs.fit_long_edge(small, 2048) is small
    assert outputs.fit_long_edge(wide, None) is wide


def test_fit_long_edge_does_not_bleed_the_colour_of_transparent_pixels() -> None:
    image = Image.new("RGBA", (1000, 1000), (255, 0, 0, 0))  # invisible red
    image.paste((255, 255, 255, 255), (0, 0, 500, 1000))
    pixels = np.asarray(outputs.fit_long_edge(image, 100))
    seen = pixels[:, :, 3] > 0
    assert seen.any() and (pixels[seen][:, 1] >= 250).all()  # every visible pixel stays white


def test_a_cutout_on_a_colour_is_that_colour_exactly_outside_the_mask() -> None:
    data, mask = fx.subject_on(RED)
    flat = np.asarray(outputs.on_colour(fx.cutout_of(data, mask), (255, 255, 255)))
    truth = np.asarray(mask)
    assert (flat[truth == 0] == 255).all()
    original = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    assert (flat[truth == 255] == original[truth == 255]).all()


def test_a_background_image_covers_the_cutout_centred_and_shows_outside_the_mask() -> None:
    stripes = Image.open(io.BytesIO(fx.stripes((800, 400))))
    covered = outputs.cover(stripes, (200, 200))
    assert covered.size == (200, 200)
    left, right = covered.getpixel((10, 100)), covered.getpixel((190, 100))  # centre crop: both halves
    assert isinstance(left, tuple) and isinstance(right, tuple)
    assert left[2] > 230 and left[1] < 30 and right[1] > 230 and right[2] < 30
    data, mask = fx.subject_on(RED)
    composed = np.asarray(outputs.on_image(fx.cutout_of(data, mask), stripes))
    assert composed.shape == (512, 512, 3)
    assert tuple(composed[20, 20]) == (0, 0, 255) or composed[20, 20, 2] > 240  # blue, at JPEG's error
    assert composed[20, 490, 1] > 240 and composed[20, 490, 0] < 20  # green on the right


def test_parse_colour() -> None:
    assert outputs.parse_colour("#ff8000") == (255, 128, 0)
    with pytest.raises(ValueError):
        outputs.parse_colour("ff8000")


# the whole pipeline, on the true mask


@pytest.mark.usefixtures("known_mask")
def test_white_background_jpg_is_pure_white_outside_the_mask() -> None:
    data, _ = fx.subject_on(RED)
    result, image = run(data, bg="#ffffff", output_format="jpg")
    assert image.format == "JPEG" and image.mode == "RGB" and image.size == (512, 512)
    pixels = np.asarray(image).astype(int)
    outside, inside = beyond_edge() > 12, beyond_edge() < -12  # a JPEG block away from the edge
    assert (pixels[outside] >= 250).all(), pixels[outside].min(axis=0)
    original = np.asarray(Image.open(io.BytesIO(data)).convert("RGB")).astype(int)
    assert np.abs(pixels[inside] - original[inside]).mean() < 6  # the subject, at JPEG's error
    assert result.warnings == []


@pytest.mark.usefixtures("known_mask")
def test_subject_crop_is_the_masks_box_within_the_margin() -> None:
    data, _ = fx.subject_on(RED)
    result, image = run(data, crop="subject", crop_margin=0.1)
    left, top, right, bottom = fx.SUBJECT_BOX
    pad = round(301 * 0.1)
    assert result.crop_box == (left - pad, top - pad, right + pad, bottom + pad)
    assert image.size == (right - left + 2 * pad, bottom - top + 2 * pad)
    alpha = np.asarray(image)[:, :, 3]
    rows, cols = np.flatnonzero(alpha.any(axis=1)), np.flatnonzero(alpha.any(axis=0))
    assert (rows[0], cols[0]) == (pad, pad) and (rows[-1], cols[-1]) == (pad + 300, pad + 300)
    tight, _ = run(data, crop="subject")  # no margin: the box itself
    assert tight.crop_box == fx.SUBJECT_BOX


@pytest.mark.usefixtures("known_mask")
def test_mask_output_equals_the_cutouts_alpha() -> None:
    data, mask = fx.subject_on(RED)
    _, cutout = run(data)
    _, masked = run(data, output="mask")
    assert cutout.format == masked.format == "PNG"
    assert masked.mode == "L" and cutout.mode == "RGBA"
    assert (np.asarray(masked) == np.asarray(cutout)[:, :, 3]).all()
    assert (np.asarray(masked) == np.asarray(mask)).all()


@pytest.mark.usefixtures("known_mask")
def test_size_presets_scale_down_and_never_up() -> None:
    big, _ = fx.subject_on(RED, size=1200)
    result, image = run(big, size=512, output_format="webp")
    assert image.size == (512, 512) and image.format == "WEBP" and image.mode == "RGBA"
    assert (result.width, result.height) == (512, 512)
    _, same = run(big, size=2048)
    assert same.size == (1200, 1200)


@pytest.mark.usefixtures("known_mask")
def test_background_image_is_cover_fitted_behind_the_subject() -> None:
    data, _ = fx.subject_on(RED)
    _, image = run(data, background=fx.stripes((800, 400)), bg={"image": "users/u/bg.jpg"}, output_format="jpg")
    pixels = np.asarray(image).astype(int)
    assert image.size == (512, 512)
    assert pixels[20, 20, 2] > 235 and pixels[20, 20, :2].max() < 25  # blue on the left
    assert pixels[20, 490, 1] > 235 and pixels[20, 490, [0, 2]].max() < 25  # green on the right
    assert pixels[256, 256, 0] != 0 or pixels[256, 256, 1] != 255  # the subject in front


def test_a_decompression_bomb_as_background_is_refused() -> None:
    data, _ = fx.subject_on(RED)
    with pytest.raises(processing.PhotoError) as refused:
        run(data, background=fx.decompression_bomb_png(), bg={"image": "users/u/bomb.png"}, output_format="jpg")
    assert refused.value.code == "decompression-bomb" and "users/u/bomb.png" in refused.value.message


def test_jpg_without_background_removal_flattens_alpha_on_white() -> None:
    data, mask = fx.subject_on(RED)
    buffer = io.BytesIO()
    fx.cutout_of(data, mask).save(buffer, "PNG")
    result, image = run(buffer.getvalue(), remove_bg=False, size=512, output_format="jpg")
    assert image.mode == "RGB" and np.asarray(image)[5, 5].min() >= 250
    assert result.warnings == ["flattened-on-white: jpg has no transparency"]


# options


def test_defaults_are_todays_behaviour() -> None:
    options = PhotoOptions()
    assert (options.remove_bg, options.crop, options.crop_face, options.output_format) == (True, "none", False, "png")
    assert (options.bg, options.size, options.output, options.margin, options.extension) == (
        "transparent",
        "original",
        "cutout",
        0.0,
        "png",
    )


def test_crop_face_true_is_crop_face_with_face_margin_and_round_trips() -> None:
    old = PhotoOptions.model_validate({"crop_face": True, "face_margin": 0.3})
    assert old.crop == "face" and old.margin == 0.3
    new = PhotoOptions.model_validate({"crop": "face"})
    assert new.crop_face and new.margin == 0.4
    assert PhotoOptions.model_validate(old.model_dump()) == old  # as a job document stores it
    assert PhotoOptions.model_validate({"crop": "face", "crop_margin": 0.1}).margin == 0.1
    assert PhotoOptions.model_validate({"crop": "subject"}).margin == 0.0


def test_form_field_text_is_read_like_json() -> None:
    options = PhotoOptions.model_validate({"size": "1024", "bg": "#FFFFFF", "output_format": "jpg", "crop": "subject"})
    assert (options.size, options.bg, options.long_edge) == (1024, "#ffffff", 1024)
    image = PhotoOptions.model_validate({"bg": {"image": "users/u/bg.jpg"}, "output_format": "jpg"})
    assert isinstance(image.bg, BackgroundImage) and image.background_path == "users/u/bg.jpg"


@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        ({"output_format": "jpg"}, "output_format: 'jpg' has no transparency"),
        ({"output_format": "gif"}, "options.output_format"),
        ({"bg": "red"}, "options.bg: "),
        ({"bg": 7}, "options.bg: "),
        ({"bg": {"image": "../etc/passwd"}}, "options.bg.image.image"),
        ({"bg": {"path": "users/u/a.jpg"}}, "options.bg.image.path: unknown field"),
        ({"crop": "body"}, "options.crop"),
        ({"crop": "subject", "crop_face": True}, "crop_face: true conflicts with crop"),
        ({"crop": "face", "crop_margin": 0.1, "face_margin": 0.2}, "crop_margin and face_margin"),
        ({"crop_margin": -1}, "options.crop_margin"),
        ({"size": 700}, "options.size"),
        ({"size": "big"}, "options.size"),
        ({"output": "alpha"}, "options.output"),
        ({"output": "mask", "output_format": "webp"}, "output: 'mask' is always a PNG"),
        ({"output": "mask", "bg": "#000000"}, "output: 'mask' is always a PNG"),
        ({"output": "mask", "remove_bg": False, "crop": "face"}, "needs remove_bg"),
        ({"remove_bg": False}, "nothing to do"),
    ],
)
def test_bad_options_are_refused_naming_the_option(options: dict[str, Any], fragment: str) -> None:
    with pytest.raises(pydantic.ValidationError) as refused:
        PhotoOptions.model_validate(options)
    assert fragment in describe(refused.value, "options")


def test_upload_decoder_takes_files_whatever_the_sizes_the_request_is_read_in() -> None:
    """Reads of a request come in varying sizes: the bytes the decoder keeps from one read plus
    the next full read must not count as an oversized form field (an HTML 413 before the fix)."""
    import random

    import requests
    from werkzeug.sansio.multipart import Epilogue, NeedData

    from mediajobs.photos.upload import READ_CHUNK, multipart_decoder

    files = [
        ("file", ("s.png", fx.subject_on(RED)[0], "image/png")),
        ("file", ("c.jpg", fx.photo("chelsea"), "image/jpeg")),
    ]
    request = requests.Request("POST", "http://localhost/upload", files=files).prepare()
    body = request.body
    assert isinstance(body, bytes)
    boundary = request.headers["Content-Type"].split("boundary=")[1].encode()
    for trial in range(50):
        sizes = random.Random(trial)
        decoder, stream, ended = multipart_decoder(boundary), io.BytesIO(body), False
        while not ended:
            chunk = stream.read(sizes.choice([READ_CHUNK, READ_CHUNK - sizes.randint(1, 100), 8192]))
            decoder.receive_data(chunk or None)
            event = decoder.next_event()
            while not isinstance(event, NeedData) and not ended:
                ended = isinstance(event, Epilogue)
                event = decoder.next_event() if not ended else event
