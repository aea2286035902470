"""Every attempt to tell a job's owner, on record where the owner sees it, numbered per job.

    jobs/{job_id}/engine/webhooks   {attempts: {key: n}, count, delivered: {key: time}, expire_at}
    jobs/{job_id}/deliveries/{n}    one attempt: channel, event, attempt, status_code, next_attempt_at, ...

A key is the event for the webhook (`completed`) and `{channel}-{event}` for push and email
(`push-completed`), so each channel's delivery of an event is reserved and settled on its own
while all of them share the job's numbering.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from mediajobs.jobs import store
from mediajobs.jobs.docstore import Transaction, Write
from mediajobs.jobs.notify.models import Channel

NOTICES_QUEUE = "jobnotices"  # push and email (the webhook has its own queue, jobwebhooks)
DELIVERIES = "deliveries"
STATE = "webhooks"  # the engine document of a job's deliveries (named when webhooks were the only channel)


def key_of(channel: str, event: str) -> str:
    return event if channel == Channel.WEBHOOK else f"{channel}-{event}"


def reserve_attempt(job_id: str, key: str) -> tuple[int, int] | None:
    """(delivery number on the job, attempt number of this key), or None when delivered."""
    path = store.engine_path(job_id, STATE)

    def reserve(transaction: Transaction) -> tuple[int, int] | None:
        data = transaction.get(path).data or {}
        delivered = data.get("delivered") or {}
        if key in delivered:
            return None
        attempts = dict(data.get("attempts") or {})
        attempts[key] = int(attempts.get(key, 0)) + 1
        number = int(data.get("count", 0)) + 1
        fields = {"attempts": attempts, "count": number, "expire_at": store.expires_at()}
        transaction.write(Write(path, fields, "merge"))
        return number, attempts[key]

    return store.docs().run(reserve)


def new_attempt(channel: str, event: str, attempt: int, at: dt.datetime, **fields: Any) -> dict[str, Any]:
    """An attempt's record before its outcome is known (the fields every channel writes),
    plus the channel's own `fields`."""
    return {
        "channel": channel,
        "event": event,
        "attempt": attempt,
        "attempted_at": at,
        "status_code": None,
        "latency_ms": None,
        "error": None,
        "next_attempt_at": None,
        **fields,
        "expire_at": store.expires_at(),
    }


def record(
    job_id: str,
    number: int,
    fields: dict[str, Any],
    delivered_key: str | None = None,
    state: dict[str, Any] | None = None,
) -> None:
    """Writes attempt `number`; `delivered_key` marks its key delivered (no further attempt);
    `state` is merged into the engine document in the same commit."""
    writes = [Write(f"{store.job_path(job_id)}/{DELIVERIES}/{number}", fields, "set")]
    merged = dict(state or {})
    if delivered_key is not None:
        merged["delivered"] = {delivered_key: store.now()}
    if merged:
        writes.append(Write(store.engine_path(job_id, STATE), merged, "merge"))
    store.docs().commit(writes)


def state_of(job_id: str) -> dict[str, Any]:
    return store.docs().get(store.engine_path(job_id, STATE)).data or {}
