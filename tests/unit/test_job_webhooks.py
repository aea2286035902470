"""Job webhooks without a stack: the `notify` option, the URL guard in production mode, the
Standard Webhooks signature (verified with the library), the body and the retry schedule."""

from __future__ import annotations

import datetime as dt
import http.server
import json
import threading
from collections.abc import Iterator
from typing import Any

import pydantic
import pytest
from firebase_functions import https_fn
from standardwebhooks import Webhook, WebhookVerificationError

from mediajobs.jobs import queues, store
from mediajobs.jobs.docstore import MemoryStore, Write
from mediajobs.jobs.notify import guard, webhooks
from mediajobs.jobs.notify.models import NotifySettings
from mediajobs.jobs.notify.options import checked_notify

SECRET = webhooks.new_secret()


@pytest.fixture
def production(monkeypatch: pytest.MonkeyPatch) -> None:
    """As deployed: no emulator, a real project id."""
    for name in ("FUNCTIONS_EMULATOR", "FIRESTORE_EMULATOR_HOST", "GOOGLE_CLOUD_PROJECT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GCLOUD_PROJECT", "mediajobs-prod")


# ---------------------------------------------------------------- the option


def test_notify_defaults_to_the_three_endings_and_rejects_unknown_keys() -> None:
    settings = NotifySettings.model_validate({"webhook": "https://example.com/hook"})
    assert settings.events == ["completed", "failed", "cancelled"]
    assert settings.wants("failed") and not settings.wants("started")
    for bad in (
        {"webhook": "https://example.com/hook", "secret": "x"},
        {"webhook": "https://example.com/hook", "events": ["finished"]},
        {"webhook": "https://example.com/hook", "events": ["started", "started"]},
        {"webhook": "https://example.com/hook", "events": []},
        {"webhook": 42},
    ):
        with pytest.raises(pydantic.ValidationError):
            NotifySettings.model_validate(bad)
    assert not NotifySettings().wants("completed")  # no webhook: nothing is delivered


# ---------------------------------------------------------------- the guard


@pytest.mark.usefixtures("production")
@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://169.254.169.254/computeMetadata/v1/", "link-local"),
        ("https://10.0.0.1/hook", "private"),
        ("https://localhost:8443/hook", "loopback"),  # a name resolving to 127.0.0.1
        ("https://127.0.0.1/hook", "loopback"),
        ("https://[::1]/hook", "loopback"),
        ("https://[::ffff:10.0.0.1]/hook", "private"),
        ("https://192.168.1.10/hook", "private"),
        ("https://0.0.0.0/hook", "private"),
        ("http://93.184.216.34/hook", "not https"),
        ("http://127.0.0.1:8080/hook", "not https"),
        ("ftp://example.com/hook", "not https"),
        ("https://user:pw@93.184.216.34/hook", "user name"),
        ("https://no-such-host.invalid/hook", "does not resolve"),
    ],
)
def test_production_refuses_private_loopback_metadata_and_plain_http(url: str, reason: str) -> None:
    assert not guard.loopback_allowed()
    with pytest.raises(guard.RefusedUrl, match=reason):
        guard.check(url)


@pytest.mark.usefixtures("production")
def test_a_refused_url_at_start_is_invalid_argument() -> None:
    with pytest.raises(https_fn.HttpsError) as raised:
        checked_notify(NotifySettings(webhook="https://169.254.169.254/latest/meta-data/"))
    assert raised.value.code == https_fn.FunctionsErrorCode.INVALID_ARGUMENT
    assert "notify.webhook" in raised.value.message


@pytest.mark.usefixtures("production")
def test_a_public_address_passes_and_is_the_one_connected_to() -> None:
    target = guard.check("https://93.184.216.34:8443/hooks?x=1")
    assert (target.address, target.host, target.port, target.path) == (
        "93.184.216.34",
        "93.184.216.34",
        8443,
        "/hooks?x=1",
    )
    assert checked_notify(NotifySettings(webhook="https://93.184.216.34/h")) == {
        "webhook": "https://93.184.216.34/h",
        "events": ["completed", "failed", "cancelled"],
    }


def test_the_local_stack_allows_plain_http_to_loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GCLOUD_PROJECT", "demo-mediajobs")
    assert guard.loopback_allowed()
    assert guard.check("http://127.0.0.1:9999/hook").address == "127.0.0.1"
    with pytest.raises(guard.RefusedUrl, match="private"):
        guard.check("http://10.0.0.1/hook")
    with pytest.raises(guard.RefusedUrl, match="link-local"):
        guard.check("https://169.254.169.254/")


# ---------------------------------------------------------------- signature and body


def _signed(body: str, at: dt.datetime | None = None) -> dict[str, str]:
    return webhooks.signed_headers(SECRET, "job1-completed", body, at or dt.datetime.now(dt.UTC))


