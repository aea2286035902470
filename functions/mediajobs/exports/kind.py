"""`media_export` jobs: one item per user of `email_users`, one ZIP per user in Storage.

input    {} (every user) | {user_ids: [..]}, and optionally {resume_from: <job_id>}
output   exports/{job_id}/{safe_email}.zip  (images/..., voices/..., manifest.json)
result   {archives, total_files, total_bytes, successful_users, failed_users,
          failed_files, processing_time_seconds, index_path}
"""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Iterable
from typing import IO, Any, ClassVar, cast

import pydantic
from google.api_core import exceptions as gexc

from mediajobs import platform
from mediajobs.exports import sources
from mediajobs.exports.archive import (
    PREFETCH_MAX_BYTES,
    FileError,
    FileProblem,
    Readable,
    SourceFile,
    write_archive,
)
from mediajobs.jobs.kinds import Item, ItemContext, ItemFailed, ItemSpec, JobFailed, JobKind, Outcome, Summary
from mediajobs.jobs.models import ErrorInfo, Job
from mediajobs.jobs.progress import ByteProgress
from mediajobs.jobs.store import now, paged
from mediajobs.names import safe_email
from mediajobs.storage_io import SpillingUpload
from mediajobs.validation import StrictModel

MAX_USER_IDS = 10_000
QUICK_PLAN_MAX_USERS = 500  # a listed export this small is planned by its start trigger
MAX_ARCHIVES_IN_RESULT = 500  # the job document must stay far below Firestore's 1 MiB


