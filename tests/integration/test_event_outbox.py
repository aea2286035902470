"""Lifecycle events are delivered at least once: staged with the job's end, published by the
worker that ended it or else by a retried task, one fixed id per job (mediajobs/jobs/outbox.py)."""

from __future__ import annotations

import datetime as dt
import http.server
import os
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from mediajobs import cloud, events
from mediajobs.cli import client
from mediajobs.jobs import outbox, store
from mediajobs.jobs.docstore import Transaction
from mediajobs.jobs.models import JobStatus
from tests.integration.jobs_helpers import start_selftest
from tests.integration.test_lifecycle_events import received


def _stage(job_id: str, status: str = "completed", pending_since: dt.datetime | None = None) -> None:
    """Stages an event as the transaction ending a job does (for a job id no trigger watches)."""

    def stage(transaction: Transaction) -> None:
        outbox.stage(transaction, job_id, {"type": "selftest", "owner_uid": "uid-outbox"}, JobStatus(status))

    store.docs().run(stage)
    if pending_since is not None:
        store.engine_ref(job_id, outbox.OUTBOX).update({"pending_since": pending_since})


class _FlakyEventarc:
    """Answers 503 to the first `failures` publishes, then forwards to the Eventarc emulator."""

    def __init__(self, upstream: str, failures: int) -> None:
        self.upstream, self.failures, self.posts = upstream, failures, 0
        flaky = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                flaky.posts += 1
                if flaky.posts <= flaky.failures:
                    status, answer = 503, b"unavailable"
                else:
                    headers = {"Content-Type": "application/json"}
                    reply = requests.post(f"{flaky.upstream}{self.path}", data=body, headers=headers, timeout=10)
                    status, answer = reply.status_code, reply.content
                self.send_response(status)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.host = f"127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def flaky_eventarc(monkeypatch: pytest.MonkeyPatch) -> Iterator[_FlakyEventarc]:
    emulator = os.environ[events.EMULATOR_VAR]
    flaky = _FlakyEventarc(emulator if "://" in emulator else f"http://{emulator}", failures=1)
    threading.Thread(target=flaky.server.serve_forever, daemon=True).start()
    monkeypatch.setenv(events.EMULATOR_VAR, flaky.host)
    yield flaky
    flaky.server.shutdown()


def test_a_job_that_ends_has_its_event_published_once_with_the_id_of_its_end(user: client.User) -> None:
    job_id = start_selftest(user, items=2)
    assert client.watch_job(job_id, timeout=120)[0]["status"] == "completed"

    got = received(job_id, timeout=30)

    assert len(got) == 1
    assert cloud.db().collection(events.RECEIVED_COLLECTION).document(f"{job_id}-completed").get().exists
    staged = store.engine_ref(job_id, outbox.OUTBOX).get().to_dict() or {}
    assert staged["published_at"] is not None and "pending_since" not in staged
    assert staged["expire_at"] > store.now() + dt.timedelta(days=29)


def test_a_publish_that_fails_is_retried_and_the_event_arrives_once(flaky_eventarc: _FlakyEventarc) -> None:
    job_id = f"outbox-{uuid.uuid4().hex[:12]}"
    _stage(job_id, "failed")

    with pytest.raises(RuntimeError, match="503"):  # the task raises: Cloud Tasks retries it
        outbox.publish_staged(job_id)
    assert (store.engine_ref(job_id, outbox.OUTBOX).get().to_dict() or {})["published_at"] is None
    assert outbox.publish_staged(job_id) is True  # the retry
    assert outbox.publish_staged(job_id) is False  # a duplicate task publishes nothing more

    got = received(job_id)
    assert [(e["type"], e["data"]["status"]) for e in got] == [("mediajobs.job.v1.failed", "failed")]
    assert cloud.db().collection(events.RECEIVED_COLLECTION).document(f"{job_id}-failed").get().exists
    assert flaky_eventarc.posts == 2


