"""The engine's protocols on the in-memory store: claims, leases, settles, finalize, plan leases,
starting and cancelling jobs, the sweeper's choice; races played out with threads, time moved by
hand. The same scenarios run once each against the emulator (tests/integration/test_job_engine.py,
test_engine_wedges.py, test_faults.py), so this store cannot drift from Firestore unnoticed."""

from __future__ import annotations

import collections
import datetime as dt
import threading
from collections.abc import Iterator
from typing import Any

import pydantic
import pytest

from mediajobs.jobs import docstore, finish, item_state, leases, plan, planning_state, state, store
from mediajobs.jobs.docstore import SERVER_TIME, Conflict, Increment, MemoryStore, TooLarge, Write
from mediajobs.jobs.models import ErrorInfo, ItemStatus, Job, JobStatus, PlanState, new_job_document
from mediajobs.jobs.queues import PLAN, SELFTEST_ITEMS

T0 = dt.datetime(2026, 12, 3, 12, 0, tzinfo=dt.UTC)
JOB = "job-1"


class Clock:
    def __init__(self) -> None:
        self.at = T0

    def __call__(self) -> dt.datetime:
        return self.at

    def advance(self, delta: dt.timedelta) -> None:
        self.at += delta


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    for module in (store, leases, plan):
        monkeypatch.setattr(module, "now", clock)
    return clock


@pytest.fixture
def memory(clock: Clock) -> Iterator[MemoryStore]:
    with store.using(MemoryStore(clock)) as memory:
        assert isinstance(memory, MemoryStore)
        yield memory


def pending_item(memory: MemoryStore, item_id: str = "i1") -> None:
    fields = {"label": item_id, "payload": {}, "status": "pending", "attempts": 0}
    memory.commit([Write(store.item_path(JOB, item_id), fields, "create")])


def item(memory: MemoryStore, item_id: str = "i1") -> dict[str, Any]:
    return memory.get(store.item_path(JOB, item_id)).to_dict()


def counters(memory: MemoryStore) -> dict[str, int]:
    totals: dict[str, int] = {}
    for path in memory.paths(f"jobs/{JOB}/counters/"):
        for key, value in memory.get(path).to_dict().items():
            if key in ("done", "failed", "cancelled"):
                totals[key] = totals.get(key, 0) + value
    return totals


# ---- The store itself -----------------------------------------------------------------------


def test_a_write_conditional_on_an_old_update_time_is_refused(memory: MemoryStore) -> None:
    [first] = [committed.update_time for committed in memory.commit([Write("a/1", {"n": 1}, "create")])]
    memory.commit([Write("a/1", {"n": 2})])
    with pytest.raises(Conflict):
        memory.commit([Write("a/1", {"n": 3}, if_unchanged_since=first)])
    with pytest.raises(Conflict):
        memory.commit([Write("a/1", {"n": 3}, "create")])
    with pytest.raises(Conflict):
        memory.commit([Write("a/2", {"n": 3})])  # update of a missing document
    assert memory.get("a/1").to_dict() == {"n": 2}


def test_transactions_under_contention_lose_no_update(memory: MemoryStore) -> None:
    memory.commit([Write("a/1", {"n": 0}, "create")])

    def bump(transaction: docstore.Transaction) -> None:
        n = transaction.get("a/1").to_dict()["n"]
        transaction.write(Write("a/1", {"n": n + 1}))

    def worker() -> None:
        for _ in range(20):
            while True:
                try:
                    memory.run(bump)
                    break
                except Conflict:
                    continue

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert memory.get("a/1").to_dict()["n"] == 80


def test_sentinels_dotted_paths_merges_and_the_size_limit(memory: MemoryStore, clock: Clock) -> None:
    memory.commit([Write("a/1", {"progress": {"total": 0, "done": 0}, "x": 1}, "create")])
    memory.commit([Write("a/1", {"progress.total": 5, "at": SERVER_TIME, "x": docstore.DELETE})])
    memory.commit([Write("a/1", {"progress": {"done": 2}, "n": Increment(3)}, "merge")])
    data = memory.get("a/1").to_dict()
    at = data.pop("at")
    assert data == {"progress": {"total": 5, "done": 2}, "n": 3}
    assert dt.timedelta(0) <= at - clock.at < dt.timedelta(milliseconds=1)  # commit times always move on
    with pytest.raises(TooLarge):
        memory.commit([Write("a/1", {"blob": "x" * (1024 * 1024)})])


