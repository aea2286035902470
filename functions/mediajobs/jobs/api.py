"""The `start_job` and `cancel_job` callables: authentication, validation, clear errors."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
import time
from collections.abc import Callable
from typing import Any, TypeVar

import pydantic
from firebase_functions import https_fn, logger
from google.api_core import exceptions as gexc
from google.cloud import firestore as gfs

from mediajobs import config, platform
from mediajobs.jobs import outbox, state, store
from mediajobs.jobs.budget import budget_guard
from mediajobs.jobs.docstore import Transaction, Write
from mediajobs.jobs.engine import validated
from mediajobs.jobs.kinds import JobFailed, get_kind, known_types
from mediajobs.jobs.models import ACTIVE_STATUSES, Job, JobStatus, new_job_document
from mediajobs.jobs.notify.models import NotifySettings
from mediajobs.jobs.notify.options import checked_notify
from mediajobs.jobs.store import now
from mediajobs.validation import StrictModel, describe

Code = https_fn.FunctionsErrorCode
SLOTS_COLLECTION = "job_slots"  # job_slots/{uid}: the user's active job ids (functions only)
SLOT_ATTEMPTS = 20  # a burst of one user's starts contends on their slots document
RESERVATION = dt.timedelta(minutes=10)  # a reserved slot (an upload storing its files) holds this long at most
M = TypeVar("M", bound=pydantic.BaseModel)


@dataclasses.dataclass(frozen=True)
class CallerInfo:
    uid: str
    is_admin: bool


def caller_of(req: https_fn.CallableRequest[Any]) -> CallerInfo:
    if req.auth is None or not req.auth.uid:
        raise https_fn.HttpsError(Code.UNAUTHENTICATED, "Sign in first: this function needs a Firebase ID token.")
    return CallerInfo(uid=req.auth.uid, is_admin=req.auth.token.get("admin") is True)


def parse(model: type[M], data: Any) -> M:
    if not isinstance(data, dict):
        raise https_fn.HttpsError(Code.INVALID_ARGUMENT, "The request data must be an object.")
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as error:
        raise https_fn.HttpsError(Code.INVALID_ARGUMENT, describe(error)) from None


class StartJobRequest(StrictModel):
    type: str
    input: dict[str, Any] = {}
    options: dict[str, Any] = {}
    notify: NotifySettings | None = None


class CancelJobRequest(StrictModel):
    job_id: str = pydantic.Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_-]+$")


def start_job(req: https_fn.CallableRequest[Any]) -> dict[str, str]:
    caller = caller_of(req)
    request = parse(StartJobRequest, req.data)
    return {"job_id": create_job(caller, request.type, request.input, request.options, notify=request.notify)}


def create_job(
    caller: CallerInfo,
    job_type: str,
    input: dict[str, Any],
    options: dict[str, Any],
    job_id: str | None = None,
    *,
    notify: NotifySettings | None = None,
) -> str:
    """Validates and queues a job for `caller`; HttpsError with a clear message otherwise.
    `job_id`: the id of a slot reserved with `reserve_job_slot`, which the job then takes.
    `notify`: how the owner is told about the job (its webhook URL is checked here); without
    it, the owner's notification defaults apply."""
    ref, document = prepare_job(caller, job_type, input, options, job_id)
    if (notify_field := checked_notify(notify, caller.uid)) is not None:
        document["notify"] = notify_field
    kind = get_kind(job_type)  # known: prepare_job refused unknown types
    guard = kind.creation_guard(ref.id, document["input"]) if kind is not None else None
    create_job_in_slot(caller.uid, ref, document, guard)
    logger.info("job queued", job_id=ref.id, type=job_type, owner_uid=caller.uid)
    return str(ref.id)


def prepare_job(
    caller: CallerInfo, job_type: str, input: dict[str, Any], options: dict[str, Any], job_id: str | None = None
) -> tuple[Any, dict[str, Any]]:
    """The reference and document of a new job, validated and allowed; not written yet."""
    kind = get_kind(job_type)
    if kind is None:
        raise https_fn.HttpsError(
            Code.INVALID_ARGUMENT,
            f"Unknown job type {job_type!r}; known types: {', '.join(known_types())}.",
        )
    if denial := kind.denial(caller):
        raise https_fn.HttpsError(Code.PERMISSION_DENIED, denial)
    probe = Job(id="new", type=job_type, input=input, options=options)
    try:
        valid_input, valid_options = validated(kind, probe)
    except JobFailed as failure:
        code = Code.RESOURCE_EXHAUSTED if failure.code == "resource-exhausted" else Code.INVALID_ARGUMENT
        raise https_fn.HttpsError(code, failure.message) from None
    if denial := kind.input_denial(caller, valid_input, valid_options):
        raise https_fn.HttpsError(Code.PERMISSION_DENIED, denial)
    ref = platform.db().collection("jobs").document(job_id)
    document = new_job_document(
        job_type=job_type,
        owner_uid=caller.uid,
        input=valid_input.model_dump(mode="json", exclude_none=True),
        options=valid_options.model_dump(mode="json"),
    )
    return ref, {**document, "created_at": gfs.SERVER_TIMESTAMP, "updated_at": gfs.SERVER_TIMESTAMP}


