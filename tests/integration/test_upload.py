"""The `upload` endpoint's limits: slots before bytes, nothing left behind on a refusal,
options as form fields, the request size limit and the model check, downloads as attachments."""

from __future__ import annotations

import os
import uuid
from typing import Any

import pytest
import requests

from mediajobs import cloud
from mediajobs.cli import client
from tests import photo_fixtures as fx


def upload_url() -> str:
    return f"{os.environ['FUNCTIONS_ORIGIN']}/upload"


def post(user: client.User, files: list[tuple[str, Any]], data: Any = None) -> requests.Response:
    return requests.post(
        upload_url(), files=files, data=data, headers={"Authorization": f"Bearer {user.id_token}"}, timeout=120
    )


def stored_under(user: client.User) -> list[str]:
    return [blob.name for blob in cloud.bucket().list_blobs(prefix=f"users/{user.uid}/")]


def active_slots(user: client.User) -> list[str]:
    data = cloud.db().document(f"job_slots/{user.uid}").get().to_dict() or {}
    return list(data.get("active") or [])


def test_a_user_at_the_job_cap_stores_nothing(user: client.User) -> None:
    db = cloud.db()
    running = [f"busy-{uuid.uuid4().hex[:12]}" for _ in range(10)]  # MAX_ACTIVE_JOBS_PER_USER
    for job_id in running:  # already processing: the start trigger leaves them alone
        db.document(f"jobs/{job_id}").set({"type": "selftest", "owner_uid": user.uid, "status": "processing"})
    db.document(f"job_slots/{user.uid}").set({"active": running})

    refused = post(user, [("file", ("a.jpg", fx.photo("chelsea"), "image/jpeg"))])

    assert refused.status_code == 429, refused.text
    assert refused.json()["error"]["status"] == "resource-exhausted"
    assert stored_under(user) == []
    assert sorted(active_slots(user)) == sorted(running)


def test_a_refusal_after_the_files_leaves_nothing_behind(user: client.User) -> None:
    files = [
        ("file", ("a.jpg", fx.photo("chelsea"), "image/jpeg")),
        ("file", ("b.jpg", fx.photo("coffee"), "image/jpeg")),
    ]
    bad_options = post(user, files, data={"options": '{"model": "nope"}'})  # requests sends fields first
    assert bad_options.status_code == 400 and "options.model" in bad_options.json()["error"]["message"]
    # the options after the files: the files were stored, then deleted
    late = post(user, [*files, ("options", (None, '{"face_size": 1}'))])
    assert late.status_code == 400 and "options.face_size" in late.json()["error"]["message"], late.text
    assert stored_under(user) == []
    assert active_slots(user) == []  # the reserved slots were given back

    unknown = post(user, files, data={"colour": "red"})
    assert unknown.status_code == 400
    message = unknown.json()["error"]["message"]
    assert "Unknown form field 'colour'" in message and "remove_bg" in message
    assert stored_under(user) == []


def test_options_as_form_fields_and_uploads_stored_as_attachments(user: client.User) -> None:
    accepted = post(
        user,
        [("file", ("cat.jpg", fx.photo("chelsea"), "image/jpeg"))],
        data={"remove_bg": "false", "crop_face": "true", "face_size": "128"},
    )

    assert accepted.status_code == 202, accepted.text
    job_id = accepted.json()["job_id"]
    job = cloud.db().document(f"jobs/{job_id}").get().to_dict() or {}
    assert (job["options"]["remove_bg"], job["options"]["crop_face"], job["options"]["face_size"]) == (False, True, 128)
    [path] = job["input"]["paths"]
    blob = cloud.bucket().get_blob(path)
    assert blob is not None and blob.content_type == "image/jpeg"
    assert blob.content_disposition == "attachment"
    assert blob.download_as_bytes() == fx.photo("chelsea")
    final, _ = client.watch_job(job_id, timeout=300)
    assert final["status"] == "completed" and final["result"]["succeeded"] == 1


def test_a_request_over_32_mb_gets_the_functions_json_error(user: client.User) -> None:
    huge = b"\x89PNG\r\n\x1a\n" + bytes(32_000_001)

    refused = post(user, [("file", ("huge.png", huge, "image/png"))])

    assert refused.status_code == 413
    assert refused.json()["error"]["status"] == "too-large" and "32 MB" in refused.json()["error"]["message"]
    assert stored_under(user) == []


def test_a_background_model_that_is_not_installed_names_the_fetch_command(user: client.User) -> None:
    from mediajobs.photos.processing import model_available

    if model_available("u2net"):
        pytest.skip("u2net is installed here (MEDIAJOBS_WITH_U2NET=1)")
    refused = post(user, [("file", ("a.jpg", fx.photo("chelsea"), "image/jpeg"))], data={"model": "u2net"})

    assert refused.status_code == 412, refused.text
    error = refused.json()["error"]
    assert error["status"] == "failed-precondition" and "scripts/fetch-models u2net" in error["message"]
    assert stored_under(user) == []
