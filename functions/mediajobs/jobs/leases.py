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

from mediajobs.jobs import item_state, store
from mediajobs.jobs.docstore import Conflict, Transaction, Write
from mediajobs.jobs.item_state import FinalizeBusy, FinalizeMarker, ItemBusy
from mediajobs.jobs.kinds import Item
from mediajobs.jobs.models import ErrorInfo, ItemDoc, ItemStatus
from mediajobs.jobs.queues import TaskQueue
from mediajobs.jobs.state import Lease
from mediajobs.jobs.store import now

FINALIZE_LEASE = dt.timedelta(minutes=2)  # renewed every 40 s while the kind sums up

__all__ = [
    "Claim",
    "FinalizeBusy",
    "ItemBusy",
    "LeaseKeeper",
    "Settled",
    "claim_finalize",
    "claim_item",
    "lease_held",
    "release_item",
    "settle",
    "settle_counted",
]


def lease_held(lease_until: dt.datetime | None, at: dt.datetime) -> bool:
    """True while a lease runs (a claim with no lease, written by an old engine, holds none)."""
    return Lease(lease_until).held(at)


@dataclasses.dataclass
class Claim:
    item: Item
    attempt_id: str
    written_at: dt.datetime | None
    """The item's update time after our last write (claim, renewal, checkpoint): our writes
    are conditional on it, so they land only if nobody else wrote the item since."""
    lock: threading.Lock = dataclasses.field(default_factory=threading.Lock)

    def write(self, job_id: str, fields: dict[str, Any]) -> bool:
        """Updates our item if nobody else wrote it since our last write; False if someone did."""
        path = store.item_path(job_id, self.item.id)
        with self.lock:
            try:
                [written] = store.docs().commit([Write(path, fields, "update", if_unchanged_since=self.written_at)])
            except Conflict:
                return False
            self.written_at = written.update_time
            return True