def create_job_in_slot(
    uid: str, ref: Any, document: dict[str, Any], guard: Callable[[Any], None] | None = None
) -> None:
    """Creates the job if `uid` has a free slot, else raises resource-exhausted.

    Optimistic and exact: the user's `job_slots/{uid}` document and the new job are written in
    one batch that only lands if the slots document is unchanged since we read it, so racing
    starts of one user are serialised without holding locks (which, on the emulator as on
    Firestore, make bursts of transactions on one document abort); the losers read again.
    `guard(batch)` runs on every attempt: it may refuse (raise) or add conditional writes.
    A job that pays for generations (as its kind declares) is charged to the user's daily
    budget in the same batch (jobs/budget.py)."""
    charge = budget_guard(uid, str(document.get("type", "")), dict(document.get("input") or {}))

    def writes(batch: Any) -> None:
        if guard is not None:
            guard(batch)
        if charge is not None:
            charge(batch)
        batch.create(ref, document)

    _take_slot(uid, ref.id, writes, reserve=False)


def reserve_job_slot(uid: str) -> str:
    """A new job id that holds one of `uid`'s slots (resource-exhausted at the cap) until a job
    is created with it (`create_job(..., job_id=)`), it is released, or RESERVATION ends:
    an upload takes its slot before it stores a byte."""
    job_id = str(platform.db().collection("jobs").document().id)
    _take_slot(uid, job_id, lambda batch: None, reserve=True)
    return job_id


def release_job_slot(uid: str, job_id: str) -> None:
    """Gives a reserved slot back (the upload that reserved it was refused)."""
    slots = platform.db().collection(SLOTS_COLLECTION).document(uid)
    slots.update({"active": gfs.ArrayRemove([job_id]), f"reserved.{job_id}": gfs.DELETE_FIELD})


def _take_slot(uid: str, job_id: str, writes: Callable[[Any], None], *, reserve: bool) -> None:
    db = platform.db()
    slots = db.collection(SLOTS_COLLECTION).document(uid)
    for _ in range(SLOT_ATTEMPTS):
        snapshot = slots.get()
        fields = _admitted(job_id, snapshot.to_dict() if snapshot.exists else None, reserve=reserve)
        batch = db.batch()
        writes(batch)
        if snapshot.exists:
            batch.update(slots, fields, option=db.write_option(last_update_time=snapshot.update_time))
        else:
            batch.create(slots, fields)
        try:
            batch.commit()
            return
        except (gexc.FailedPrecondition, gexc.Conflict):
            time.sleep(random.uniform(0.02, 0.2))  # another start of this user won the race: look again
    raise https_fn.HttpsError(Code.ABORTED, "Too many jobs are being started at once; try again in a moment.")


def _admitted(job_id: str, slots: dict[str, Any] | None, *, reserve: bool = False) -> dict[str, Any]:
    """The slots document with `job_id` added, or resource-exhausted when the user is at the cap.

    A slot frees itself when its job ends: nothing has to remember to release it. Job statuses
    are plain reads (locking jobs the engine is writing would make starts and running jobs
    abort each other); still exact, since an ended job never becomes active again and one
    that ends after this read only makes the check stricter. A reserved id (no job document
    yet) holds its slot until its reservation ends; the job created with it keeps that slot."""
    limit = config.MAX_ACTIVE_JOBS_PER_USER.value
    listed = [j for j in (slots or {}).get("active") or [] if isinstance(j, str) and j]
    reservations = (slots or {}).get("reserved") or {}
    reserved = {j for j, until in reservations.items() if isinstance(until, dt.datetime) and until > now()}
    refs = [store.job_ref(j) for j in listed]
    statuses = {snap.id: (snap.to_dict() or {}).get("status") for snap in platform.db().get_all(refs)} if refs else {}
    active = [j for j in listed if statuses.get(j) in ACTIVE_STATUSES or (j in reserved and statuses.get(j) is None)]
    held = job_id in active
    if not held and len(active) >= limit:
        raise https_fn.HttpsError(
            Code.RESOURCE_EXHAUSTED,
            f"You already have {len(active)} jobs queued or running (the limit is {limit}); "
            "wait for one to finish or cancel one.",
        )
    still_reserved = {j: reservations[j] for j in active if j in reserved and j != job_id}
    if reserve:
        still_reserved[job_id] = now() + RESERVATION
    return {
        "active": active if held else [*active, job_id],
        "reserved": still_reserved,
        "updated_at": gfs.SERVER_TIMESTAMP,
    }


def cancel_job(req: https_fn.CallableRequest[Any]) -> dict[str, str]:
    caller = caller_of(req)
    request = parse(CancelJobRequest, req.data)
    status = request_cancel(request.job_id, caller)
    logger.info("job cancel requested", job_id=request.job_id, by=caller.uid, status=status)
    return {"status": status}


def request_cancel(job_id: str, caller: CallerInfo) -> str:
    """Cancels a queued job at once and asks a processing one to stop; the job's status after."""
    path = store.job_path(job_id)

    def cancel(transaction: Transaction) -> tuple[str, str, bool]:
        data = transaction.get(path).data
        if data is None or (data.get("owner_uid") != caller.uid and not caller.is_admin):
            raise https_fn.HttpsError(Code.PERMISSION_DENIED, f"Job {job_id} does not exist or is not yours to cancel.")
        status, fields = state.request_cancel(data)
        ended = status == JobStatus.CANCELLED and fields is not None  # by this call
        if ended:
            outbox.stage(transaction, job_id, data, JobStatus.CANCELLED)
        if fields is not None:
            transaction.write(Write(path, fields))
        return str(status), str(data.get("type", "")), ended

    status, job_type, ended = store.docs().run(cancel)
    from mediajobs.jobs.changes import notify_change, notify_ended

    notify_change(job_id, job_type)
    if ended:
        notify_ended(job_id)
    return status