class ExportInput(StrictModel):
    user_ids: list[str] | None = pydantic.Field(default=None, min_length=1, max_length=MAX_USER_IDS)
    resume_from: str | None = pydantic.Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,128}$")

    @pydantic.field_validator("user_ids")
    @classmethod
    def ids_are_document_ids(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        bad = [v for v in value if not sources.valid_document_id(v)]
        if bad:
            raise ValueError(f"not document ids: {bad[:5]}")
        return list(dict.fromkeys(value))  # duplicates asked for are exported once


class ExportOptions(StrictModel):
    concurrency: int = pydantic.Field(default=4, ge=1, le=16)
    """How many files of one user are fetched at once."""


class MediaExportJob(JobKind):
    job_type: ClassVar[str] = "media_export"
    Input = ExportInput
    Options = ExportOptions
    admin_only: ClassVar[bool] = True
    queue: ClassVar[str] = "exportitems"
    chunk_size: ClassVar[int] = 2  # two users per task: half the task handling and dispatch per user

    def plans_quickly(self, input: ExportInput) -> bool:
        return input.user_ids is not None and len(input.user_ids) <= QUICK_PLAN_MAX_USERS

    def plan(self, job: Job, input: ExportInput, options: ExportOptions) -> Iterable[ItemSpec]:
        if input.resume_from:
            previous = platform.db().collection("jobs").document(input.resume_from).get()
            if not previous.exists or (previous.to_dict() or {}).get("type") != self.job_type:
                raise JobFailed("not-found", f"resume_from: {input.resume_from} is not a media_export job.")
        users = platform.db().collection("email_users")
        if input.user_ids is not None:
            for user_id in input.user_ids:
                yield ItemSpec(id=user_id, label=user_id, payload={"user_id": user_id})
            return
        for snap in paged(users.select(["email"])):
            email = (snap.to_dict() or {}).get("email")
            label = email if isinstance(email, str) and email else snap.id
            yield ItemSpec(id=snap.id, label=label[:200], payload={"user_id": snap.id})

    def process_item(self, ctx: ItemContext, item: Item, input: ExportInput, options: ExportOptions) -> dict[str, Any]:
        user_id = str(item.payload["user_id"])
        if input.resume_from and (kept := _verified_previous_archive(input.resume_from, user_id)):
            return kept
        db = platform.db()
        try:
            user_snap = db.collection("email_users").document(user_id).get()
            email = sources.email_of(user_id, user_snap.to_dict() if user_snap.exists else None)
            wanted, id_errors = sources.wanted_ids(user_id, user_snap.to_dict() or {})
            user = _collect(user_id, email, wanted, id_errors)
        except sources.UserProblem as problem:
            raise ItemFailed(problem.code, problem.message) from None
        warnings: list[FileError] = []
        try:
            # A first attempt writes blind (only if the name is free): one Storage round trip
            # less per user. A retry, or a name another user took, looks at what is there.
            look = item.attempt > 1
            path, archived, file_errors, blob = _write_user_archive(ctx, user, options, warnings, look=look)
        except gexc.PreconditionFailed:  # the name is taken: by an earlier attempt or another user
            warnings.clear()
            path, archived, file_errors, blob = _write_user_archive(ctx, user, options, warnings, look=True)
        result = {
            "user_id": user_id,
            "email": user.email,
            "path": path,
            "files": len(archived),
            "bytes": sum(f.size for f in archived),
            "archive_bytes": blob.size,
            "archive_crc32c": blob.crc32c,
            "file_errors": [
                {"id": e.id, "kind": e.kind, "code": e.code, "message": e.message} for e in file_errors[:50]
            ],
            "failed_files": len(file_errors),
            "warnings": [{"id": w.id, "kind": w.kind, "code": w.code, "message": w.message} for w in warnings[:50]],
        }
        if not archived and file_errors:
            summary = "; ".join(f"{e.code}: {e.message}" for e in file_errors[:3])
            raise ItemFailed(
                "no-readable-files", f"None of the user's {len(file_errors)} files could be archived ({summary})."
            )
        return result

    def finalize(self, job: Job, summary: Summary) -> Outcome:
        archives = []
        totals = {"total_files": 0, "total_bytes": 0, "failed_files": 0}
        for record in summary.items():
            if record.status != "done" or not record.result:
                continue
            r = record.result
            archives.append({k: r.get(k) for k in ("user_id", "email", "path", "files", "bytes")})
            totals["total_files"] += int(r.get("files", 0))
            totals["total_bytes"] += int(r.get("bytes", 0))
            totals["failed_files"] += int(r.get("failed_files", 0))
        index_path = f"exports/{job.id}/index.json"
        platform.bucket().blob(index_path).upload_from_string(
            json.dumps({"job_id": job.id, "archives": archives}, ensure_ascii=False), content_type="application/json"
        )
        started = job.started_at or now()
        result = {
            "archives": archives[:MAX_ARCHIVES_IN_RESULT],
            "archives_truncated": len(archives) > MAX_ARCHIVES_IN_RESULT,
            "index_path": index_path,
            **totals,
            "successful_users": summary.done,
            "failed_users": summary.failed,
            "processing_time_seconds": round((now() - started).total_seconds(), 3),
        }
        if summary.total and not summary.done:
            return Outcome(result, ErrorInfo(code="nothing-exported", message="No user could be exported; see errors."))
        return Outcome(result)


def _collect(user_id: str, email: str, wanted: dict[str, list[str]], errors: list[Any]) -> sources.UserFiles:
    db = platform.db()
    files: list[SourceFile] = []
    errors = list(errors)
    default_bucket = platform.bucket().name
    local_hosts = sources.emulator_hosts()
    for kind, ids in wanted.items():
        collection = sources.ID_FIELDS[kind][1]
        refs = [db.collection(collection).document(i) for i in ids]
        metas = {snap.id: snap.to_dict() if snap.exists else None for snap in db.get_all(refs)} if refs else {}
        for file_id in ids:
            checked = sources.source_file(kind, file_id, metas.get(file_id), default_bucket, local_hosts)
            if isinstance(checked, SourceFile):
                files.append(checked)
            else:
                errors.append(checked)
    return sources.UserFiles(user_id, email, files, errors)


def _write_user_archive(
    ctx: ItemContext, user: sources.UserFiles, options: ExportOptions, warnings: list[FileError], *, look: bool
) -> tuple[str, list[Any], list[Any], Any]:
    """exports/{job_id}/{safe_email}.zip; a second user with the same email gets its id appended.

    The write is conditional on what was seen at that name (nothing, or this user's archive
    from an earlier attempt; without `look`, assumed nothing), so two users of one email
    exported at the same moment cannot overwrite each other: the loser gets PreconditionFailed
    and is written again, looking first."""
    path = f"exports/{ctx.job.id}/{safe_email(user.email)}.zip"
    existing = platform.bucket().get_blob(path) if look else None
    generation: int | None = 0  # only if nothing is there
    if existing is not None:
        if (existing.metadata or {}).get("user_id") in (None, user.user_id):
            generation = existing.generation  # our own, from an earlier attempt: replace it
        else:
            path = f"exports/{ctx.job.id}/{safe_email(user.email)}-{user.user_id}.zip"
            generation = None  # a name only this user uses
    archived, file_errors, blob = _upload_archive(ctx, path, user, options, generation, warnings=warnings)
    return path, archived, file_errors, blob


def _open_source(source: SourceFile) -> Readable:
    blob = platform.bucket().blob(source.source_path)
    try:
        if source.expected_size is not None and source.expected_size <= PREFETCH_MAX_BYTES:
            return io.BytesIO(blob.download_as_bytes())  # small: one request
        reader: IO[bytes] = blob.open("rb", chunk_size=4 * 1024 * 1024)
        return _CheckedReader(reader, source)
    except gexc.NotFound:
        raise FileProblem("object-missing", f"{source.source_path} is not in Storage.") from None
    except gexc.Forbidden as error:
        raise FileProblem("object-unreadable", f"{source.source_path} cannot be read: {error.message}") from None


class _CheckedReader:
    """Turns "missing"/"forbidden" on first read into a per-file problem."""

    def __init__(self, reader: IO[bytes], source: SourceFile) -> None:
        self._reader = reader
        self._source = source

    def read(self, size: int = -1) -> bytes:
        try:
            return self._reader.read(size)
        except gexc.NotFound:
            raise FileProblem("object-missing", f"{self._source.source_path} is not in Storage.") from None
        except gexc.Forbidden as error:
            raise FileProblem(
                "object-unreadable", f"{self._source.source_path} cannot be read: {error.message}"
            ) from None

    def __enter__(self) -> _CheckedReader:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any, /) -> None:
        with contextlib.suppress(gexc.GoogleAPICallError):
            self._reader.close()


