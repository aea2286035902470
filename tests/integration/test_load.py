"""Load: many users starting many jobs at once through the callable, on the real local stack.

Every job must complete with exact counters, every item must run exactly once, and the
per-user cap on active jobs must hold exactly even when one user's starts race each other.
"""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from mediajobs import cloud
from mediajobs.cli import client
from mediajobs.jobs import store, sweeper
from tests.integration.jobs_helpers import runs_of, start_selftest

USERS = 20
JOBS_PER_USER = 5
ITEMS = 3
ACTIVE_LIMIT = 10  # MAX_ACTIVE_JOBS_PER_USER in functions/.env
QUIET = 20  # seconds without any job moving before the sweeper is asked


def wait_for_all(job_ids: list[str], timeout: float) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """Polls the job documents in batches until each has ended (one listener per job would be
    100 streams). Plays Cloud Scheduler, which the emulator does not run: when nothing has
    moved for QUIET seconds and the jobs left are all still queued, their start events were
    lost and the sweeper must start them."""
    db = cloud.db()
    ended: dict[str, dict[str, Any]] = {}
    swept: list[str] = []
    last: dict[str, Any] = {}
    moved_at = time.monotonic()
    deadline = moved_at + timeout
    while len(ended) < len(job_ids):
        pending = [store.job_ref(j) for j in job_ids if j not in ended]
        statuses = {}
        for snap in db.get_all(pending):
            data = snap.to_dict() or {}
            statuses[snap.id] = (data.get("status"), data.get("progress"))
            if data.get("status") in ("completed", "failed", "cancelled"):
                ended[snap.id] = data
        if statuses != last:
            last, moved_at = statuses, time.monotonic()
        elif time.monotonic() - moved_at > QUIET and {s for s, _ in statuses.values()} == {"queued"}:
            swept += sweeper.sweep_stale_jobs(at=store.now() + sweeper.QUEUED_TOO_LONG)
            moved_at = time.monotonic()
        if time.monotonic() > deadline:
            states = {j: (store.job_ref(j).get().to_dict() or {}).get("status") for j in job_ids if j not in ended}
            raise AssertionError(f"{len(states)} jobs did not end within {timeout:.0f}s: {states}")
        time.sleep(1)
    return ended, swept


@pytest.mark.timeout(900)
def test_a_hundred_jobs_from_twenty_users_at_once_all_complete_exactly_once() -> None:
    tag = uuid.uuid4().hex[:8]
    with ThreadPoolExecutor(USERS) as pool:
        users = list(pool.map(lambda n: client.sign_up(f"load-{tag}-{n}@example.com"), range(USERS)))
        owners = [user for user in users for _ in range(JOBS_PER_USER)]
        job_ids = list(pool.map(lambda user: start_selftest(user, items=ITEMS), owners))

    assert len(set(job_ids)) == USERS * JOBS_PER_USER
    ended, swept = wait_for_all(job_ids, timeout=600)
    assert set(swept) <= set(job_ids) and len(swept) <= 5, f"the emulator lost too many start events: {len(swept)}"
    print(f"jobs whose start event the emulator lost, started by the sweeper: {len(swept)}")

    for job_id, owner in zip(job_ids, owners, strict=True):
        job = ended[job_id]
        assert job["status"] == "completed", (job_id, job)
        assert job["owner_uid"] == owner.uid
        assert job["progress"] == {"total": ITEMS, "done": ITEMS, "failed": 0, "percent": 100}
        assert job["result"]["sum_of_squares"] == sum(i * i for i in range(ITEMS))
        counts = store.read_counts(job_id)
        assert (counts.done, counts.failed, counts.cancelled) == (ITEMS, 0, 0)
        assert runs_of(job_id) == {f"item-{i:05d}": 1 for i in range(ITEMS)}, "an item ran twice or never"
        plan = store.engine_ref(job_id, "plan").get().to_dict() or {}
        assert plan == {**plan, "total": ITEMS, "enqueued_all": True}


@pytest.mark.timeout(300)
def test_racing_starts_of_one_user_never_exceed_the_active_job_cap(user: client.User) -> None:
    attempts = ACTIVE_LIMIT + 4

    def start(_: int) -> str:
        try:
            return start_selftest(user, items=1, sleep_ms=30_000)
        except client.CallableError as error:
            return f"refused:{error.status}:{error.message}"

    with ThreadPoolExecutor(attempts) as pool:
        outcomes = list(pool.map(start, range(attempts)))

    started = [o for o in outcomes if not o.startswith("refused:")]
    refused = [o for o in outcomes if o.startswith("refused:")]
    assert len(started) == ACTIVE_LIMIT, outcomes
    assert len(refused) == attempts - ACTIVE_LIMIT
    assert all(o.startswith(f"refused:RESOURCE_EXHAUSTED:You already have {ACTIVE_LIMIT} jobs") for o in refused)

    # Ending one job frees its slot at once. (Small jobs are planned by their trigger, so its
    # one item may already be running: it then stops early, counts as done, and the job ends
    # completed rather than cancelled. Either way it has ended.)
    client.call("cancel_job", {"job_id": started[0]}, user.id_token)
    assert client.watch_job(started[0], timeout=120)[0]["status"] in ("cancelled", "completed")
    started.append(start_selftest(user, items=1))
    for job_id in started:
        client.call("cancel_job", {"job_id": job_id}, user.id_token)
    for job_id in started:
        assert client.watch_job(job_id, timeout=120)[0]["status"] in ("cancelled", "completed")
