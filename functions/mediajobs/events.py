"""Lifecycle events for other systems: one CloudEvent when a job starts and one when it ends.

    channel  projects/{project}/locations/{EVENTS_LOCATION or REGION}/channels/firebase  (the default Firebase channel)
    type     mediajobs.job.v1.started | .completed | .failed | .cancelled
    source   //mediajobs/jobs/{job_id}        subject  jobs/{job_id}
    data     {job_id, type, owner_uid, status, result, output_paths, error}
             (contract/schemas/event.job_ended.schema.json, event.job_started.schema.json)
    id       {job_id}-{status}, {job_id}-started: fixed by the job, so a repeated publish is the same event

Published through the Eventarc Publishing API (`:publishEvents`), or to the Eventarc emulator
when CLOUD_EVENTARC_EMULATOR_HOST is set (the Functions emulator sets it for our functions).
The engine publishes through an outbox (mediajobs/jobs/outbox.py): the event is staged in the
transaction that ends the job and published by the worker that ended it, or by a retried task
when that fails, so it is delivered at least once.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import os
import uuid
from typing import Any

from firebase_functions import logger

from mediajobs import cloud

CHANNEL_ID = "firebase"
EVENT_TYPE_PREFIX = "mediajobs.job.v1."
ENDED_STATUSES = ("completed", "failed", "cancelled")
STARTED = "started"
OUTPUT_FIELDS = ("path", "paths", "outputs", "thumbnails", "poster")  # result fields that hold output paths
PUBLISH_TIMEOUT_SECONDS = 10
PUBLISHING_API = "https://eventarcpublishing.googleapis.com/v1"
EMULATOR_VAR = "CLOUD_EVENTARC_EMULATOR_HOST"


def event_type(status: str) -> str:
    return f"{EVENT_TYPE_PREFIX}{status}"


def channel_name(project_id: str, location: str | None = None) -> str:
    from mediajobs import config

    return f"projects/{project_id}/locations/{location or config.events_location()}/channels/{CHANNEL_ID}"


def output_paths(result: Any) -> list[str]:
    """Every Storage path a job's result names (`path`, `paths`, `outputs`, `thumbnails`, `poster`
    and fields ending in `_path` or `_paths`, but not its inputs' `input_path`/`source_path`),
    each once, outer fields first."""
    found: list[str] = []
    pending: list[tuple[str, Any]] = [("", result)]
    while pending:
        name, value = pending.pop(0)
        if isinstance(value, dict):
            pending += list(value.items())
        elif isinstance(value, list):
            pending += [(name, item) for item in value]
        elif isinstance(value, str) and value and _names_an_output(name) and value not in found:
            found.append(value)
    return found


def _names_an_output(name: str) -> bool:
    named = name in OUTPUT_FIELDS or name.endswith(("_path", "_paths"))
    return named and not name.startswith(("input", "source"))


def job_data(
    job_id: str, job_type: str, owner_uid: str, status: str, *, result: Any = None, error: Any = None
) -> dict[str, Any]:
    """`data` of a lifecycle event: the job's public result and its output paths, so a
    subscriber needs no Firestore read."""
    error_view = None
    if isinstance(error, dict):
        error_view = {"code": str(error.get("code", "")), "message": str(error.get("message", ""))}
    return {
        "job_id": job_id,
        "type": job_type,
        "owner_uid": owner_uid,
        "status": status,
        "result": result if isinstance(result, dict) else None,
        "output_paths": output_paths(result),
        "error": error_view,
    }


def job_started_event(job_id: str, job_type: str, owner_uid: str) -> dict[str, Any]:
    """mediajobs.job.v1.started, id `{job_id}-started`."""
    data = job_data(job_id, job_type, owner_uid, "processing")
    return _cloud_event(job_id, STARTED, data, f"{job_id}-{STARTED}")


def job_ended_event(
    job_id: str,
    job_type: str,
    owner_uid: str,
    status: str,
    *,
    event_id: str | None = None,
    result: Any = None,
    error: Any = None,
) -> dict[str, Any]:
    """The CloudEvent in the Publishing API's JSON form (io.cloudevents.v1.CloudEvent)."""
    data = job_data(job_id, job_type, owner_uid, status, result=result, error=error)
    return _cloud_event(job_id, status, data, event_id)


