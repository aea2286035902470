"""Admission through the Firestore adapter, on the emulator: the same forced races as
tests/unit/test_slot_admission.py (every racer reads before any commits), so FirestoreStore's
preconditions cannot drift from MemoryStore's. The callables' own cap test is
test_job_engine.py::test_a_user_cannot_run_more_than_the_active_job_limit."""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections.abc import Sequence
from typing import Any

import pytest
from firebase_functions import https_fn

from mediajobs import cloud
from mediajobs.cli import client
from mediajobs.jobs import api, budget, slots, state, store
from mediajobs.jobs.docstore import Committed, Conflict, FirestoreStore, Write
from mediajobs.jobs.models import JobStatus, new_job_document


class RacingFirestore(FirestoreStore):
    """Holds each racer's first commit until every racer got there."""

    def __init__(self, racers: int) -> None:
        super().__init__(cloud.db())
        self.barrier = threading.Barrier(racers, timeout=30)
        self.waited: set[int] = set()
        self.conflicts = 0

    def commit(self, writes: Sequence[Write]) -> list[Committed]:
        if threading.get_ident() not in self.waited:
            self.waited.add(threading.get_ident())
            self.barrier.wait()
        try:
            return super().commit(writes)
        except Conflict:
            self.conflicts += 1
            raise


def race(docs: RacingFirestore, starts: list[Any]) -> list[str]:
    outcomes: list[str] = []

    def run(start: Any) -> None:
        try:
            start()
            outcomes.append("ok")
        except https_fn.HttpsError as error:
            outcomes.append(f"{error.code.value}: {error.message}")

    with store.using(docs):
        threads = [threading.Thread(target=run, args=(start,)) for start in starts]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    return outcomes


def test_two_starts_racing_for_the_last_slot_on_firestore(user: client.User, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAX_ACTIVE_JOBS_PER_USER", "3")
    db = cloud.db()
    busy = [f"busy-{uuid.uuid4().hex[:12]}" for _ in range(2)]
    for job_id in busy:  # already processing: the start trigger leaves them alone
        db.document(f"jobs/{job_id}").set({"type": "selftest", "owner_uid": user.uid, "status": "processing"})
    db.document(slots.slots_path(user.uid)).set({"active": busy})
    racers = [f"race-{uuid.uuid4().hex[:12]}" for _ in range(2)]
    document = state.queued_job(
        new_job_document(job_type="selftest", owner_uid=user.uid, input={"items": 1, "sleep_ms": 5000}, options={})
    )
    docs = RacingFirestore(2)  # the winner's job runs 5 s: it still holds its slot when the loser retries

    outcomes = race(
        docs, [lambda job_id=job_id: api.create_job_in_slot(user.uid, job_id, document) for job_id in racers]
    )

    assert docs.conflicts >= 1  # the loser's commit was refused by its precondition
    assert sorted(outcomes) == [
        "ok",
        "resource-exhausted: You already have 3 jobs queued or running (the limit is 3); "
        "wait for one to finish or cancel one.",
    ]
    created = [job_id for job_id in racers if db.document(f"jobs/{job_id}").get().exists]
    assert len(created) == 1
    assert (db.document(slots.slots_path(user.uid)).get().to_dict() or {})["active"] == [*busy, *created]
    assert client.watch_job(created[0], timeout=120)[0]["status"] == JobStatus.COMPLETED


@pytest.mark.usefixtures("one_budget_day")
def test_charges_racing_on_firestore_never_exceed_the_daily_budget(
    user: client.User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DAILY_GENERATIONS_PER_USER", "5")
    charge = budget.budget_guard(user.uid, "mood_board", {"project_id": "p1", "count": 2})
    assert charge is not None
    docs = RacingFirestore(4)
    ids = [f"paid-{uuid.uuid4().hex[:12]}" for _ in range(4)]  # slots only: no job documents

    outcomes = race(docs, [lambda job_id=job_id: slots.admit(docs, user.uid, job_id, also=charge) for job_id in ids])

    assert docs.conflicts >= 3
    assert outcomes.count("ok") == 2
    assert all(o.startswith("resource-exhausted: This needs 2 paid generation(s)") for o in outcomes if o != "ok")
    today = dt.datetime.now(dt.UTC).date()
    assert (cloud.db().document(budget.budget_path(user.uid, today)).get().to_dict() or {})["used"] == 4