def _upload_archive(
    ctx: ItemContext,
    path: str,
    user: sources.UserFiles,
    options: ExportOptions,
    if_generation_match: int | None,
    *,
    warnings: list[FileError],
) -> tuple[list[Any], list[Any], Any]:
    """Streams the ZIP into Storage; a failure part-way leaves no object behind."""
    blob = platform.bucket().blob(path)
    blob.metadata = {"user_id": user.user_id, "job_id": ctx.job.id}
    upload = SpillingUpload(blob, content_type="application/zip", if_generation_match=if_generation_match)
    manifest_extra = {
        "job_id": ctx.job.id,
        "user_id": user.user_id,
        "email": user.email,
        "exported_at": now().isoformat(),
    }
    archived, file_errors = write_archive(
        cast(IO[bytes], upload),
        user.files,
        _open_source,
        manifest_extra,
        known_errors=user.errors,
        concurrency=options.concurrency,
        on_file=ByteProgress(ctx, [source.expected_size for source in user.files]).file_done,  # the user's bar
        warnings=warnings,
    )
    upload.finish()  # not a `with`: an exception above must never complete a partial upload
    return archived, file_errors, blob


def _verified_previous_archive(previous_job: str, user_id: str) -> dict[str, Any] | None:
    """The earlier export's result for this user if its archive is still there and intact."""
    item = platform.db().collection("jobs").document(previous_job).collection("items").document(user_id).get()
    data = item.to_dict() or {}
    result = data.get("result") or {}
    if data.get("status") != "done" or not result.get("path"):
        return None
    blob = platform.bucket().get_blob(result["path"])
    if blob is None or blob.size != result.get("archive_bytes") or blob.crc32c != result.get("archive_crc32c"):
        return None
    return {**result, "resumed_from": previous_job}
