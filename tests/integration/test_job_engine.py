"""The job engine on the real local stack: callable -> trigger -> Cloud Tasks -> Firestore."""

from __future__ import annotations

import base64
import datetime as dt
import json
import threading
import uuid

import pytest
from google.cloud import firestore as gfs

from mediajobs import cloud
from mediajobs.cli import client
from mediajobs.jobs import queues, store
from mediajobs.jobs.models import new_job_document
from tests.integration.jobs_helpers import assert_every_document_expires, items_of, percents, runs_of, start_selftest


def test_callable_job_of_200_items_ends_with_exact_counters(user: client.User) -> None:
    job_id = start_selftest(user, items=200)

    final, snapshots = client.watch_job(job_id, timeout=600)

    assert final["status"] == "completed", final
    assert final["progress"] == {"total": 200, "done": 200, "failed": 0, "percent": 100}
    assert final["result"] == {"succeeded": 200, "failed": 0, "sum_of_squares": sum(i * i for i in range(200))}
    assert final["error"] is None and final["errors"] == []
    assert final["owner_uid"] == user.uid
    assert final["current"] is None
    assert final["finished_at"] >= final["started_at"] >= final["created_at"]
    seen = percents(snapshots)
    assert seen == sorted(seen), f"percent went down: {seen}"
    assert len(set(seen)) > 2, "the listener saw no intermediate progress"
    items = items_of(job_id)
    assert len(items) == 200
    assert {item["status"] for item in items.values()} == {"done"}
    assert runs_of(job_id) == {item_id: 1 for item_id in items}


def test_the_first_result_is_on_the_job_before_the_next_item_settles(user: client.User) -> None:
    """A user waits for the first result more than for any other: the job shows its first
    settled item at once, not at its next once-a-second progress write. Three items of 0.4 s in
    one chunk run one after the other, so the second cannot settle before that write is made."""
    job_id = start_selftest(user, items=3, sleep_ms=400)

    final, snapshots = client.watch_job(job_id, timeout=120)

    assert final["status"] == "completed", final
    shown = [s for s in snapshots if s["status"] == "processing" and s["progress"]["done"] >= 1]
    assert shown, f"no snapshot of the running job showed a result: {[s['progress'] for s in snapshots]}"
    assert shown[0]["progress"]["done"] == 1
    settled_at = sorted(item["finished_at"] for item in items_of(job_id).values())
    assert settled_at[0] <= shown[0]["updated_at"] < settled_at[1]


def test_admin_sdk_write_starts_the_job(user: client.User) -> None:
    ref = cloud.db().collection("jobs").document()
    ref.create({"type": "selftest", "status": "queued", "owner_uid": user.uid, "input": {"items": 7}, "options": {}})

    final, _ = client.watch_job(ref.id, timeout=120)

    assert final["status"] == "completed"
    assert final["progress"] == {"total": 7, "done": 7, "failed": 0, "percent": 100}
    assert final["result"]["sum_of_squares"] == sum(i * i for i in range(7))


def test_admin_sdk_write_with_bad_input_fails_with_a_clear_error(user: client.User) -> None:
    ref = cloud.db().collection("jobs").document()
    ref.create({"type": "selftest", "status": "queued", "owner_uid": user.uid, "input": {"items": "many", "colour": 1}})

    final, _ = client.watch_job(ref.id, timeout=60)

    assert final["status"] == "failed"
    assert final["error"]["code"] == "invalid-argument"
    assert "input.items" in final["error"]["message"]
    assert "input.colour: unknown field" in final["error"]["message"]


def test_a_malformed_job_document_from_an_old_client_fails_with_a_clear_error(user: client.User) -> None:
    ref = cloud.db().collection("jobs").document()
    ref.create({"type": "selftest", "status": "queued", "owner_uid": user.uid, "input": "ten", "progress": "x"})

    final, _ = client.watch_job(ref.id, timeout=60)

    assert final["status"] == "failed"
    assert final["error"]["code"] == "invalid-argument"
    assert final["error"]["message"].startswith("The job document is malformed: ")
    assert "input" in final["error"]["message"]


