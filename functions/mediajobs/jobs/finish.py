"""Ending a job, exactly once: finalize (claimed with a lease) asks the kind for the result
and sets the final status; fail_job ends a job that cannot go on."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from firebase_functions import logger

from mediajobs import incidents, logs
from mediajobs.jobs import item_state, outbox, state, store
from mediajobs.jobs.announce import announce_end
from mediajobs.jobs.docstore import TooLarge, Transaction, Write
from mediajobs.jobs.kinds import ItemRecord, JobFailed, Outcome, Summary, kind_of
from mediajobs.jobs.leases import claim_finalize, finalize_lease_keeper, release_finalize
from mediajobs.jobs.models import (
    MAX_RESULT_BYTES,
    ErrorInfo,
    ItemDoc,
    JobStatus,
    bounded_errors,
    compact_result,
    json_bytes,
)
from mediajobs.jobs.progress import first_item_errors
from mediajobs.jobs.transient import TRANSIENT_ERRORS


def fail_job(job_id: str, error: ErrorInfo) -> None:
    """Ends a job that is not already ended as failed, keeping whatever it produced."""
    path = store.job_path(job_id)

    def end(transaction: Transaction) -> str | None:
        data = transaction.get(path).data
        fields = state.failed_job(data, error)
        if data is None or fields is None:
            return None
        outbox.stage(transaction, job_id, data, JobStatus.FAILED)
        transaction.write(Write(path, fields))
        return str(data.get("type", ""))

    job_type = store.docs().run(end)
    if job_type is not None:
        announce_end(job_id, job_type)


def finalize_job(job_id: str, stalled: ErrorInfo | None = None) -> bool:
    """Sums the job up and ends it, exactly once. `stalled` ends it as failed with that error.

    False when it was already finalized; FinalizeBusy while another worker is at it (the
    caller's task is retried, so the job ends even if that worker dies). A failure here gives
    the lease up at once, so the retry need not wait for it."""
    if not claim_finalize(job_id):
        return False
    try:
        return _finalize_claimed(job_id, stalled)
    except BaseException:
        try:
            release_finalize(job_id)
        except Exception as error:  # noqa: BLE001 - the lease then runs out by itself
            logger.warn("could not release the finalize lease", job_id=job_id, error=repr(error))
        raise


def _finalize_claimed(job_id: str, stalled: ErrorInfo | None) -> bool:
    job, plan = store.load_job_and_plan(job_id)
    if job is None:
        return False
    if job.terminal:  # ended by fail_job: nothing to sum up, and no later caller need wait
        store.docs().commit(
            [Write(store.engine_path(job_id, "finalize"), item_state.finalize_done(store.expires_at()))]
        )
        return False
    counts = store.read_counts(job_id, plan.known_shards)
    total = max(job.progress.total, plan.total)
    summary = Summary(
        total=total,
        done=counts.done,
        failed=counts.failed,
        cancelled=counts.cancelled,
        items=lambda: _settled_items(job_id, plan.item_ids),
    )
    try:
        with finalize_lease_keeper(job_id):
            outcome = kind_of(job).finalize(job, summary)
    except JobFailed as failure:
        outcome = Outcome({}, ErrorInfo(code=failure.code, message=failure.message))
    except TRANSIENT_ERRORS:
        raise
    except Exception as error:  # noqa: BLE001 - the job must still end
        incident_id = incidents.new_incident_id()
        logs.log_failure("finalize raised", error, job_id=job_id, job_type=job.type, incident_id=incident_id)
        message = "The job's results could not be summed up; report it with the job id"
        outcome = Outcome({}, ErrorInfo.incident("internal", message, incident_id))

    status, error_info = final_status(
        stalled=stalled,
        cancelled=counts.cancelled,
        cancel_requested=job.cancel_requested,
        total=total,
        kind_error=outcome.error,
    )
    fields = state.ended(
        job,
        status,
        total=total,
        done=counts.done,
        failed=counts.failed,
        result=_bounded_result(job_id, outcome.result),
        error=error_info,
        errors=bounded_errors(first_item_errors(job_id)) if counts.failed else [],
    )
    ended = _end(job_id, status, fields)
    if ended:
        announce_end(job_id, job.type)
    logger.info("job finished", job_id=job_id, status=status.value, done=counts.done, failed=counts.failed)
    return ended


def final_status(
    *, stalled: ErrorInfo | None, cancelled: int, cancel_requested: bool, total: int, kind_error: ErrorInfo | None
) -> tuple[JobStatus, ErrorInfo | None]:
    """How a job ends: stalled ones fail; any cancelled item (or a cancelled empty job) makes it
    cancelled; otherwise the kind's verdict decides between failed and completed."""
    if stalled is not None:
        return JobStatus.FAILED, stalled
    if cancelled > 0 or (cancel_requested and total == 0):
        return JobStatus.CANCELLED, None
    if kind_error is not None:
        return JobStatus.FAILED, kind_error
    return JobStatus.COMPLETED, None


def _bounded_result(job_id: str, result: dict[str, Any]) -> dict[str, Any]:
    size = json_bytes(result)
    if size <= MAX_RESULT_BYTES:
        return result
    logger.error("job result too large; only its small fields are recorded", job_id=job_id, bytes=size)
    return compact_result(result)


def _end(job_id: str, status: JobStatus, fields: dict[str, Any]) -> bool:
    """Writes the job's end (if it is still processing), stages its event and marks finalize
    done, in one transaction; a write refused for size is made smaller (`state.smaller`)."""
    path = store.job_path(job_id)

    def end(transaction: Transaction) -> bool:
        data = transaction.get(path).data
        if data is None or not state.may_end(data):
            return False
        outbox.stage(transaction, job_id, data, status)
        transaction.write(Write(path, fields))
        done = item_state.finalize_done(store.expires_at())
        transaction.write(Write(store.engine_path(job_id, "finalize"), done, "merge"))
        return True

    while True:
        try:
            return store.docs().run(end)
        except TooLarge as error:
            smaller = state.smaller(fields)
            if smaller is None:
                raise
            logger.warn("job end too large; writing less", job_id=job_id, error=str(error)[:300])
            fields = smaller


def _settled_items(job_id: str, item_ids: list[str] | None) -> Iterator[ItemRecord]:
    """Every item of the job in id order: by id when the plan listed them (a small job), else a
    page of 500 at a time."""
    found: Iterable[tuple[str, dict[str, Any]]]
    if item_ids is None:
        found = ((snap.id, snap.to_dict() or {}) for snap in store.paged(store.items_ref(job_id), page_size=500))
    else:
        snapshots = store.docs().get_many([store.item_path(job_id, item_id) for item_id in item_ids])
        found = sorted(((s.path.rsplit("/", 1)[-1], s.to_dict()) for s in snapshots if s.exists), key=lambda f: f[0])
    for item_id, data in found:
        item = ItemDoc.model_validate(data)
        yield ItemRecord(
            id=item_id, label=item.label or item_id, status=item.status, result=item.result, error=item.error
        )
