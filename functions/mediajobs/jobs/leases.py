"""The claim/settle protocol: an item is claimed with a lease (a read and a conditional
write), and settled exactly once together with its counter; finalize is claimed with a lease."""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
import time
import uuid
from collections.abc import Callable
from types import TracebackType
from typing import Any

from firebase_functions import logger
from google.api_core import exceptions as gexc
from google.cloud import firestore as gfs

from mediajobs import platform
from mediajobs.jobs import store
from mediajobs.jobs.kinds import Item
from mediajobs.jobs.models import SETTLED_ITEM_STATUSES, ErrorInfo, ItemDoc, ItemStatus
from mediajobs.jobs.queues import TaskQueue
from mediajobs.jobs.store import SERVER_TIMESTAMP, now

FINALIZE_LEASE = dt.timedelta(minutes=2)  # renewed every 40 s while the kind sums up


class ItemBusy(Exception):
    """Another worker holds an item's lease; the task is retried after the lease runs out."""


def lease_held(lease_until: dt.datetime | None, at: dt.datetime) -> bool:
    """True while a lease runs (a claim with no lease, written by an old engine, holds none)."""
    return lease_until is not None and lease_until > at


@dataclasses.dataclass
class Claim:
    item: Item
    attempt_id: str
    written_at: dt.datetime
    """The item's update time after our last write (claim, renewal, checkpoint): our writes
    are conditional on it, so they land only if nobody else wrote the item since."""
    lock: threading.Lock = dataclasses.field(default_factory=threading.Lock)

    def write(self, job_id: str, fields: dict[str, Any]) -> bool:
        """Updates our item if nobody else wrote it since our last write; False if someone did."""
        ref = store.items_ref(job_id).document(self.item.id)
        with self.lock:
            option = platform.db().write_option(last_update_time=self.written_at)
            try:
                written = ref.update(fields, option=option)
            except gexc.FailedPrecondition:
                return False
            self.written_at = written.update_time
            return True


def claim_item(job_id: str, item_id: str, queue: TaskQueue) -> Claim | None:
    """Takes an item's lease with one conditional write (no transaction: two RPCs, not three).

    The write only lands if the item is unchanged since we read it, which is what a
    transaction over this one document would guarantee."""
    ref = store.items_ref(job_id).document(item_id)
    attempt_id = uuid.uuid4().hex
    for _ in range(3):
        snapshot = ref.get()
        if not snapshot.exists:
            logger.warn("task names an unknown item", job_id=job_id, item_id=item_id)
            return None
        doc = ItemDoc.model_validate(snapshot.to_dict() or {})
        if doc.status in SETTLED_ITEM_STATUSES:
            return None  # a duplicate delivery: the work is done
        if doc.status == ItemStatus.RUNNING and lease_held(doc.lease_until, now()):
            raise ItemBusy(item_id)  # a live worker renews it; a dead one's runs out
        attempt = doc.attempts + 1
        fields = {
            "status": ItemStatus.RUNNING.value,
            "attempts": attempt,
            "attempt_id": attempt_id,
            "lease_until": now() + queue.lease,
            "started_at": SERVER_TIMESTAMP,
        }
        try:
            written = ref.update(fields, option=platform.db().write_option(last_update_time=snapshot.update_time))
        except gexc.FailedPrecondition:
            continue  # another worker wrote the item between our read and our write: look again
        item = Item(
            id=item_id, label=doc.label or item_id, payload=doc.payload, attempt=attempt, checkpoint=doc.checkpoint
        )
        return Claim(item, attempt_id, written.update_time)
    raise ItemBusy(item_id)


class LeaseKeeper:
    """Calls `renew` every `interval` on a daemon thread while a block of work runs, until it
    returns False (the lease was lost) or the block ends. Leases then live exactly as long as
    the work, however long that is and whether or not the work reports progress."""

    def __init__(self, interval: dt.timedelta, renew: Callable[[], bool], name: str) -> None:
        self._interval = interval.total_seconds()
        self._renew = renew
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self.lost = False

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                if not self._renew():
                    self.lost = True
                    return
            except Exception as error:  # noqa: BLE001 - a failed renewal is retried next interval
                logger.warn("lease renewal failed", lease=self._thread.name, error=repr(error))

    def __enter__(self) -> LeaseKeeper:
        self._thread.start()
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self._stop.set()
        self._thread.join()