def test_an_item_that_raises_fails_alone(user: client.User) -> None:
    job_id = start_selftest(user, items=12, fail_items=[2, 5], reject_items=[7])

    final, _ = client.watch_job(job_id, timeout=120)

    assert final["status"] == "completed"
    assert final["progress"] == {"total": 12, "done": 9, "failed": 3, "percent": 100}
    errors = {e["item"]: e for e in final["errors"]}
    assert set(errors) == {"item 2", "item 5", "item 7"}
    assert errors["item 2"]["code"] == "internal"
    incident_id = errors["item 2"]["incident_id"]  # the exception's text stays in the log entry of that id
    assert len(incident_id) == 16 and errors["item 2"]["message"].endswith(f"(incident {incident_id})")
    assert "was asked to fail" not in errors["item 2"]["message"]
    assert "RuntimeError" not in errors["item 2"]["message"]
    assert errors["item 7"] == {"item": "item 7", "code": "rejected", "message": "Item 7 was asked to be rejected."}
    items = items_of(job_id)
    assert items["item-00005"]["status"] == "failed" and items["item-00005"]["result"] is None
    assert items["item-00006"]["status"] == "done" and items["item-00006"]["result"] == {"index": 6, "square": 36}
    assert final["result"]["sum_of_squares"] == sum(i * i for i in range(12) if i not in (2, 5, 7))
    plan = store.engine_ref(job_id, "plan").get().to_dict() or {}
    assert plan["item_ids"] == [f"item-{i:05d}" for i in range(12)]  # what finalize read the results from, by id
    assert_every_document_expires(job_id)


def test_a_job_whose_items_all_fail_is_failed(user: client.User) -> None:
    job_id = start_selftest(user, items=3, reject_items=[0, 1, 2])

    final, _ = client.watch_job(job_id, timeout=60)

    assert final["status"] == "failed"
    assert final["error"]["code"] == "all-items-failed"
    assert final["progress"]["failed"] == 3


def test_zero_items_completes_at_once(user: client.User) -> None:
    final, _ = client.watch_job(start_selftest(user, items=0), timeout=60)

    assert final["status"] == "completed"
    assert final["progress"]["total"] == 0


def test_cancellation_midway_keeps_what_was_finished(user: client.User) -> None:
    job_id = start_selftest(user, items=80, sleep_ms=250)
    cancelled = threading.Event()

    def cancel_after_some_progress(job: dict[str, object]) -> None:
        progress = job.get("progress") or {}
        assert isinstance(progress, dict)
        if not cancelled.is_set() and progress.get("done", 0) >= 8:
            cancelled.set()
            threading.Thread(target=client.call, args=("cancel_job", {"job_id": job_id}, user.id_token)).start()

    final, snapshots = client.watch_job(job_id, cancel_after_some_progress, timeout=300)

    assert final["status"] == "cancelled"
    assert final["cancel_requested"] is True
    items = items_of(job_id)
    statuses = [item["status"] for item in items.values()]
    done = statuses.count("done")
    assert 8 <= done < 80
    assert statuses.count("done") + statuses.count("cancelled") == 80
    assert final["progress"]["done"] == done
    assert final["result"]["succeeded"] == done
    seen = percents(snapshots)
    assert seen == sorted(seen)
    assert final["progress"]["percent"] < 100
    # Items never run after cancellation: every executed item is a done one.
    assert set(runs_of(job_id)) == {item_id for item_id, item in items.items() if item["status"] == "done"}


def test_cancelling_twice_and_after_the_end_is_harmless(user: client.User) -> None:
    job_id = start_selftest(user, items=2)
    _final, _ = client.watch_job(job_id, timeout=60)

    assert client.call("cancel_job", {"job_id": job_id}, user.id_token) == {"status": "completed"}
    assert client.call("cancel_job", {"job_id": job_id}, user.id_token) == {"status": "completed"}


