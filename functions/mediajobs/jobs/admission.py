"""Admission, as pure decisions: whether a job may take one of its owner's active-job slots,
and whether its paid generations fit in the owner's daily budget. Each returns the fields to
write (or raises SlotsFull / OverBudget); jobs/slots.py and jobs/budget.py apply them through
the docstore, with the preconditions that make racing admissions safe."""

from __future__ import annotations

import datetime as dt
from typing import Any

from mediajobs.jobs.docstore import SERVER_TIME
from mediajobs.jobs.models import ACTIVE_STATUSES, DailyBudget, JobSlots


class SlotsFull(Exception):
    """The user has as many active jobs as they may (resource-exhausted)."""

    def __init__(self, active: int, limit: int) -> None:
        super().__init__(
            f"You already have {active} jobs queued or running (the limit is {limit}); "
            "wait for one to finish or cancel one."
        )


class OverBudget(Exception):
    """A job's paid generations do not fit in what is left of the day's budget (resource-exhausted)."""

    def __init__(self, cost: int, used: int, limit: int) -> None:
        super().__init__(
            f"This needs {cost} paid generation(s) and {max(limit - used, 0)} of today's "
            f"{limit} are left (the daily budget DAILY_GENERATIONS_PER_USER); it renews at 00:00 UTC."
        )


def admit_slot(
    slots: JobSlots,
    statuses: dict[str, str | None],
    job_id: str,
    *,
    limit: int,
    at: dt.datetime,
    reserve_until: dt.datetime | None = None,
) -> dict[str, Any]:
    """The user's slots with `job_id` in one of them, or SlotsFull at the cap.

    `statuses`: the status of each listed job as read (None: no job document). A slot frees
    itself when its job ends, so nothing has to remember to release it; an id reserved for a
    job not created yet holds its slot until `reserved` says, and the job created with it keeps
    it. `reserve_until`: reserve `job_id` (no job yet) until then."""
    live = {j for j, until in slots.reserved.items() if until > at}
    active = [j for j in slots.active if statuses.get(j) in ACTIVE_STATUSES or (j in live and statuses.get(j) is None)]
    held = job_id in active
    if not held and len(active) >= limit:
        raise SlotsFull(len(active), limit)
    reserved = {j: slots.reserved[j] for j in active if j in live and j != job_id}
    if reserve_until is not None:
        reserved[job_id] = reserve_until
    return {"active": active if held else [*active, job_id], "reserved": reserved, "updated_at": SERVER_TIME}


def release_slot(slots: JobSlots, job_id: str) -> dict[str, Any] | None:
    """Gives a reserved slot back (its upload was refused); None when it is not held."""
    if job_id not in slots.active and job_id not in slots.reserved:
        return None
    return {
        "active": [j for j in slots.active if j != job_id],
        "reserved": {j: until for j, until in slots.reserved.items() if j != job_id},
        "updated_at": SERVER_TIME,
    }


def charge_budget(
    budget: DailyBudget, *, uid: str, day: dt.date, cost: int, limit: int, expire_at: dt.datetime
) -> dict[str, Any]:
    """The day's budget with `cost` generations charged, or OverBudget when they do not fit."""
    if budget.used + cost > limit:
        raise OverBudget(cost, budget.used, limit)
    return {
        "uid": uid,
        "day": day.isoformat(),
        "used": budget.used + cost,
        "updated_at": SERVER_TIME,
        "expire_at": expire_at,
    }