# ---- Items ----------------------------------------------------------------------------------


def test_two_workers_claiming_one_item_get_it_once(memory: MemoryStore) -> None:
    pending_item(memory)
    barrier = threading.Barrier(2)
    outcomes: list[object] = []

    def worker() -> None:
        barrier.wait()
        try:
            outcomes.append(leases.claim_item(JOB, "i1", SELFTEST_ITEMS))
        except item_state.ItemBusy:
            outcomes.append("busy")

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    claims = [o for o in outcomes if isinstance(o, leases.Claim)]
    assert len(claims) == 1 and outcomes.count("busy") == 1
    assert item(memory)["attempts"] == 1 and item(memory)["attempt_id"] == claims[0].attempt_id


def test_a_redelivered_task_meets_the_live_lease_and_takes_over_once_it_ran_out(
    memory: MemoryStore, clock: Clock
) -> None:
    pending_item(memory)
    first = leases.claim_item(JOB, "i1", SELFTEST_ITEMS)
    assert first is not None
    with pytest.raises(item_state.ItemBusy):
        leases.claim_item(JOB, "i1", SELFTEST_ITEMS)  # the worker is alive: leave it
    clock.advance(SELFTEST_ITEMS.lease + dt.timedelta(seconds=1))  # it died: its lease ran out
    second = leases.claim_item(JOB, "i1", SELFTEST_ITEMS)
    assert second is not None and second.item.attempt == 2


def test_a_lease_lost_mid_item_lets_only_the_new_holder_settle(memory: MemoryStore, clock: Clock) -> None:
    pending_item(memory)
    slow = leases.claim_item(JOB, "i1", SELFTEST_ITEMS)
    assert slow is not None
    clock.advance(SELFTEST_ITEMS.lease * 2)  # its renewals stopped (a long GC pause, a partition)
    taker = leases.claim_item(JOB, "i1", SELFTEST_ITEMS)
    assert taker is not None

    assert slow.write(JOB, item_state.renew_item(clock.at, SELFTEST_ITEMS.lease)) is False  # renewal notices
    assert leases.settle(JOB, "i1", slow, ItemStatus.DONE, result={"by": "slow"}) is False
    assert leases.settle(JOB, "i1", taker, ItemStatus.DONE, result={"by": "taker"}) is True
    assert leases.settle(JOB, "i1", taker, ItemStatus.DONE, result={"again": True}) is False  # a duplicate
    assert item(memory)["result"] == {"by": "taker"} and item(memory)["status"] == "done"
    assert counters(memory) == {"done": 1}


def test_cancelling_a_running_item_waits_for_its_worker_and_a_pending_one_is_settled_at_once(
    memory: MemoryStore,
) -> None:
    pending_item(memory, "running")
    pending_item(memory, "waiting")
    claim = leases.claim_item(JOB, "running", SELFTEST_ITEMS)
    with pytest.raises(item_state.ItemBusy):
        leases.settle(JOB, "running", None, ItemStatus.CANCELLED)  # its worker settles it itself
    assert leases.settle(JOB, "waiting", None, ItemStatus.CANCELLED) is True
    assert leases.settle(JOB, "running", claim, ItemStatus.DONE, result={}) is True
    assert counters(memory) == {"cancelled": 1, "done": 1}


def test_a_released_item_is_taken_by_the_retry_at_once(memory: MemoryStore) -> None:
    pending_item(memory)
    claim = leases.claim_item(JOB, "i1", SELFTEST_ITEMS)
    assert claim is not None
    leases.release_item(JOB, "i1", "another-attempt")  # not ours: nothing happens
    assert item(memory)["status"] == "running"
    leases.release_item(JOB, "i1", claim.attempt_id)
    retry = leases.claim_item(JOB, "i1", SELFTEST_ITEMS)
    assert retry is not None and retry.item.attempt == 2


