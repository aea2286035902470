"""Log entries Error Reporting can group, and the events ops/ counts (mediajobs/logs.py)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]

from mediajobs import logs

ROOT = Path(__file__).resolve().parents[2]


def fail_deep() -> None:
    raise ValueError("the PNG has no IHDR chunk")


def test_a_failure_carries_type_message_traceback_and_job_labels(capsys: pytest.CaptureFixture[str]) -> None:
    try:
        fail_deep()
    except ValueError as error:
        logs.item_failed("job-1", "photo_batch", "item-7", error, attempt=3)

    written = capsys.readouterr()
    assert written.out == ""  # errors go to stderr, one JSON line
    entry = json.loads(written.err)
    assert entry["severity"] == "ERROR"
    assert entry["@type"] == "type.googleapis.com/google.devtools.clouderrorreporting.v1beta1.ReportedErrorEvent"
    labels = entry["logging.googleapis.com/labels"]
    assert labels == {"job_id": "job-1", "job_type": "photo_batch", "event": "item_failed"}
    # A Python traceback in `message` (what Error Reporting parses and groups by) and in stack_trace.
    assert entry["message"].startswith("job item failed\nTraceback (most recent call last):\n")
    assert 'in fail_deep\n    raise ValueError("the PNG has no IHDR chunk")' in entry["message"]
    assert entry["message"].endswith("ValueError: the PNG has no IHDR chunk")
    assert entry["stack_trace"] == entry["message"].split("\n", 1)[1]
    assert (entry["exception_type"], entry["exception_message"]) == ("ValueError", "the PNG has no IHDR chunk")
    assert entry["event"] == "item_failed" and entry["item_id"] == "item-7" and entry["attempt"] == 3
    assert entry["context"]["reportLocation"]["functionName"] == (
        "test_a_failure_carries_type_message_traceback_and_job_labels"
    )
    assert entry["serviceContext"]["service"]


def test_an_error_never_raised_still_gets_a_stack() -> None:
    entry = logs.failure_entry("could not finalize", RuntimeError("no counters"), job_id="j", job_type="selftest")
    assert entry["message"].startswith("could not finalize\nTraceback (most recent call last):\n")
    assert "test_an_error_never_raised_still_gets_a_stack" in entry["stack_trace"]
    assert entry["stack_trace"].endswith("RuntimeError: no counters")


def test_failures_without_an_exception_keep_a_stable_message(capsys: pytest.CaptureFixture[str]) -> None:
    logs.job_swept("job-2", "media_export", "failed", 960.5)
    logs.job_failed("job-3", "video_process", "deadline-exceeded", "no heartbeat for 15 minutes")

    swept, failed = (json.loads(line) for line in capsys.readouterr().err.splitlines())
    assert swept["message"] == "stale job swept" and "stack_trace" not in swept
    location = swept["context"]["reportLocation"]
    assert location["functionName"] == "test_failures_without_an_exception_keep_a_stable_message"
    assert (swept["event"], swept["outcome"], swept["heartbeat_age_seconds"]) == ("job_swept", "failed", 960.5)
    assert failed["message"] == "job failed: deadline-exceeded"  # no id in it: one group per code
    assert failed["logging.googleapis.com/labels"]["job_id"] == "job-3"


def test_log_failure_takes_any_fields(capsys: pytest.CaptureFixture[str]) -> None:
    try:
        table: dict[str, int] = {}
        table["missing"] += 1
    except KeyError as error:
        logs.log_failure("lookup failed", error, job_id="j", job_type="t", path=Path("/x"), sizes=(1, 2))
    entry = json.loads(capsys.readouterr().err)
    assert entry["event"] == "failure" and entry["path"] == "/x" and entry["sizes"] == [1, 2]
    assert entry["exception_type"] == "KeyError"


def test_queue_wait_comes_from_the_task_eta(capsys: pytest.CaptureFixture[str]) -> None:
    now = dt.datetime(2026, 12, 2, 10, 0, 30, tzinfo=dt.UTC)
    eta = dt.datetime(2026, 12, 2, 10, 0, 0, tzinfo=dt.UTC)
    headers = {"X-CloudTasks-QueueName": "photoitems", "X-CloudTasks-TaskETA": str(eta.timestamp()),
               "X-CloudTasks-TaskRetryCount": "2"}  # fmt: skip

    entry = logs.task_dispatched(headers, "job-4", now=now)

    assert entry is not None and entry["wait_seconds"] == 30.0 and entry["retry_count"] == 2
    assert json.loads(capsys.readouterr().out)["queue"] == "photoitems"
    assert logs.task_eta(str(eta.timestamp() * 1000)) == eta  # the Tasks emulator's milliseconds
    assert logs.task_eta("2026-12-02T10:00:00Z") == eta
    assert logs.task_dispatched({}, "job-4") is None  # not a Cloud Tasks request


def test_provider_latency_entry() -> None:
    entry = logs.provider_call("replicate", "video", 42.25, "succeeded", job_id="job-5", prediction_id="p1")
    assert (entry["latency_seconds"], entry["severity"], entry["prediction_id"]) == (42.25, "INFO", "p1")
    assert logs.provider_call("local", "image", 1, "failed", job_id="j")["severity"] == "WARNING"


def metric_files() -> dict[str, dict[str, Any]]:
    return {p.stem: yaml.safe_load(p.read_text()) for p in sorted((ROOT / "ops" / "metrics").glob("*.yaml"))}


def test_every_metric_counts_an_event_that_is_logged() -> None:
    metrics = metric_files()
    assert {"failed_jobs", "failed_items", "swept_jobs", "queue_wait", "provider_latency"} <= set(metrics)
    for name, metric in metrics.items():
        events = [e for e in logs.EVENTS if f'jsonPayload.event="{e}"' in metric["filter"]]
        assert len(events) == 1, (name, metric["filter"])
        for label, extractor in (metric.get("labelExtractors") or {}).items():
            assert extractor.startswith("EXTRACT("), (name, label)


BUILT_IN_METRICS = {"cloudtasks.googleapis.com/queue/depth"}


def test_every_alert_watches_a_metric_defined_here_or_built_in() -> None:
    metrics = {f"logging.googleapis.com/user/{name}" for name in metric_files()} | BUILT_IN_METRICS
    alerts = [json.loads(p.read_text()) for p in sorted((ROOT / "ops" / "alerts").glob("*.json"))]
    assert len(alerts) >= 5
    for alert in alerts:
        for condition in alert["conditions"]:
            watched = condition["conditionThreshold"]["filter"].split('metric.type="')[1].split('"')[0]
            assert watched in metrics, alert["displayName"]
