"""The task queue table: deadlines, timeouts and leases fit together, and every kind's queue
is a function that main.py declares with its row's options."""

from __future__ import annotations

import importlib
from typing import Any

import pytest

from mediajobs.jobs import kinds, queues


@pytest.mark.parametrize("queue", list(queues.QUEUES.values()), ids=list(queues.QUEUES))
def test_a_queues_deadline_timeout_and_lease_fit_together(queue: queues.TaskQueue) -> None:
    assert 15 <= queue.dispatch_deadline_s <= queue.timeout_s <= queues.MAX_TASK_SECONDS
    assert "_" not in queue.name  # Cloud Tasks queue ids
    # A lease is renewed several times before it could run out, and far inside the deadline.
    assert queue.renew_every.total_seconds() * 3 <= queue.lease_s
    assert queue.renew_every.total_seconds() * 2 <= queue.dispatch_deadline_s


def test_every_kinds_queue_is_a_declared_task_function_with_its_rows_options() -> None:
    main = importlib.import_module("main")
    for job_type in kinds.known_types():
        kind = kinds.get_kind(job_type)
        assert kind is not None
        row = queues.queue_named(kind.queue)
        function = getattr(main, row.name, None)
        assert function is not None, f"{job_type}: queue {row.name} is not a function in main.py"
        endpoint = function.__firebase_endpoint__
        assert endpoint.taskQueueTrigger is not None, f"{row.name} is not a task queue function"
        assert endpoint.timeoutSeconds == row.timeout_s
    for row in queues.QUEUES.values():
        assert getattr(main, row.name, None) is not None, f"queue {row.name} has no function in main.py"


def test_a_task_is_enqueued_with_its_queues_dispatch_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    from mediajobs import cloud

    sent: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
    monkeypatch.setattr(cloud, "enqueue", lambda queue, data, **options: sent.append((queue, data, options)))
    queues.enqueue("jobplan", {"job_id": "j1"}, task_id="j1-plan", delay_seconds=5)
    assert sent == [
        (
            "jobplan",
            {"job_id": "j1"},
            {"dispatch_deadline_seconds": queues.PLAN.dispatch_deadline_s, "task_id": "j1-plan", "delay_seconds": 5},
        )
    ]