def test_the_same_trigger_event_delivered_again_does_the_work_once(user: client.User) -> None:
    """The creation event reaches the function once from the emulator and twice more from us: three deliveries."""
    import os

    import requests

    ref = cloud.db().collection("jobs").document()
    ref.create({"type": "selftest", "status": "queued", "owner_uid": user.uid, "input": {"items": 10, "sleep_ms": 50}})
    rest = requests.get(
        f"http://{os.environ['FIRESTORE_EMULATOR_HOST']}/v1/projects/{os.environ['GCLOUD_PROJECT']}"
        f"/databases/(default)/documents/jobs/{ref.id}",
        headers={"Authorization": "Bearer owner"},
        timeout=30,
    ).json()
    # Sent as the Firestore emulator sends it: a binary-mode CloudEvent with a protobuf body.
    from google.events.cloud.firestore import DocumentEventData

    proto = DocumentEventData.serialize(DocumentEventData.from_json(json.dumps({"value": rest})))
    body = base64.b64encode(proto)  # the emulator's trigger route takes protobuf bodies base64-encoded
    project = os.environ["GCLOUD_PROJECT"]
    headers = {
        "Content-Type": "application/protobuf",
        "ce-specversion": "1.0",
        "ce-id": f"duplicate-{uuid.uuid4().hex}",
        "ce-source": f"//firestore.googleapis.com/projects/{project}/databases/(default)",
        "ce-type": "google.cloud.firestore.document.v1.created",
        "ce-time": dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z"),
        "ce-subject": f"documents/jobs/{ref.id}",
        "ce-location": "us-central1",
        "ce-project": project,
        "ce-database": "(default)",
        "ce-namespace": "(default)",
        "ce-document": f"jobs/{ref.id}",
    }
    origin = os.environ["FUNCTIONS_ORIGIN"].split(f"/{os.environ['GCLOUD_PROJECT']}/")[0]
    url = f"{origin}/functions/projects/{os.environ['GCLOUD_PROJECT']}/triggers/us-central1-on_job_created-0"

    replies: list[requests.Response] = []

    def deliver() -> None:
        replies.append(requests.post(url, data=body, headers=headers, timeout=60))

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [r.status_code for r in replies] == [200, 200], [r.text for r in replies]

    final, _ = client.watch_job(ref.id, timeout=120)

    assert final["status"] == "completed"
    assert final["progress"] == {"total": 10, "done": 10, "failed": 0, "percent": 100}
    assert runs_of(ref.id) == {f"item-{i:05d}": 1 for i in range(10)}
    assert {item["attempts"] for item in items_of(ref.id).values()} == {1}
    # Started and planned once: one plan of 10 items, counted once.
    plan = ref.collection("engine").document("plan").get().to_dict() or {}
    assert (plan.get("total"), plan.get("enqueued_all")) == (10, True)
    counts = store.read_counts(ref.id)
    assert (counts.done, counts.failed, counts.cancelled) == (10, 0, 0)


def test_a_stale_job_is_swept(user: client.User) -> None:
    from mediajobs.jobs import sweeper

    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    ref = cloud.db().collection("jobs").document(f"stale-{uuid.uuid4().hex[:12]}")
    # A job whose worker vanished: claimed and planned, 1 of 3 items done, heartbeat an hour old.
    # Written in one batch with status "processing" so that the trigger leaves it alone.
    batch = cloud.db().batch()
    batch.set(
        ref,
        {
            "type": "selftest",
            "status": "processing",
            "owner_uid": user.uid,
            "input": {"items": 3},
            "options": {},
            "progress": {"total": 3, "done": 1, "failed": 0, "percent": 33},
            "errors": [],
            "cancel_requested": False,
            "heartbeat_at": long_ago,
            "started_at": long_ago,
            "created_at": long_ago,
        },
    )
    batch.set(ref.collection("engine").document("plan"), {"total": 3, "enqueued_all": True})
    batch.set(
        ref.collection("items").document("item-00000"),
        {"status": "done", "label": "item 0", "result": {"index": 0, "square": 0}, "attempts": 1},
    )
    batch.set(
        ref.collection("items").document("item-00001"),
        {"status": "running", "label": "item 1", "attempts": 1, "lease_until": long_ago},
    )
    batch.set(ref.collection("items").document("item-00002"), {"status": "pending", "label": "item 2", "attempts": 0})
    batch.set(ref.collection("counters").document("0"), {"done": gfs.Increment(1)}, merge=True)
    batch.commit()

    acted = sweeper.sweep_stale_jobs()

    assert ref.id in acted
    job = ref.get().to_dict() or {}
    assert job["status"] == "failed"
    assert job["error"]["code"] == "deadline-exceeded"
    assert "1 of 3 items" in job["error"]["message"]
    assert job["result"] == {"succeeded": 1, "failed": 0, "sum_of_squares": 0}
    assert sweeper.sweep_stale_jobs() == [] or ref.id not in sweeper.sweep_stale_jobs()