def with_job_outcome(event: dict[str, Any], job: dict[str, Any]) -> dict[str, Any]:
    """A staged ended event with the job's final result, error and output paths in its data."""
    data = json.loads(event.get("textData") or "{}")
    fresh = job_data(
        str(data.get("job_id", "")),
        str(data.get("type", "")),
        str(data.get("owner_uid", "")),
        str(data.get("status", "")),
        result=job.get("result"),
        error=job.get("error"),
    )
    return {**event, "textData": json.dumps(fresh, default=str)}


JOB_TYPE_ATTRIBUTE = "jobtype"


def _cloud_event(job_id: str, name: str, data: dict[str, Any], event_id: str | None) -> dict[str, Any]:
    return {
        "@type": "type.googleapis.com/io.cloudevents.v1.CloudEvent",
        "id": event_id or uuid.uuid4().hex,
        "source": f"//mediajobs/jobs/{job_id}",
        "specVersion": "1.0",
        "type": event_type(name),
        "textData": json.dumps(data, default=str),
        "attributes": {
            "datacontenttype": {"ceString": "application/json"},
            "subject": {"ceString": f"jobs/{job_id}"},
            # An extension attribute, so that a subscriber to one job type filters on it
            # (Eventarc filters on attributes, not on data) instead of being invoked for all.
            JOB_TYPE_ATTRIBUTE: {"ceString": str(data.get("type", ""))},
            # Microseconds always: the Python SDK's receiver parses exactly this form.
            "time": {"ceTimestamp": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")},
        },
    }


def publish_job_ended(
    job_id: str, job_type: str, owner_uid: str, status: str, result: dict[str, Any] | None = None
) -> None:
    """Publishes mediajobs.job.v1.<status> once, best effort (never raises): for tools and tests;
    the engine's jobs go through the outbox, which retries."""
    try:
        if status not in ENDED_STATUSES:
            logger.warn("job event not published: not a terminal status", job_id=job_id, status=status)
            return
        publish([job_ended_event(job_id, job_type, owner_uid, status, result=result)])
        logger.info("job ended event published", job_id=job_id, type=event_type(status))
    except Exception as error:  # noqa: BLE001 - an event must never fail the job that ended
        logger.error("job ended event not published", job_id=job_id, status=status, error=repr(error))


def publish(events: list[dict[str, Any]], timeout: float = PUBLISH_TIMEOUT_SECONDS) -> None:
    """Posts the events to the channel; raises when Eventarc does not take them within `timeout` seconds."""
    import requests

    channel = channel_name(_project_id())
    body = {"events": events}
    emulator = os.environ.get(EMULATOR_VAR)
    if emulator:
        origin = emulator if "://" in emulator else f"http://{emulator}"
        response = requests.post(f"{origin}/{channel}:publishEvents", json=body, timeout=timeout)
    else:
        from google.auth.transport.requests import AuthorizedSession

        session = AuthorizedSession(_credentials())  # type: ignore[no-untyped-call]
        response = session.post(f"{PUBLISHING_API}/{channel}:publishEvents", json=body, timeout=timeout)
    if response.status_code >= 300:
        raise RuntimeError(f"Eventarc answered {response.status_code}: {response.text[:300]}")


@functools.cache
def _credentials() -> Any:
    """The instance's credentials, once per process (they refresh their own token): every job's
    end publishes from its worker, so each publish must not fetch them again."""
    import google.auth

    credentials, _ = google.auth.default(scopes=["https://www.googleapis.com/auth/cloud-platform"])
    return credentials


def _project_id() -> str:
    project = next((os.environ[n] for n in cloud.PROJECT_ENV_VARS if os.environ.get(n)), None)
    return project or str(cloud.app().project_id)


RECEIVED_COLLECTION = "job_events"


def record_received(event: Any) -> None:
    """What a test probe (mediajobs/event_probes.py) does with a job event: logs it and keeps it
    in job_events/{event_id} for the tests."""
    data = event.data if isinstance(event.data, dict) else {"raw": event.data}
    logger.info("job event received", type=event.type, source=event.source, data=data)
    cloud.db().collection(RECEIVED_COLLECTION).document(str(event.id)).set(
        {
            "type": event.type,
            "source": event.source,
            "subject": event.subject,
            "time": event.time,
            "data": data,
            "received_at": dt.datetime.now(dt.UTC),
        }
    )
