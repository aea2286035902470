"""The lifecycle event publisher: the CloudEvent it builds, and that it never raises."""

from __future__ import annotations

import json
import socket

import pytest

from mediajobs import events
from mediajobs.contract import validate


def test_the_event_is_a_publishing_api_cloud_event_with_the_contract_data() -> None:
    event = events.job_ended_event("job-1", "photo_batch", "uid-1", "failed")
    assert event["type"] == "mediajobs.job.v1.failed"
    assert event["source"] == "//mediajobs/jobs/job-1"
    assert event["specVersion"] == "1.0"
    assert event["attributes"]["subject"] == {"ceString": "jobs/job-1"}
    assert event["attributes"]["datacontenttype"] == {"ceString": "application/json"}
    assert event["attributes"]["time"]["ceTimestamp"].endswith("Z")
    assert event["attributes"][events.JOB_TYPE_ATTRIBUTE] == {"ceString": "photo_batch"}
    data = json.loads(event["textData"])
    assert data == {
        "job_id": "job-1",
        "type": "photo_batch",
        "owner_uid": "uid-1",
        "status": "failed",
        "result": None,
        "output_paths": [],
        "error": None,
    }
    assert validate.problems("event.job_ended.schema.json", data) == []
    assert events.channel_name("demo-x") == "projects/demo-x/locations/us-central1/channels/firebase"


def test_the_channel_follows_the_region_or_its_own_location(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REGION", "europe-west1")
    assert events.channel_name("demo-x") == "projects/demo-x/locations/europe-west1/channels/firebase"
    monkeypatch.setenv("EVENTS_LOCATION", "europe-west4")
    assert events.channel_name("demo-x") == "projects/demo-x/locations/europe-west4/channels/firebase"


def test_an_event_id_can_be_fixed_by_the_job() -> None:
    first = events.job_ended_event("job-1", "selftest", "uid-1", "completed", event_id="job-1-completed")
    again = events.job_ended_event("job-1", "selftest", "uid-1", "completed", event_id="job-1-completed")
    assert first["id"] == again["id"] == "job-1-completed"
    assert events.job_ended_event("job-1", "selftest", "uid-1", "completed")["id"] != first["id"]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_publishing_never_raises(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("GCLOUD_PROJECT", "demo-events")
    monkeypatch.setenv(events.EMULATOR_VAR, f"127.0.0.1:{closed_port()}")
    events.publish_job_ended("job-1", "selftest", "uid-1", "completed")  # nothing listens there
    events.publish_job_ended("job-1", "selftest", "uid-1", "processing")  # not an end
    logged = capsys.readouterr()
    assert "job ended event not published" in logged.out + logged.err
    assert "not a terminal status" in logged.out + logged.err


def test_an_ended_event_carries_the_result_and_a_started_event_has_its_own_type() -> None:
    result = {"zip_path": "jobs/j/results.zip", "outputs": [{"path": "jobs/j/a.png", "input_path": "users/u/a.png"}]}
    staged = events.job_ended_event("j", "photo_batch", "uid-1", "failed", event_id="j-failed")
    published = events.with_job_outcome(staged, {"result": result, "error": {"code": "x", "message": "y", "at": 1}})
    data = json.loads(published["textData"])
    assert published["id"] == "j-failed" and published["type"] == "mediajobs.job.v1.failed"
    assert data["result"] == result and data["output_paths"] == ["jobs/j/results.zip", "jobs/j/a.png"]
    assert data["error"] == {"code": "x", "message": "y"}
    assert validate.problems("event.job_ended.schema.json", data) == []

    started = events.job_started_event("j", "photo_batch", "uid-1")
    assert started["id"] == "j-started" and started["type"] == "mediajobs.job.v1.started"
    started_data = json.loads(started["textData"])
    assert started_data["status"] == "processing" and started_data["output_paths"] == []
    assert validate.problems("event.job_started.schema.json", started_data) == []
    assert validate.problems("event.job_ended.schema.json", started_data) != []


def test_the_auto_upload_subscriber_is_invoked_for_photo_jobs_only() -> None:
    """Eventarc filters on the attribute the publisher sets: other jobs' endings (every scene
    asset, every export) no longer invoke a function that has nothing to do for them."""
    import importlib

    main = importlib.import_module("main")
    trigger = main.on_auto_job_completed.__firebase_endpoint__.eventTrigger
    assert trigger["eventFilters"] == {events.JOB_TYPE_ATTRIBUTE: "photo_batch"}
    started = events.job_started_event("job-2", "scene_asset", "uid-1")
    assert started["attributes"][events.JOB_TYPE_ATTRIBUTE] == {"ceString": "scene_asset"}
