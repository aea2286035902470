"""Photo outputs the way remove.bg offers them, through the real model, checked on pixels.

The subject is tests/photo_fixtures.subject_on: a cat-textured disk on pure red whose true mask
is known. The jobs run at once (one image or two each) and are then watched.
"""

from __future__ import annotations

import io
import json
import os
from typing import Any

import numpy as np
import pytest
import requests
from PIL import Image

from mediajobs.cli import client
from tests import photo_fixtures as fx
from tests.integration.test_photos import check_results_zip, image_at, outputs_by_input, put

RED = (255, 0, 0)
BOX_TOLERANCE = 4  # pixels: the model's edge against the true mask's


def start(user: client.User, paths: list[str], **options: Any) -> str:
    job = client.call(
        "start_job", {"type": "photo_batch", "input": {"paths": paths}, "options": options}, user.id_token
    )
    return str(job["job_id"])


def finished(job_id: str) -> dict[str, Any]:
    final, _ = client.watch_job(job_id, timeout=600)
    assert final["status"] == "completed", final
    return {name.rsplit("-", 1)[-1]: result for name, result in outputs_by_input(job_id).items()} | {"": final}


def beyond_edge(left: int, top: int, width: int, height: int) -> np.ndarray:
    """Each output pixel's distance outside the subject's circle (negative inside), for an
    output that is the source's box at (left, top)."""
    yy, xx = np.mgrid[:height, :width]
    return np.asarray(np.hypot(xx + left + 0.5 - 256, yy + top + 0.5 - 256) - 150)


def test_white_jpg_subject_crop_size_mask_and_background_image(user: client.User) -> None:
    red, mask = fx.subject_on(RED)
    subject = put(user, "subject.png", red)
    big = io.BytesIO()  # 1800 px: a subject box over 1024 px
    Image.open(io.BytesIO(fx.subject_on(RED, size=1800)[0])).save(big, "JPEG", quality=90)
    backdrop = put(user, "backdrop.jpg", fx.stripes((800, 400)))
    options = {"bg": "#ffffff", "output_format": "jpg", "crop": "subject", "crop_margin": 0.05, "size": 1024}
    uploaded = requests.post(  # /upload takes the same options as JSON
        f"{os.environ['FUNCTIONS_ORIGIN']}/upload",
        files=[("file", ("subject.png", red, "image/png"))],
        data={"options": json.dumps(options)},
        headers={"Authorization": f"Bearer {user.id_token}"},
        timeout=120,
    )
    assert uploaded.status_code == 202, uploaded.text
    white_id = uploaded.json()["job_id"]
    big_id = start(user, [put(user, "big.jpg", big.getvalue())], **options)
    mask_id = start(user, [subject], output="mask")
    cutout_id = start(user, [subject])
    backdrop_id = start(user, [subject], bg={"image": backdrop}, output_format="webp", size=512)

    white = finished(white_id)
    assert white[""]["options"]["bg"] == "#ffffff" and white[""]["options"]["output_format"] == "jpg"
    assert all(path.endswith(".jpg") for path in white[""]["result"]["outputs"])
    check_results_zip(white[""])
    # the subject box is the mask's bounding box grown by the margin (15 px of its 301)
    small = white["subject.png"]
    left, top, right, bottom = small["crop_box"]
    pad = round(301 * 0.05)
    expected = (fx.SUBJECT_BOX[0] - pad, fx.SUBJECT_BOX[1] - pad, fx.SUBJECT_BOX[2] + pad, fx.SUBJECT_BOX[3] + pad)
    assert all(abs(a - b) <= BOX_TOLERANCE for a, b in zip(small["crop_box"], expected, strict=True)), small
    image = image_at(small["output_path"])
    assert image.format == "JPEG" and image.mode == "RGB"
    assert image.size == (right - left, bottom - top)  # 331 px: under 1024, so never scaled up
    pixels = np.asarray(image).astype(int)
    outside = beyond_edge(left, top, *image.size) > 12  # a JPEG block away from the edge
    assert outside.sum() > 10_000
    assert (pixels[outside] >= 250).all(), pixels[outside].min(axis=0)  # #ffffff, no red left
    inside = beyond_edge(left, top, *image.size) < -12
    full = np.asarray(fx.cutout_of(red, mask).convert("RGB")).astype(int)
    source = full[top:bottom, left:right]
    assert np.abs(pixels[inside] - source[inside]).mean() < 8  # the subject as it was
    # the big one: its subject box (1059 px and the margin) is over 1024, so scaled down to 1024
    large = finished(big_id)["big.jpg"]
    width = large["crop_box"][2] - large["crop_box"][0]
    assert abs(width - 1059 * 1.1) <= 4 * BOX_TOLERANCE, large
    assert max(image_at(large["output_path"]).size) == 1024

    # the mask is the cutout's alpha, and the true mask up to the model's edge
    masked, cut = finished(mask_id)["subject.png"], finished(cutout_id)["subject.png"]
    mask_image, cutout = image_at(masked["output_path"]), image_at(cut["output_path"])
    assert masked["output_path"].endswith(".png") and mask_image.format == "PNG" and mask_image.mode == "L"
    assert cutout.mode == "RGBA" and mask_image.size == cutout.size == (512, 512)
    assert (np.asarray(mask_image) == np.asarray(cutout)[:, :, 3]).all()
    guess, truth = np.asarray(mask_image) > 127, np.asarray(mask) > 127
    assert (guess & truth).sum() / (guess | truth).sum() >= 0.95

    # a background image of the caller's own, cover-fitted behind the subject: blue left, green right
    behind = finished(backdrop_id)["subject.png"]
    composed = image_at(behind["output_path"])
    assert composed.format == "WEBP" and composed.size == (512, 512)
    rgb = np.asarray(composed.convert("RGB")).astype(int)
    assert rgb[20, 20, 2] > 220 and rgb[20, 20, :2].max() < 40, rgb[20, 20]
    assert rgb[20, 490, 1] > 220 and rgb[20, 490, [0, 2]].max() < 40, rgb[20, 490]
    assert np.abs(rgb[256, 256] - full[256, 256]).max() < 40  # the cat in front


@pytest.mark.parametrize(
    ("options", "status", "fragment"),
    [
        ({"output_format": "jpg"}, "INVALID_ARGUMENT", "output_format: 'jpg' has no transparency"),
        ({"bg": "red"}, "INVALID_ARGUMENT", "options.bg"),
        ({"size": 300}, "INVALID_ARGUMENT", "options.size"),
        ({"crop": "subject", "crop_face": True}, "INVALID_ARGUMENT", "crop_face"),
        ({"bg": {"image": "users/someone-else/bg.jpg"}, "output_format": "jpg"}, "PERMISSION_DENIED", "options.bg"),
    ],
)
def test_bad_output_options_are_refused_naming_the_option(
    user: client.User, options: dict[str, Any], status: str, fragment: str
) -> None:
    with pytest.raises(client.CallableError) as raised:
        start(user, [f"users/{user.uid}/a.jpg"], **options)
    assert raised.value.status == status
    assert fragment in raised.value.message
