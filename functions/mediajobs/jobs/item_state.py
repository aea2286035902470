"""The engine's changes to a job's items, its counter shards and its finalize marker, as pure
functions of (record, now), in the manner of jobs/state.py; jobs/leases.py applies them."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from typing import Any

import pydantic

from mediajobs.jobs.docstore import SERVER_TIME, Increment
from mediajobs.jobs.models import SETTLED_ITEM_STATUSES, ErrorInfo, ItemDoc, ItemStatus
from mediajobs.jobs.state import Lease


class ItemBusy(Exception):
    """Another worker holds an item's lease; the task is retried after the lease runs out."""


class FinalizeBusy(Exception):
    """Another worker holds the job's finalize lease. The task that met it is retried, so the
    job still ends if that worker dies before it is done (its lease runs out)."""


# ---- Items ----------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class ItemClaim:
    fields: dict[str, Any]
    attempt: int


def claim_item(doc: ItemDoc | None, *, attempt_id: str, at: dt.datetime, lease: dt.timedelta) -> ItemClaim | None:
    """Takes an item for one attempt. None: unknown or already settled (a duplicate delivery);
    ItemBusy: a live worker holds it (a dead one's lease runs out)."""
    if doc is None or doc.status in SETTLED_ITEM_STATUSES:
        return None
    if doc.status == ItemStatus.RUNNING and Lease(doc.lease_until).held(at):
        raise ItemBusy("the item is being worked on")
    attempt = doc.attempts + 1
    fields = {
        "status": ItemStatus.RUNNING.value,
        "attempts": attempt,
        "attempt_id": attempt_id,
        "lease_until": at + lease,
        "started_at": SERVER_TIME,
    }
    return ItemClaim(fields, attempt)


def renew_item(at: dt.datetime, lease: dt.timedelta) -> dict[str, Any]:
    return {"lease_until": at + lease}


def may_settle(doc: ItemDoc | None, *, attempt_id: str | None, at: dt.datetime) -> bool:
    """Whether this caller may record the item's outcome now: not when it is settled already or
    another attempt took it over; ItemBusy when someone else is working on it."""
    if doc is None or doc.status in SETTLED_ITEM_STATUSES:
        return False
    if attempt_id is not None:
        return doc.attempt_id == attempt_id  # else our lease ran out and another worker took over
    if doc.status == ItemStatus.RUNNING and Lease(doc.lease_until).held(at):
        raise ItemBusy("the item is being worked on; it settles itself")
    return True


def settled_item(
    status: ItemStatus,
    *,
    result: dict[str, Any] | None = None,
    error: ErrorInfo | None = None,
    duration_ms: int | None = None,
) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "status": status.value,
        "result": result,
        "error": error.model_dump() if error else None,
        "finished_at": SERVER_TIME,
        "lease_until": None,
    }
    if duration_ms is not None:
        fields["duration_ms"] = duration_ms
    return fields


SETTLED_FIELD = "settled"  # a shard's items settled whatever their outcome (its new total comes back with the commit)


def counted(status: ItemStatus, expire_at: dt.datetime) -> dict[str, Any]:
    """The counter shard's change for one settled item."""
    return {status.value: Increment(1), SETTLED_FIELD: Increment(1), "expire_at": expire_at}


def released_item(doc: ItemDoc | None, attempt_id: str) -> dict[str, Any] | None:
    """Gives an item back after a transient error, if it is still this attempt's."""
    if doc is None or doc.attempt_id != attempt_id or doc.status != ItemStatus.RUNNING:
        return None
    return {"status": ItemStatus.PENDING.value, "lease_until": None}


def checkpoint_saved(checkpoint: dict[str, Any]) -> dict[str, Any]:
    """A running item's checkpoint (what a retry resumes from), written under its lease."""
    return {"checkpoint": checkpoint}


# ---- Counter shards -------------------------------------------------------------------------


class Shard(pydantic.BaseModel):
    """jobs/{id}/counters/{n}: how many of its items settled, and how many it owns (set by the
    plan before any item can run; None for jobs planned before shards knew their items)."""

    model_config = pydantic.ConfigDict(extra="ignore")

    done: int = 0
    failed: int = 0
    cancelled: int = 0
    owned: int | None = None

    @property
    def settled(self) -> int:
        return self.done + self.failed + self.cancelled

    @property
    def complete(self) -> bool:
        return self.owned is not None and self.settled >= self.owned


# ---- Finalize -------------------------------------------------------------------------------


class FinalizeState(enum.StrEnum):
    RUNNING = "running"
    DONE = "done"


class FinalizeMarker(pydantic.BaseModel):
    """jobs/{id}/engine/finalize: who sums the job up, and whether it is done."""

    model_config = pydantic.ConfigDict(extra="ignore")

    state: FinalizeState | None = None
    lease_until: dt.datetime | None = None


def claim_finalize(
    marker: FinalizeMarker, *, at: dt.datetime, lease: dt.timedelta, expire_at: dt.datetime
) -> dict[str, Any] | None:
    """Takes the finalize lease; None when finalize is done, FinalizeBusy while another worker's
    lease on it runs."""
    if marker.state == FinalizeState.DONE:
        return None
    if marker.state == FinalizeState.RUNNING and Lease(marker.lease_until).held(at):
        raise FinalizeBusy("the job is being summed up by another worker")
    return {"state": FinalizeState.RUNNING.value, "lease_until": at + lease, "expire_at": expire_at}


def finalize_done(expire_at: dt.datetime) -> dict[str, Any]:
    return {"state": FinalizeState.DONE.value, "expire_at": expire_at}


def renew_finalize(at: dt.datetime, lease: dt.timedelta) -> dict[str, Any]:
    return {"lease_until": at + lease}


def finalize_released(at: dt.datetime) -> dict[str, Any]:
    """Finalize gives its lease up at once (a transient failure): the next try need not wait."""
    return {"lease_until": at}
