"""Photo batches on the real local stack: pixels of real photos, hostile inputs, the upload endpoint."""

from __future__ import annotations

import io
import os
import uuid
import zipfile
from typing import Any

import numpy as np
import pytest
import requests
from PIL import Image

from mediajobs import cloud
from mediajobs.cli import client
from tests import photo_fixtures as fx
from tests.integration.jobs_helpers import assert_every_document_expires, items_of


def put(user: client.User, name: str, data: bytes) -> str:
    path = f"users/{user.uid}/in/{uuid.uuid4().hex[:6]}-{name}"
    cloud.bucket().blob(path).upload_from_string(data)
    return path


def run_batch(user: client.User, paths: list[str], **options: Any) -> dict[str, Any]:
    job = client.call(
        "start_job", {"type": "photo_batch", "input": {"paths": paths}, "options": options}, user.id_token
    )
    final, _ = client.watch_job(job["job_id"], timeout=600)
    return dict(final)


def image_at(path: str) -> Image.Image:
    return Image.open(io.BytesIO(cloud.bucket().blob(path).download_as_bytes()))


def outputs_by_input(job_id: str) -> dict[str, dict[str, Any]]:
    return {i["result"]["input"]: i["result"] for i in items_of(job_id).values() if i["status"] == "done"}


def check_results_zip(final: dict[str, Any]) -> zipfile.ZipFile:
    archive = zipfile.ZipFile(io.BytesIO(cloud.bucket().blob(final["result"]["archive_path"]).download_as_bytes()))
    assert archive.testzip() is None
    outputs = final["result"]["outputs"]
    assert sorted(archive.namelist()) == sorted(p.rsplit("/", 1)[1] for p in outputs)
    for path in outputs:
        assert archive.read(path.rsplit("/", 1)[1]) == cloud.bucket().blob(path).download_as_bytes()
    job_folder = final["result"]["archive_path"].rsplit("/", 1)[0]
    assert not list(cloud.bucket().list_blobs(prefix=f"{job_folder}/results-parts/"))  # composed, then removed
    return archive


def test_background_removal_keeps_the_person_and_matches_a_known_shape(user: client.User) -> None:
    synthetic, mask = fx.synthetic_subject()
    paths = [put(user, "astronaut.png", fx.photo("astronaut", "PNG")), put(user, "subject.png", synthetic)]

    final = run_batch(user, paths)

    assert final["status"] == "completed", final
    assert final["result"]["succeeded"] == 2 and final["result"]["failed"] == 0
    results = outputs_by_input(final["id"] if "id" in final else final["result"]["archive_path"].split("/")[1])
    astronaut = image_at(results[paths[0].rsplit("/", 1)[1]]["output_path"])
    assert astronaut.mode == "RGBA" and astronaut.size == (512, 512)
    alpha = np.asarray(astronaut)[:, :, 3]
    for x, y in [(250, 120), (220, 300), (300, 400)]:  # face, suit, arm
        assert alpha[y, x] > 200, (x, y, alpha[y, x])
    for x, y in [(20, 20), (490, 20), (480, 250)]:  # sky and wall behind her
        assert alpha[y, x] < 30, (x, y, alpha[y, x])
    subject = np.asarray(image_at(results[paths[1].rsplit("/", 1)[1]]["output_path"]))[:, :, 3] > 127
    truth = np.asarray(mask) > 127
    assert (subject & truth).sum() / (subject | truth).sum() >= 0.9
    check_results_zip(final)
    # One chunk, two images in flight: the second was claimed (and downloaded) before the first
    # was settled, so its I/O overlapped the first one's computing.
    job_id = final["result"]["archive_path"].split("/")[1]
    items = items_of(job_id).values()
    assert max(i["started_at"] for i in items) < min(i["finished_at"] for i in items)
    assert_every_document_expires(job_id)


def test_face_crop_contains_the_face_and_a_faceless_photo_is_kept_whole(user: client.User) -> None:
    paths = [put(user, "astronaut.jpg", fx.photo("astronaut")), put(user, "coffee.jpg", fx.photo("coffee"))]

    final = run_batch(user, paths, remove_bg=False, crop_face=True, face_size=256, output_format="webp")

    assert final["status"] == "completed"
    job_id = final["result"]["archive_path"].split("/")[1]
    results = outputs_by_input(job_id)
    face = results[paths[0].rsplit("/", 1)[1]]
    assert face["faces_found"] >= 1 and face["output_path"].endswith(".webp")
    left, top, right, bottom = face["crop_box"]
    x, y, w, h = fx.FACE_BOX_ASTRONAUT
    assert left <= x and top <= y and right >= x + w and bottom >= y + h
    cropped = image_at(face["output_path"])
    assert cropped.size == (256, 256) and cropped.format == "WEBP"
    coffee = results[paths[1].rsplit("/", 1)[1]]
    assert coffee["faces_found"] == 0 and coffee["warnings"] == ["no-face-found: kept the whole image"]
    assert image_at(coffee["output_path"]).size == (600, 400)


