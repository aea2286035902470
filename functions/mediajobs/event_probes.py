"""Test probes for lifecycle events: subscribers that record what Eventarc delivered.

Each records the event it receives in `job_events/{event_id}`, which the integration tests
read. main.py declares them only where the environment variable JOB_EVENT_PROBES is "true"
(functions/.env.demo-mediajobs, the local stack's test project): deployed, they would cost two
invocations per job to log what the publisher has logged already, so they are never deployed,
and the benchmark project runs without them as production does.
"""

from __future__ import annotations

import os
from typing import Any

from firebase_functions import eventarc_fn
from firebase_functions.core import CloudEvent

FLAG = "JOB_EVENT_PROBES"


def wanted() -> bool:
    """Read at import (discovery and every cold start), from the project's .env files."""
    return os.environ.get(FLAG) == "true"


@eventarc_fn.on_custom_event_published(event_type="mediajobs.job.v1.started")
def on_job_started_event(event: CloudEvent[Any]) -> None:
    from mediajobs import events

    events.record_received(event)


@eventarc_fn.on_custom_event_published(event_type="mediajobs.job.v1.completed")
def on_job_completed_event(event: CloudEvent[Any]) -> None:
    from mediajobs import events

    events.record_received(event)


@eventarc_fn.on_custom_event_published(event_type="mediajobs.job.v1.failed")
def on_job_failed_event(event: CloudEvent[Any]) -> None:
    from mediajobs import events

    events.record_received(event)


@eventarc_fn.on_custom_event_published(event_type="mediajobs.job.v1.cancelled")
def on_job_cancelled_event(event: CloudEvent[Any]) -> None:
    from mediajobs import events

    events.record_received(event)
