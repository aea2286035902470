"""The engine's changes to a job's plan (jobs/{id}/engine/plan) and to the items it writes, as
pure functions of (record, now), in the manner of jobs/state.py; jobs/plan.py applies them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from mediajobs.jobs.docstore import SERVER_TIME
from mediajobs.jobs.models import MAX_LABEL_BYTES, ItemStatus, PlanState, clip
from mediajobs.jobs.state import Lease


class PlanBusy(Exception):
    """Another planner (the start trigger or a plan task) holds the plan's lease; the plan task
    is retried until that planner is done or its lease runs out."""


# ---- Plan -----------------------------------------------------------------------------------


def new_item(label: str, payload: dict[str, Any], expire_at: dt.datetime) -> dict[str, Any]:
    """A planned item, pending (its label cut to the byte budget)."""
    return {
        "label": clip(label, MAX_LABEL_BYTES),
        "payload": payload,
        "status": ItemStatus.PENDING.value,
        "attempts": 0,
        "created_at": SERVER_TIME,
        "expire_at": expire_at,
    }


def shard_owns(owned: int, expire_at: dt.datetime) -> dict[str, Any]:
    return {"owned": owned, "expire_at": expire_at}


LISTED_ITEMS = 100  # a plan of this many items at most lists them (finalize reads them by id)
LISTED_ITEM_BYTES = 16 * 1024  # ... when their ids take this much at most


def items_written(item_ids: Sequence[str], shard_owned: Sequence[int], expire_at: dt.datetime) -> dict[str, Any]:
    """The plan, once every item is written (merged: a duplicate planner never takes back a
    finished plan's `enqueued_all`). A small job's plan lists its items: finalize then reads
    them by id, not with a query (one read each either way on Firestore; the emulator scans
    every `items` document of every job for a query on one job's items). It also repeats how
    many items each counter shard owns (`shard_owned`, at most MAX_COUNTER_SHARDS numbers):
    a worker reads the plan once per job, and then no shard to learn its `owned`."""
    fields: dict[str, Any] = {
        "total": len(item_ids),
        "shards": len(shard_owned),
        "shards_own_items": True,
        "shard_owned": list(shard_owned),
        "planned_at": SERVER_TIME,
        "items_written": True,
        "expire_at": expire_at,
    }
    if len(item_ids) <= LISTED_ITEMS and sum(len(i.encode()) for i in item_ids) <= LISTED_ITEM_BYTES:
        fields["item_ids"] = list(item_ids)
    return fields


def job_planned(total: int) -> dict[str, Any]:
    """The job, once its items are known."""
    return {"progress.total": total, "heartbeat_at": SERVER_TIME, "updated_at": SERVER_TIME}


def nothing_to_plan() -> dict[str, Any]:
    """The plan of a job cancelled before it was planned."""
    return {"total": 0, "enqueued_all": True}


def enqueued(chunks: int | None = None) -> dict[str, Any]:
    """How far enqueueing got (a continuation starts there); every chunk when None."""
    return {"enqueued_all": True} if chunks is None else {"enqueued_chunks": chunks}


def inline_planning(until: dt.datetime | None) -> dict[str, Any]:
    """The start trigger plans the job itself until then (None: it stopped)."""
    return {"inline_until": until}


def beat() -> dict[str, Any]:
    return {"heartbeat_at": SERVER_TIME}


def take_plan_lease(plan: PlanState, *, planner: str, at: dt.datetime, lease: dt.timedelta) -> dict[str, Any]:
    """Makes `planner` the job's one planner; PlanBusy while another one's lease runs."""
    if Lease(plan.lease_until, plan.planner).blocks(planner, at):
        raise PlanBusy("the job is being planned by another task")
    return {"planner": planner, "lease_until": at + lease}


def renew_plan_lease(plan: PlanState, *, planner: str, at: dt.datetime, lease: dt.timedelta) -> dict[str, Any] | None:
    """The renewal, or None when another planner has taken over."""
    if plan.planner != planner:
        return None
    return {"lease_until": at + lease}


def release_plan_lease(plan: PlanState, *, planner: str) -> dict[str, Any] | None:
    return {"lease_until": None} if plan.planner == planner else None