@pytest.mark.parametrize(
    ("data", "code", "fragment"),
    [
        ({"type": "nope"}, "INVALID_ARGUMENT", "Unknown job type 'nope'; known types:"),
        ({"type": "selftest", "input": {"items": -1}}, "INVALID_ARGUMENT", "input.items: Input should be greater"),
        ({"type": "selftest", "input": {}, "colour": "red"}, "INVALID_ARGUMENT", "colour: unknown field"),
        ({"type": "selftest", "options": {"speed": 2}}, "INVALID_ARGUMENT", "options.speed: unknown field"),
        ({"input": {}}, "INVALID_ARGUMENT", "type: Field required"),
        ("selftest", "INVALID_ARGUMENT", "must be an object"),
    ],
)
def test_start_job_rejects_bad_requests_clearly(user: client.User, data: object, code: str, fragment: str) -> None:
    with pytest.raises(client.CallableError) as raised:
        client.call("start_job", data, user.id_token)

    assert raised.value.status == code
    assert fragment in raised.value.message


def test_start_job_needs_a_signed_in_caller() -> None:
    with pytest.raises(client.CallableError) as raised:
        client.call("start_job", {"type": "selftest"})

    assert raised.value.status == "UNAUTHENTICATED"
    assert raised.value.http_status == 401


def test_cancel_job_of_another_user_or_unknown_job_is_denied_alike(new_user) -> None:  # type: ignore[no-untyped-def]
    owner, other = new_user(), new_user()
    job_id = start_selftest(owner, items=1)

    for job in (job_id, "no-such-job"):
        with pytest.raises(client.CallableError) as raised:
            client.call("cancel_job", {"job_id": job}, other.id_token)
        assert raised.value.status == "PERMISSION_DENIED"
        assert "does not exist or is not yours" in raised.value.message

    with pytest.raises(client.CallableError) as raised:
        client.call("cancel_job", {"job_id": "../jobs/x"}, owner.id_token)
    assert raised.value.status == "INVALID_ARGUMENT"
    client.watch_job(job_id, timeout=60)


def test_a_user_cannot_run_more_than_the_active_job_limit(user: client.User) -> None:
    jobs = [start_selftest(user, items=1, sleep_ms=20_000) for _ in range(10)]  # MAX_ACTIVE_JOBS_PER_USER

    with pytest.raises(client.CallableError) as raised:
        start_selftest(user, items=1)

    assert raised.value.status == "RESOURCE_EXHAUSTED"
    assert "limit is 10" in raised.value.message
    for job_id in jobs:
        client.call("cancel_job", {"job_id": job_id}, user.id_token)
    for job_id in jobs:
        final, _ = client.watch_job(job_id, timeout=120)
        assert final["status"] in ("cancelled", "completed")


def test_enqueueing_a_task_name_twice_is_a_no_op() -> None:
    """A retried plan re-enqueues its chunk tasks by name; the second time must not fail it
    (the Tasks emulator answers a plain-text 409, Cloud Tasks ALREADY_EXISTS)."""
    task_id = f"dup-{uuid.uuid4().hex}"
    job = {"job_id": "no-such-job", "item_ids": ["x"]}  # runs and finds nothing to do

    queues.enqueue("jobitems", job, task_id=task_id)
    queues.enqueue("jobitems", job, task_id=task_id)