def test_the_worker_that_ends_a_job_publishes_its_event_itself() -> None:
    job_id = f"outbox-{uuid.uuid4().hex[:12]}"
    _stage(job_id, "completed")

    outbox.dispatch(job_id)

    # Published before dispatch returned: no jobevents task (and its invocation) was needed.
    staged = store.engine_ref(job_id, outbox.OUTBOX).get().to_dict() or {}
    assert staged["published_at"] is not None and "pending_since" not in staged
    assert [e["type"] for e in received(job_id)] == ["mediajobs.job.v1.completed"]


def test_an_event_eventarc_refuses_at_the_end_is_published_by_the_queue(flaky_eventarc: _FlakyEventarc) -> None:
    job_id = f"outbox-{uuid.uuid4().hex[:12]}"
    _stage(job_id, "failed")

    outbox.dispatch(job_id)  # the direct attempt meets the 503; the jobevents task takes over

    assert flaky_eventarc.posts == 1
    got = received(job_id)  # published by the task in the functions emulator
    assert [e["type"] for e in got] == ["mediajobs.job.v1.failed"]
    assert (store.engine_ref(job_id, outbox.OUTBOX).get().to_dict() or {})["published_at"] is not None


def test_a_started_event_eventarc_refuses_is_published_by_the_queue(flaky_eventarc: _FlakyEventarc) -> None:
    job_id = f"outbox-{uuid.uuid4().hex[:12]}"
    job = {"type": "selftest", "owner_uid": "uid-outbox", "status": "processing"}  # the start trigger ignores it
    cloud.db().collection("jobs").document(job_id).set(job)

    outbox.dispatch_started(job_id)

    assert flaky_eventarc.posts == 1
    [started] = received(job_id, started=True)
    assert started["data"]["type"] == "selftest" and started["data"]["owner_uid"] == "uid-outbox"


def test_an_event_whose_dispatch_was_lost_is_dispatched_again_by_the_sweeper() -> None:
    job_id = f"outbox-{uuid.uuid4().hex[:12]}"
    fresh = f"outbox-{uuid.uuid4().hex[:12]}"
    _stage(job_id, "cancelled", pending_since=store.now() - outbox.REDISPATCH_AFTER - dt.timedelta(minutes=1))
    _stage(fresh, "cancelled")  # its own dispatch may still be under way: left alone

    dispatched = outbox.redispatch_stale()

    assert job_id in dispatched and fresh not in dispatched
    got = received(job_id)  # published by the jobevents task in the functions emulator
    assert [e["type"] for e in got] == ["mediajobs.job.v1.cancelled"]
    assert received(fresh, timeout=2) == []


def test_a_job_ended_by_a_writer_that_staged_nothing_still_has_its_event_published() -> None:
    ref = cloud.db().collection("jobs").document(f"outbox-{uuid.uuid4().hex[:12]}")
    ref.set({"type": "selftest", "owner_uid": "uid-outbox", "status": "cancelled"}, merge=True)

    assert outbox.publish_staged(ref.id) is True
    assert outbox.publish_staged(ref.id) is False

    got = received(ref.id)
    assert [e["data"] for e in got] == [
        {
            "job_id": ref.id,
            "type": "selftest",
            "owner_uid": "uid-outbox",
            "status": "cancelled",
            "result": None,
            "output_paths": [],
            "error": None,
        }
    ]


def test_an_ended_event_carries_the_jobs_result_and_output_paths() -> None:
    ref = cloud.db().collection("jobs").document(f"outbox-{uuid.uuid4().hex[:12]}")
    result = {"zip_path": f"jobs/{ref.id}/results.zip", "outputs": [{"path": f"jobs/{ref.id}/outputs/a.png"}]}
    ref.set({"type": "photo_batch", "owner_uid": "uid-outbox", "status": "completed", "result": result})

    assert outbox.publish_staged(ref.id) is True

    [event] = received(ref.id)
    assert event["data"]["result"] == result
    assert event["data"]["output_paths"] == [f"jobs/{ref.id}/results.zip", f"jobs/{ref.id}/outputs/a.png"]
