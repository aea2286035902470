"""Push and email of a job's end on the stack: FCM messages reach a local FCM v1 endpoint
(tests/fake_fcm.py) with the job id, an unregistered token is deleted, a Trigger Email `mail`
document appears for a verified owner only; devices and defaults through their callables; the
rules both ways."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from firebase_admin import auth

from mediajobs import cloud
from mediajobs.cli import client
from tests.fake_fcm import FakeFcm
from tests.integration.jobs_helpers import assert_every_document_expires

GOOD_TOKEN = "fcm-good-" + "a" * 40
GONE_TOKEN = "fcm-gone-" + "b" * 40


@pytest.fixture(scope="module")
def fcm() -> Iterator[FakeFcm]:
    server = FakeFcm()
    yield server
    server.close()


def _verified_user() -> client.User:
    user = client.sign_up(f"push-{uuid.uuid4().hex[:8]}@example.com")
    auth.update_user(user.uid, email_verified=True, app=cloud.app())
    return user


def _wait(condition: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := condition():
            return found
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def _deliveries(job_id: str, channel: str) -> list[dict[str, Any]]:
    found = cloud.db().collection("jobs").document(job_id).collection("deliveries").stream()
    return [d.to_dict() or {} for d in found if (d.to_dict() or {}).get("channel") == channel]


def _start(user: client.User, notify: dict[str, Any] | None) -> str:
    data: dict[str, Any] = {"type": "selftest", "input": {"items": 2}}
    if notify is not None:
        data["notify"] = notify
    return str(client.call("start_job", data, user.id_token)["job_id"])


def _rest(user: client.User, path: str, method: str = "GET", fields: dict[str, Any] | None = None) -> int:
    base = (
        f"http://{os.environ['FIRESTORE_EMULATOR_HOST']}/v1/projects/{os.environ['GCLOUD_PROJECT']}"
        "/databases/(default)/documents"
    )
    body = {"fields": fields} if fields is not None else None
    response = requests.request(
        method, f"{base}/{path}", headers={"Authorization": f"Bearer {user.id_token}"}, json=body, timeout=30
    )
    assert response.status_code in (200, 403, 404), (response.status_code, response.text[:300])
    return response.status_code


def test_push_reaches_every_device_with_the_job_id_and_an_unregistered_token_is_removed(fcm: FakeFcm) -> None:
    user = _verified_user()
    fcm.unregistered.add(GONE_TOKEN)
    for token, device_platform in ((GOOD_TOKEN, "android"), (GONE_TOKEN, "web")):
        answer = client.call("register_device", {"token": token, "platform": device_platform}, user.id_token)
        assert answer["token"] == token
    devices = cloud.db().collection("users").document(user.uid).collection("devices")
    assert {d.id for d in devices.stream()} == {GOOD_TOKEN, GONE_TOKEN}

    job_id = _start(user, {"push": True, "email": True})
    final, _ = client.watch_job(job_id, timeout=120)
    assert final["status"] == "completed"
    assert final["notify"] == {"events": ["completed", "failed", "cancelled"], "push": True, "email": True}

    [message] = _wait(lambda: fcm.messages_for(job_id), 90, "the push of the job's end")
    assert message["token"] == GOOD_TOKEN
    assert message["data"] == {"job_id": job_id, "event": "completed", "type": "selftest", "status": "completed"}
    assert message["notification"]["title"] == "Selftest completed"
    assert job_id in message["notification"]["body"] and "2 of 2 items done" in message["notification"]["body"]
    assert GONE_TOKEN in fcm.refused

    _wait(lambda: {d.id for d in devices.stream()} == {GOOD_TOKEN}, 30, "the unregistered device to go")
    [pushed] = _wait(lambda: _deliveries(job_id, "push"), 30, "the push delivery on record")
    assert (pushed["event"], pushed["sent"], pushed["removed"], pushed["status_code"]) == ("completed", 1, 1, 200)
    assert pushed["next_attempt_at"] is None and pushed["skipped"] is None

    # Email to the verified address: one Trigger Email document, in the extension's shape.
    mail = _wait(lambda: cloud.db().document(f"mail/{job_id}-completed").get().to_dict(), 60, "the mail")
    assert mail["to"] == [user.email]
    assert mail["message"]["subject"] == "Selftest completed"
    assert job_id in mail["message"]["text"] and job_id in mail["message"]["html"]
    [emailed] = _wait(lambda: _deliveries(job_id, "email"), 30, "the email delivery on record")
    assert (emailed["sent"], emailed["skipped"]) == (1, None)

    time.sleep(4)  # a repeated task would show up as a second message or delivery
    assert len(fcm.messages_for(job_id)) == 1
    assert len(_deliveries(job_id, "push")) == 1 and len(_deliveries(job_id, "email")) == 1
    assert_every_document_expires(job_id)


def test_no_mail_for_an_unverified_owner(fcm: FakeFcm) -> None:
    user = client.sign_up(f"unverified-{uuid.uuid4().hex[:8]}@example.com")
    job_id = _start(user, {"email": True, "push": True, "events": ["completed"]})
    assert client.watch_job(job_id, timeout=120)[0]["status"] == "completed"
    [emailed] = _wait(lambda: _deliveries(job_id, "email"), 60, "the email delivery on record")
    assert emailed["sent"] == 0 and emailed["skipped"] == "the owner's email address is not verified"
    [pushed] = _wait(lambda: _deliveries(job_id, "push"), 60, "the push delivery on record")
    assert pushed["sent"] == 0 and pushed["skipped"] == "no registered device"
    assert not cloud.db().document(f"mail/{job_id}-completed").get().exists
    assert fcm.messages_for(job_id) == []


def test_register_device_validates_and_the_rules_keep_devices_and_mail_private(
    new_user: Callable[..., client.User],
) -> None:
    user, other = new_user(), new_user()
    for bad in (
        {"token": "short", "platform": "android"},
        {"token": "x" * 40 + "/../evil", "platform": "android"},
        {"token": "x" * 40, "platform": "windows-phone"},
        {"token": "x" * 40, "platform": "ios", "extra": 1},
        {"platform": "ios"},
    ):
        with pytest.raises(client.CallableError) as raised:
            client.call("register_device", bad, user.id_token)
        assert raised.value.status == "INVALID_ARGUMENT", bad
    with pytest.raises(client.CallableError) as raised:
        client.call("register_device", {"token": "x" * 40, "platform": "ios"}, None)
    assert raised.value.status == "UNAUTHENTICATED"

    token = "fcm-rules-" + uuid.uuid4().hex
    client.call("register_device", {"token": token, "platform": "ios"}, user.id_token)
    device = f"users/{user.uid}/devices/{token}"
    assert _rest(other, device) == 403
    assert _rest(other, device, "DELETE") == 403
    assert _rest(user, device) == 200
    assert _rest(user, device, "DELETE") == 200
    assert not cloud.db().document(device).get().exists
    assert _rest(user, f"mail/{uuid.uuid4().hex}-completed") == 403
    # Clients write none of them: no mail to anyone, no device or defaults but through the callables.
    to_me = {"to": {"stringValue": user.email}, "message": {"mapValue": {"fields": {"text": {"stringValue": "hi"}}}}}
    assert _rest(user, f"mail/{uuid.uuid4().hex}", "PATCH", to_me) == 403
    assert _rest(user, f"users/{user.uid}/devices/{'d' * 30}", "PATCH", {"platform": {"stringValue": "ios"}}) == 403
    assert _rest(user, f"users/{user.uid}/settings/notifications", "PATCH", {"push": {"booleanValue": True}}) == 403

    # At most ten devices: the eleventh forgets the least recently registered.
    for n in range(11):
        answer = client.call(
            "register_device", {"token": f"fcm-many-{n:02d}-" + "c" * 30, "platform": "web"}, user.id_token
        )
    assert answer["devices"] == 10
    left = {d.id for d in cloud.db().collection(f"users/{user.uid}/devices").stream()}
    assert len(left) == 10 and "fcm-many-00-" + "c" * 30 not in left


def test_defaults_apply_to_jobs_without_notify(new_user: Callable[..., client.User]) -> None:
    user, other = new_user(), new_user()
    for bad in (
        {"webhook": "https://169.254.169.254/latest/"},
        {"webhook": "https://10.0.0.1/hook"},
        {"push": "yes"},
        {"sms": True},
    ):
        with pytest.raises(client.CallableError) as raised:
            client.call("set_notification_settings", bad, user.id_token)
        assert raised.value.status == "INVALID_ARGUMENT", bad

    saved = client.call("set_notification_settings", {"push": True, "email": True}, user.id_token)
    assert saved == {"webhook": None, "push": True, "email": True}
    settings = f"users/{user.uid}/settings/notifications"
    assert _rest(user, settings) == 200 and _rest(other, settings) == 403

    defaulted = _start(user, None)
    explicit = _start(user, {"events": ["failed"]})
    jobs = cloud.db().collection("jobs")
    assert jobs.document(defaulted).get().to_dict()["notify"] == {  # type: ignore[index]
        "events": ["completed", "failed", "cancelled"],
        "push": True,
        "email": True,
    }
    assert jobs.document(explicit).get().to_dict()["notify"] == {"events": ["failed"]}  # type: ignore[index]
    for job_id in (defaulted, explicit):
        client.call("cancel_job", {"job_id": job_id}, user.id_token)
