"""Injected faults that fit `make test`'s time, on the real local stack.

The slower ones (Storage down mid-export, temp disk filling, a hung provider) need a stack of
their own and live in tests/faults (`make test-faults`). A trigger event delivered three times
is tested in test_job_engine.py.
"""

from __future__ import annotations

import time

from mediajobs.cli import client
from mediajobs.jobs import store
from tests.integration.jobs_helpers import items_of, runs_of, start_selftest


def test_a_worker_killed_in_the_middle_of_an_item_is_retried_and_the_item_is_done_once(user: client.User) -> None:
    # Item 3's first attempt ends its worker process with os._exit(17) after recording that it
    # ran: no exception, no reply, no cleanup. Cloud Tasks retries the chunk; the retry finds the
    # item leased, waits for the lease (20 s for selftest) to run out and then takes it over.
    started = time.monotonic()
    job_id = start_selftest(user, items=10, sleep_ms=100, crash_items=[3])

    final, _ = client.watch_job(job_id, timeout=300)

    assert final["status"] == "completed", final
    assert final["progress"] == {"total": 10, "done": 10, "failed": 0, "percent": 100}
    assert final["result"] == {"succeeded": 10, "failed": 0, "sum_of_squares": sum(i * i for i in range(10))}
    assert final["error"] is None and final["errors"] == []
    # Executed twice (the killed attempt and the retry), settled and counted once.
    assert runs_of(job_id) == {f"item-{i:05d}": 2 if i == 3 else 1 for i in range(10)}
    items = items_of(job_id)
    assert items["item-00003"]["status"] == "done" and items["item-00003"]["attempts"] == 2
    assert items["item-00003"]["result"] == {"index": 3, "square": 9}
    assert {item_id: item["attempts"] for item_id, item in items.items() if item_id != "item-00003"} == {
        f"item-{i:05d}": 1 for i in range(10) if i != 3
    }
    counts = store.read_counts(job_id)
    assert (counts.done, counts.failed, counts.cancelled) == (10, 0, 0)
    assert time.monotonic() - started < 180, "the retry took far longer than the item lease"
