"""A job's event handed to every channel its `notify` asks for: the webhook (jobwebhooks
queue), push and email (jobnotices queue, one named task per job, channel and event)."""

from __future__ import annotations

from typing import Any

from mediajobs import logs
from mediajobs.jobs import queues, store
from mediajobs.jobs.notify import deliveries, webhooks
from mediajobs.jobs.notify.models import Channel


def job_event(job_id: str, event: str, job: dict[str, Any] | None = None) -> None:
    """Enqueues the deliveries of `event`; never raises (a notification must not break the job)."""
    try:
        data = job if job is not None else store.job_ref(job_id).get().to_dict() or {}
        webhooks.job_event(job_id, event, data)
        settings = webhooks.settings_of(data)
        if settings is None:
            return
        for channel in settings.channels_for(event):
            if channel != Channel.WEBHOOK:
                payload = {"job_id": job_id, "event": event, "channel": channel.value}
                queues.enqueue(deliveries.NOTICES_QUEUE, payload, task_id=f"{job_id}-{channel.value}-{event}")
    except Exception as error:  # noqa: BLE001 - the job goes on; the failure is logged
        job_type = str((job or {}).get("type", ""))
        logs.log_failure("could not enqueue job notices", error, job_id=job_id, job_type=job_type, job_event=event)


def deliver_notice(job_id: str, event: str, channel: str) -> None:
    """The `jobnotices` task: one attempt at a push or an email."""
    from mediajobs.jobs.notify import mail, push

    if channel == Channel.PUSH:
        push.deliver(job_id, event)
    elif channel == Channel.EMAIL:
        mail.deliver(job_id, event)
