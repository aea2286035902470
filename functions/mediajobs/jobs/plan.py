"""Planning a job: the kind's items are written (create-if-absent, so a retry continues) and
enqueued in chunks as named tasks (so a retry enqueues nothing twice); a plan that runs out of
time hands the rest to a continuation task."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from itertools import chain, islice
from typing import Any, TypeVar

from firebase_functions import logger

from mediajobs.jobs import planning_state, queues, store
from mediajobs.jobs.docstore import Conflict, Transaction, Write
from mediajobs.jobs.finish import fail_job, finalize_job
from mediajobs.jobs.kinds import ItemSpec, JobFailed, JobKind, kind_of
from mediajobs.jobs.leases import LeaseKeeper, lease_held
from mediajobs.jobs.models import ErrorInfo, Job, JobStatus, PlanState
from mediajobs.jobs.planning_state import PlanBusy
from mediajobs.jobs.store import now
from mediajobs.jobs.validate import validated

__all__ = ["INLINE_PLAN_LEASE", "PLAN_QUEUE", "PlanBusy", "batched", "hand_over_due", "plan_claimed", "plan_job"]

PLAN_QUEUE = queues.PLAN.name
WRITE_BATCH = 400
SMALL_PLAN = 100  # items planned in one commit with their shards' counts, the job's total and the plan
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


def plan_job(job_id: str) -> None:
    """The plan task: writes the job's items and enqueues them in chunks; a retry continues
    where it stopped.

    While the start trigger plans a small job itself (`plan_claimed`, its lease `inline_until`),
    this waits for that lease to end, and only plans if the trigger did not finish. A plan task
    holds the plan's lease (PlanBusy for a second planner while it lives) and, from its first
    write on, keeps the lease and the job's heartbeat fresh however long it plans."""
    job = store.load_job(job_id)
    if job is None or job.status != JobStatus.PROCESSING:
        return
    plan_ref = store.engine_ref(job_id, "plan")
    plan_state = PlanState.model_validate(plan_ref.get().to_dict() or {})
    if not plan_state.enqueued_all and lease_held(plan_state.inline_until, now()):
        plan_state = _wait_for_inline_plan(job_id)
    if plan_state.enqueued_all:  # a retry of the plan, or the start trigger's safety net
        _last_word(job_id, plan_state.total, plan_state.known_shards)
        return
    if job.cancel_requested:
        store.docs().commit([Write(store.engine_path(job_id, "plan"), planning_state.nothing_to_plan(), "merge")])
        finalize_job(job_id)
        return
    planner = uuid.uuid4().hex
    _take_plan_lease(job_id, planner)
    try:
        with _plan_lease_keeper(job_id, planner):
            _plan(job, plan_state)
    finally:
        _release_plan_lease(job_id, planner)


def plan_claimed(job: Job) -> None:
    """The start trigger's plan of a small job it has just claimed, from the job it read before
    the claim: two reads less than `plan_job`. Its plan document holds nothing yet but the
    trigger's lease, written with the claim, and no plan task plans while that lease holds. A
    cancel that came after the claim is seen by the items (they settle cancelled)."""
    _plan(job, PlanState())


def _plan(job: Job, plan_state: PlanState) -> None:
    job_id = job.id
    plan_path = store.engine_path(job_id, "plan")
    kind = kind_of(job)
    item_ids: list[str] | None = None  # listed again from Firestore by a continuation
    if plan_state.items_written:  # a continuation: the items are final, only tasks remain
        total, shards = plan_state.total, plan_state.known_shards
    else:
        try:
            input, options = validated(kind, job)
            item_ids, shards = _write_plan(job_id, kind.plan(job, input, options))
        except JobFailed as failure:
            fail_job(job_id, ErrorInfo(code=failure.code, message=failure.message))
            return
        total = len(item_ids)
    if not _enqueue_chunks(job_id, kind, item_ids, first_chunk=plan_state.enqueued_chunks):
        return  # out of time: a continuation task enqueues the rest
    store.docs().commit([Write(plan_path, planning_state.enqueued())])
    logger.info("job planned", job_id=job_id, items=total)
    _last_word(job_id, total, shards)


