"""The job engine: job documents, start/cancel, fan-out over Cloud Tasks, progress, completion.

The job lifecycle, one module per stage:

    queued --(start: trigger, claimed in a transaction)--> processing --(plan task)--> items
    items --(items: tasks, each item claimed with a lease)--> settled --(last one)--> finish
    finish --(claimed with a lease)--> completed | failed | cancelled

- `start`: validate a queued job, claim it once, schedule (or do) its planning.
- `plan`: write the kind's items and enqueue them in chunks; hand over when out of time.
- `items`: run a chunk of items; `leases`: the claim/settle protocol and its leases.
- `progress`: throttled progress and heartbeat on the job document.
- `finish`: finalize once, or fail a job; `announce`: what follows a job write.
- `state`: every change to the engine's records, as pure transitions; `docstore`: where they
  are applied (Firestore, or in memory for unit tests); `slots`, `budget`: admission.

Every step is safe to run twice: duplicate events, retried tasks and a killed worker only
repeat work whose outcome is recorded exactly once.
"""