def item_lease_keeper(job_id: str, claim: Claim, queue: TaskQueue, beat: Callable[[], None]) -> LeaseKeeper:
    """Keeps `claim`'s item lease alive (and calls `beat`, the job's heartbeat) while it runs."""

    def renew() -> bool:
        if not claim.write(job_id, {"lease_until": now() + queue.lease}):
            logger.warn("item lease lost", job_id=job_id, item_id=claim.item.id)
            return False  # someone else wrote the item: it is no longer ours
        beat()
        return True

    return LeaseKeeper(queue.renew_every, renew, name=f"lease:{job_id}/{claim.item.id}")


def release_item(job_id: str, item_id: str, attempt_id: str) -> None:
    """Gives an item back (after a transient error) so that the retried task can take it."""

    @gfs.transactional
    def release(transaction: gfs.Transaction) -> None:
        ref = store.items_ref(job_id).document(item_id)
        data = ref.get(transaction=transaction).to_dict() or {}
        doc = ItemDoc.model_validate(data)
        if doc.attempt_id == attempt_id and doc.status == ItemStatus.RUNNING:
            transaction.update(ref, {"status": ItemStatus.PENDING.value, "lease_until": None})

    release(platform.db().transaction())


def settle(
    job_id: str,
    item_id: str,
    claim: Claim | None,
    status: str,
    *,
    result: dict[str, Any] | None = None,
    error: ErrorInfo | None = None,
    started: float | None = None,
    shards: int = store.COUNTER_SHARDS,
) -> bool:
    """Records an item's outcome and counts it, exactly once; False if it was already settled.

    With our claim in hand this is one atomic batch, conditional on the item being unchanged
    since we claimed it; anything else (no claim, or the item changed) is decided in a
    transaction."""
    ref = store.items_ref(job_id).document(item_id)
    fields: dict[str, Any] = {
        "status": status,
        "result": result,
        "error": error.model_dump() if error else None,
        "finished_at": SERVER_TIMESTAMP,
        "lease_until": None,
    }
    if started is not None:
        fields["duration_ms"] = round((time.monotonic() - started) * 1000)
    counter = store.counter_ref(job_id, item_id, shards)
    db = platform.db()
    if claim is not None:
        batch = db.batch()
        batch.update(ref, fields, option=db.write_option(last_update_time=claim.written_at))
        batch.set(counter, store.count_increment(status), merge=True)
        try:
            batch.commit()
            return True
        except gexc.FailedPrecondition:
            pass  # the item changed since our claim: look at it properly
    attempt_id = claim.attempt_id if claim else None

    @gfs.transactional
    def decide(transaction: gfs.Transaction) -> bool:
        snapshot = ref.get(transaction=transaction)
        data = snapshot.to_dict() or {}
        doc = ItemDoc.model_validate(data)
        if not snapshot.exists or doc.status in SETTLED_ITEM_STATUSES:
            return False
        if attempt_id is not None and doc.attempt_id != attempt_id:
            return False  # our lease ran out and another worker took the item over
        if attempt_id is None and doc.status == ItemStatus.RUNNING and lease_held(doc.lease_until, now()):
            raise ItemBusy(item_id)  # being worked on: it settles itself
        transaction.update(ref, fields)
        transaction.set(counter, store.count_increment(status), merge=True)
        return True

    settled: bool = decide(db.transaction())
    return settled


def claim_finalize(job_id: str) -> bool:
    @gfs.transactional
    def claim(transaction: gfs.Transaction) -> bool:
        ref = store.engine_ref(job_id, "finalize")
        data = ref.get(transaction=transaction).to_dict() or {}
        if data.get("state") == "done":
            return False
        if data.get("state") == "running" and lease_held(data.get("lease_until"), now()):
            return False
        transaction.set(
            ref, {"state": "running", "lease_until": now() + FINALIZE_LEASE, "expire_at": store.expires_at()}
        )
        return True

    claimed: bool = claim(platform.db().transaction())
    return claimed


def finalize_lease_keeper(job_id: str) -> LeaseKeeper:
    """Keeps the finalize lease alive while the kind sums the job up (however long it takes)."""
    ref = store.engine_ref(job_id, "finalize")

    def renew() -> bool:
        ref.update({"lease_until": now() + FINALIZE_LEASE})
        return True

    return LeaseKeeper(FINALIZE_LEASE / 3, renew, name=f"finalize:{job_id}")
