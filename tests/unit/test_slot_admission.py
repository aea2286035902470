"""Admission on the in-memory store: a user's job slots (job_slots/{uid}) and the daily budget
of paid generations, applied as jobs/api.py applies them in production. Races are forced: every
racer has read before any commits. The emulator-backed twins are
tests/integration/test_slot_admission.py (the same races through FirestoreStore),
test_job_engine.py (the cap through start_job), test_upload.py (a reserved slot at the cap) and
test_spend.py (the budget)."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from firebase_functions import https_fn

from mediajobs.jobs import admission, api, budget, slots, store
from mediajobs.jobs.docstore import Committed, Conflict, MemoryStore, Write
from mediajobs.jobs.models import DailyBudget, JobSlots, JobStatus, new_job_document

T0 = dt.datetime(2026, 12, 3, 12, 0, tzinfo=dt.UTC)
UID = "u1"
Code = https_fn.FunctionsErrorCode


class RacingStore(MemoryStore):
    """Holds each racer's first commit until every racer got there: all of them read the same
    slots and budget documents, and all but one must notice that they lost."""

    def __init__(self, racers: int, clock: Any) -> None:
        super().__init__(clock)
        self.barrier = threading.Barrier(racers, timeout=10)
        self.waited: set[int] = set()
        self.armed = False  # set when the racers start (setting the scene commits freely)
        self.conflicts = 0  # commits refused because another racer committed first

    def commit(self, writes: Sequence[Write]) -> list[Committed]:
        if self.armed and threading.get_ident() not in self.waited:
            self.waited.add(threading.get_ident())
            self.barrier.wait()
        try:
            return super().commit(writes)
        except Conflict:
            self.conflicts += 1
            raise


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dt.datetime]]:
    at = [T0]
    monkeypatch.setattr(store, "now", lambda: at[0])
    monkeypatch.setenv("MAX_ACTIVE_JOBS_PER_USER", "3")
    monkeypatch.setenv("DAILY_GENERATIONS_PER_USER", "5")
    yield at


def job(job_type: str = "selftest", input: dict[str, Any] | None = None) -> dict[str, Any]:
    return new_job_document(job_type=job_type, owner_uid=UID, input=input or {"items": 1}, options={})


def running(memory: MemoryStore, *job_ids: str) -> None:
    """Jobs already active, holding their slots."""
    for job_id in job_ids:
        memory.commit([Write(store.job_path(job_id), {**job(), "status": JobStatus.PROCESSING.value}, "create")])
    memory.commit([Write(slots.slots_path(UID), {"active": list(job_ids)}, "set")])


def active(memory: MemoryStore) -> list[str]:
    return JobSlots.model_validate(memory.get(slots.slots_path(UID)).to_dict()).active


def race(memory: MemoryStore, starts: dict[str, dict[str, Any]]) -> dict[str, str]:
    """Starts every job at once; what each start answered ("ok" or the error's code and message)."""
    outcomes: dict[str, str] = {}

    def start(job_id: str, document: dict[str, Any]) -> None:
        try:
            api.create_job_in_slot(UID, job_id, document)
            outcomes[job_id] = "ok"
        except https_fn.HttpsError as error:
            outcomes[job_id] = f"{error.code.value}: {error.message}"

    if isinstance(memory, RacingStore):
        memory.armed = True
    with store.using(memory):
        threads = [threading.Thread(target=start, args=item) for item in starts.items()]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    return outcomes


def test_two_starts_racing_for_the_last_slot_one_wins_the_other_is_told_the_limit(
    clock: list[dt.datetime],
) -> None:
    memory = RacingStore(2, lambda: clock[0])
    running(memory, "a", "b")

    outcomes = race(memory, {"c": job(), "d": job()})

    assert memory.conflicts >= 1  # they did race
    [winner] = [job_id for job_id, outcome in outcomes.items() if outcome == "ok"]
    [loser] = [outcome for outcome in outcomes.values() if outcome != "ok"]
    assert loser == (
        "resource-exhausted: You already have 3 jobs queued or running (the limit is 3); "
        "wait for one to finish or cancel one."
    )
    assert active(memory) == ["a", "b", winner]
    assert memory.paths("jobs/") == sorted(f"jobs/{j}" for j in ("a", "b", winner))


def test_a_slot_frees_itself_when_its_job_ends(clock: list[dt.datetime]) -> None:
    memory = MemoryStore(lambda: clock[0])
    running(memory, "a", "b", "c")
    with store.using(memory):
        with pytest.raises(https_fn.HttpsError) as full:
            api.create_job_in_slot(UID, "d", job())
        assert full.value.code == Code.RESOURCE_EXHAUSTED and "limit is 3" in full.value.message

        memory.commit([Write(store.job_path("b"), {"status": JobStatus.COMPLETED.value})])
        api.create_job_in_slot(UID, "d", job())
    assert active(memory) == ["a", "c", "d"]
    assert memory.get(store.job_path("d")).to_dict()["status"] == JobStatus.QUEUED.value


def test_a_reserved_slot_holds_until_used_released_or_expired(clock: list[dt.datetime]) -> None:
    memory = MemoryStore(lambda: clock[0])
    running(memory, "a")
    with store.using(memory):
        slots.admit(memory, UID, "up1", reserve=True)
        slots.admit(memory, UID, "up2", reserve=True)
        with pytest.raises(https_fn.HttpsError):
            slots.admit(memory, UID, "other")  # reservations count: 3 of 3
        api.create_job_in_slot(UID, "up1", job())  # the upload's job keeps its slot
        api.release_job_slot(UID, "up2")  # the other upload was refused
        assert active(memory) == ["a", "up1"]

        slots.admit(memory, UID, "up3", reserve=True)
        clock[0] += slots.RESERVATION + dt.timedelta(seconds=1)  # its upload died
        api.create_job_in_slot(UID, "late", job())
        assert active(memory) == ["a", "up1", "late"]
        assert memory.get(slots.slots_path(UID)).to_dict()["reserved"] == {}


def test_racing_paid_starts_never_charge_beyond_the_daily_budget(clock: list[dt.datetime]) -> None:
    memory = RacingStore(4, lambda: clock[0])
    moods = {f"m{n}": job("mood_board", {"project_id": "p1", "count": 2}) for n in range(4)}  # 2 generations each

    outcomes = race(memory, moods)

    started = sorted(job_id for job_id, outcome in outcomes.items() if outcome == "ok")
    assert len(started) == 2  # 2 + 2 of 5; a third would make 6
    for job_id, outcome in outcomes.items():
        if job_id not in started:
            assert outcome.startswith("resource-exhausted: This needs 2 paid generation(s) and 1 of today's 5")
    charged = memory.get(budget.budget_path(UID, T0.date())).to_dict()
    assert charged["used"] == 4 and charged["expire_at"] == dt.datetime(2026, 12, 5, tzinfo=dt.UTC)
    assert memory.paths("jobs/") == [f"jobs/{job_id}" for job_id in started]
    assert sorted(active(memory)) == started
    assert memory.conflicts >= 3  # every loser noticed


def test_the_transitions_themselves() -> None:
    slots_doc = JobSlots.model_validate({"active": ["a", 7, "", "r"], "reserved": {"r": T0, "x": "soon"}})
    assert slots_doc.active == ["a", "r"] and slots_doc.reserved == {"r": T0}  # odd entries dropped
    fields = admission.admit_slot(slots_doc, {"a": "queued", "r": None}, "a", limit=1, at=T0 - dt.timedelta(seconds=1))
    assert fields["active"] == ["a", "r"]  # already held: admitted even at the cap
    assert admission.release_slot(slots_doc, "nope") is None
    with pytest.raises(admission.OverBudget):
        admission.charge_budget(DailyBudget(used=5), uid=UID, day=T0.date(), cost=1, limit=5, expire_at=T0)
