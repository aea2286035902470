"""Processing on upload on the real local stack: fake-gcs-server's finalize notification reaches
the Storage trigger (through tools/storage_events.py), the image becomes one photo job of its
preset, the output lands in users/{uid}/auto-out/{preset}/ with the preset's pixels, outputs start
nothing, a duplicated event starts one job, and the admin backfill starts what a cap refused."""

from __future__ import annotations

import io
import json
import os
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
import requests
from google.cloud import firestore as gfs
from google.cloud.firestore_v1.base_query import FieldFilter
from PIL import Image

from mediajobs import cloud
from mediajobs.cli import client
from mediajobs.photos.auto.filters import OUTPUT_MARKER
from mediajobs.photos.auto.uploads import key_of

WAIT = 300


def half_transparent_red(width: int = 1024, height: int = 768) -> bytes:
    """Left half fully transparent, right half opaque red: a jpg preset flattens it on white."""
    image = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    image.paste((255, 0, 0, 255), (width // 2, 0, width, height))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def upload(path: str, data: bytes, content_type: str = "image/png", metadata: dict[str, str] | None = None) -> Any:
    blob = cloud.bucket().blob(path)
    blob.metadata = metadata
    blob.upload_from_string(data, content_type=content_type)
    return blob


def record_of(blob: Any) -> dict[str, Any] | None:
    snapshot = cloud.db().document(f"auto_uploads/{key_of(blob.bucket.name, blob.name, blob.generation)}").get()
    return snapshot.to_dict() if snapshot.exists else None


def wait_for(check: Callable[[], Any], timeout: float = WAIT, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := check():
            return found
        time.sleep(1)
    pytest.fail(f"timed out waiting for {what}")


def pixel(image: Image.Image, x: int, y: int) -> tuple[int, int, int]:
    value = image.getpixel((x, y))
    assert isinstance(value, tuple)
    return int(value[0]), int(value[1]), int(value[2])


def jobs_of(uid: str) -> list[dict[str, Any]]:
    query = cloud.db().collection("jobs").where(filter=FieldFilter("owner_uid", "==", uid))
    return [doc.to_dict() or {} for doc in query.stream()]


def records_of(uid: str) -> list[dict[str, Any]]:
    query = cloud.db().collection("auto_uploads").where(filter=FieldFilter("owner_uid", "==", uid))
    return [doc.to_dict() or {} for doc in query.stream()]


def test_an_upload_becomes_a_job_whose_output_has_the_presets_pixels_and_starts_nothing(user: client.User) -> None:
    source = f"users/{user.uid}/auto/web-512/shots/product.png"
    blob = upload(source, half_transparent_red())

    record = wait_for(lambda: (r := record_of(blob)) and r["status"] == "completed" and r, what="the output")
    assert record["owner_uid"] == user.uid and record["preset"] == "web-512" and record["source"] == source
    assert record["generation"] == str(blob.generation) and record["error"] is None and record["expire_at"]
    target = f"users/{user.uid}/auto-out/web-512/shots/product.jpg"
    assert record["outputs"] == [target]
    job = cloud.db().document(f"jobs/{record['job_id']}").get().to_dict() or {}
    assert (job["type"], job["owner_uid"], job["status"]) == ("photo_batch", user.uid, "completed")
    assert job["input"]["paths"] == [source]
    assert (job["options"]["remove_bg"], job["options"]["size"], job["options"]["output_format"]) == (False, 512, "jpg")

    output = cloud.bucket().get_blob(target)
    assert output is not None and output.content_type == "image/jpeg"
    assert (output.metadata or {}).get(OUTPUT_MARKER) == "true"
    image = Image.open(io.BytesIO(output.download_as_bytes()))
    assert image.format == "JPEG" and image.size == (512, 384)  # long edge 512, never upscaled
    rgb = image.convert("RGB")
    assert min(pixel(rgb, 64, 192)) >= 245, pixel(rgb, 64, 192)  # transparent -> white
    red, green, blue = pixel(rgb, 448, 192)
    assert red >= 235 and green <= 25 and blue <= 25, (red, green, blue)

    # The output (and a marked object dropped into the watched folder) start nothing.
    marked = upload(f"users/{user.uid}/auto/web-512/marked.png", half_transparent_red(64, 64),
                    metadata={OUTPUT_MARKER: "true"})  # fmt: skip
    not_an_image = upload(f"users/{user.uid}/auto/web-512/notes.txt", b"hello", content_type="text/plain")
    unknown = upload(f"users/{user.uid}/auto/no-such-preset/a.png", half_transparent_red(64, 64))
    time.sleep(8)
    assert record_of(marked) is None and record_of(not_an_image) is None and record_of(unknown) is None
    assert len(records_of(user.uid)) == 1 and len(jobs_of(user.uid)) == 1


def test_a_duplicated_event_starts_one_job(user: client.User) -> None:
    blob = upload(f"users/{user.uid}/auto/web-512/twice.png", half_transparent_red(256, 256))
    origin = os.environ["FUNCTIONS_ORIGIN"].split("/", 3)
    route = f"{origin[0]}//{origin[2]}/functions/projects/{os.environ['GCLOUD_PROJECT']}/trigger_multicast"
    data = {"kind": "storage#object", "id": f"{blob.bucket.name}/{blob.name}/{blob.generation}", "name": blob.name,
            "bucket": blob.bucket.name, "generation": str(blob.generation), "metageneration": "1",
            "contentType": "image/png", "size": str(blob.size), "storageClass": "STANDARD"}  # fmt: skip
    for _ in range(2):  # on top of the notification's own delivery
        event = {"specversion": "1.0", "id": uuid.uuid4().hex, "type": "google.cloud.storage.object.v1.finalized",
                 "source": f"//storage.googleapis.com/projects/_/buckets/{blob.bucket.name}",
                 "subject": f"objects/{blob.name}", "time": "2026-01-01T00:00:00.000000Z", "data": data}  # fmt: skip
        reply = requests.post(route, data=json.dumps(event), timeout=30,
                              headers={"Content-Type": "application/cloudevents+json; charset=UTF-8"})  # fmt: skip
        assert reply.status_code == 200, reply.text
    wait_for(lambda: (r := record_of(blob)) and r.get("duplicate_events") == 2, what="all three deliveries")
    wait_for(lambda: (r := record_of(blob)) and r["status"] == "completed", what="the job")
    assert len(jobs_of(user.uid)) == 1 and len(records_of(user.uid)) == 1


def test_a_refused_upload_is_recorded_and_the_admin_backfill_starts_it(new_user: Callable[..., client.User]) -> None:
    owner, admin = new_user(), new_user(admin=True)
    # The owner is at the cap of active jobs (hand-written jobs the engine sees as running).
    busy = [f"busy-{uuid.uuid4().hex[:8]}-{n}" for n in range(10)]
    for job_id in busy:
        cloud.db().document(f"jobs/{job_id}").set({"owner_uid": owner.uid, "type": "selftest", "status": "processing"})
    cloud.db().document(f"job_slots/{owner.uid}").set(
        {"active": busy, "reserved": {}, "updated_at": gfs.SERVER_TIMESTAMP}
    )

    blob = upload(f"users/{owner.uid}/auto/web-512/late.png", half_transparent_red(256, 256))
    record = wait_for(lambda: (r := record_of(blob)) and r["status"] == "refused" and r, what="the refusal")
    assert record["error"]["code"] == "resource-exhausted" and "limit" in record["error"]["message"]

    with pytest.raises(client.CallableError) as error:
        client.call("auto_backfill", {"uid": owner.uid}, owner.id_token)
    assert error.value.status == "PERMISSION_DENIED"
    with pytest.raises(client.CallableError) as error:
        client.call("auto_backfill", {"uid": owner.uid, "preset": "nope"}, admin.id_token)
    assert error.value.status == "INVALID_ARGUMENT"

    for job_id in busy:
        cloud.db().document(f"jobs/{job_id}").update({"status": "completed"})
    answer = client.call("auto_backfill", {"uid": owner.uid, "preset": "web-512"}, admin.id_token)
    assert (answer["scanned"], answer["started"], answer["already"], answer["truncated"]) == (1, 1, 0, False), answer
    wait_for(lambda: (r := record_of(blob)) and r["status"] == "completed", what="the backfilled job")
    again = client.call("auto_backfill", {"uid": owner.uid}, admin.id_token)
    assert (again["started"], again["already"]) == (0, 1), again
    output = cloud.bucket().get_blob(f"users/{owner.uid}/auto-out/web-512/late.jpg")
    assert output is not None and Image.open(io.BytesIO(output.download_as_bytes())).size == (256, 256)
