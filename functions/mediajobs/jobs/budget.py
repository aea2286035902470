"""The per-user daily budget of paid generations (every prediction a paid kind asks a provider for).

generation_budget/{uid}-{YYYY-MM-DD}: {uid, day, used, expire_at}, one document per user and
UTC day. What a job costs is its kind's to say (`JobKind.paid_generations`, on the validated
input, when the job is created: e.g. a storyboard costs its scenes times the asset kinds they
still lack); the engine never looks at job types. A job that costs generations is charged in
the same conditional batch that creates it (see jobs/api.create_job_in_slot): racing starts of
one user are serialised, nothing is charged for a job that was not created, and nothing is
created beyond the budget.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from firebase_functions import https_fn
from google.cloud import firestore as gfs

from mediajobs import config, platform
from mediajobs.jobs.kinds import get_kind
from mediajobs.jobs.store import now

COLLECTION = "generation_budget"
KEPT_FOR = dt.timedelta(days=2)  # `expire_at`: the day's counter is useless after it


def paid_generations(job_type: str, input: dict[str, Any]) -> int:
    """How many provider generations a job of this type and (validated, stored) input pays
    for, as its kind declares (`JobKind.paid`, `JobKind.paid_generations`); 0 for free kinds."""
    kind = get_kind(job_type)
    if kind is None or not kind.paid:
        return 0
    return max(0, int(kind.paid_generations(kind.Input.model_validate(input))))


def budget_guard(uid: str, job_type: str, input: dict[str, Any]) -> Callable[[Any], None] | None:
    """A guard for the job's creation batch that charges its generations to today's budget
    (resource-exhausted when they do not fit); None for a job that costs nothing."""
    cost = paid_generations(job_type, input)
    if cost <= 0:
        return None

    def charge(batch: Any) -> None:
        db = platform.db()
        today = now().date()
        ref = db.collection(COLLECTION).document(f"{uid}-{today.isoformat()}")
        snapshot = ref.get()
        used = int((snapshot.to_dict() or {}).get("used", 0)) if snapshot.exists else 0
        limit = config.DAILY_GENERATIONS_PER_USER.value
        if used + cost > limit:
            raise https_fn.HttpsError(
                https_fn.FunctionsErrorCode.RESOURCE_EXHAUSTED,
                f"This needs {cost} paid generation(s) and {max(limit - used, 0)} of today's "
                f"{limit} are left (the daily budget DAILY_GENERATIONS_PER_USER); it renews at 00:00 UTC.",
            )
        midnight = dt.datetime.combine(today, dt.time(), tzinfo=dt.UTC)
        fields = {
            "uid": uid,
            "day": today.isoformat(),
            "used": used + cost,
            "updated_at": gfs.SERVER_TIMESTAMP,
            "expire_at": midnight + KEPT_FOR,
        }
        if snapshot.exists:
            batch.update(ref, fields, option=db.write_option(last_update_time=snapshot.update_time))
        else:
            batch.create(ref, fields)

    return charge
