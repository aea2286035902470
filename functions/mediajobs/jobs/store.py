"""Where the engine keeps its state in Firestore, and the sharded item counters.

jobs/{job_id}                  the contract's job document (clients watch it)
jobs/{job_id}/items/{item_id}  one per item: status, attempts, lease, result, error
jobs/{job_id}/counters/{n}     done/failed/cancelled counts, sharded so that many workers
                               finishing at once never contend on one document
jobs/{job_id}/engine/{name}    the engine's own markers ("plan", "finalize")
jobs/{job_id}/kind/{name}      a job kind's own markers (e.g. what a photo plan skipped)
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import zlib
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from google.cloud import firestore as gfs

from mediajobs import cloud
from mediajobs.jobs.docstore import DocStore, FirestoreStore
from mediajobs.jobs.item_state import Shard
from mediajobs.jobs.models import JOB_RETENTION, Job, PlanState

if TYPE_CHECKING:
    from google.cloud.firestore import CollectionReference, DocumentReference

COUNTER_SHARDS = 10  # jobs planned before shards were sized per job
MAX_COUNTER_SHARDS = 200
ITEMS_PER_SHARD = 500
SERVER_TIMESTAMP: Any = gfs.SERVER_TIMESTAMP


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def expires_at() -> dt.datetime:
    """`expire_at` for any document under a job: Firestore's TTL does not follow subcollections,
    so every document a job leaves carries its own (and its collection group has a TTL policy)."""
    return now() + JOB_RETENTION


_override: list[DocStore] = []  # pushed by `using` (tests); else Firestore


def docs() -> DocStore:
    """The store the engine's protocols (claims, leases, settles, job ends) run on."""
    return _override[-1] if _override else FirestoreStore(cloud.db())


@contextlib.contextmanager
def using(store: DocStore) -> Iterator[DocStore]:
    """Runs the engine's protocols on `store` (an in-memory one, in unit tests)."""
    _override.append(store)
    try:
        yield store
    finally:
        _override.remove(store)


def job_path(job_id: str) -> str:
    return f"jobs/{job_id}"


def item_path(job_id: str, item_id: str) -> str:
    return f"jobs/{job_id}/items/{item_id}"


def engine_path(job_id: str, name: str) -> str:
    return f"jobs/{job_id}/engine/{name}"


def item_hash(item_id: str) -> int:
    return zlib.crc32(item_id.encode())


def shard_of(item_id: str, shards: int) -> int:
    return item_hash(item_id) % shards


def shard_path(job_id: str, shard: int) -> str:
    return f"jobs/{job_id}/counters/{shard}"


def counter_path(job_id: str, item_id: str, shards: int = COUNTER_SHARDS) -> str:
    return shard_path(job_id, shard_of(item_id, shards))


def job_ref(job_id: str) -> DocumentReference:
    return cloud.db().collection("jobs").document(job_id)


def items_ref(job_id: str) -> CollectionReference:
    return job_ref(job_id).collection("items")


def engine_ref(job_id: str, name: str) -> DocumentReference:
    return job_ref(job_id).collection("engine").document(name)


def kind_ref(job_id: str, name: str) -> DocumentReference:
    """A document the job's kind keeps for itself (never read or written by the engine)."""
    return job_ref(job_id).collection("kind").document(name)


def shards_for(total_items: int) -> int:
    """Counter shards for a job: each shard document takes about one sustained write a second,
    so big jobs (which run with many concurrent workers) get more of them; small jobs keep
    reading few documents, and never more shards than items (a one-asset job had ten: ten
    documents written at its plan and read at every count, for one settle)."""
    wanted = max(COUNTER_SHARDS, min(MAX_COUNTER_SHARDS, total_items // ITEMS_PER_SHARD))
    return max(1, min(total_items, wanted))


def counter_ref(job_id: str, item_id: str, shards: int = COUNTER_SHARDS) -> DocumentReference:
    return job_ref(job_id).collection("counters").document(str(shard_of(item_id, shards)))


def load_job(job_id: str) -> Job | None:
    snapshot = job_ref(job_id).get()
    if not snapshot.exists:
        return None
    return Job.from_document(job_id, snapshot.to_dict())


def load_job_and_plan(job_id: str) -> tuple[Job | None, PlanState]:
    """The job and its plan's state, read in one round trip."""
    job_at, plan_at = job_path(job_id), engine_path(job_id, "plan")
    found = {snapshot.path: snapshot for snapshot in docs().get_many([job_at, plan_at])}
    job, plan = found.get(job_at), found.get(plan_at)
    return (
        Job.from_document(job_id, job.to_dict()) if job is not None and job.exists else None,
        PlanState.model_validate(plan.to_dict() if plan is not None else {}),
    )


@dataclasses.dataclass(frozen=True)
class Counts:
    done: int = 0
    failed: int = 0
    cancelled: int = 0
    shards: int = 0  # how many shard documents were read for these counts

    @property
    def processed(self) -> int:
        """Items that were worked on (what `percent` measures; cancelled ones were not)."""
        return self.done + self.failed

    @property
    def settled(self) -> int:
        return self.done + self.failed + self.cancelled


def read_counts(job_id: str, shards: int | None = None) -> Counts:
    """The job's settled items by outcome, summed over its counter shards (one read per shard).

    `shards`: the plan's shard count when the plan wrote every shard document
    (`PlanState.known_shards`); they are then read by id, in one batch get. Without it (a job
    planned by an older engine) the shards are listed with a query. Both cost one read per shard
    on Firestore; the emulator, though, answers a query on one job's counters by scanning every
    `counters` document of every job, which a long test run or benchmark piles up.

    Not a sum() aggregation (one read per 1,000 shards): the Firestore emulator answers those
    with zeros, so they could not be tested here."""
    if shards is None:
        snapshots: Iterable[Any] = job_ref(job_id).collection("counters").stream()
    else:
        snapshots = [s for s in docs().get_many([shard_path(job_id, n) for n in range(shards)]) if s.exists]
    done = failed = cancelled = read = 0
    for snapshot in snapshots:
        shard = Shard.model_validate(snapshot.to_dict() or {})
        done += shard.done
        failed += shard.failed
        cancelled += shard.cancelled
        read += 1
    return Counts(done, failed, cancelled, read)


def paged(query: Any, page_size: int = 1000) -> Iterator[Any]:
    """Every document of a query ordered by `__name__`, read a page at a time (bounded memory)."""
    ordered = query.order_by("__name__")
    last = None
    while True:
        page = (ordered.start_after(last) if last else ordered).limit(page_size).get()
        yield from page
        if len(page) < page_size:  # the last page: no query more to learn that nothing follows
            return
        last = page[-1]
