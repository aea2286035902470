"""Thumbnails on request (`video_thumbnail`) on the real local stack: a still of the right frame
at the width asked (never wider than the video), cached in Storage (a second call draws nothing:
same object generation), readable by the owner or anyone once public, bad requests refused."""

from __future__ import annotations

import io
import subprocess
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
import requests
from google.cloud import firestore as gfs
from PIL import Image

from mediajobs import cloud
from mediajobs.cli import client
from mediajobs.video.ffmpeg import executable

SECONDS = 4


def red_then_green(width: int = 640, height: int = 360) -> bytes:
    """Red for the first two seconds, green for the last two: a frame's colour tells its time."""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "v.mp4"
        half = SECONDS / 2
        subprocess.run(
            [executable(), "-hide_banner", "-loglevel", "error", "-y",
             "-f", "lavfi", "-i", f"color=c=red:s={width}x{height}:r=24:d={half}",
             "-f", "lavfi", "-i", f"color=c=lime:s={width}x{height}:r=24:d={half}",
             "-filter_complex", "[0][1]concat=n=2:v=1:a=0,format=yuv420p",
             "-c:v", "libx264", "-preset", "ultrafast", str(out)],
            check=True,
        )  # fmt: skip
        return out.read_bytes()


def library_video(owner: client.User, *, public: bool = False, status: str = "ready") -> str:
    """A ready library video as the video job leaves it: its record and a 640x360 rendition."""
    video_id = f"still-{uuid.uuid4().hex[:10]}"
    rendition = f"videos/{video_id}/360p.mp4"
    cloud.bucket().blob(rendition).upload_from_string(red_then_green(), content_type="video/mp4")
    cloud.db().document(f"videos/{video_id}").set(
        {
            "owner_uid": owner.uid, "job_id": video_id, "title": "Red, then green", "status": status,
            "source": f"users/{owner.uid}/videos/rg.mp4", "size_bytes": 1, "public": public, "error": None,
            "duration_seconds": float(SECONDS), "width": 640, "height": 360, "has_audio": False,
            "renditions": [{"height": 360, "width": 640, "path": rendition, "bitrate": 800_000}],
            "thumbnails": [], "captions": {}, "created_at": gfs.SERVER_TIMESTAMP, "updated_at": gfs.SERVER_TIMESTAMP,
        }
    )  # fmt: skip
    return video_id


def still(response: dict[str, object]) -> Image.Image:
    body = requests.get(str(response["url"]), timeout=30)
    assert body.status_code == 200
    image = Image.open(io.BytesIO(body.content))
    assert image.format == "JPEG"
    return image.convert("RGB")


def centre(image: Image.Image) -> tuple[int, int, int]:
    pixel = image.getpixel((image.width // 2, image.height // 2))
    assert isinstance(pixel, tuple)
    return int(pixel[0]), int(pixel[1]), int(pixel[2])


def status_of(name: str, data: dict[str, object], who: client.User) -> str:
    with pytest.raises(client.CallableError) as error:
        client.call(name, data, who.id_token)
    return error.value.status


def test_a_still_is_the_frame_at_the_time_and_width_asked_and_is_cached(new_user: Callable[..., client.User]) -> None:
    owner = new_user()
    video_id = library_video(owner)

    early = client.call("video_thumbnail", {"video_id": video_id, "at_seconds": 0.5, "width": 320}, owner.id_token)
    assert early["path"] == f"videos/{video_id}/stills/500ms-320w.jpg" and early["cached"] is False
    assert (early["width"], early["at_seconds"]) == (320, 0.5)
    image = still(early)
    assert image.size == (320, 180)
    red, green, blue = centre(image)
    assert red > 200 and green < 60 and blue < 60, (red, green, blue)

    late = client.call("video_thumbnail", {"video_id": video_id, "at_seconds": 3.2, "width": 160}, owner.id_token)
    image = still(late)
    assert image.size == (160, 90)
    red, green, blue = centre(image)
    assert green > 200 and red < 60 and blue < 60, (red, green, blue)

    # the same request again: the stored still, not drawn again (same generation)
    first = cloud.bucket().get_blob(early["path"])
    again = client.call("video_thumbnail", {"video_id": video_id, "at_seconds": 0.5, "width": 320}, owner.id_token)
    second = cloud.bucket().get_blob(early["path"])
    assert first is not None and second is not None
    assert again["cached"] is True and again["path"] == early["path"]
    assert second.generation == first.generation and second.md5_hash == first.md5_hash

    # wider than the video: answered at the video's width, never upscaled
    wide = client.call("video_thumbnail", {"video_id": video_id, "at_seconds": 1, "width": 1920}, owner.id_token)
    assert wide["width"] == 640 and still(wide).size == (640, 360)

    # the stills go with the video
    client.call("delete_video", {"video_id": video_id}, owner.id_token)
    assert list(cloud.bucket().list_blobs(prefix=f"videos/{video_id}/")) == []


def test_only_the_owner_or_anyone_for_a_public_video_and_bounds_are_checked(
    new_user: Callable[..., client.User],
) -> None:
    owner, stranger = new_user(), new_user()
    private = library_video(owner)
    ask = {"video_id": private, "at_seconds": 1, "width": 200}
    assert status_of("video_thumbnail", ask, stranger) == "NOT_FOUND"
    assert status_of("video_thumbnail", {**ask, "video_id": "no-such-video"}, owner) == "NOT_FOUND"
    assert status_of("video_thumbnail", {**ask, "at_seconds": SECONDS + 1}, owner) == "INVALID_ARGUMENT"
    assert status_of("video_thumbnail", {**ask, "at_seconds": -1}, owner) == "INVALID_ARGUMENT"
    assert status_of("video_thumbnail", {**ask, "width": 32}, owner) == "INVALID_ARGUMENT"
    assert status_of("video_thumbnail", {**ask, "width": 4000}, owner) == "INVALID_ARGUMENT"
    assert status_of("video_thumbnail", {**ask, "extra": 1}, owner) == "INVALID_ARGUMENT"
    assert list(cloud.bucket().list_blobs(prefix=f"videos/{private}/stills/")) == []

    public = library_video(owner, public=True)
    answer = client.call("video_thumbnail", {"video_id": public, "at_seconds": 2.5, "width": 200}, stranger.id_token)
    assert still(answer).size == (200, 112)

    processing = library_video(owner, status="processing")
    assert status_of("video_thumbnail", {**ask, "video_id": processing}, owner) == "FAILED_PRECONDITION"
