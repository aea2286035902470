"""Structured log entries that Cloud Logging parses, Error Reporting groups and ops/ counts.

A Cloud Functions (2nd gen) instance's stdout and stderr lines that are JSON become structured
entries: `severity` and `message` are lifted, `logging.googleapis.com/labels` become the entry's
labels, everything else stays in `jsonPayload`. Error Reporting takes an entry whose `@type` is
ReportedErrorEvent and whose `message` holds a Python traceback (or, without one, that names a
`context.reportLocation`), and groups entries by exception type and stack.

Every entry has an `event` (see EVENTS); the log-based metrics in ops/metrics filter on it:
- `log_failure(...)`, and its forms `item_failed`, `job_failed`, `job_swept`: errors, grouped.
- `task_dispatched(...)`: how long a task waited in its queue (queue age).
- `provider_call(...)`: how long a generation provider took (provider latency).

Cheap to import (main.py uses it): the standard library only.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import traceback
from collections.abc import Mapping
from typing import Any, Protocol

ERROR_EVENT_TYPE = "type.googleapis.com/google.devtools.clouderrorreporting.v1beta1.ReportedErrorEvent"
LABELS_KEY = "logging.googleapis.com/labels"
EVENTS = ("item_failed", "job_failed", "job_swept", "failure", "task_dispatched", "provider_call")


def _service_context() -> dict[str, str]:
    # Cloud Run sets K_SERVICE (the function) and K_REVISION; Error Reporting shows them.
    return {"service": os.environ.get("K_SERVICE", "mediajobs"), "version": os.environ.get("K_REVISION", "local")}


def _caller_location(depth: int) -> dict[str, Any]:
    frame = sys._getframe(depth)
    return {"filePath": frame.f_code.co_filename, "lineNumber": frame.f_lineno, "functionName": frame.f_code.co_name}


def _json_safe(value: Any) -> Any:
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return str(value)


def failure_entry(
    message: str,
    error: BaseException | None,
    *,
    job_id: str,
    job_type: str,
    event: str = "failure",
    location_depth: int = 1,
    **fields: Any,
) -> dict[str, Any]:
    """The entry `log_failure` writes (separate, so that its shape can be tested). The report
    location is the caller `location_depth` frames up (1: whoever called this function).

    `message` should not vary per job (ids go in labels and fields): Error Reporting groups by it
    when there is no stack trace."""
    entry: dict[str, Any] = {
        "severity": "ERROR",
        "@type": ERROR_EVENT_TYPE,
        "event": event,
        "serviceContext": _service_context(),
        "context": {"reportLocation": _caller_location(location_depth + 1)},
        LABELS_KEY: {"job_id": str(job_id), "job_type": str(job_type), "event": event},
    }
    if error is not None:
        stack = "".join(traceback.format_exception(type(error), error, error.__traceback__)).rstrip()
        if error.__traceback__ is None:  # never raised: the stack is where we are now
            here = "".join(traceback.format_stack(sys._getframe(location_depth)))
            stack = f"Traceback (most recent call last):\n{here}{type(error).__name__}: {error}"
        entry.update(
            message=f"{message}\n{stack}",
            stack_trace=stack,
            exception_type=type(error).__name__,
            exception_message=str(error),
        )
    else:
        entry["message"] = message
    entry.update({key: _json_safe(value) for key, value in fields.items()})
    return entry


def write(entry: Mapping[str, Any]) -> None:
    stream = sys.stderr if entry.get("severity") in ("ERROR", "CRITICAL", "ALERT", "EMERGENCY") else sys.stdout
    print(json.dumps(entry, ensure_ascii=False, default=str), file=stream, flush=True)


def log_failure(
    message: str, error: BaseException | None, *, job_id: str, job_type: str, event: str = "failure", **fields: Any
) -> None:
    """Logs a failure for Error Reporting: exception type, message and traceback in the entry,
    job id and type as labels, `fields` in the payload."""
    write(failure_entry(message, error, job_id=job_id, job_type=job_type, event=event, location_depth=2, **fields))


def item_failed(job_id: str, job_type: str, item_id: str, error: BaseException | None, **fields: Any) -> None:
    """An item that failed for good (not a retry): counted by ops/metrics/failed_items.yaml."""
    write(
        failure_entry(
            "job item failed",
            error,
            job_id=job_id,
            job_type=job_type,
            event="item_failed",
            location_depth=2,
            item_id=item_id,
            **fields,
        )
    )


def job_failed(
    job_id: str, job_type: str, code: str, reason: str, error: BaseException | None = None, **fields: Any
) -> None:
    """A job that ended `failed`: counted by ops/metrics/failed_jobs.yaml (alert: failed jobs per hour)."""
    write(
        failure_entry(
            f"job failed: {code}",
            error,
            job_id=job_id,
            job_type=job_type,
            event="job_failed",
            location_depth=2,
            code=code,
            reason=reason,
            **fields,
        )
    )


def job_swept(job_id: str, job_type: str, outcome: str, heartbeat_age_seconds: float | None, **fields: Any) -> None:
    """A job the sweeper ended (`outcome`: finalized or failed): ops/metrics/swept_jobs.yaml."""
    write(
        failure_entry(
            "stale job swept",
            None,
            job_id=job_id,
            job_type=job_type,
            event="job_swept",
            location_depth=2,
            outcome=outcome,
            heartbeat_age_seconds=heartbeat_age_seconds,
            **fields,
        )
    )


def task_eta(value: str | None) -> dt.datetime | None:
    """X-CloudTasks-TaskETA: seconds since the epoch (Cloud Tasks), milliseconds or RFC 3339 (the
    Tasks emulator); None when absent or unreadable."""
    if not value:
        return None
    try:
        number = float(value)
    except ValueError:
        try:
            return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    return dt.datetime.fromtimestamp(number / 1000 if number > 1e11 else number, dt.UTC)


class Headers(Protocol):
    """Request headers, looked up without regard to case (werkzeug's, a task's request)."""

    def get(self, key: str) -> str | None: ...


def task_dispatched(headers: Headers, job_id: str, now: dt.datetime | None = None) -> dict[str, Any] | None:
    """Logs how long a task waited in its queue past its ETA (ops/metrics/queue_wait.yaml);
    returns the entry, or None without Cloud Tasks headers."""
    queue = headers.get("X-CloudTasks-QueueName")
    eta = task_eta(headers.get("X-CloudTasks-TaskETA"))
    if not queue or eta is None:
        return None
    waited = max(0.0, ((now or dt.datetime.now(dt.UTC)) - eta).total_seconds())
    entry = {
        "severity": "INFO",
        "message": f"task dispatched from {queue} after {waited:.1f} s",
        "event": "task_dispatched",
        "queue": queue,
        "wait_seconds": round(waited, 3),
        "retry_count": int(headers.get("X-CloudTasks-TaskRetryCount") or 0),
        LABELS_KEY: {"job_id": str(job_id), "queue": queue, "event": "task_dispatched"},
    }
    write(entry)
    return entry


def provider_call(
    provider: str, asset_kind: str, seconds: float, outcome: str, *, job_id: str, **fields: Any
) -> dict[str, Any]:
    """Logs one generation by a provider (`outcome`: succeeded, failed, cancelled, timeout):
    ops/metrics/provider_latency.yaml."""
    entry = {
        "severity": "INFO" if outcome == "succeeded" else "WARNING",
        "message": f"{provider} {asset_kind} {outcome} in {seconds:.1f} s",
        "event": "provider_call",
        "provider": provider,
        "asset_kind": asset_kind,
        "outcome": outcome,
        "latency_seconds": round(seconds, 3),
        LABELS_KEY: {"job_id": str(job_id), "provider": provider, "event": "provider_call"},
    } | {key: _json_safe(value) for key, value in fields.items()}
    write(entry)
    return entry
