"""Planning a job: the kind's items are written (create-if-absent, so a retry continues) and
enqueued in chunks as named tasks (so a retry enqueues nothing twice); a plan that runs out of
time hands the rest to a continuation task."""

from __future__ import annotations

import array
import collections
import datetime as dt
import time
import uuid
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from itertools import islice
from typing import Any, TypeVar

from firebase_functions import logger

from mediajobs import platform
from mediajobs.jobs import queues, state, store
from mediajobs.jobs.docstore import SERVER_TIME, Transaction, Write
from mediajobs.jobs.finish import fail_job, finalize_job
from mediajobs.jobs.kinds import JobFailed, JobKind, kind_of
from mediajobs.jobs.leases import LeaseKeeper, lease_held
from mediajobs.jobs.models import JOB_RETENTION, MAX_LABEL_BYTES, ErrorInfo, ItemStatus, Job, JobStatus, PlanState, clip
from mediajobs.jobs.state import PlanBusy
from mediajobs.jobs.store import SERVER_TIMESTAMP, now
from mediajobs.jobs.validate import validated

__all__ = ["INLINE_PLAN_LEASE", "PLAN_QUEUE", "PlanBusy", "batched", "hand_over_due", "plan_job"]

PLAN_QUEUE = queues.PLAN.name
WRITE_BATCH = 400
ENQUEUE_THREADS = 8
INLINE_PLAN_LEASE = dt.timedelta(seconds=90)  # longer than the start trigger may run (60 s)
INLINE_PLAN_WAIT = dt.timedelta(seconds=15)  # how long a plan task waits for the trigger's plan
PLAN_TIME_BUDGET = dt.timedelta(minutes=25)  # then a continuation task takes over (jobplan: 30 min)
PLAN_SAVE_INTERVAL = dt.timedelta(seconds=10)  # how often a plan records its enqueueing progress
T = TypeVar("T")


