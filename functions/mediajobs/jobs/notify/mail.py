"""Email of a job's end, as a document of the "Trigger Email from Firestore" extension
(firebase/extensions `firestore-send-email`): a project that installs it gets mail with no
more code. Only to the owner's verified Auth email; an unverified or missing address gets
nothing, and the delivery record says why.

    mail/{job_id}-{event}   {to, message: {subject, text, html}, job_id, event, created_at, expire_at}

The document id is fixed per job and event and written with create, so a repeated task never
sends a second mail. Clients can neither read nor write `mail` (firestore.rules).
"""

from __future__ import annotations

import contextlib
import datetime as dt
from typing import Any

from firebase_functions import logger
from google.api_core import exceptions as gexc

from mediajobs import cloud
from mediajobs.jobs import store
from mediajobs.jobs.notify import deliveries
from mediajobs.jobs.notify.messages import email_of
from mediajobs.jobs.notify.models import Channel
from mediajobs.jobs.notify.webhooks import DeliveryFailed, next_attempt_at, settings_of

MAIL = "mail"
MAIL_RETENTION = dt.timedelta(days=30)


def mail_id(job_id: str, event: str) -> str:
    return f"{job_id}-{event}"


def verified_email(uid: str) -> tuple[str | None, str | None]:
    """(the owner's verified email, None) or (None, why there is none)."""
    from firebase_admin import auth

    try:
        user = auth.get_user(uid, app=cloud.app())
    except auth.UserNotFoundError:
        return None, "the owner's account no longer exists"
    if not user.email:
        return None, "the owner's account has no email address"
    if not user.email_verified:
        return None, "the owner's email address is not verified"
    return str(user.email), None


def deliver(job_id: str, event: str) -> None:
    """Writes the mail document of `event` once, if the owner's email is verified; raises
    DeliveryFailed (retried) when Auth or Firestore could not be reached."""
    from firebase_admin import exceptions

    job = store.docs().get(store.job_path(job_id)).data
    settings = settings_of(job or {})
    if job is None or settings is None or Channel.EMAIL not in settings.channels_for(event):
        return
    key = deliveries.key_of(Channel.EMAIL, event)
    reserved = deliveries.reserve_attempt(job_id, key)
    if reserved is None:
        return
    number, attempt = reserved
    at = store.now()
    record = deliveries.new_attempt(Channel.EMAIL.value, event, attempt, at, sent=0, removed=0, skipped=None)
    try:
        address, why_not = verified_email(str(job.get("owner_uid", "")))
        if address is not None:
            _write_mail(job_id, event, address, job)
    except (exceptions.FirebaseError, gexc.GoogleAPICallError) as error:
        next_at = next_attempt_at(attempt, at, deliveries.NOTICES_QUEUE)
        record.update(error=f"{type(error).__name__}: {error}"[:300], next_attempt_at=next_at)
        deliveries.record(job_id, number, record, delivered_key=key if next_at is None else None)
        if next_at is not None:
            raise DeliveryFailed(f"email {job_id}-{event}: {error}") from None
        return
    record.update(sent=1 if address else 0, skipped=why_not)
    deliveries.record(job_id, number, record, delivered_key=key)
    logger.info("job email", job_id=job_id, job_event=event, written=address is not None, skipped=why_not)


def _write_mail(job_id: str, event: str, address: str, job: dict[str, Any]) -> None:
    document = {
        "to": [address],
        "message": email_of(job_id, job, event),
        "job_id": job_id,
        "event": event,
        "created_at": store.now(),
        "expire_at": store.now() + MAIL_RETENTION,
    }
    # Written already by an earlier attempt whose record was lost: one mail per job and event.
    with contextlib.suppress(gexc.AlreadyExists, gexc.Conflict):
        cloud.db().collection(MAIL).document(mail_id(job_id, event)).create(document)
