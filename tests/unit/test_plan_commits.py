"""How many commits a plan and a start take, on the engine's in-memory document store: a small
job's plan is one commit (items, shard counts, the job's total, the plan), a retry of a plan
that meets items it wrote before keeps them, and the start trigger's claim carries its
planning lease. And what a worker reads to learn whether its settle completed a counter shard:
the plan lists every shard's count, so no shard."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from mediajobs.jobs import items, plan, start, store
from mediajobs.jobs.docstore import MemoryStore, Write
from mediajobs.jobs.kinds import ItemSpec, JobFailed
from mediajobs.jobs.leases import Settled
from mediajobs.jobs.models import ErrorInfo, JobStatus

JOB = "job1"


def specs(count: int) -> list[ItemSpec]:
    return [ItemSpec(id=f"item-{n:05d}", label=f"photo {n}.jpg", payload={"n": n}) for n in range(count)]


def with_job(status: str = "processing", **fields: Any) -> MemoryStore:
    docs = MemoryStore()
    docs.commit([Write(store.job_path(JOB), {"type": "selftest", "status": status, **fields}, "create")])
    return docs


def planned(docs: MemoryStore, total: int) -> dict[str, Any]:
    """Checks what every plan leaves, whatever its path; returns the plan document."""
    items = {path.rsplit("/", 1)[1]: docs.get(path).to_dict() for path in docs.paths(f"jobs/{JOB}/items/")}
    assert sorted(items) == [spec.id for spec in specs(total)]
    plan_doc = docs.get(store.engine_path(JOB, "plan")).to_dict()
    assert plan_doc["total"] == total and plan_doc["items_written"] and plan_doc["shards_own_items"]
    shards = [docs.get(store.shard_path(JOB, n)).to_dict() for n in range(plan_doc["shards"])]
    assert sum(shard["owned"] for shard in shards) == total  # every item is counted by one shard
    assert plan_doc["shard_owned"] == [shard["owned"] for shard in shards]  # what workers read instead
    assert docs.get(store.job_path(JOB)).to_dict()["progress"]["total"] == total
    return plan_doc


def test_a_small_plan_is_one_commit() -> None:
    docs = with_job()
    with store.using(docs):
        ids, shards = plan._write_plan(JOB, specs(12))
    assert docs.commits == 2  # the job's creation above, then the whole plan
    assert ids == [spec.id for spec in specs(12)] and shards == store.shards_for(12)
    plan_doc = planned(docs, 12)
    assert plan_doc["item_ids"] == ids  # finalize reads them by id
    assert all(docs.get(store.item_path(JOB, i)).to_dict()["status"] == "pending" for i in ids)


def test_a_retry_keeps_the_items_an_earlier_run_wrote_and_writes_the_rest() -> None:
    docs = with_job()
    done = {"status": "done", "label": "photo 3.jpg", "attempts": 1, "result": {"bytes": 7}}
    docs.commit([Write(store.item_path(JOB, "item-00003"), done, "create")])
    with store.using(docs):
        ids, _ = plan._write_plan(JOB, specs(5))
    assert len(ids) == 5
    planned(docs, 5)
    assert docs.get(store.item_path(JOB, "item-00003")).to_dict() == done  # it ran: not planned again


def test_a_big_plan_writes_its_items_in_batches() -> None:
    total = plan.SMALL_PLAN * 5
    docs = with_job()
    with store.using(docs):
        plan._write_plan(JOB, iter(specs(total)))  # a generator, as kinds plan big jobs
    # 500 items in two batches of creates, the shards' counts, then the job and the plan
    assert docs.commits == 1 + 2 + 1 + 1
    assert "item_ids" not in planned(docs, total)  # too many to list: finalize pages through them


def test_an_item_planned_twice_fails_the_plan_before_anything_is_written() -> None:
    docs = with_job()
    twice = [*specs(3), ItemSpec(id="item-00001", label="again")]
    with store.using(docs), pytest.raises(JobFailed, match="item-00001"):
        plan._write_plan(JOB, twice)
    assert docs.paths(f"jobs/{JOB}/") == [] and docs.commits == 1


def test_the_start_trigger_takes_its_planning_lease_with_the_claim() -> None:
    docs = with_job("queued")
    until = store.now() + dt.timedelta(seconds=90)
    with store.using(docs):
        assert start._claim_queued(JOB, failed=None, inline_until=until) == JobStatus.PROCESSING
        assert docs.commits == 2  # the job's creation, then the claim with the lease
        assert start._claim_queued(JOB, failed=None, inline_until=until) is None  # a duplicate event
    assert docs.get(store.job_path(JOB)).to_dict()["status"] == "processing"
    assert docs.get(store.engine_path(JOB, "plan")).to_dict() == {"inline_until": until}


@pytest.mark.parametrize(
    ("fields", "failed", "status"),
    [
        ({"cancel_requested": True}, None, JobStatus.CANCELLED),
        ({}, ErrorInfo(code="invalid-argument", message="Unknown job type 'x'."), JobStatus.FAILED),
    ],
)
def test_a_job_that_ends_at_its_claim_gets_no_planning_lease(
    fields: dict[str, Any], failed: ErrorInfo | None, status: JobStatus
) -> None:
    docs = with_job("queued", owner_uid="u1", **fields)
    with store.using(docs):
        assert start._claim_queued(JOB, failed=failed, inline_until=store.now()) == status
    assert not docs.get(store.engine_path(JOB, "plan")).exists
    assert docs.get(store.job_path(JOB)).to_dict()["status"] == status.value


@pytest.fixture
def fresh_worker() -> Iterator[None]:
    """A worker process that has not seen the job yet (items.py keeps what never changes)."""
    caches = (items._shards, items._owning, items._owned, items._plan_totals)
    for cache in caches:
        cache.clear()
    yield
    for cache in caches:
        cache.clear()


@pytest.mark.parametrize("total", [1, 12, plan.SMALL_PLAN * 3])
def test_a_worker_learns_every_shards_count_from_the_plan_and_reads_no_shard(fresh_worker: None, total: int) -> None:
    docs = with_job()
    with store.using(docs):
        ids, shards = plan._write_plan(JOB, specs(total))
        owned = {n: docs.get(store.shard_path(JOB, n)).to_dict()["owned"] for n in range(shards)}
        reads = docs.reads
        assert items._counter_shards(JOB) == shards  # the plan, read once
        for item_id in ids:
            shard = store.shard_of(item_id, shards)
            assert not items._completes_shard(JOB, item_id, Settled(owned[shard] - 1))
            assert items._completes_shard(JOB, item_id, Settled(owned[shard]))
    assert docs.reads == reads + 1  # and no shard document


def test_a_job_planned_before_plans_listed_the_counts_reads_each_shard_once(fresh_worker: None) -> None:
    docs = with_job()
    with store.using(docs):
        ids, shards = plan._write_plan(JOB, specs(40))
        docs.commit([Write(store.engine_path(JOB, "plan"), {"shard_owned": None})])  # as an older engine left it
        reads = docs.reads
        for item_id in ids:
            items._completes_shard(JOB, item_id, Settled(1))
    assert docs.reads == reads + 1 + shards  # the plan, then each shard the first time