def test_hostile_inputs_fail_alone_and_nothing_escapes_the_job_folder(user: client.User) -> None:
    truncated = fx.photo("astronaut")
    paths = [
        put(user, "mixed.zip", fx.mixed_zip(12)),
        put(user, "bomb.zip", fx.zip_bomb()),
        put(user, "bomb.png", fx.decompression_bomb_png()),
        put(user, "truncated.jpg", truncated[: len(truncated) // 2]),
        put(user, "empty.jpg", b""),
        f"users/{user.uid}/in/never-uploaded.jpg",
    ]
    before = {b.name for b in cloud.bucket().list_blobs()}

    final = run_batch(user, paths)

    assert final["status"] == "completed", final
    result = final["result"]
    assert result["succeeded"] == 12
    assert result["failed"] == 5
    codes = {e["code"] for e in final["errors"]}
    assert codes == {"zip-bomb", "decompression-bomb", "truncated-image", "empty-file", "input-missing"}
    skipped = {(s["entry"], s["reason"]) for s in result["skipped"]}
    assert skipped == {("notes.txt", "not-an-image"), (".DS_Store", "hidden-file"), ("more.zip", "nested-archive")}
    job_id = result["archive_path"].split("/")[1]
    created = {b.name for b in cloud.bucket().list_blobs()} - before
    assert created and all(name.startswith(f"jobs/{job_id}/") for name in created), created
    assert not any(".." in name for name in created)
    inputs = {r["input"] for r in outputs_by_input(job_id).values()}
    assert "../evil.png" in inputs
    assert len(set(result["outputs"])) == 12
    assert check_results_zip(final).namelist()


def test_a_zip_named_like_an_image_is_expanded_by_the_plan_task_not_the_start_trigger(user: client.User) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a.jpg", fx.photo("coffee", size=(128, 128)))
        archive.writestr("b.jpg", fx.photo("chelsea", size=(128, 128)))
    path = put(user, "disguised.png", buffer.getvalue())

    final = run_batch(user, [path], remove_bg=False, crop_face=True)

    assert final["status"] == "completed", final
    assert final["result"]["succeeded"] == 2
    job_id = final["result"]["archive_path"].split("/")[1]
    plan = cloud.db().document(f"jobs/{job_id}/engine/plan").get().to_dict() or {}
    assert "inline_until" not in plan, plan  # the 60 s start trigger never read the archive


def test_processing_someone_elses_upload_is_denied(new_user) -> None:  # type: ignore[no-untyped-def]
    owner, other = new_user(), new_user()
    path = put(owner, "astronaut.jpg", fx.photo("astronaut"))
    with pytest.raises(client.CallableError) as raised:
        client.call("start_job", {"type": "photo_batch", "input": {"paths": [path]}}, other.id_token)
    assert raised.value.status == "PERMISSION_DENIED"


@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        ({"model": "u3net"}, "options.model"),
        ({"remove_bg": False, "crop_face": False}, "nothing to do"),
        ({"output_format": "gif"}, "options.output_format"),
        ({"face_size": 10}, "options.face_size"),
        ({"colour": "red"}, "options.colour: unknown field"),
    ],
)
def test_bad_photo_options_are_refused(user: client.User, options: dict[str, Any], fragment: str) -> None:
    with pytest.raises(client.CallableError) as raised:
        client.call(
            "start_job",
            {"type": "photo_batch", "input": {"paths": [f"users/{user.uid}/a.jpg"]}, "options": options},
            user.id_token,
        )
    assert raised.value.status == "INVALID_ARGUMENT"
    assert fragment in raised.value.message


def upload_url() -> str:
    return f"{os.environ['FUNCTIONS_ORIGIN']}/upload"


def test_upload_endpoint_refuses_what_it_must_and_starts_a_batch(user: client.User) -> None:
    image = fx.photo("chelsea")
    no_token = requests.post(upload_url(), files={"file": ("a.jpg", image, "image/jpeg")}, timeout=60)
    assert no_token.status_code == 401
    assert no_token.json()["error"]["status"] == "unauthenticated"
    auth = {"Authorization": f"Bearer {user.id_token}"}
    bad_token = requests.post(upload_url(), files={"file": ("a.jpg", image)}, headers={"Authorization": "Bearer x"},
                              timeout=60)  # fmt: skip
    assert bad_token.status_code == 401
    text = requests.post(upload_url(), files={"file": ("a.jpg", b"hello", "image/jpeg")}, headers=auth, timeout=60)
    assert text.status_code == 400 and "not an image or a ZIP archive" in text.json()["error"]["message"]
    empty = requests.post(upload_url(), data={"x": "1"}, headers=auth, timeout=60)
    assert empty.status_code == 400
    bad_options = requests.post(
        upload_url(), files={"file": ("a.jpg", image)}, data={"options": '{"model": "nope"}'}, headers=auth, timeout=60
    )
    assert bad_options.status_code == 400 and "options.model" in bad_options.json()["error"]["message"]

    good = requests.post(
        upload_url(),
        files=[("file", ("cat.jpg", image, "image/jpeg")), ("file", ("set.zip", fx.mixed_zip(3), "application/zip"))],
        data={"options": '{"output_format": "webp"}'},
        headers=auth,
        timeout=120,
    )

    assert good.status_code == 202, good.text
    final, _ = client.watch_job(good.json()["job_id"], timeout=600)
    assert final["status"] == "completed" and final["owner_uid"] == user.uid
    assert final["result"]["succeeded"] == 4
    assert all(p.endswith(".webp") for p in final["result"]["outputs"])
    assert len(check_results_zip(final).namelist()) == 4


def test_more_paths_than_a_job_may_hold_is_resource_exhausted(user: client.User) -> None:
    paths = [f"users/{user.uid}/{n}.jpg" for n in range(201)]

    with pytest.raises(client.CallableError) as raised:
        client.call("start_job", {"type": "photo_batch", "input": {"paths": paths}}, user.id_token)

    assert raised.value.status == "RESOURCE_EXHAUSTED"
    assert "input.paths: List should have at most 200 items" in raised.value.message
