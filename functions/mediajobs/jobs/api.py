"""The `start_job` and `cancel_job` callables: authentication, validation, clear errors."""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

import pydantic
from firebase_functions import https_fn, logger
from google.cloud import firestore as gfs

from mediajobs import config, platform
from mediajobs.jobs import store
from mediajobs.jobs.engine import validated
from mediajobs.jobs.kinds import JobFailed, get_kind, known_types
from mediajobs.jobs.models import Job, new_job_document
from mediajobs.validation import StrictModel, describe

Code = https_fn.FunctionsErrorCode
ACTIVE_STATUSES = ["queued", "processing"]
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


class CancelJobRequest(StrictModel):
    job_id: str = pydantic.Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_-]+$")


def start_job(req: https_fn.CallableRequest[Any]) -> dict[str, str]:
    caller = caller_of(req)
    request = parse(StartJobRequest, req.data)
    return {"job_id": create_job(caller, request.type, request.input, request.options)}


def create_job(caller: CallerInfo, job_type: str, input: dict[str, Any], options: dict[str, Any]) -> str:
    """Validates and queues a job for `caller`; HttpsError with a clear message otherwise."""
    ref, document = prepare_job(caller, job_type, input, options)
    ref.create(document)
    logger.info("job queued", job_id=ref.id, type=job_type, owner_uid=caller.uid)
    return str(ref.id)


def prepare_job(
    caller: CallerInfo, job_type: str, input: dict[str, Any], options: dict[str, Any]
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
        raise https_fn.HttpsError(Code.INVALID_ARGUMENT, failure.message) from None
    if denial := kind.input_denial(caller, valid_input, valid_options):
        raise https_fn.HttpsError(Code.PERMISSION_DENIED, denial)
    _check_active_jobs(caller.uid)
    ref = platform.db().collection("jobs").document()
    document = new_job_document(
        job_type=job_type,
        owner_uid=caller.uid,
        input=valid_input.model_dump(mode="json", exclude_none=True),
        options=valid_options.model_dump(mode="json"),
    )
    return ref, {**document, "created_at": gfs.SERVER_TIMESTAMP, "updated_at": gfs.SERVER_TIMESTAMP}


def _check_active_jobs(uid: str) -> None:
    limit = config.MAX_ACTIVE_JOBS_PER_USER.value
    query: Any = (
        platform.db()
        .collection("jobs")
        .where(filter=gfs.FieldFilter("owner_uid", "==", uid))
        .where(filter=gfs.FieldFilter("status", "in", ACTIVE_STATUSES))
        .count()
    )
    count = int(query.get()[0][0].value)
    if count >= limit:
        raise https_fn.HttpsError(
            Code.RESOURCE_EXHAUSTED,
            f"You already have {count} jobs queued or running (the limit is {limit}); "
            "wait for one to finish or cancel one.",
        )


def cancel_job(req: https_fn.CallableRequest[Any]) -> dict[str, str]:
    caller = caller_of(req)
    request = parse(CancelJobRequest, req.data)

    @gfs.transactional
    def cancel(transaction: gfs.Transaction) -> tuple[str, str]:
        ref = store.job_ref(request.job_id)
        snapshot = ref.get(transaction=transaction)
        data = snapshot.to_dict() or {}
        if not snapshot.exists or (data.get("owner_uid") != caller.uid and not caller.is_admin):
            raise https_fn.HttpsError(
                Code.PERMISSION_DENIED, f"Job {request.job_id} does not exist or is not yours to cancel."
            )
        status, job_type = str(data.get("status")), str(data.get("type", ""))
        if status == "queued":
            transaction.update(
                ref,
                {
                    "status": "cancelled",
                    "cancel_requested": True,
                    "result": {},
                    "finished_at": gfs.SERVER_TIMESTAMP,
                    "updated_at": gfs.SERVER_TIMESTAMP,
                },
            )
            return "cancelled", job_type
        if status == "processing" and not data.get("cancel_requested"):
            transaction.update(ref, {"cancel_requested": True, "updated_at": gfs.SERVER_TIMESTAMP})
        return status, job_type

    status, job_type = cancel(platform.db().transaction())
    from mediajobs.jobs.engine import notify_change

    notify_change(request.job_id, job_type)
    logger.info("job cancel requested", job_id=request.job_id, by=caller.uid, status=status)
    return {"status": status}
