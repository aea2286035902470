"""Lifecycle events for other systems: one CloudEvent per job reaching a terminal status.

    channel  projects/{project}/locations/{EVENTS_LOCATION or REGION}/channels/firebase  (the default Firebase channel)
    type     mediajobs.job.v1.completed | mediajobs.job.v1.failed | mediajobs.job.v1.cancelled
    source   //mediajobs/jobs/{job_id}        subject  jobs/{job_id}
    data     {job_id, type, owner_uid, status}   (contract/schemas/event.job_ended.schema.json)
    id       {job_id}-{status}: one job ends once, so a repeated publish is the same event

Published through the Eventarc Publishing API (`:publishEvents`), or to the Eventarc emulator
when CLOUD_EVENTARC_EMULATOR_HOST is set (the Functions emulator sets it for our functions).
The engine publishes through an outbox (mediajobs/jobs/outbox.py): the event is staged in the
transaction that ends the job and published by a retried task, so it is delivered at least once.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import uuid
from typing import Any

from firebase_functions import logger

from mediajobs import cloud

CHANNEL_ID = "firebase"
EVENT_TYPE_PREFIX = "mediajobs.job.v1."
ENDED_STATUSES = ("completed", "failed", "cancelled")
PUBLISH_TIMEOUT_SECONDS = 10
PUBLISHING_API = "https://eventarcpublishing.googleapis.com/v1"
EMULATOR_VAR = "CLOUD_EVENTARC_EMULATOR_HOST"


def event_type(status: str) -> str:
    return f"{EVENT_TYPE_PREFIX}{status}"


def channel_name(project_id: str, location: str | None = None) -> str:
    from mediajobs import config

    return f"projects/{project_id}/locations/{location or config.events_location()}/channels/{CHANNEL_ID}"


def job_ended_event(
    job_id: str, job_type: str, owner_uid: str, status: str, *, event_id: str | None = None
) -> dict[str, Any]:
    """The CloudEvent in the Publishing API's JSON form (io.cloudevents.v1.CloudEvent)."""
    data = {"job_id": job_id, "type": job_type, "owner_uid": owner_uid, "status": status}
    return {
        "@type": "type.googleapis.com/io.cloudevents.v1.CloudEvent",
        "id": event_id or uuid.uuid4().hex,
        "source": f"//mediajobs/jobs/{job_id}",
        "specVersion": "1.0",
        "type": event_type(status),
        "textData": json.dumps(data),
        "attributes": {
            "datacontenttype": {"ceString": "application/json"},
            "subject": {"ceString": f"jobs/{job_id}"},
            # Microseconds always: the Python SDK's receiver parses exactly this form.
            "time": {"ceTimestamp": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")},
        },
    }


def publish_job_ended(job_id: str, job_type: str, owner_uid: str, status: str) -> None:
    """Publishes mediajobs.job.v1.<status> once, best effort (never raises): for tools and tests;
    the engine's jobs go through the outbox, which retries."""
    try:
        if status not in ENDED_STATUSES:
            logger.warn("job event not published: not a terminal status", job_id=job_id, status=status)
            return
        publish([job_ended_event(job_id, job_type, owner_uid, status)])
        logger.info("job ended event published", job_id=job_id, type=event_type(status))
    except Exception as error:  # noqa: BLE001 - an event must never fail the job that ended
        logger.error("job ended event not published", job_id=job_id, status=status, error=repr(error))


def publish(events: list[dict[str, Any]]) -> None:
    """Posts the events to the channel; raises when Eventarc does not take them."""
    import requests

    channel = channel_name(_project_id())
    body = {"events": events}
    emulator = os.environ.get(EMULATOR_VAR)
    if emulator:
        origin = emulator if "://" in emulator else f"http://{emulator}"
        response = requests.post(f"{origin}/{channel}:publishEvents", json=body, timeout=PUBLISH_TIMEOUT_SECONDS)
    else:
        import google.auth
        from google.auth.transport.requests import AuthorizedSession

        credentials, _ = google.auth.default(scopes=["https://www.googleapis.com/auth/cloud-platform"])
        session = AuthorizedSession(credentials)  # type: ignore[no-untyped-call]
        response = session.post(f"{PUBLISHING_API}/{channel}:publishEvents", json=body, timeout=PUBLISH_TIMEOUT_SECONDS)
    if response.status_code >= 300:
        raise RuntimeError(f"Eventarc answered {response.status_code}: {response.text[:300]}")


def _project_id() -> str:
    project = next((os.environ[n] for n in cloud.PROJECT_ENV_VARS if os.environ.get(n)), None)
    return project or str(cloud.app().project_id)


RECEIVED_COLLECTION = "job_events"


def record_received(event: Any) -> None:
    """What the project's own subscriber does with a job event: logs it and, where selftest
    jobs are enabled (the emulator, tests), keeps it in job_events/{event_id} for the tests."""
    from mediajobs import config

    data = event.data if isinstance(event.data, dict) else {"raw": event.data}
    logger.info("job event received", type=event.type, source=event.source, data=data)
    if not config.SELFTEST_JOBS_ENABLED.value:
        return
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
