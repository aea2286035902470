"""Signed webhook deliveries of a job's events, at least once, every attempt on record.

    jobs/{job_id}/engine/webhooks      {attempts: {event: n}, count, delivered: {event: time}, expire_at}
    jobs/{job_id}/deliveries/{n}       one attempt: event, webhook_id, attempt, status_code, latency_ms, ...
                                       (notify/deliveries.py, shared with push and email)
    webhook_secrets/{uid}              the owner's signing secret (functions only; no client rule reads it)

`job_event` enqueues a `jobwebhooks` task (named per job and event, so it is enqueued once);
the task signs the job's public view with the owner's secret (Standard Webhooks: webhook-id,
webhook-timestamp, webhook-signature) and POSTs it through the URL guard. An answer other than
2xx raises, and Cloud Tasks retries with backoff for more than a day; the webhook-id stays
`{job_id}-{event}` on every attempt, so a receiver can drop a repeat of a delivery it took.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import secrets
from typing import Any

import pydantic
from firebase_functions import logger
from google.api_core import exceptions as gexc
from standardwebhooks import Webhook

from mediajobs import cloud, logs
from mediajobs.jobs import queues, store
from mediajobs.jobs.models import JobStatus
from mediajobs.jobs.notify import deliveries, guard
from mediajobs.jobs.notify.models import Channel, NotifySettings, WebhookEvent

QUEUE = "jobwebhooks"
SECRETS = "webhook_secrets"
PUBLIC_FIELDS = ("created_at", "started_at", "finished_at", "updated_at")


class DeliveryFailed(Exception):
    """The receiver did not take the delivery (raised for Cloud Tasks to retry)."""


def webhook_id(job_id: str, event: str) -> str:
    return f"{job_id}-{event}"


def settings_of(job: dict[str, Any]) -> NotifySettings | None:
    raw = job.get("notify")
    if not isinstance(raw, dict):
        return None
    try:
        return NotifySettings.model_validate(raw)
    except pydantic.ValidationError:
        return None  # written by hand: nothing to deliver


def job_event(job_id: str, event: str, job: dict[str, Any] | None = None) -> None:
    """Enqueues the webhook of `event` if the job asks for it (`started` only while it is
    processing); never raises, since a notification must not break the job."""
    try:
        data = job if job is not None else store.job_ref(job_id).get().to_dict() or {}
        settings = settings_of(data)
        if settings is None or not settings.wants(event):
            return
        if event == WebhookEvent.STARTED and data.get("status") != JobStatus.PROCESSING:
            return
        queues.enqueue(QUEUE, {"job_id": job_id, "event": event}, task_id=f"{job_id}-webhook-{event}")
    except Exception as error:  # noqa: BLE001 - the job goes on; the failure is logged
        job_type = str((job or {}).get("type", ""))
        logs.log_failure(
            "could not enqueue a job webhook", error, job_id=job_id, job_type=job_type, webhook_event=event
        )


# ---------------------------------------------------------------- secrets


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def secret_of(uid: str, rotate: bool = False) -> str:
    """The owner's signing secret, created on first use; `rotate` replaces it first."""
    ref = cloud.db().collection(SECRETS).document(uid)
    if rotate:
        secret = new_secret()
        ref.set({"secret": secret, "rotated_at": store.now()}, merge=True)
        return secret
    snapshot = ref.get()
    found = (snapshot.to_dict() or {}).get("secret") if snapshot.exists else None
    if isinstance(found, str) and found:
        return found
    secret = new_secret()
    try:
        ref.create({"secret": secret, "created_at": store.now()})
    except (gexc.AlreadyExists, gexc.Conflict):  # a racing first use won
        return str((ref.get().to_dict() or {})["secret"])
    return secret


# ---------------------------------------------------------------- the body


def public_view(job_id: str, job: dict[str, Any], event: str) -> dict[str, Any]:
    """What a receiver learns: the job's id, type, status, progress, result (output paths),
    error and timestamps (ISO 8601)."""
    error = job.get("error") if isinstance(job.get("error"), dict) else None
    view: dict[str, Any] = {
        "event": event,
        "id": job_id,
        "type": str(job.get("type", "")),
        "status": str(job.get("status", "")),
        "progress": job.get("progress"),
        "result": job.get("result"),
        "error": {"code": str(error.get("code", "")), "message": str(error.get("message", ""))} if error else None,
    }
    view.update({name: job.get(name) for name in PUBLIC_FIELDS})
    return view


def body_of(view: dict[str, Any]) -> str:
    return json.dumps(view, default=_json_value, separators=(",", ":"), ensure_ascii=False)


def _json_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    return str(value)


def signed_headers(secret: str, message_id: str, body: str, at: dt.datetime) -> dict[str, str]:
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(message_id, at, body),
    }


# ---------------------------------------------------------------- delivery (the task)


def deliver(job_id: str, event: str) -> None:
    """One attempt at delivering `event` of the job; raises DeliveryFailed for a retry."""
    job = store.docs().get(store.job_path(job_id)).data
    settings = settings_of(job or {})
    if job is None or settings is None or settings.webhook is None or not settings.wants(event):
        return
    reserved = deliveries.reserve_attempt(job_id, event)
    if reserved is None:
        return  # delivered already (a repeated task)
    number, attempt = reserved
    message_id = webhook_id(job_id, event)
    at = store.now()
    record = deliveries.new_attempt(Channel.WEBHOOK.value, event, attempt, at, webhook_id=message_id)
    try:
        target = guard.check(settings.webhook)
    except guard.RefusedUrl as refused:  # the URL was checked at start: its name resolves elsewhere now
        retry = str(refused) == guard.UNRESOLVED
        next_at = next_attempt_at(attempt, at) if retry else None
        refusal = {"error": f"The URL {refused}; not delivered.", "next_attempt_at": next_at}
        deliveries.record(job_id, number, {**record, **refusal})
        logger.warn("job webhook refused", job_id=job_id, webhook_event=event, reason=str(refused))
        if retry:
            raise DeliveryFailed(f"webhook {message_id}: the URL {refused}") from None
        return
    body = body_of(public_view(job_id, job, event))
    answer = guard.post(
        target, body.encode(), signed_headers(secret_of(str(job.get("owner_uid", ""))), message_id, body, at)
    )
    delivered = answer.status is not None and 200 <= answer.status < 300
    record.update(status_code=answer.status, latency_ms=answer.latency_ms, error=answer.error)
    if not delivered:
        record["next_attempt_at"] = next_attempt_at(attempt, at)
    deliveries.record(job_id, number, record, delivered_key=event if delivered else None)
    logger.info("job webhook attempt", job_id=job_id, webhook_event=event, attempt=attempt, status=answer.status)
    if not delivered:
        raise DeliveryFailed(f"webhook {message_id}: attempt {attempt} got {answer.status or answer.error}")


def next_attempt_at(attempt: int, at: dt.datetime, queue_name: str = QUEUE) -> dt.datetime | None:
    """When Cloud Tasks tries again after failed attempt `attempt` (None after the last)."""
    queue = queues.queue_named(queue_name)
    if attempt >= queue.max_attempts:
        return None
    backoff = min(queue.max_backoff_s, queue.min_backoff_s * 2 ** (attempt - 1))
    return at + dt.timedelta(seconds=backoff)
