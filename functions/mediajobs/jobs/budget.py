"""The per-user daily budget of paid generations (every prediction a paid kind asks a provider for).

generation_budget/{uid}-{YYYY-MM-DD}: {uid, day, used, expire_at}, one document per user and
UTC day. What a job costs is its kind's to say (`JobKind.paid_generations`, on the validated
input, when the job is created: e.g. a storyboard costs its scenes times the asset kinds they
still lack); the engine never looks at job types. A job that costs generations is charged in
the same conditional commit that creates it (see jobs/slots.admit): racing starts of
one user are serialised, nothing is charged for a job that was not created, and nothing is
created beyond the budget.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from firebase_functions import https_fn

from mediajobs import config
from mediajobs.jobs import admission, store
from mediajobs.jobs.docstore import DocStore, Guard, Write, unless_changed
from mediajobs.jobs.kinds import get_kind
from mediajobs.jobs.models import DailyBudget

COLLECTION = "generation_budget"
KEPT_FOR = dt.timedelta(days=2)  # `expire_at`: the day's counter is useless after it


def budget_path(uid: str, day: dt.date) -> str:
    return f"{COLLECTION}/{uid}-{day.isoformat()}"


def paid_generations(job_type: str, input: dict[str, Any]) -> int:
    """How many provider generations a job of this type and (validated, stored) input pays
    for, as its kind declares (`JobKind.paid`, `JobKind.paid_generations`); 0 for free kinds."""
    kind = get_kind(job_type)
    if kind is None or not kind.paid:
        return 0
    return max(0, int(kind.paid_generations(kind.Input.model_validate(input))))


def budget_guard(uid: str, job_type: str, input: dict[str, Any]) -> Guard | None:
    """A guard for the job's creation that charges its generations to today's budget
    (resource-exhausted when they do not fit); None for a job that costs nothing."""
    cost = paid_generations(job_type, input)
    if cost <= 0:
        return None

    def charge(docs: DocStore) -> list[Write]:
        today = store.now().date()
        snapshot = docs.get(budget_path(uid, today))
        midnight = dt.datetime.combine(today, dt.time(), tzinfo=dt.UTC)
        try:
            fields = admission.charge_budget(
                DailyBudget.model_validate(snapshot.data or {}),
                uid=uid,
                day=today,
                cost=cost,
                limit=config.DAILY_GENERATIONS_PER_USER.value,
                expire_at=midnight + KEPT_FOR,
            )
        except admission.OverBudget as refused:
            raise https_fn.HttpsError(https_fn.FunctionsErrorCode.RESOURCE_EXHAUSTED, str(refused)) from None
        return [unless_changed(snapshot, fields)]

    return charge
