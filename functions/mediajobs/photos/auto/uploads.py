"""Processing on upload, the Firebase side: a finalized object becomes one photo_batch job of
its preset, once; the job's outputs are copied to users/{uid}/auto-out/{preset}/ when it completes.

    auto_uploads/{key}   key = sha256(bucket/name#generation): the record of one uploaded version
                         {owner_uid, source, generation, preset, job_id, status, error, outputs,
                          created_at, updated_at, expire_at}; its owner reads it (firestore.rules)

The record is created before the job (`create`, which only one delivery of a duplicated event
wins), and the job's id is the key, so one object version starts one job. A start the caps
refuse (too many active jobs) is recorded `refused` with the reason; the backfill retries it.
Outputs carry the metadata filters.OUTPUT_MARKER and live outside the watched folder: they never
start a job.
"""

from __future__ import annotations

import hashlib
from typing import Any

from firebase_functions import https_fn, logger
from google.api_core import exceptions as gexc
from google.cloud import firestore as gfs

from mediajobs import cloud
from mediajobs.jobs import store
from mediajobs.jobs.api import CallerInfo, create_job
from mediajobs.photos.auto import filters
from mediajobs.photos.auto.presets import PRESETS

COLLECTION = "auto_uploads"


class UploadStatus:
    STARTED = "started"
    REFUSED = "refused"
    COMPLETED = "completed"


def key_of(bucket: str, name: str, generation: str | int) -> str:
    return hashlib.sha256(f"{bucket}/{name}#{generation}".encode()).hexdigest()[:40]


def record_ref(key: str) -> Any:
    return cloud.db().collection(COLLECTION).document(key)


def on_object(
    bucket: str,
    name: str,
    *,
    generation: str,
    content_type: str | None,
    size: int,
    metadata: dict[str, str] | None,
    retry_refused: bool = False,
) -> str:
    """Starts the job of one finalized object if the filters take it; what happened, as a word:
    a Skip reason, `started`, `already` (this version has its job) or `refused`."""  # fmt: skip
    found = filters.takes(name, content_type, size, metadata)
    if isinstance(found, filters.Skip):
        if found.reason != "not-watched":
            logger.info("auto upload skipped", path=name, reason=found.reason, detail=found.message)
        return found.reason
    key = key_of(bucket, name, generation)
    if not _claim(key, found, name, str(generation), retry_refused=retry_refused):
        if retry_refused:
            _finish_if_missed(key)
        else:  # another delivery of the same event: counted, so duplicates show
            record_ref(key).update({"duplicate_events": gfs.Increment(1)})
        return "already"
    options = dict(PRESETS[found.preset].options)
    try:
        create_job(CallerInfo(uid=found.uid, is_admin=False), "photo_batch", {"paths": [name]}, options, job_id=key)
    except https_fn.HttpsError as error:
        code = str(error.code.value if hasattr(error.code, "value") else error.code)
        _update(key, {"status": UploadStatus.REFUSED, "error": {"code": code, "message": error.message}})
        logger.warn("auto upload refused", path=name, code=code, message=error.message)
        return UploadStatus.REFUSED
    logger.info("auto upload started", path=name, preset=found.preset, job_id=key)
    return UploadStatus.STARTED


def _claim(key: str, upload: filters.Upload, name: str, generation: str, *, retry_refused: bool) -> bool:
    """Whether this call starts the job: it created the record, or (backfill) took over a refused one."""
    fields: dict[str, Any] = {
        "owner_uid": upload.uid, "source": name, "generation": generation, "preset": upload.preset,
        "job_id": key, "status": UploadStatus.STARTED, "error": None, "outputs": [],
        "updated_at": gfs.SERVER_TIMESTAMP, "expire_at": store.expires_at(),
    }  # fmt: skip
    ref = record_ref(key)
    try:
        ref.create({**fields, "created_at": gfs.SERVER_TIMESTAMP})
        return True
    except (gexc.AlreadyExists, gexc.Conflict):
        if not retry_refused:
            return False
    snapshot = ref.get()
    if (snapshot.to_dict() or {}).get("status") != UploadStatus.REFUSED:
        return False
    try:
        ref.update(fields, option=cloud.db().write_option(last_update_time=snapshot.update_time))
    except (gexc.FailedPrecondition, gexc.Conflict):
        return False  # another backfill took it
    return True


def _finish_if_missed(key: str) -> None:
    """Backfill: a job that completed while its completion event was lost gets its outputs copied."""
    record = record_ref(key).get().to_dict() or {}
    if record.get("status") != UploadStatus.STARTED:
        return
    job = store.job_ref(key).get().to_dict() or {}
    if job.get("status") == "completed":
        copy_outputs(key)


def _update(key: str, fields: dict[str, Any]) -> None:
    record_ref(key).update({**fields, "updated_at": gfs.SERVER_TIMESTAMP})


def copy_outputs(job_id: str) -> list[str]:
    """A completed auto job: each output copied to the auto-out folder (marked), recorded."""
    snapshot = record_ref(job_id).get()
    record = snapshot.to_dict() if snapshot.exists else None
    if record is None:
        return []  # not an auto upload's job
    upload = filters.watched(str(record["source"]))
    if isinstance(upload, filters.Skip):
        return []
    bucket = cloud.bucket()
    copied = []
    for item in store.items_ref(job_id).stream():
        output = ((item.to_dict() or {}).get("result") or {}).get("output_path")
        blob = bucket.get_blob(str(output)) if output else None
        if blob is None:
            continue
        target = filters.output_path(upload, str(output).rsplit(".", 1)[-1])
        copy = bucket.blob(target)  # written once, already marked: its own finalize event is skipped
        copy.metadata = {filters.OUTPUT_MARKER: "true", "mediajobs_source": str(record["source"])}
        copy.upload_from_string(blob.download_as_bytes(), content_type=blob.content_type)
        copied.append(target)
    _update(job_id, {"status": UploadStatus.COMPLETED, "outputs": copied})
    logger.info("auto upload outputs copied", job_id=job_id, outputs=copied)
    return copied


def on_finalized(data: Any) -> str:
    """The Storage trigger's event data (StorageObjectData) -> on_object."""
    return on_object(
        str(data.bucket), str(data.name), generation=str(data.generation), content_type=data.content_type,
        size=int(data.size or 0), metadata=data.metadata,
    )  # fmt: skip