def batched(values: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(values)
    while chunk := list(islice(iterator, size)):
        yield chunk


def plan_job(job_id: str, *, inline: bool = False) -> None:
    """Writes the job's items and enqueues them in chunks; a retry continues where it stopped.

    `inline` is the start trigger planning a small job itself; the plan task then waits for
    its lease (`inline_until`) to end, and only plans if the trigger did not finish. A plan
    task holds the plan's lease (PlanBusy for a second planner while it lives) and, from its
    first write on, keeps the lease and the job's heartbeat fresh however long it plans."""
    job = store.load_job(job_id)
    if job is None or job.status != JobStatus.PROCESSING:
        return
    plan_ref = store.engine_ref(job_id, "plan")
    plan_state = PlanState.model_validate(plan_ref.get().to_dict() or {})
    if plan_state.enqueued_all:
        return
    if not inline and lease_held(plan_state.inline_until, now()):
        plan_state = _wait_for_inline_plan(job_id)
        if plan_state.enqueued_all:
            return
    if job.cancel_requested:
        plan_ref.set({"total": 0, "enqueued_all": True}, merge=True)
        finalize_job(job_id)
        return
    if inline:
        _plan(job, plan_state)
        return
    planner = uuid.uuid4().hex
    _take_plan_lease(job_id, planner)
    try:
        with _plan_lease_keeper(job_id, planner):
            _plan(job, plan_state)
    finally:
        _release_plan_lease(job_id, planner)


def _plan(job: Job, plan_state: PlanState) -> None:
    job_id = job.id
    plan_ref = store.engine_ref(job_id, "plan")
    kind = kind_of(job)
    if plan_state.items_written:  # a continuation: the items are final, only tasks remain
        total = plan_state.total
    else:
        try:
            input, options = validated(kind, job)
            hashes = _write_items(job_id, kind.plan(job, input, options))
            total = len(hashes)
        except JobFailed as failure:
            fail_job(job_id, ErrorInfo(code=failure.code, message=failure.message))
            return
        store.job_ref(job_id).update(
            {
                "progress.total": total,
                "heartbeat_at": SERVER_TIMESTAMP,
                "updated_at": SERVER_TIMESTAMP,
            }
        )
        shards = store.shards_for(total)
        _write_owned(job_id, shards, hashes)
        # Merged, with no `enqueued_all: False`: a duplicate run of this task (a retry while the
        # first is still going) must never take back a finished plan's `enqueued_all: True`.
        plan_ref.set(
            {
                "total": total,
                "shards": shards,
                "shards_own_items": True,
                "planned_at": SERVER_TIMESTAMP,
                "items_written": True,
                "expire_at": now() + JOB_RETENTION,
            },
            merge=True,
        )
    if not _enqueue_chunks(job_id, kind, first_chunk=plan_state.enqueued_chunks):
        return  # out of time: a continuation task enqueues the rest
    plan_ref.update({"enqueued_all": True})
    logger.info("job planned", job_id=job_id, items=total)
    # Items may all have settled before `enqueued_all` was written (the chunks that saw them
    # did not know the plan was complete): then this is the last word on the job.
    if total == 0 or store.read_counts(job_id).settled >= total:
        finalize_job(job_id)


def _take_plan_lease(job_id: str, planner: str) -> None:
    """Makes `planner` the job's one planner (and beats the job's heartbeat), or PlanBusy."""
    path = store.engine_path(job_id, "plan")

    def take(transaction: Transaction) -> None:
        plan = PlanState.model_validate(transaction.get(path).to_dict())
        fields = state.take_plan_lease(plan, planner=planner, at=now(), lease=queues.PLAN.lease)
        transaction.write(Write(path, fields, "merge"))
        transaction.write(Write(store.job_path(job_id), {"heartbeat_at": SERVER_TIME}))

    store.docs().run(take)


def _plan_lease_keeper(job_id: str, planner: str) -> LeaseKeeper:
    path = store.engine_path(job_id, "plan")

    def renew() -> bool:
        docs = store.docs()
        snapshot = docs.get(path)
        plan = PlanState.model_validate(snapshot.to_dict())
        fields = state.renew_plan_lease(plan, planner=planner, at=now(), lease=queues.PLAN.lease)
        if fields is None:
            return False
        docs.commit([Write(path, fields), Write(store.job_path(job_id), {"heartbeat_at": SERVER_TIME})])
        return True

    return LeaseKeeper(queues.PLAN.renew_every, renew, name=f"plan:{job_id}")


def _release_plan_lease(job_id: str, planner: str) -> None:
    docs = store.docs()
    path = store.engine_path(job_id, "plan")
    fields = state.release_plan_lease(PlanState.model_validate(docs.get(path).to_dict()), planner=planner)
    if fields is not None:
        docs.commit([Write(path, fields)])


def _wait_for_inline_plan(job_id: str) -> PlanState:
    """The plan document once the start trigger's planning ended or its lease ran out.

    Cloud Tasks delivers the safety-net plan task after the lease; the Tasks emulator ignores
    the delay and delivers it at once, so it waits here (a small plan takes a second or two)
    rather than failing into a retry. PlanBusy if the trigger is still at it after a while."""
    plan_ref = store.engine_ref(job_id, "plan")
    waited_until = time.monotonic() + INLINE_PLAN_WAIT.total_seconds()
    while time.monotonic() < waited_until:
        time.sleep(0.25)  # the caller has just read the plan document and seen the lease
        state = PlanState.model_validate(plan_ref.get().to_dict() or {})
        if state.enqueued_all or not lease_held(state.inline_until, now()):
            return state
    raise PlanBusy(f"job {job_id} is being planned by its start trigger")


def hand_over_due(elapsed_seconds: float, budget: dt.timedelta) -> bool:
    """Whether a plan task has used its time and must hand the rest to a continuation task."""
    return elapsed_seconds > budget.total_seconds()


def _enqueue_chunks(job_id: str, kind: JobKind, first_chunk: int) -> bool:
    """Enqueues the chunk tasks from `first_chunk` on, recording how far it got every few
    seconds. Near the plan task's deadline it hands the rest to a continuation plan task and
    returns False, so a plan of any size finishes (a million users is hours of enqueueing)."""
    plan_ref = store.engine_ref(job_id, "plan")
    started = saved = time.monotonic()

    def enqueue(numbered: tuple[int, list[str]]) -> None:
        index, chunk = numbered
        platform.enqueue(kind.queue, {"job_id": job_id, "item_ids": chunk}, task_id=f"{job_id}-c{index}")

    # The items no longer change, so listing them in id order numbers the chunks the same way
    # in every run. Each enqueue is a round trip to Cloud Tasks: several go at once.
    chunks = enumerate(batched(_item_ids(job_id), kind.chunk_size))
    with ThreadPoolExecutor(ENQUEUE_THREADS) as pool:
        for window in batched(chunks, ENQUEUE_THREADS * 8):
            list(pool.map(enqueue, [chunk for chunk in window if chunk[0] >= first_chunk]))
            following = window[-1][0] + 1
            if hand_over_due(time.monotonic() - started, PLAN_TIME_BUDGET):
                plan_ref.update({"enqueued_chunks": following})
                platform.enqueue(PLAN_QUEUE, {"job_id": job_id}, task_id=f"{job_id}-plan-{following}")
                logger.info("plan continues in another task", job_id=job_id, enqueued_chunks=following)
                return False
            if time.monotonic() - saved > PLAN_SAVE_INTERVAL.total_seconds():
                plan_ref.update({"enqueued_chunks": following})  # a killed run's retry skips these
                saved = time.monotonic()
    return True


def _write_owned(job_id: str, shards: int, hashes: array.array[int]) -> None:
    """Tells each counter shard how many items it counts, before any item can run, so that the
    settle that completes a shard knows it (the completion check is then O(1) per item)."""
    owned = collections.Counter(value % shards for value in hashes)
    expires = store.expires_at()
    for numbers in batched(range(shards), WRITE_BATCH):
        writes = [Write(store.shard_path(job_id, n), {"owned": owned.get(n, 0), "expire_at": expires}, "merge")
                  for n in numbers]  # fmt: skip
        store.docs().commit(writes)


def _write_items(job_id: str, specs: Any) -> array.array[int]:
    """Creates item documents that do not exist yet; returns the hashes that place every item
    of the job in its counter shard (as many as the job has items)."""
    db = platform.db()
    items = store.items_ref(job_id)
    expires = now() + JOB_RETENTION  # with the job: Firestore's TTL does not follow subcollections
    hashes = array.array("L")
    seen: set[str] = set()
    for chunk in batched(specs, WRITE_BATCH):
        refs = []
        for spec in chunk:
            if spec.id in seen:
                raise JobFailed("internal", f"Item id {spec.id!r} is planned twice.")
            seen.add(spec.id)
            hashes.append(store.item_hash(spec.id))
            refs.append((items.document(spec.id), spec))
        existing = {snap.id for snap in db.get_all([ref for ref, _ in refs]) if snap.exists}
        batch = db.batch()
        for ref, spec in refs:
            if ref.id not in existing:
                batch.set(
                    ref,
                    {
                        "label": clip(spec.label, MAX_LABEL_BYTES),
                        "payload": spec.payload,
                        "status": ItemStatus.PENDING.value,
                        "attempts": 0,
                        "created_at": SERVER_TIMESTAMP,
                        "expire_at": expires,
                    },
                )
        batch.commit()
    return hashes


def _item_ids(job_id: str) -> Iterator[str]:
    for snap in store.paged(store.items_ref(job_id).select([])):
        yield snap.id
