"""`selftest` jobs: N items that sleep, square their index, and fail or crash on request."""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from typing import Annotated, Any, ClassVar

import pydantic
from google.cloud import firestore as gfs

from mediajobs import config
from mediajobs.jobs import store
from mediajobs.jobs.kinds import (
    Caller,
    Item,
    ItemContext,
    ItemFailed,
    ItemSpec,
    JobKind,
    Outcome,
    Summary,
    TransientError,
)
from mediajobs.jobs.models import ErrorInfo, Job
from mediajobs.validation import StrictModel

MAX_ITEMS = 20_000  # the engine bench runs 20,000
# What an SDK's exception text can carry (a bucket, a service account): the faults below quote
# it, so tests can check that it reaches the log and never a client.
INTERNAL_DETAIL = "gs://selftest-private-bucket (svc-selftest@demo.iam.gserviceaccount.com)"
QUICK_PLAN_MAX_ITEMS = 500  # planned by the start trigger; bigger ones exercise the plan task
ItemIndex = Annotated[int, pydantic.Field(ge=0, lt=MAX_ITEMS)]  # bounded: Firestore stores int64


class SelftestInput(StrictModel):
    items: int = pydantic.Field(default=10, ge=0, le=MAX_ITEMS)
    sleep_ms: int = pydantic.Field(default=0, ge=0, le=120_000)
    fail_items: list[ItemIndex] = pydantic.Field(default_factory=list, max_length=MAX_ITEMS)
    """Items that raise an unexpected exception (the engine must fail them alone)."""
    reject_items: list[ItemIndex] = pydantic.Field(default_factory=list, max_length=MAX_ITEMS)
    """Items that fail with a clear, expected error (ItemFailed)."""
    crash_items: list[ItemIndex] = pydantic.Field(default_factory=list, max_length=MAX_ITEMS)
    """Items whose first attempt kills the worker process (fault tests)."""
    transient_items: list[ItemIndex] = pydantic.Field(default_factory=list, max_length=MAX_ITEMS)
    """Items whose every attempt raises a transient error (Storage unreachable, say)."""
    fail_finalize: bool = False
    """Finalize raises an unexpected exception (the job must still end, as `internal`)."""
    engine_only: bool = False
    """Items do nothing of their own (no run counter) and finalize reads no item: what the
    engine alone costs per item (the engine bench)."""
    label_bytes: int = pydantic.Field(default=0, ge=0, le=100_000)
    """Pads every item's label (and so its error messages) to this many bytes, as hostile file
    names do."""


class SelftestOptions(StrictModel):
    pass


class SelftestJob(JobKind):
    job_type: ClassVar[str] = "selftest"
    Input = SelftestInput
    Options = SelftestOptions
    queue: ClassVar[str] = "selftestitems"
    chunk_size: ClassVar[int] = 5

    def denial(self, caller: Caller) -> str | None:
        if not config.SELFTEST_JOBS_ENABLED.value:
            return "The 'selftest' job type is disabled in this project (param SELFTEST_JOBS_ENABLED)."
        return None

    def plans_quickly(self, input: SelftestInput) -> bool:
        return input.items <= QUICK_PLAN_MAX_ITEMS

    def plan(self, job: Job, input: SelftestInput, options: SelftestOptions) -> Iterable[ItemSpec]:
        for index in range(input.items):
            label = f"item {index}"
            if input.label_bytes:
                label = f"{label} ".ljust(input.label_bytes, "x")
            yield ItemSpec(id=f"item-{index:05d}", label=label, payload={"index": index})

    def process_item(
        self, ctx: ItemContext, item: Item, input: SelftestInput, options: SelftestOptions
    ) -> dict[str, Any]:
        index = int(item.payload["index"])
        runs = store.job_ref(ctx.job.id).collection("selftest_runs").document(item.id)
        if not input.engine_only:
            runs.set({"count": gfs.Increment(1), "expire_at": store.expires_at()}, merge=True)  # tests count runs
        if index in input.crash_items and item.attempt == 1:
            os._exit(17)  # a worker dying mid-item, as a fault test asks
        deadline = time.monotonic() + input.sleep_ms / 1000
        while time.monotonic() < deadline:
            if ctx.cancelled():
                break  # an item boundary is near enough; it still counts as done
            time.sleep(min(0.05, max(0.0, deadline - time.monotonic())))
            ctx.heartbeat()
        if index in input.fail_items:
            raise RuntimeError(f"item {index} was asked to fail: {INTERNAL_DETAIL}")
        if index in input.transient_items:
            raise TransientError(f"item {index} cannot reach {INTERNAL_DETAIL}")
        if index in input.reject_items:
            named = f" ({item.label})" if input.label_bytes else ""
            raise ItemFailed("rejected", f"Item {index}{named} was asked to be rejected.")
        return {"index": index, "square": index * index}

    def finalize(self, job: Job, summary: Summary) -> Outcome:
        input = SelftestInput.model_validate(job.input)
        if input.fail_finalize:
            raise RuntimeError(f"finalize was asked to fail: {INTERNAL_DETAIL}")
        if input.engine_only:
            return super().finalize(job, summary)
        squares = sum(int((r.result or {}).get("square", 0)) for r in summary.items() if r.status == "done")
        result = {"sum_of_squares": squares, "succeeded": summary.done, "failed": summary.failed}
        if summary.total and not summary.done and summary.failed:
            return Outcome(result, ErrorInfo(code="all-items-failed", message="Every item failed; see errors."))
        return Outcome(result)
