"""The library step of `python -m mediajobs.cli demo`: the video made by the video step, kept in
the library with English captions and a still on request; a photo on a white background as JPEG;
and one image processed on upload (dropped under users/{uid}/auto/white-jpg/)."""

from __future__ import annotations

import io
import os
import time
from collections.abc import Callable
from typing import Any

from google.cloud.firestore_v1.base_query import FieldFilter

from mediajobs import cloud
from mediajobs.cli import client

CAPTIONS = """WEBVTT

00:00.000 --> 00:04.000
A library video keeps its outputs until you delete it.

00:04.000 --> 00:08.000
Captions are HLS subtitles and DASH text tracks.
"""
AUTO_WAIT_SECONDS = 300


def demo_library(user: client.User, watch: Callable[[str], dict[str, Any]]) -> bool:
    ok = library_video(user)
    ok &= white_jpg(user, watch)
    return ok & auto_upload(user)


def library_video(user: client.User) -> bool:
    """Captions and a still on the newest ready library video of the user."""
    query = cloud.db().collection("videos").where(filter=FieldFilter("owner_uid", "==", user.uid))
    ready = [(doc.id, doc.to_dict() or {}) for doc in query.stream() if (doc.to_dict() or {}).get("status") == "ready"]
    if not ready:
        print("  no ready library video (the video step failed?)")
        return False
    video_id, record = max(ready, key=lambda pair: pair[1]["created_at"])
    client.call("set_caption", {"video_id": video_id, "language": "en", "label": "English", "vtt": CAPTIONS},
                user.id_token)  # fmt: skip
    master = cloud.bucket().blob(str(record["hls_master_path"])).download_as_text()
    subtitles = [line for line in master.splitlines() if "TYPE=SUBTITLES" in line]
    print(f"  videos/{video_id}: {record['title']}, {record['duration_seconds']:.1f} s, captions in the HLS master:")
    print(f"    {subtitles[0] if subtitles else '(none: something is wrong)'}")
    still = client.call("video_thumbnail", {"video_id": video_id, "at_seconds": 2.5, "width": 320}, user.id_token)
    print(f"  still on request: {still['path']} ({still['width']} px wide)")
    origin = os.environ.get("HOSTING_ORIGIN")
    if origin:
        print(f"  play it with captions and seek previews on the Library page: {origin}/#/library")
    return bool(subtitles)


def white_jpg(user: client.User, watch: Callable[[str], dict[str, Any]]) -> bool:
    """A real photo, background removed, on white, as JPEG."""
    from mediajobs.cli import seed

    path = f"users/{user.uid}/photos/coffee.jpg"
    cloud.bucket().blob(path).upload_from_string(seed.photo_jpeg("coffee"), content_type="image/jpeg")
    options = {"remove_bg": True, "bg": "#ffffff", "output_format": "jpg"}
    job = client.call("start_job", {"type": "photo_batch", "input": {"paths": [path]}, "options": options},
                      user.id_token)  # fmt: skip
    final = watch(job["job_id"])
    outputs = (final.get("result") or {}).get("outputs") or []
    print(f"  white background, JPEG: {outputs[0] if outputs else final.get('error')}")
    return bool(final["status"] == "completed" and outputs and str(outputs[0]).endswith(".jpg"))


def auto_upload(user: client.User) -> bool:
    """Drops a photo under users/{uid}/auto/white-jpg/ and waits for the output the trigger makes."""
    from PIL import Image

    from mediajobs.cli import seed
    from mediajobs.photos.auto.uploads import key_of

    source = f"users/{user.uid}/auto/white-jpg/astronaut.jpg"
    blob = cloud.bucket().blob(source)
    blob.upload_from_string(seed.photo_jpeg("astronaut"), content_type="image/jpeg")
    print(f"  uploaded {source}; the Storage trigger starts a photo job of the preset white-jpg")
    record_ref = cloud.db().document(f"auto_uploads/{key_of(blob.bucket.name, blob.name, blob.generation)}")
    deadline = time.monotonic() + AUTO_WAIT_SECONDS
    record: dict[str, Any] = {}
    while time.monotonic() < deadline:
        record = record_ref.get().to_dict() or {}
        if record.get("status") in ("completed", "refused"):
            break
        time.sleep(1)
    outputs = record.get("outputs") or []
    if record.get("status") != "completed" or not outputs:
        print(f"  no output: {record.get('status') or 'no event arrived'} {record.get('error') or ''}")
        return False
    image = Image.open(io.BytesIO(cloud.bucket().blob(outputs[0]).download_as_bytes()))
    print(f"  job {record['job_id']} -> {outputs[0]} ({image.format}, {image.width}x{image.height})")
    return True
