"""Nothing a user or a slow item does can wedge a job: hostile names, a poisoned job in the
sweep, items that outlive their task's delivery, planners that run long."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from google.cloud import firestore as gfs

from mediajobs import cloud
from mediajobs.cli import client
from mediajobs.jobs import leases, plan, queues, store, sweeper
from mediajobs.jobs.models import new_job_document
from tests.integration.jobs_helpers import items_of, runs_of, start_selftest

ONE_MIB = 1024 * 1024


def _document_bytes(data: dict[str, object]) -> int:
    import json

    return len(json.dumps(data, default=str).encode())


def test_hostile_item_names_cannot_push_a_job_over_firestores_limit(user: client.User) -> None:
    """40 items with 60 KB names that all fail: names and messages reach `current`, `errors`
    and the items; the job still ends, and its document stays far under 1 MiB."""
    job_id = start_selftest(user, items=40, label_bytes=60_000, reject_items=list(range(40)))

    final, _ = client.watch_job(job_id, timeout=180)

    assert final["status"] == "failed" and final["error"]["code"] == "all-items-failed"
    assert final["progress"]["failed"] == 40
    assert 0 < len(final["errors"]) <= 50
    assert _document_bytes(final) < 128 * 1024
    assert all(len(e["item"].encode()) <= 300 and e["code"] == "rejected" for e in final["errors"])
    assert all(len(item["label"].encode()) <= 300 for item in items_of(job_id).values())


def _stale_job(user: client.User, **fields: object) -> gfs.DocumentReference:
    ref = cloud.db().collection("jobs").document()
    long_ago = store.now() - sweeper.STALE_AFTER - dt.timedelta(minutes=1)
    queued = new_job_document(job_type="selftest", owner_uid=user.uid, input={"items": 40}, options={})
    ref.create({**queued, "status": "processing", "created_at": long_ago, "heartbeat_at": long_ago, **fields})
    return ref


def _settled_with_huge_errors(ref: gfs.DocumentReference, items: int) -> None:
    """A job whose items all failed with 60 KB labels and messages, written by an engine that
    did not bound them (the state that used to make finalize's write exceed 1 MiB)."""
    db = cloud.db()
    batch = db.batch()
    for index in range(items):
        label = f"item {index} ".ljust(60_000, "x")
        batch.set(
            ref.collection("items").document(f"item-{index:05d}"),
            {"label": label, "status": "failed", "attempts": 1, "error": {"code": "rejected", "message": label}},
        )
        if index % 10 == 9:
            batch.commit()
            batch = db.batch()
    batch.commit()
    ref.collection("counters").document("0").set({"failed": items})
    ref.collection("engine").document("plan").set({"total": items, "enqueued_all": True, "items_written": True})


def test_one_sweep_ends_a_poisoned_job_an_oversized_one_and_an_innocent_one(user: client.User) -> None:
    poisoned = _stale_job(user, progress="written by an old client", errors="not a list")
    oversized = _stale_job(user)
    _settled_with_huge_errors(oversized, items=40)
    innocent = _stale_job(user)

    acted = sweeper.sweep_stale_jobs()

    assert {poisoned.id, oversized.id, innocent.id} <= set(acted)
    ended = {ref.id: ref.get().to_dict() or {} for ref in (poisoned, oversized, innocent)}
    assert ended[poisoned.id]["status"] == "failed" and ended[poisoned.id]["error"]["code"] == "internal"
    assert ended[oversized.id]["status"] == "failed"
    assert ended[oversized.id]["progress"]["failed"] == 40
    assert _document_bytes(ended[oversized.id]) < 128 * 1024
    assert ended[innocent.id]["status"] == "failed"
    assert ended[innocent.id]["error"]["code"] == "deadline-exceeded"


def test_an_item_that_outlives_its_tasks_delivery_runs_once_and_keeps_its_result(user: client.User) -> None:
    """The selftest queue's dispatch deadline is 30 s and its lease 10 s: the Tasks emulator
    redelivers the task while the item still runs; the redelivery meets the renewed lease and
    leaves the item alone. (Before, a lease set once at claim ran out and the redelivery took
    the live item over: two runs, and the first one's result was thrown away.)"""
    row = queues.SELFTEST_ITEMS
    sleep_s = row.dispatch_deadline_s * 2 + 5  # past two redeliveries, and the old 60 s default
    job_id = start_selftest(user, items=1, sleep_ms=sleep_s * 1000)

    final, _ = client.watch_job(job_id, timeout=sleep_s + 120)

    assert final["status"] == "completed", final
    assert runs_of(job_id) == {"item-00000": 1}
    item = items_of(job_id)["item-00000"]
    assert item["status"] == "done" and item["attempts"] == 1
    assert item["result"] == {"index": 0, "square": 0}


def _claimed_selftest_item(user: client.User) -> tuple[str, str]:
    ref = cloud.db().collection("jobs").document()
    queued = new_job_document(job_type="selftest", owner_uid=user.uid, input={"items": 1}, options={})
    ref.create({**queued, "status": "processing", "heartbeat_at": gfs.SERVER_TIMESTAMP})
    ref.collection("engine").document("plan").set({"total": 1, "items_written": True})  # no task runs it
    ref.collection("items").document("only").set({"label": "only", "status": "pending", "attempts": 0})
    return ref.id, "only"


def test_a_renewed_lease_holds_against_a_second_claim_and_the_first_settle_lands(user: client.User) -> None:
    """In-process: a 3 s lease renewed for 6 s of work still holds; the second worker is told
    the item is busy, and the first worker's outcome is the one recorded."""
    job_id, item_id = _claimed_selftest_item(user)
    short = queues.TaskQueue(name="test", timeout_s=60, dispatch_deadline_s=60, lease_s=3)
    beats: list[float] = []
    claim = leases.claim_item(job_id, item_id, short)
    assert claim is not None

    with leases.item_lease_keeper(job_id, claim, short, beat=lambda: beats.append(time.monotonic())) as keeper:
        time.sleep(6)
        with pytest.raises(leases.ItemBusy):
            leases.claim_item(job_id, item_id, short)

    assert not keeper.lost and len(beats) >= 3
    assert leases.settle(job_id, item_id, claim, "done", result={"kept": True})
    assert items_of(job_id)[item_id]["result"] == {"kept": True}


def test_a_plan_task_holds_the_plan_lease_and_beats_the_jobs_heartbeat(user: client.User) -> None:
    """A second plan task (a redelivery) finds the first one's live lease and backs off; the
    job's heartbeat is written when planning starts, before any item exists."""
    ref = cloud.db().collection("jobs").document()
    long_ago = store.now() - dt.timedelta(hours=1)
    queued = new_job_document(job_type="selftest", owner_uid=user.uid, input={"items": 3}, options={})
    ref.create({**queued, "status": "processing", "heartbeat_at": long_ago})

    plan._take_plan_lease(ref.id, "first-planner")
    assert (ref.get().to_dict() or {})["heartbeat_at"] > long_ago
    with pytest.raises(plan.PlanBusy):
        plan.plan_job(ref.id)
    assert items_of(ref.id) == {}

    plan._release_plan_lease(ref.id, "first-planner")
    plan.plan_job(ref.id)
    final, _ = client.watch_job(ref.id, timeout=120)
    assert final["status"] == "completed" and final["progress"]["done"] == 3


def test_a_checkpoint_is_kept_for_the_next_attempt_without_losing_the_lease(user: client.User) -> None:
    """A checkpoint (a prediction id, say) is written under the claim: the lease keeper's
    renewals and the settle still land, and a later attempt sees what was saved."""
    from mediajobs.jobs import items
    from mediajobs.jobs.models import Job

    job_id, item_id = _claimed_selftest_item(user)
    short = queues.TaskQueue(name="test", timeout_s=60, dispatch_deadline_s=60, lease_s=3)
    claim = leases.claim_item(job_id, item_id, short)
    assert claim is not None and claim.item.checkpoint == {}
    ctx = items._Context(Job(id=job_id, type="selftest"), "only", claim)

    with leases.item_lease_keeper(job_id, claim, short, beat=lambda: None) as keeper:
        ctx.save_checkpoint({"prediction_id": "p-1"})
        time.sleep(3)
    assert not keeper.lost
    with pytest.raises(ValueError, match="limited to"):
        ctx.save_checkpoint({"big": "x" * 20_000})

    leases.release_item(job_id, item_id, claim.attempt_id)  # as after a transient error
    again = leases.claim_item(job_id, item_id, short)
    assert again is not None and again.item.attempt == 2
    assert again.item.checkpoint == {"prediction_id": "p-1"}
    assert leases.settle(job_id, item_id, again, "done", result={})


def test_a_job_whose_finalizer_died_is_still_ended_once_its_lease_runs_out(user: client.User) -> None:
    """A worker took the finalize lease and died (the marker says `running` until its lease
    runs out). The chunk whose settle completes the job meets that lease: its task is retried
    until the lease is over, and then it ends the job. (Before, it took the lease for a sign
    that the job was being ended and returned: the job stayed `processing` until a sweep.)"""
    job_id = start_selftest(user, items=1, sleep_ms=3000)
    finalize = cloud.db().collection("jobs").document(job_id).collection("engine").document("finalize")
    finalize.set({"state": "running", "lease_until": store.now() + dt.timedelta(seconds=12)})

    final, _ = client.watch_job(job_id, timeout=150)

    assert final["status"] == "completed", final
    assert final["progress"]["done"] == 1
    assert final["finished_at"] > store.now() - dt.timedelta(minutes=3)
    assert (finalize.get().to_dict() or {})["state"] == "done"
    assert runs_of(job_id) == {"item-00000": 1}
