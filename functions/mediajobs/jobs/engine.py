"""The job lifecycle, one module per stage; this module names the entry points.

    queued --(start: trigger, claimed in a transaction)--> processing --(plan task)--> items
    items --(items: tasks, each item claimed with a lease)--> settled --(last one)--> finish
    finish --(claimed with a lease)--> completed | failed | cancelled

- `start`: validate a queued job, claim it once, schedule (or do) its planning.
- `plan`: write the kind's items and enqueue them in chunks; hand over when out of time.
- `items`: run a chunk of items; `leases`: the claim/settle protocol and its leases.
- `progress`: throttled progress and heartbeat on the job document.
- `finish`: finalize once, or fail a job; `changes`: what follows a job write.

Every step is safe to run twice: duplicate events, retried tasks and a killed worker only
repeat work whose outcome is recorded exactly once.
"""

from mediajobs.jobs.changes import notify_change
from mediajobs.jobs.finish import fail_job, finalize_job
from mediajobs.jobs.items import run_items
from mediajobs.jobs.plan import PlanBusy, batched, plan_job
from mediajobs.jobs.start import start_job
from mediajobs.jobs.validate import validated

__all__ = [
    "PlanBusy",
    "batched",
    "fail_job",
    "finalize_job",
    "notify_change",
    "plan_job",
    "run_items",
    "start_job",
    "validated",
]