def _claimed_but_unplanned_selftest(user: client.User, items: int) -> gfs.DocumentReference:
    """A selftest job as its start trigger leaves it after the claim, with no plan yet (its
    creation event finds it already `processing` and does nothing)."""
    ref = cloud.db().collection("jobs").document()
    queued = new_job_document(job_type="selftest", owner_uid=user.uid, input={"items": items}, options={})
    ref.create(
        {
            **queued,
            "status": "processing",
            "created_at": gfs.SERVER_TIMESTAMP,
            "started_at": gfs.SERVER_TIMESTAMP,
            "heartbeat_at": gfs.SERVER_TIMESTAMP,
        }
    )
    return ref


def test_small_jobs_are_planned_by_their_trigger_and_the_plan_task_only_takes_over_a_dead_one(
    user: client.User, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The start trigger plans a small job itself (one task hop less before the first item),
    holding a lease; the plan task enqueued beside it must not plan while the lease holds,
    and must plan the job once it lapses (the trigger's worker died mid-plan)."""
    from mediajobs.jobs import plan as planning

    planned_inline = start_selftest(user, items=3)
    assert client.watch_job(planned_inline, timeout=120)[0]["status"] == "completed"
    plan = store.engine_ref(planned_inline, "plan").get().to_dict() or {}
    assert plan.get("inline_until") is not None and (plan.get("total"), plan.get("enqueued_all")) == (3, True)

    # A job whose trigger claimed it, took the planning lease and died before planning anything.
    ref = _claimed_but_unplanned_selftest(user, items=4)
    lease = store.engine_ref(ref.id, "plan")
    lease.set({"inline_until": store.now() + dt.timedelta(minutes=1)})
    monkeypatch.setattr(planning, "INLINE_PLAN_WAIT", dt.timedelta(seconds=1))
    with pytest.raises(planning.PlanBusy):
        planning.plan_job(ref.id)
    assert items_of(ref.id) == {}

    lease.set({"inline_until": store.now() - dt.timedelta(seconds=1)})
    planning.plan_job(ref.id)
    final, _ = client.watch_job(ref.id, timeout=120)
    assert final["status"] == "completed" and final["progress"]["done"] == 4
    assert runs_of(ref.id) == {f"item-{i:05d}": 1 for i in range(4)}


def test_a_plan_out_of_time_hands_the_rest_to_a_continuation_task(
    user: client.User, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A plan too big for one task (a million users) records how far it got and enqueues a
    continuation; here this process plans with no time left after its first window of chunks,
    and the real plan task finishes the job: every item runs exactly once."""
    from mediajobs.jobs import plan as planning

    monkeypatch.setattr(planning, "PLAN_TIME_BUDGET", dt.timedelta(0))
    monkeypatch.setattr(planning, "ENQUEUE_THREADS", 1)  # windows of 8 chunks of 5 items
    ref = _claimed_but_unplanned_selftest(user, items=60)

    planning.plan_job(ref.id)
    handed_over = store.engine_ref(ref.id, "plan").get().to_dict() or {}
    assert handed_over.get("enqueued_chunks") == 8 and not handed_over.get("enqueued_all")

    final, _ = client.watch_job(ref.id, timeout=120)
    assert final["status"] == "completed" and final["progress"]["done"] == 60
    assert runs_of(ref.id) == {f"item-{i:05d}": 1 for i in range(60)}
    plan = store.engine_ref(ref.id, "plan").get().to_dict() or {}
    assert (plan.get("total"), plan.get("enqueued_all")) == (60, True)


def test_each_counter_shard_knows_its_items_and_counted_every_one(user: client.User) -> None:
    job_id = start_selftest(user, items=300)

    final, _ = client.watch_job(job_id, timeout=180)

    assert final["status"] == "completed" and final["progress"]["done"] == 300
    plan = store.engine_ref(job_id, "plan").get().to_dict() or {}
    assert plan["shards_own_items"] is True
    assert "item_ids" not in plan  # too many to list: finalize pages through them with a query
    shards = [snap.to_dict() or {} for snap in store.job_ref(job_id).collection("counters").stream()]
    assert len(shards) == plan["shards"]
    assert sum(s["owned"] for s in shards) == 300
    assert all(s["owned"] == s.get("done", 0) for s in shards)
