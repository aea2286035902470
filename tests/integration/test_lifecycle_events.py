"""Lifecycle events through the Eventarc emulator, and `internal` callable errors.

The publisher (mediajobs.events) posts to the Eventarc emulator; the emulator delivers to
the project's own on_job_*_event functions, which record what they received in job_events/.
"""

from __future__ import annotations

import os
import time
import uuid
from typing import Any

import pytest
import requests
from google.cloud.firestore import FieldFilter

from mediajobs import cloud, events
from mediajobs.cli import client
from tests.integration.jobs_helpers import start_selftest

WAIT_SECONDS = 60


STARTED = "mediajobs.job.v1.started"


def received(job_id: str, timeout: float = WAIT_SECONDS, started: bool = False) -> list[dict[str, Any]]:
    """The events the subscribers recorded for job_id, once at least one arrived: its ended
    events, or (`started`) its started events."""
    query = cloud.db().collection(events.RECEIVED_COLLECTION).where(filter=FieldFilter("data.job_id", "==", job_id))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [e for snap in query.stream() if ((e := snap.to_dict() or {})["type"] == STARTED) == started]
        if found:
            return found
        time.sleep(0.25)
    return []


def test_the_eventarc_emulator_is_up() -> None:
    assert os.environ.get(events.EMULATOR_VAR), f"./dev exec sets {events.EMULATOR_VAR}"


@pytest.mark.parametrize("status", ["completed", "failed", "cancelled"])
def test_a_published_job_event_reaches_the_subscriber(status: str) -> None:
    job_id = f"evt-{uuid.uuid4().hex[:12]}"
    events.publish_job_ended(job_id, "photo_batch", "uid-123", status)
    got = received(job_id)
    assert len(got) == 1, got
    event = got[0]
    assert event["type"] == f"mediajobs.job.v1.{status}"
    assert event["source"] == f"//mediajobs/jobs/{job_id}"
    assert event["subject"] == f"jobs/{job_id}"
    assert event["data"] == {
        "job_id": job_id,
        "type": "photo_batch",
        "owner_uid": "uid-123",
        "status": status,
        "result": None,
        "output_paths": [],
        "error": None,
    }


def test_a_job_that_starts_and_ends_publishes_both_events_with_its_result(user: client.User) -> None:
    job_id = start_selftest(user, items=2)
    final, _ = client.watch_job(job_id, timeout=120)
    assert final["status"] == "completed"
    got = received(job_id, timeout=20)
    assert [e["type"] for e in got] == ["mediajobs.job.v1.completed"]
    assert got[0]["data"] == {
        "job_id": job_id,
        "type": "selftest",
        "owner_uid": user.uid,
        "status": "completed",
        "result": final["result"],
        "output_paths": [],
        "error": None,
    }
    [started] = received(job_id, timeout=20, started=True)
    assert started["subject"] == f"jobs/{job_id}"
    assert started["data"] == {
        "job_id": job_id,
        "type": "selftest",
        "owner_uid": user.uid,
        "status": "processing",
        "result": None,
        "output_paths": [],
        "error": None,
    }
    assert cloud.db().collection(events.RECEIVED_COLLECTION).document(f"{job_id}-started").get().exists


def test_a_failed_job_and_a_cancelled_queued_job_publish_their_events(user: client.User) -> None:
    failed = start_selftest(user, items=2, reject_items=[0, 1])
    final = client.watch_job(failed, timeout=120)[0]
    assert final["status"] == "failed"
    [event] = received(failed, timeout=20)
    assert event["type"] == "mediajobs.job.v1.failed"
    assert event["data"]["error"] == {"code": final["error"]["code"], "message": final["error"]["message"]}

    ref = cloud.db().collection("jobs").document()
    ref.create({"type": "selftest", "status": "queued", "owner_uid": user.uid, "input": {}, "cancel_requested": True})
    assert client.watch_job(ref.id, timeout=60)[0]["status"] == "cancelled"
    assert [e["type"] for e in received(ref.id, timeout=20)] == ["mediajobs.job.v1.cancelled"]


def test_an_unexpected_callable_failure_answers_internal_with_an_incident_id(user: client.User) -> None:
    # A reserved document id ("__x__") makes the Firestore read inside download_url fail
    # with an SDK error: exactly the kind of text that must not reach a client.
    response = requests.post(
        f"{os.environ['FUNCTIONS_ORIGIN']}/download_url",
        json={"data": {"paths": ["jobs/__x__/result.png"]}},
        headers={"Authorization": f"Bearer {user.id_token}"},
        timeout=60,
    )
    body = response.json()
    assert response.status_code == 500, body
    error = body["error"]
    assert error["status"] == "INTERNAL"
    incident_id = error["details"]["incident_id"]
    assert error["message"] == (
        f"Internal error (incident {incident_id}); try again, and quote the incident id if it persists."
    )