def test_a_delivery_verifies_with_the_library_and_a_tampered_or_replayed_one_does_not() -> None:
    body = webhooks.body_of({"event": "completed", "id": "job1"})
    headers = _signed(body)
    assert Webhook(SECRET).verify(body, headers) == {"event": "completed", "id": "job1"}
    with pytest.raises(WebhookVerificationError):
        Webhook(SECRET).verify(body.replace("job1", "job2"), headers)  # tampered body
    with pytest.raises(WebhookVerificationError):
        Webhook(SECRET).verify(body, {**headers, "webhook-id": "job1-failed"})  # another message's signature
    with pytest.raises(WebhookVerificationError):
        Webhook(webhooks.new_secret()).verify(body, headers)  # another owner's secret
    old = _signed(body, dt.datetime.now(dt.UTC) - dt.timedelta(minutes=10))
    with pytest.raises(WebhookVerificationError):
        Webhook(SECRET).verify(body, old)  # replayed later than the tolerance


def test_the_body_is_the_public_view_with_iso_timestamps() -> None:
    at = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    job = {
        "type": "selftest", "status": "failed", "owner_uid": "u1", "input": {"secret": 1},
        "progress": {"total": 2, "done": 1, "failed": 1, "percent": 100},
        "result": {"paths": ["jobs/j/outputs/a.png"]},
        "error": {"code": "internal", "message": "boom", "incident_id": "i1"},
        "created_at": at, "finished_at": at,
    }  # fmt: skip
    view = json.loads(webhooks.body_of(webhooks.public_view("j", job, "failed")))
    assert view == {
        "event": "failed", "id": "j", "type": "selftest", "status": "failed",
        "progress": {"total": 2, "done": 1, "failed": 1, "percent": 100},
        "result": {"paths": ["jobs/j/outputs/a.png"]},
        "error": {"code": "internal", "message": "boom"},
        "created_at": "2026-01-02T03:04:05Z", "started_at": None, "finished_at": "2026-01-02T03:04:05Z",
        "updated_at": None,
    }  # fmt: skip


def test_retries_last_more_than_a_day_and_the_last_attempt_has_no_next() -> None:
    queue = queues.queue_named(webhooks.QUEUE)
    at = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    schedule = [webhooks.next_attempt_at(n, at) for n in range(1, queue.max_attempts + 1)]
    assert schedule[-1] is None
    total = sum(((t - at) for t in schedule if t is not None), dt.timedelta())
    assert total >= dt.timedelta(hours=24)
    assert schedule[0] == at + dt.timedelta(seconds=queue.min_backoff_s)


# ---------------------------------------------------------------- delivery, on the in-memory store


class _Receiver:
    def __init__(self, statuses: list[int]) -> None:
        self.statuses = statuses
        self.bodies: list[tuple[dict[str, str], bytes]] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                outer.bodies.append((dict(self.headers.items()), self.rfile.read(int(self.headers["content-length"]))))
                self.send_response(outer.statuses.pop(0) if outer.statuses else 200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def memory(monkeypatch: pytest.MonkeyPatch) -> Iterator[MemoryStore]:
    monkeypatch.setenv("GCLOUD_PROJECT", "demo-mediajobs")  # the local stack: http to loopback
    monkeypatch.setattr(webhooks, "secret_of", lambda uid, rotate=False: SECRET)
    with store.using(MemoryStore()) as found:
        assert isinstance(found, MemoryStore)
        yield found


def _job(memory: MemoryStore, webhook: str) -> None:
    job = {"type": "selftest", "status": "completed", "owner_uid": "u1", "notify": {"webhook": webhook}}
    memory.commit([Write("jobs/j1", job, "set")])


def test_a_refused_answer_is_retried_and_a_delivered_event_is_not_sent_again(memory: MemoryStore) -> None:
    receiver = _Receiver([500])
    _job(memory, receiver.url)

    with pytest.raises(webhooks.DeliveryFailed):
        webhooks.deliver("j1", "completed")
    webhooks.deliver("j1", "completed")
    webhooks.deliver("j1", "completed")  # a repeated task: delivered already
    webhooks.deliver("j1", "started")  # not wanted

    assert len(receiver.bodies) == 2
    headers, body = receiver.bodies[-1]
    assert Webhook(SECRET).verify(body, headers)["id"] == "j1"
    first, second = memory.get("jobs/j1/deliveries/1").to_dict(), memory.get("jobs/j1/deliveries/2").to_dict()
    assert (first["status_code"], first["attempt"], second["status_code"], second["attempt"]) == (500, 1, 200, 2)
    assert first["next_attempt_at"] is not None and second["next_attempt_at"] is None
    assert not memory.get("jobs/j1/deliveries/3").exists


def test_an_unresolvable_host_is_retried_and_a_refused_address_is_not(memory: MemoryStore) -> None:
    _job(memory, "https://no-such-host.invalid/hook")
    with pytest.raises(webhooks.DeliveryFailed):
        webhooks.deliver("j1", "completed")
    assert memory.get("jobs/j1/deliveries/1").to_dict()["next_attempt_at"] is not None

    _job(memory, "https://10.0.0.1/hook")  # its name resolving to a private address by now
    webhooks.deliver("j1", "completed")
    refused = memory.get("jobs/j1/deliveries/2").to_dict()
    assert refused["next_attempt_at"] is None and "private" in refused["error"]
    assert refused["status_code"] is None
