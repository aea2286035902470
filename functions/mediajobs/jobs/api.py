"""The `start_job` and `cancel_job` callables: authentication, validation, clear errors."""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

import pydantic
from firebase_functions import https_fn, logger

from mediajobs import cloud
from mediajobs.jobs import outbox, slots, state, store
from mediajobs.jobs.budget import budget_guard
from mediajobs.jobs.docstore import DocStore, Guard, Transaction, Write
from mediajobs.jobs.kinds import JobFailed, get_kind, known_types
from mediajobs.jobs.models import Job, JobStatus, new_job_document
from mediajobs.jobs.notify.models import NotifySettings
from mediajobs.jobs.notify.options import checked_notify
from mediajobs.jobs.validate import validated
from mediajobs.validation import StrictModel, describe

Code = https_fn.FunctionsErrorCode
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
    job_id, document = prepare_job(caller, job_type, input, options, job_id)
    if (notify_field := checked_notify(notify, caller.uid)) is not None:
        document["notify"] = notify_field
    kind = get_kind(job_type)  # known: prepare_job refused unknown types
    guard = kind.creation_guard(job_id, document["input"]) if kind is not None else None
    create_job_in_slot(caller.uid, job_id, document, guard)
    logger.info("job queued", job_id=job_id, type=job_type, owner_uid=caller.uid)
    return job_id


def prepare_job(
    caller: CallerInfo, job_type: str, input: dict[str, Any], options: dict[str, Any], job_id: str | None = None
) -> tuple[str, dict[str, Any]]:
    """The id and document of a new job, validated and allowed; not written yet."""
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
    job_id = str(cloud.db().collection("jobs").document(job_id).id)
    document = new_job_document(
        job_type=job_type,
        owner_uid=caller.uid,
        input=valid_input.model_dump(mode="json", exclude_none=True),
        options=valid_options.model_dump(mode="json"),
    )
    return job_id, state.queued_job(document)


def create_job_in_slot(uid: str, job_id: str, document: dict[str, Any], guard: Guard | None = None) -> None:
    """Creates the job if `uid` has a free slot, else raises resource-exhausted (jobs/slots.py).
    `guard` runs on every attempt: it may refuse (raise) or add conditional writes. A job that
    pays for generations (as its kind declares) is charged to the user's daily budget in the
    same commit (jobs/budget.py)."""
    charge = budget_guard(uid, str(document.get("type", "")), dict(document.get("input") or {}))

    def writes(docs: DocStore) -> list[Write]:
        return [
            *(guard(docs) if guard is not None else ()),
            *(charge(docs) if charge is not None else ()),
            Write(store.job_path(job_id), document, "create"),
        ]

    slots.admit(store.docs(), uid, job_id, also=writes)


def reserve_job_slot(uid: str) -> str:
    """A new job id that holds one of `uid`'s slots (resource-exhausted at the cap) until a job
    is created with it (`create_job(..., job_id=)`), it is released, or slots.RESERVATION ends:
    an upload takes its slot before it stores a byte."""
    job_id = str(cloud.db().collection("jobs").document().id)
    slots.admit(store.docs(), uid, job_id, reserve=True)
    return job_id


def release_job_slot(uid: str, job_id: str) -> None:
    """Gives a reserved slot back (the upload that reserved it was refused)."""
    slots.release(store.docs(), uid, job_id)


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
    from mediajobs.jobs.announce import announce_end, notify_change

    if ended:
        announce_end(job_id, job_type)
    else:
        notify_change(job_id, job_type)
    return status