def _last_word(job_id: str, total: int, shards: int | None) -> None:
    """Finalizes the job if all its items settled. Items may all have settled before
    `enqueued_all` was written (the chunks that saw them did not know the plan was complete);
    and a finalize that failed or met another worker's lease here is tried again by the plan
    task's retry (or, after the start trigger planned, by its safety-net plan task)."""
    if total == 0 or store.read_counts(job_id, shards).settled >= total:
        finalize_job(job_id)


def _take_plan_lease(job_id: str, planner: str) -> None:
    """Makes `planner` the job's one planner (and beats the job's heartbeat), or PlanBusy."""
    path = store.engine_path(job_id, "plan")

    def take(transaction: Transaction) -> None:
        plan = PlanState.model_validate(transaction.get(path).to_dict())
        fields = planning_state.take_plan_lease(plan, planner=planner, at=now(), lease=queues.PLAN.lease)
        transaction.write(Write(path, fields, "merge"))
        transaction.write(Write(store.job_path(job_id), planning_state.beat()))

    store.docs().run(take)


def _plan_lease_keeper(job_id: str, planner: str) -> LeaseKeeper:
    path = store.engine_path(job_id, "plan")

    def renew() -> bool:
        docs = store.docs()
        snapshot = docs.get(path)
        plan = PlanState.model_validate(snapshot.to_dict())
        fields = planning_state.renew_plan_lease(plan, planner=planner, at=now(), lease=queues.PLAN.lease)
        if fields is None:
            return False
        docs.commit([Write(path, fields), Write(store.job_path(job_id), planning_state.beat())])
        return True

    return LeaseKeeper(queues.PLAN.renew_every, renew, name=f"plan:{job_id}")


def _release_plan_lease(job_id: str, planner: str) -> None:
    docs = store.docs()
    path = store.engine_path(job_id, "plan")
    fields = planning_state.release_plan_lease(PlanState.model_validate(docs.get(path).to_dict()), planner=planner)
    if fields is not None:
        docs.commit([Write(path, fields)])


def _wait_for_inline_plan(job_id: str) -> PlanState:
    """The plan document once the start trigger's planning ended or its lease ran out.

    Cloud Tasks delivers the safety-net plan task after the lease, but a plan task may come
    while the trigger still plans (an emulator without scheduled delivery, a lease renewed by a
    slow trigger): it waits here (a small plan takes a second or two) rather than failing into a
    retry. PlanBusy if the trigger is still at it after a while."""
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


def _enqueue_chunks(job_id: str, kind: JobKind, item_ids: list[str] | None, first_chunk: int) -> bool:
    """Enqueues the chunk tasks from `first_chunk` on, recording how far it got every few
    seconds. Near the plan task's deadline it hands the rest to a continuation plan task and
    returns False, so a plan of any size finishes (a million users is hours of enqueueing)."""
    plan_path = store.engine_path(job_id, "plan")
    started = saved = time.monotonic()

    def enqueue(numbered: tuple[int, list[str]]) -> None:
        index, chunk = numbered
        queues.enqueue(kind.queue, {"job_id": job_id, "item_ids": chunk}, task_id=f"{job_id}-c{index}")

    # The items no longer change, so taking them in id order (Firestore's document order, which
    # a continuation lists) numbers the chunks the same way in every run. Each enqueue is a
    # round trip to Cloud Tasks: several go at once.
    ordered = sorted(item_ids) if item_ids is not None else _item_ids(job_id)
    chunks = enumerate(batched(ordered, kind.chunk_size))
    with ThreadPoolExecutor(ENQUEUE_THREADS) as pool:
        for window in batched(chunks, ENQUEUE_THREADS * 8):
            list(pool.map(enqueue, [chunk for chunk in window if chunk[0] >= first_chunk]))
            following = window[-1][0] + 1
            if hand_over_due(time.monotonic() - started, PLAN_TIME_BUDGET):
                store.docs().commit([Write(plan_path, planning_state.enqueued(following))])
                queues.enqueue(PLAN_QUEUE, {"job_id": job_id}, task_id=f"{job_id}-plan-{following}")
                logger.info("plan continues in another task", job_id=job_id, enqueued_chunks=following)
                return False
            if time.monotonic() - saved > PLAN_SAVE_INTERVAL.total_seconds():  # a killed run's retry skips these
                store.docs().commit([Write(plan_path, planning_state.enqueued(following))])
                saved = time.monotonic()
    return True


