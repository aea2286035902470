"""Every Cloud Tasks queue of the engine, in one table that `main.py` and the engine both read.

A queue is a task-queue function. Its row fixes what Cloud Tasks and Cloud Run give a task
(memory, CPU, requests per instance, retries, function timeout), the dispatch deadline set on
every task enqueued to it, and the lease of an item (or plan) claimed by one of its tasks.

How the numbers fit together (checked by tests/unit/test_queues.py):
- dispatch deadline <= function timeout <= 1800 s (Cloud Tasks' ceiling for HTTP targets): a
  task is redelivered only after the function could no longer be running it (or, where the
  deadline is shorter than the timeout, the redelivery finds the live lease and waits).
- a lease is renewed every `lease / 3` while its work runs (a keeper thread, independent of
  the kind's own heartbeats), far inside the dispatch deadline; a worker that died stops
  renewing, and its item can be taken over one lease later.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from firebase_functions import options, params

from mediajobs import config

MAX_TASK_SECONDS = 1800  # Cloud Tasks' longest dispatch deadline for HTTP targets


@dataclasses.dataclass(frozen=True)
class TaskQueue:
    name: str  # the task-queue function's name (Cloud Tasks queue ids allow no "_")
    timeout_s: int  # the function's timeout
    dispatch_deadline_s: int  # set on every task: Cloud Tasks redelivers after this
    lease_s: int  # how long a claim holds without renewal
    memory: options.MemoryOption | None = None
    cpu: int | None = None
    concurrency: int | None = None  # requests served at once by one instance
    max_dispatches: params.IntParam | int = 100  # tasks running at once, over all instances
    max_attempts: int = 20
    min_backoff_s: int = 1
    max_backoff_s: int = 60

    @property
    def lease(self) -> dt.timedelta:
        return dt.timedelta(seconds=self.lease_s)

    @property
    def renew_every(self) -> dt.timedelta:
        return dt.timedelta(seconds=self.lease_s / 3)

    def function_options(self) -> dict[str, Any]:
        """Keyword arguments of `tasks_fn.on_task_dispatched` for this queue."""
        declared: dict[str, Any] = {
            "retry_config": options.RetryConfig(
                max_attempts=self.max_attempts,
                min_backoff_seconds=self.min_backoff_s,
                max_backoff_seconds=self.max_backoff_s,
            ),
            "rate_limits": options.RateLimits(max_concurrent_dispatches=self.max_dispatches),
            "timeout_sec": self.timeout_s,
        }
        if self.memory is not None:
            declared["memory"] = self.memory
        if self.cpu is not None:
            declared["cpu"] = self.cpu
        if self.concurrency is not None:
            declared["concurrency"] = self.concurrency
        return declared


PLAN = TaskQueue(
    name="jobplan",
    timeout_s=MAX_TASK_SECONDS,  # planning a huge job writes and enqueues for a long time
    dispatch_deadline_s=MAX_TASK_SECONDS,
    lease_s=120,
    memory=options.MemoryOption.GB_1,  # a ZIP's central directory, one entry streamed at a time
    max_dispatches=20,
    max_attempts=10,
)
GENERIC_ITEMS = TaskQueue(
    name="jobitems",
    timeout_s=540,
    dispatch_deadline_s=540,
    lease_s=120,
    memory=options.MemoryOption.GB_1,
    max_dispatches=config.ITEM_QUEUE_MAX_CONCURRENCY,
)
SELFTEST_ITEMS = TaskQueue(
    # Engine tests: a dispatch deadline well under the timeout, so that a slow item outlives
    # its task's delivery and a redelivery meets a live lease.
    name="selftestitems",
    timeout_s=300,
    dispatch_deadline_s=30,
    lease_s=10,
    max_dispatches=config.ITEM_QUEUE_MAX_CONCURRENCY,
)
EXPORT_ITEMS = TaskQueue(
    name="exportitems",
    timeout_s=MAX_TASK_SECONDS,
    dispatch_deadline_s=MAX_TASK_SECONDS,
    lease_s=120,
    memory=options.MemoryOption.GB_1,
    cpu=1,
    concurrency=8,  # I/O-bound; a user's archive holds at most ~40 MB in memory at once
    max_dispatches=config.EXPORT_QUEUE_MAX_CONCURRENCY,
    min_backoff_s=2,
    max_backoff_s=120,
)
PHOTO_ITEMS = TaskQueue(
    name="photoitems",
    timeout_s=MAX_TASK_SECONDS,
    dispatch_deadline_s=MAX_TASK_SECONDS,
    lease_s=120,
    memory=options.MemoryOption.GB_2,
    cpu=2,
    concurrency=1,  # the model uses both CPUs; a second chunk would only slow both
    max_dispatches=config.PHOTO_QUEUE_MAX_CONCURRENCY,
    min_backoff_s=2,
    max_backoff_s=120,
)
VIDEO_ITEMS = TaskQueue(
    name="videoitems",
    timeout_s=MAX_TASK_SECONDS,
    dispatch_deadline_s=MAX_TASK_SECONDS,
    lease_s=120,
    memory=options.MemoryOption.GB_8,  # the source and a rendition in /tmp (memory): docs/SCALING.md
    cpu=2,
    concurrency=1,  # ffmpeg uses both CPUs and the temp disk (which is memory here)
    max_dispatches=config.VIDEO_QUEUE_MAX_CONCURRENCY,
    max_attempts=5,
    min_backoff_s=10,
    max_backoff_s=300,
)
SCENE_ITEMS = TaskQueue(
    name="sceneitems",
    timeout_s=MAX_TASK_SECONDS,
    dispatch_deadline_s=MAX_TASK_SECONDS,
    lease_s=120,
    memory=options.MemoryOption.GB_2,  # outputs are streamed, but up to 10 at once (video: 200 MiB cap)
    cpu=1,
    concurrency=10,  # mostly waiting on the provider
    max_dispatches=config.SCENE_QUEUE_MAX_CONCURRENCY,
    max_attempts=10,
    min_backoff_s=5,
    max_backoff_s=300,
)

JOB_EVENTS = TaskQueue(
    # Publishes a job's staged lifecycle event (jobs/outbox.py): retried with backoff for days.
    name="jobevents",
    timeout_s=60,
    dispatch_deadline_s=60,
    lease_s=60,
    memory=options.MemoryOption.MB_256,
    max_dispatches=20,
    max_attempts=100,  # 5 s doubling to an hour, then hourly: about four days in all
    min_backoff_s=5,
    max_backoff_s=3600,
)
JOB_WEBHOOKS = TaskQueue(
    # One signed delivery of a job's event to its owner's webhook (jobs/notify/): a 10 s POST.
    name="jobwebhooks",
    timeout_s=60,
    dispatch_deadline_s=60,
    lease_s=60,
    memory=options.MemoryOption.MB_256,
    max_dispatches=50,
    max_attempts=40,  # 2 s doubling to an hour (about 68 minutes in all), then hourly: about 30 hours
    min_backoff_s=2,
    max_backoff_s=3600,
)
JOB_NOTICES = TaskQueue(
    # One push (FCM) or email (a `mail` document) of a job's event to its owner (jobs/notify/).
    name="jobnotices",
    timeout_s=60,
    dispatch_deadline_s=60,
    lease_s=60,
    memory=options.MemoryOption.MB_256,
    max_dispatches=50,
    max_attempts=12,  # 5 s doubling to 10 minutes: about an hour; a late push is noise
    min_backoff_s=5,
    max_backoff_s=600,
)

QUEUES: dict[str, TaskQueue] = {
    queue.name: queue
    for queue in (
        PLAN,
        GENERIC_ITEMS,
        SELFTEST_ITEMS,
        EXPORT_ITEMS,
        PHOTO_ITEMS,
        VIDEO_ITEMS,
        SCENE_ITEMS,
        JOB_EVENTS,
        JOB_WEBHOOKS,
        JOB_NOTICES,
    )
}


def queue_named(name: str) -> TaskQueue:
    """The row of a queue; KeyError for a name that no function declares."""
    return QUEUES[name]


def enqueue(queue: str, data: dict[str, Any], task_id: str | None = None, delay_seconds: int | None = None) -> None:
    """Adds a task for the task-queue function `queue` (a row of this table), with the row's
    dispatch deadline; a task id already used is a no-op."""
    from mediajobs import cloud  # firebase_admin: not at import of main.py

    deadline = queue_named(queue).dispatch_deadline_s
    cloud.enqueue(queue, data, dispatch_deadline_seconds=deadline, task_id=task_id, delay_seconds=delay_seconds)
