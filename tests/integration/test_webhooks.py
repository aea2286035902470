"""Signed job webhooks on the stack: exactly one verified delivery per event per job, through
retries of the `jobwebhooks` queue, every attempt on record; refusals at start; the rules."""

from __future__ import annotations

import http.server
import json
import os
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from standardwebhooks import Webhook, WebhookVerificationError

from mediajobs import cloud
from mediajobs.cli import client
from tests import photo_fixtures as fx

EVENTS = ["started", "completed", "failed", "cancelled"]


class Receiver:
    """A loopback webhook receiver answering 500 to the first `failures` attempts of each
    webhook-id, then 200 (and 200 again to any repeat, which it records as such)."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.received: list[tuple[dict[str, str], str, int]] = []  # headers, body, status answered
        self.lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0"))).decode()
                headers = {k.lower(): v for k, v in self.headers.items()}
                with receiver.lock:
                    seen = sum(1 for h, _, _ in receiver.received if h.get("webhook-id") == headers.get("webhook-id"))
                    status = 500 if seen < receiver.failures else 200
                    receiver.received.append((headers, body, status))
                self.send_response(status)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/jobs"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def accepted(self) -> list[tuple[dict[str, str], str]]:
        with self.lock:
            return [(h, b) for h, b, status in self.received if status == 200]

    def attempts(self, webhook_id: str) -> list[int]:
        with self.lock:
            return [status for h, _, status in self.received if h.get("webhook-id") == webhook_id]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver(failures=2)
    yield found
    found.server.shutdown()


def _wait(condition: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def test_one_verified_delivery_per_event_after_two_refused_attempts(receiver: Receiver) -> None:
    user = client.sign_up(f"hooks-{uuid.uuid4().hex[:8]}@example.com")
    secret = client.call("webhook_secret", {}, user.id_token)["secret"]
    assert secret.startswith("whsec_")
    assert client.call("webhook_secret", None, user.id_token)["secret"] == secret  # created once, then read

    notify = {"webhook": receiver.url, "events": ["started", "completed"]}
    job_id = client.call("start_job", {"type": "selftest", "input": {"items": 2}, "notify": notify}, user.id_token)[
        "job_id"
    ]
    final, _ = client.watch_job(job_id, timeout=120)
    assert final["status"] == "completed"
    assert final["notify"] == notify

    _wait(lambda: len(receiver.accepted()) >= 2, 120, "a delivery of started and of completed")
    time.sleep(6)  # time for a duplicate delivery to show up, were there one
    accepted = receiver.accepted()
    bodies = [Webhook(secret).verify(body, headers) for headers, body in accepted]
    assert sorted(b["event"] for b in bodies) == ["completed", "started"]
    assert sorted(h["webhook-id"] for h, _ in accepted) == [f"{job_id}-completed", f"{job_id}-started"]
    for event in ("started", "completed"):
        assert receiver.attempts(f"{job_id}-{event}") == [500, 500, 200]
    ended = next(b for b in bodies if b["event"] == "completed")
    assert ended["id"] == job_id and ended["type"] == "selftest" and ended["status"] == "completed"
    assert ended["progress"]["percent"] == 100 and ended["error"] is None
    assert ended["finished_at"].endswith("Z") and ended["created_at"] <= ended["finished_at"]

    # Every attempt is on record for the owner.
    deliveries = {
        d.id: d.to_dict() or {}
        for d in cloud.db().collection("jobs").document(job_id).collection("deliveries").stream()
    }
    assert sorted(deliveries, key=int) == [str(n) for n in range(1, 7)]
    for event in ("started", "completed"):
        mine = sorted((d for d in deliveries.values() if d["event"] == event), key=lambda d: d["attempt"])
        assert [d["status_code"] for d in mine] == [500, 500, 200]
        assert [d["attempt"] for d in mine] == [1, 2, 3]
        assert [d["next_attempt_at"] is not None for d in mine] == [True, True, False]
        assert all(d["latency_ms"] >= 0 and d["expire_at"] and d["webhook_id"] == f"{job_id}-{event}" for d in mine)

    # A tampered or replayed delivery fails verification.
    headers, body = accepted[0]
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body.replace(job_id, "someone-elses-job"), headers)
    with pytest.raises(WebhookVerificationError):  # replayed with a fresh timestamp: the signature covers it
        Webhook(secret).verify(body, {**headers, "webhook-timestamp": str(int(headers["webhook-timestamp"]) + 1)})

    # Rotation: a new secret, which no earlier delivery verifies with.
    rotated = client.call("webhook_secret", {"rotate": True}, user.id_token)["secret"]
    assert rotated != secret and client.call("webhook_secret", {}, user.id_token)["secret"] == rotated
    with pytest.raises(WebhookVerificationError):
        Webhook(rotated).verify(body, headers)

    # The rules: the owner reads the deliveries, another user does not; nobody reads a secret.
    other = client.sign_up(f"hooks-other-{uuid.uuid4().hex[:8]}@example.com")
    assert _rest_get(user, f"jobs/{job_id}/deliveries/1") == 200
    assert _rest_get(other, f"jobs/{job_id}/deliveries/1") == 403
    assert _rest_get(user, f"webhook_secrets/{user.uid}") == 403


def test_unwanted_events_are_not_delivered(receiver: Receiver) -> None:
    user = client.sign_up(f"hooks-{uuid.uuid4().hex[:8]}@example.com")
    receiver.failures = 0
    notify = {"webhook": receiver.url, "events": ["failed"]}
    job_id = client.call("start_job", {"type": "selftest", "input": {"items": 2}, "notify": notify}, user.id_token)[
        "job_id"
    ]
    assert client.watch_job(job_id, timeout=120)[0]["status"] == "completed"
    time.sleep(5)
    assert receiver.received == []
    assert list(cloud.db().collection("jobs").document(job_id).collection("deliveries").stream()) == []


@pytest.mark.parametrize(
    "notify",
    [
        {"webhook": "https://169.254.169.254/computeMetadata/v1/"},
        {"webhook": "https://10.0.0.1/hook"},
        {"webhook": "http://10.0.0.1/hook"},
        {"webhook": "https://example.com/hook", "secret": "mine"},
        {"webhook": "https://example.com/hook", "events": ["finished"]},
    ],
)
def test_a_refused_notify_is_invalid_argument_at_start(notify: dict[str, Any]) -> None:
    user = client.sign_up(f"hooks-{uuid.uuid4().hex[:8]}@example.com")
    with pytest.raises(client.CallableError) as raised:
        client.call("start_job", {"type": "selftest", "input": {"items": 2}, "notify": notify}, user.id_token)
    assert raised.value.status == "INVALID_ARGUMENT"


def _rest_get(user: client.User, path: str) -> int:
    base = (
        f"http://{os.environ['FIRESTORE_EMULATOR_HOST']}/v1/projects/{os.environ['GCLOUD_PROJECT']}"
        "/databases/(default)/documents"
    )
    response = requests.get(f"{base}/{path}", headers={"Authorization": f"Bearer {user.id_token}"}, timeout=30)
    assert response.status_code in (200, 403), (response.status_code, response.text[:300])
    return response.status_code


def test_upload_takes_notify_as_a_form_field(user: client.User) -> None:
    png = fx.photo("coffee", "PNG", size=(64, 64))
    refused = _upload(user, png, {"notify": json.dumps({"webhook": "https://169.254.169.254/latest/"})})
    assert refused.status_code == 400 and refused.json()["error"]["status"] == "invalid-argument"
    assert "notify.webhook" in refused.json()["error"]["message"]

    notify = {"webhook": "https://93.184.216.34/hooks", "events": ["failed"]}
    accepted = _upload(user, png, {"notify": json.dumps(notify)})
    assert accepted.status_code == 202, accepted.text
    job_id = accepted.json()["job_id"]
    assert (cloud.db().document(f"jobs/{job_id}").get().to_dict() or {})["notify"] == notify
    client.call("cancel_job", {"job_id": job_id}, user.id_token)


def _upload(user: client.User, png: bytes, form: dict[str, str]) -> requests.Response:
    return requests.post(
        f"{os.environ['FUNCTIONS_ORIGIN']}/upload",
        files=[("file", ("a.png", png, "image/png"))],
        data=form,
        headers={"Authorization": f"Bearer {user.id_token}"},
        timeout=120,
    )
