"""Push notifications of a job's end to the owner's devices, through `firebase_admin.messaging`
(FCM HTTP v1): one message per registered device, the job id in `data` for deep links; a token
FCM reports as unregistered is deleted; every attempt is on record (notify/deliveries.py).

    users/{uid}/devices/{token}   {token, platform, updated_at, expire_at}   (register_device)

firebase-admin has no FCM emulator switch: on the local stack, `FCM_EMULATOR_HOST`
(host:port, set by ./dev) points the SDK's messaging service at a server speaking the FCM v1
`messages:send` API (tests/fake_fcm.py), by replacing the URL it posts to.
"""

from __future__ import annotations

import hashlib
import os
import time
import warnings
from typing import TYPE_CHECKING, Any

from firebase_functions import logger

from mediajobs import cloud
from mediajobs.jobs import store
from mediajobs.jobs.notify import deliveries
from mediajobs.jobs.notify.messages import notice_of
from mediajobs.jobs.notify.models import Channel
from mediajobs.jobs.notify.webhooks import DeliveryFailed, next_attempt_at, settings_of

if TYPE_CHECKING:
    from firebase_admin import messaging

EMULATOR_VAR = "FCM_EMULATOR_HOST"
USERS = "users"
DEVICES = "devices"
MAX_DEVICES = 10  # per user; registering one more forgets the least recently registered


def devices_ref(uid: str) -> Any:
    return cloud.db().collection(USERS).document(uid).collection(DEVICES)


def token_digest(token: str) -> str:
    """What the engine keeps of a token it reached (never the token itself)."""
    return hashlib.sha256(token.encode()).hexdigest()[:24]


def fcm_url(project_id: str) -> str | None:
    """The local FCM endpoint, when the stack provides one (never deployed)."""
    host = os.environ.get(EMULATOR_VAR, "")
    if not host or not cloud.running_on_emulators():
        return None
    origin = host if "://" in host else f"http://{host}"
    return f"{origin}/v1/projects/{project_id}/messages:send"


def send(messages: list[messaging.Message]) -> messaging.BatchResponse:
    from firebase_admin import messaging

    app = cloud.app()
    if url := fcm_url(str(app.project_id)):
        service = messaging._get_messaging_service(app)
        service._fcm_url = url  # the one place the SDK keeps the endpoint (firebase-admin 7.x)
    return messaging.send_each(messages, app=app)


def deliver(job_id: str, event: str) -> None:
    """One attempt at pushing `event` of the job to every device of its owner not reached yet;
    raises DeliveryFailed for a retry when FCM failed transiently for some device."""
    from firebase_admin import exceptions, messaging

    job = store.docs().get(store.job_path(job_id)).data
    settings = settings_of(job or {})
    if job is None or settings is None or Channel.PUSH not in settings.channels_for(event):
        return
    key = deliveries.key_of(Channel.PUSH, event)
    reserved = deliveries.reserve_attempt(job_id, key)
    if reserved is None:
        return
    number, attempt = reserved
    at = store.now()
    owner = str(job.get("owner_uid", ""))
    reached = set((deliveries.state_of(job_id).get("pushed") or {}).get(key) or [])
    tokens = [str(d.id) for d in devices_ref(owner).limit(MAX_DEVICES).stream()]
    targets = [t for t in tokens if token_digest(t) not in reached]
    record = deliveries.new_attempt(Channel.PUSH.value, event, attempt, at, sent=0, removed=0, skipped=None)
    if not targets:
        skipped = "no registered device" if not tokens else None
        deliveries.record(job_id, number, {**record, "skipped": skipped}, delivered_key=key)
        return
    notice = notice_of(job_id, job, event)
    data = {"job_id": job_id, "event": event, "type": str(job.get("type", "")), "status": str(job.get("status", ""))}
    with warnings.catch_warnings():  # firebase-admin 7.7 deprecates `token` for `fid`; clients still hand out tokens
        warnings.simplefilter("ignore", DeprecationWarning)
        messages = [
            messaging.Message(token=t, notification=messaging.Notification(notice.title, notice.body), data=data)
            for t in targets
        ]
    started = time.monotonic()
    try:
        responses = send(messages).responses
    except (exceptions.FirebaseError, ValueError) as error:
        responses = [messaging.SendResponse(None, error) for _ in targets]
    removed, retry, errors = 0, False, []
    for token, response in zip(targets, responses, strict=True):
        if response.success:
            reached.add(token_digest(token))
        elif isinstance(response.exception, messaging.UnregisteredError):
            devices_ref(owner).document(token).delete()
            removed += 1
        else:
            errors.append(f"{type(response.exception).__name__}: {response.exception}"[:200])
            retry = retry or _transient(response.exception)
    sent = sum(1 for r in responses if r.success)
    record.update(
        latency_ms=int((time.monotonic() - started) * 1000),
        status_code=200 if sent else None,
        sent=sent,
        removed=removed,
        error="; ".join(errors[:3]) or None,
        next_attempt_at=next_attempt_at(attempt, at, deliveries.NOTICES_QUEUE) if retry else None,
    )
    done = not retry or record["next_attempt_at"] is None
    state = {"pushed": {key: sorted(reached)}}
    deliveries.record(job_id, number, record, delivered_key=key if done else None, state=state)
    logger.info("job push attempt", job_id=job_id, job_event=event, sent=sent, removed=removed, errors=len(errors))
    if not done:
        raise DeliveryFailed(f"push {job_id}-{event}: {errors[0]}")


def _transient(error: Exception | None) -> bool:
    from firebase_admin import exceptions, messaging

    return isinstance(
        error,
        exceptions.UnavailableError
        | exceptions.InternalError
        | exceptions.UnknownError
        | exceptions.DeadlineExceededError
        | messaging.QuotaExceededError,
    )