def claim_item(job_id: str, item_id: str, queue: TaskQueue) -> Claim | None:
    """Takes an item's lease with one conditional write (no transaction: two RPCs, not three).

    The write only lands if the item is unchanged since we read it, which is what a
    transaction over this one document would guarantee."""
    docs = store.docs()
    path = store.item_path(job_id, item_id)
    attempt_id = uuid.uuid4().hex
    for _ in range(3):
        snapshot = docs.get(path)
        if not snapshot.exists:
            logger.warn("task names an unknown item", job_id=job_id, item_id=item_id)
            return None
        doc = ItemDoc.model_validate(snapshot.to_dict())
        claimed = item_state.claim_item(doc, attempt_id=attempt_id, at=now(), lease=queue.lease)
        if claimed is None:
            return None  # a duplicate delivery: the work is done
        try:
            [written] = docs.commit([Write(path, claimed.fields, "update", if_unchanged_since=snapshot.update_time)])
        except Conflict:
            continue  # another worker wrote the item between our read and our write: look again
        item = Item(
            id=item_id,
            label=doc.label or item_id,
            payload=doc.payload,
            attempt=claimed.attempt,
            checkpoint=doc.checkpoint,
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
        if not claim.write(job_id, item_state.renew_item(now(), queue.lease)):
            logger.warn("item lease lost", job_id=job_id, item_id=claim.item.id)
            return False  # someone else wrote the item: it is no longer ours
        beat()
        return True

    return LeaseKeeper(queue.renew_every, renew, name=f"lease:{job_id}/{claim.item.id}")


def release_item(job_id: str, item_id: str, attempt_id: str) -> None:
    """Gives an item back (after a transient error) so that the retried task can take it."""
    path = store.item_path(job_id, item_id)

    def release(transaction: Transaction) -> None:
        snapshot = transaction.get(path)
        doc = ItemDoc.model_validate(snapshot.to_dict()) if snapshot.exists else None
        fields = item_state.released_item(doc, attempt_id)
        if fields is not None:
            transaction.write(Write(path, fields))

    store.docs().run(release)


@dataclasses.dataclass(frozen=True)
class Settled:
    """An item's outcome recorded by this call, and how many items its counter shard had
    counted right after (None when unknown: settled in a transaction)."""

    shard_settled: int | None = None


def settle(
    job_id: str,
    item_id: str,
    claim: Claim | None,
    status: ItemStatus | str,
    *,
    result: dict[str, Any] | None = None,
    error: ErrorInfo | None = None,
    started: float | None = None,
    shards: int = store.COUNTER_SHARDS,
) -> bool:
    """Records an item's outcome and counts it, exactly once; False if it was already settled."""
    settled = settle_counted(job_id, item_id, claim, status, result=result, error=error, started=started, shards=shards)
    return settled is not None


def settle_counted(
    job_id: str,
    item_id: str,
    claim: Claim | None,
    status: ItemStatus | str,
    *,
    result: dict[str, Any] | None = None,
    error: ErrorInfo | None = None,
    started: float | None = None,
    shards: int = store.COUNTER_SHARDS,
) -> Settled | None:
    """`settle`, reporting the shard's count after it (None: already settled).

    With our claim in hand this is one atomic batch, conditional on the item being unchanged
    since we claimed it (the counter's new total comes back with the commit); anything else
    (no claim, or the item changed) is decided in a transaction."""
    path = store.item_path(job_id, item_id)
    duration_ms = round((time.monotonic() - started) * 1000) if started is not None else None
    outcome = ItemStatus(status)
    fields = item_state.settled_item(outcome, result=result, error=error, duration_ms=duration_ms)
    counter = Write(
        store.counter_path(job_id, item_id, shards), item_state.counted(outcome, store.expires_at()), "merge"
    )
    docs = store.docs()
    if claim is not None:
        try:
            _, counted = docs.commit([Write(path, fields, "update", if_unchanged_since=claim.written_at), counter])
            total = counted.increments.get(item_state.SETTLED_FIELD)
            return Settled(int(total) if isinstance(total, int) else None)
        except Conflict:
            pass  # the item changed since our claim: look at it properly
    attempt_id = claim.attempt_id if claim else None

    def decide(transaction: Transaction) -> bool:
        snapshot = transaction.get(path)
        doc = ItemDoc.model_validate(snapshot.to_dict()) if snapshot.exists else None
        if not item_state.may_settle(doc, attempt_id=attempt_id, at=now()):
            return False
        transaction.write(Write(path, fields))
        transaction.write(counter)
        return True

    return Settled() if docs.run(decide) else None


def claim_finalize(job_id: str) -> bool:
    """Takes the job's finalize lease; False when finalize is done, FinalizeBusy while another
    worker's lease runs."""
    path = store.engine_path(job_id, "finalize")

    def claim(transaction: Transaction) -> bool:
        marker = FinalizeMarker.model_validate(transaction.get(path).to_dict())
        fields = item_state.claim_finalize(marker, at=now(), lease=FINALIZE_LEASE, expire_at=store.expires_at())
        if fields is None:
            return False
        transaction.write(Write(path, fields, "set"))
        return True

    return store.docs().run(claim)


def release_finalize(job_id: str) -> None:
    """Ends our finalize lease at once (a transient failure): the retry need not wait for it."""
    store.docs().commit([Write(store.engine_path(job_id, "finalize"), item_state.finalize_released(now()))])


def finalize_lease_keeper(job_id: str) -> LeaseKeeper:
    """Keeps the finalize lease alive while the kind sums the job up (however long it takes)."""
    path = store.engine_path(job_id, "finalize")

    def renew() -> bool:
        store.docs().commit([Write(path, item_state.renew_finalize(now(), FINALIZE_LEASE))])
        return True

    return LeaseKeeper(FINALIZE_LEASE / 3, renew, name=f"finalize:{job_id}")