def _write_plan(job_id: str, specs: Iterable[ItemSpec]) -> tuple[list[str], int]:
    """Writes the job's items, then tells each counter shard how many of them it counts (before
    any item can run, so that the settle that completes a shard knows it: the completion check
    is then O(1) per item), then the job's total and the plan. Returns the item ids and the
    number of shards. A plan of at most SMALL_PLAN items is all one commit (one round trip
    instead of three before a small job's first item can be enqueued); a bigger one, or a retry
    that meets items an earlier run wrote, writes its items in batches first."""
    specs = iter(specs)
    head = list(islice(specs, SMALL_PLAN + 1))
    if len(head) <= SMALL_PLAN:
        item_ids = _checked_ids(head, set())
        shards = store.shards_for(len(item_ids))
        owned = _owned(item_ids, shards)
        expires = store.expires_at()
        try:
            store.docs().commit(
                [
                    *(Write(path, fields, "create") for path, fields in _new_items(job_id, head, expires).items()),
                    *_owned_writes(job_id, range(shards), owned, expires),
                    *_planned_writes(job_id, item_ids, owned, expires),
                ]
            )
            return item_ids, shards
        except Conflict:  # a retry of a plan that wrote items: the general path writes the rest
            logger.info("plan meets items written before", job_id=job_id)
    item_ids = _write_items(job_id, chain(head, specs))
    shards = store.shards_for(len(item_ids))
    expires = store.expires_at()
    owned = _owned(item_ids, shards)
    for numbers in batched(range(shards), WRITE_BATCH):
        store.docs().commit(_owned_writes(job_id, numbers, owned, expires))
    store.docs().commit(_planned_writes(job_id, item_ids, owned, expires))
    return item_ids, shards


def _planned_writes(job_id: str, item_ids: list[str], owned: list[int], expires: dt.datetime) -> list[Write]:
    return [
        Write(store.job_path(job_id), planning_state.job_planned(len(item_ids))),
        Write(store.engine_path(job_id, "plan"), planning_state.items_written(item_ids, owned, expires), "merge"),
    ]


def _owned(item_ids: list[str], shards: int) -> list[int]:
    """How many of the items each counter shard counts, by shard number (a shard may count none)."""
    owned = [0] * shards
    for item_id in item_ids:
        owned[store.shard_of(item_id, shards)] += 1
    return owned


def _owned_writes(job_id: str, numbers: Iterable[int], owned: list[int], expires: dt.datetime) -> list[Write]:
    return [Write(store.shard_path(job_id, n), planning_state.shard_owns(owned[n], expires), "merge") for n in numbers]


def _checked_ids(specs: list[ItemSpec], seen: set[str]) -> list[str]:
    """The specs' item ids, each new to `seen` (JobFailed if the kind planned one twice)."""
    ids: list[str] = []
    for spec in specs:
        if spec.id in seen:
            raise JobFailed("internal", f"Item id {spec.id!r} is planned twice.")
        seen.add(spec.id)
        ids.append(spec.id)
    return ids


def _new_items(job_id: str, specs: list[ItemSpec], expires: dt.datetime) -> dict[str, dict[str, Any]]:
    # expire_at is the job's: Firestore's TTL does not follow subcollections
    return {
        store.item_path(job_id, spec.id): planning_state.new_item(spec.label, spec.payload, expires) for spec in specs
    }


def _write_items(job_id: str, specs: Iterable[ItemSpec]) -> list[str]:
    """Creates the item documents that do not exist yet; returns every item id of the job.

    Each batch is written as creates, without reading first; only a batch that meets items an
    earlier run of the plan wrote (a retry) reads which exist and writes the others."""
    docs = store.docs()
    expires = store.expires_at()
    item_ids: list[str] = []
    seen: set[str] = set()
    for chunk in batched(specs, WRITE_BATCH):
        item_ids += _checked_ids(chunk, seen)
        items = _new_items(job_id, chunk, expires)
        try:
            docs.commit([Write(path, fields, "create") for path, fields in items.items()])
        except Conflict:
            existing = {snapshot.path for snapshot in docs.get_many(list(items)) if snapshot.exists}
            missing = [Write(path, fields, "set") for path, fields in items.items() if path not in existing]
            if missing:
                docs.commit(missing)
    return item_ids


def _item_ids(job_id: str) -> Iterator[str]:
    for snap in store.paged(store.items_ref(job_id).select([])):
        yield snap.id