def test_many_workers_settle_many_items_with_exact_counters(memory: MemoryStore) -> None:
    for index in range(60):
        pending_item(memory, f"i{index}")

    def worker(start: int) -> None:
        for index in range(start, 60, 3):
            claim = leases.claim_item(JOB, f"i{index}", SELFTEST_ITEMS)
            status = ItemStatus.FAILED if index % 7 == 0 else ItemStatus.DONE
            leases.settle(JOB, f"i{index}", claim, status, shards=4)
            leases.settle(JOB, f"i{index}", claim, status, shards=4)  # a duplicate task

    threads = [threading.Thread(target=worker, args=(start,)) for start in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert counters(memory) == {"done": 51, "failed": 9}


# ---- Finalize and plan leases ---------------------------------------------------------------


def test_a_finalize_that_fails_is_retried_and_then_done_once(memory: MemoryStore, clock: Clock) -> None:
    assert leases.claim_finalize(JOB) is True
    with pytest.raises(leases.FinalizeBusy):  # another worker finalizes: not twice at once,
        leases.claim_finalize(JOB)  # and the task that met it is retried (that worker may die)
    clock.advance(leases.FINALIZE_LEASE - dt.timedelta(seconds=1))
    with pytest.raises(leases.FinalizeBusy):
        leases.claim_finalize(JOB)
    leases.release_finalize(JOB)  # the kind failed transiently: the retry need not wait
    assert leases.claim_finalize(JOB) is True
    clock.advance(leases.FINALIZE_LEASE * 2)  # that worker died
    assert leases.claim_finalize(JOB) is True
    memory.commit([Write(store.engine_path(JOB, "finalize"), item_state.finalize_done(clock.at), "merge")])
    assert leases.claim_finalize(JOB) is False
    assert memory.get(store.engine_path(JOB, "finalize")).to_dict()["expire_at"] == clock.at


def test_one_planner_at_a_time(memory: MemoryStore, clock: Clock) -> None:
    memory.commit([Write(store.job_path(JOB), {"status": "processing"}, "create")])
    plan._take_plan_lease(JOB, "first")
    with pytest.raises(planning_state.PlanBusy):
        plan._take_plan_lease(JOB, "second")
    plan._take_plan_lease(JOB, "first")  # its own retry
    clock.advance(PLAN.lease * 2)
    plan._take_plan_lease(JOB, "second")  # the first died
    plan._release_plan_lease(JOB, "first")  # a late release of a lost lease changes nothing
    held = PlanState.model_validate(memory.get(store.engine_path(JOB, "plan")).to_dict())
    assert held.planner == "second" and state.Lease(held.lease_until, held.planner).held(clock.at)


# ---- Jobs -----------------------------------------------------------------------------------


def test_claiming_a_queued_job_happens_once_and_fills_what_an_old_writer_left_out() -> None:
    queued = {"status": "queued", "type": "selftest", "owner_uid": "u"}
    claimed = state.claim_queued(queued, failed=None, expire_at=T0)
    assert claimed is not None
    status, fields = claimed
    assert status == JobStatus.PROCESSING and fields["status"] == "processing"
    assert fields["progress"] == {"total": 0, "done": 0, "failed": 0, "percent": 0} and fields["expire_at"] == T0
    assert state.claim_queued({**queued, "status": "processing"}, failed=None, expire_at=T0) is None
    assert state.claim_queued(None, failed=None, expire_at=T0) is None
    refused = state.claim_queued(queued, failed=ErrorInfo(code="invalid-argument", message="m"), expire_at=T0)
    assert refused is not None and refused[0] == JobStatus.FAILED
    assert refused[1]["error"] == {"code": "invalid-argument", "message": "m"}
    cancelled = state.claim_queued({**queued, "cancel_requested": True}, failed=None, expire_at=T0)
    assert cancelled is not None and cancelled[0] == JobStatus.CANCELLED and cancelled[1]["result"] == {}


def test_cancel_while_queued_ends_it_and_while_running_asks_once() -> None:
    status, fields = state.request_cancel({"status": "queued"})
    assert status == JobStatus.CANCELLED and fields is not None and fields["status"] == "cancelled"
    status, fields = state.request_cancel({"status": "processing"})
    assert status == JobStatus.PROCESSING and fields is not None and fields["cancel_requested"] is True
    assert state.request_cancel({"status": "processing", "cancel_requested": True}) == ("processing", None)
    assert state.request_cancel({"status": "completed"}) == ("completed", None)


def test_only_an_active_job_is_failed_and_only_a_processing_one_is_ended_by_finalize() -> None:
    error = ErrorInfo(code="internal", message="m")
    assert state.failed_job({"status": "queued"}, error) is not None
    assert state.failed_job({"status": "processing"}, error) is not None
    for ended in ("completed", "failed", "cancelled"):
        assert state.failed_job({"status": ended}, error) is None
        assert not state.may_end({"status": ended})
    assert state.may_end({"status": "processing"}) and not state.may_end({"status": "queued"})


def test_a_job_write_too_large_drops_errors_then_keeps_only_the_results_small_fields() -> None:
    fields = {"status": "completed", "errors": [{"item": "x"}], "result": {"archive_path": "a", "big": "x" * 5000}}
    first = state.smaller(fields)
    assert first is not None and first["errors"] == [] and first["result"] == fields["result"]
    second = state.smaller(first)
    assert second is not None and second["result"]["archive_path"] == "a" and "big" not in second["result"]
    assert state.smaller(second) is None


@pytest.mark.parametrize(
    ("plan_state", "settled", "choice"),
    [
        (PlanState(total=10, enqueued_all=True), 10, state.SweepChoice.FINALIZE),
        (PlanState(total=10, enqueued_all=True), 9, state.SweepChoice.FAIL),
        (PlanState(total=10, enqueued_all=False), 10, state.SweepChoice.FAIL),  # the plan died
        (PlanState(total=0, enqueued_all=True), 0, state.SweepChoice.FINALIZE),
        (PlanState(), 0, state.SweepChoice.FAIL),  # never planned
    ],
)
def test_the_sweepers_choice_for_each_state(plan_state: PlanState, settled: int, choice: state.SweepChoice) -> None:
    assert state.sweep_choice(plan_state, settled) == choice


def test_a_commit_reports_the_counters_it_incremented(memory: MemoryStore) -> None:
    pending_item(memory)
    claim = leases.claim_item(JOB, "i1", SELFTEST_ITEMS)
    memory.commit([Write(store.counter_path(JOB, "other"), {"settled": 4}, "merge")])
    settled = leases.settle_counted(JOB, "i1", claim, ItemStatus.DONE, shards=1)
    assert settled is not None and settled.shard_settled == 5  # no read needed to learn the new total
    assert leases.settle_counted(JOB, "i1", claim, ItemStatus.DONE, shards=1) is None


def test_a_shard_is_complete_once_it_counted_every_item_it_owns() -> None:
    assert not item_state.Shard(done=3).complete  # planned by an older engine: it does not know
    assert not item_state.Shard(done=2, failed=1, owned=4).complete
    assert item_state.Shard(done=2, failed=1, cancelled=1, owned=4).complete
    assert item_state.Shard(owned=0).complete  # no item hashed to it


def test_settles_that_complete_their_shards_are_the_only_ones_that_must_look_further(memory: MemoryStore) -> None:
    shards = 4
    ids = [f"i{index}" for index in range(40)]
    owned = collections.Counter(store.shard_of(item_id, shards) for item_id in ids)
    memory.commit([Write(store.shard_path(JOB, n), {"owned": owned[n]}, "merge") for n in range(shards)])
    completing = []
    for item_id in ids:
        pending_item(memory, item_id)
        claim = leases.claim_item(JOB, item_id, SELFTEST_ITEMS)
        assert leases.settle(JOB, item_id, claim, ItemStatus.DONE, shards=shards)
        path = store.counter_path(JOB, item_id, shards)
        if item_state.Shard.model_validate(memory.get(path).to_dict()).complete:
            completing.append(item_id)
    # One settle per shard (its last) sees it complete: only those few read every shard.
    assert len(completing) == shards and {store.shard_of(i, shards) for i in completing} == set(range(shards))
    assert counters(memory)["done"] == 40


def test_a_job_has_no_more_counter_shards_than_items_and_big_jobs_have_more() -> None:
    assert [store.shards_for(n) for n in (0, 1, 3, 10, 11, 5_000)] == [1, 1, 3, 10, 10, 10]
    assert store.shards_for(20_000) == 40 and store.shards_for(1_000_000) == store.MAX_COUNTER_SHARDS


def test_counts_are_read_by_id_from_the_shards_the_plan_wrote(memory: MemoryStore) -> None:
    for index in range(20):
        pending_item(memory, f"i{index}")
        claim = leases.claim_item(JOB, f"i{index}", SELFTEST_ITEMS)
        leases.settle(JOB, f"i{index}", claim, ItemStatus.FAILED if index % 4 == 0 else ItemStatus.DONE, shards=3)

    counts = store.read_counts(JOB, 3)  # one batch get on this store, which answers no queries

    assert (counts.done, counts.failed, counts.cancelled) == (15, 5, 0)
    assert counts.shards == len(memory.paths(f"jobs/{JOB}/counters/")) <= 3
    assert PlanState(shards=3).known_shards is None  # an older plan did not write every shard: a query
    assert PlanState(shards=3, shards_own_items=True).known_shards == 3


def test_a_small_plan_lists_its_items_and_finalize_reads_them_by_id_in_order(memory: MemoryStore) -> None:
    expires = T0 + dt.timedelta(days=30)
    assert planning_state.items_written(["b", "a"], [1, 1], expires)["item_ids"] == ["b", "a"]
    assert "item_ids" not in planning_state.items_written([f"i{n}" for n in range(101)], [10] * 10 + [1], expires)
    assert "item_ids" not in planning_state.items_written(["x" * 1500] * 11, [1] * 11, expires)  # 16 KiB of ids at most
    for item_id in ("b", "a", "c"):
        pending_item(memory, item_id)
    memory.commit([Write(store.item_path(JOB, "a"), {"status": "done", "result": {"n": 1}})])

    records = list(finish._settled_items(JOB, ["c", "gone", "a", "b"]))  # an id without a document is left out

    assert [(r.id, r.status, r.result) for r in records] == [
        ("a", ItemStatus.DONE, {"n": 1}),
        ("b", ItemStatus.PENDING, None),
        ("c", ItemStatus.PENDING, None),
    ]


def test_progress_rereads_the_counts_every_second_unless_a_big_job_has_many_shards() -> None:
    from mediajobs.jobs import progress

    assert progress.counts_interval(1) == progress.counts_interval(10) == dt.timedelta(seconds=1)
    assert progress.counts_interval(40) == dt.timedelta(seconds=10)
    assert progress.counts_interval(200) == dt.timedelta(seconds=50)


# ---- Statuses -------------------------------------------------------------------------------


def test_statuses_are_enums_in_the_records_and_plain_strings_in_documents() -> None:
    job = Job.from_document("j1", {"status": "processing"})
    assert job.status is JobStatus.PROCESSING and not job.terminal
    assert type(job.model_dump(mode="json")["status"]) is str
    document = state.queued_job(new_job_document(job_type="selftest", owner_uid="u1", input={}, options={}))
    assert type(document["status"]) is str and document["status"] == "queued"
    assert document["created_at"] is SERVER_TIME and document["updated_at"] is SERVER_TIME
    with pytest.raises(pydantic.ValidationError):
        Job.from_document("j2", {"status": "paused"})  # start_job fails such a document as malformed


@pytest.mark.parametrize(
    ("data", "ended"),
    [
        ({"status": "completed"}, JobStatus.COMPLETED),
        ({"status": "cancelled"}, JobStatus.CANCELLED),
        ({"status": "processing"}, None),
        ({"status": 3}, None),
        ({}, None),
        (None, None),
    ],
)
def test_the_status_a_job_ended_with(data: dict[str, Any] | None, ended: JobStatus | None) -> None:
    assert state.ended_status(data) == ended


def test_a_staged_event_is_published_once_and_stops_pending(memory: MemoryStore, clock: Clock) -> None:
    path = store.engine_path(JOB, "event")
    staged = state.event_staged({"id": "e"}, JobStatus.FAILED, at=clock.at, expire_at=clock.at)
    memory.commit([Write(path, staged, "set")])
    assert memory.get(path).to_dict()["status"] == "failed" and memory.get(path).to_dict()["pending_since"] == clock.at
    memory.commit([Write(path, state.event_published())])
    data = memory.get(path).to_dict()
    assert "pending_since" not in data and data["published_at"] is not None


def test_the_contract_publishes_the_engines_statuses_and_shapes() -> None:
    from mediajobs.contract import common
    from mediajobs.jobs import models

    for shape, engine_model in [
        (common.Progress, models.Progress),
        (common.ErrorInfo, models.ErrorInfo),
        (common.ItemErrorInfo, models.ItemErrorInfo),
    ]:
        assert issubclass(shape, engine_model) and shape.model_fields.keys() == engine_model.model_fields.keys()
    assert pydantic.TypeAdapter(common.JobStatus).json_schema()["enum"] == [s.value for s in JobStatus]
    assert pydantic.TypeAdapter(common.ItemStatus).json_schema()["enum"] == [s.value for s in ItemStatus]
    assert pydantic.TypeAdapter(common.JobStatus).validate_python("completed") == JobStatus.COMPLETED
    with pytest.raises(pydantic.ValidationError):
        pydantic.TypeAdapter(common.JobStatus).validate_python("paused")
    with pytest.raises(pydantic.ValidationError):
        common.ErrorInfo(code="x", message="y", extra_field=1)  # type: ignore[call-arg]
