"""`media_export` jobs: one item per user of `email_users`, one ZIP per user in Storage.

input    {} (every user) | {user_ids: [..]}, and optionally {resume_from: <job_id>}
options  {concurrency, archive_max_bytes}
output   exports/{job_id}/{safe_email}.zip  (images/..., voices/..., manifest.json), or over
         archive_max_bytes the numbered parts {safe_email}-001.zip, ... (exports/split.py)
result   {archives, total_files, total_bytes, successful_users, failed_users,
          failed_files, processing_time_seconds, index_path}
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
from collections.abc import Iterable
from typing import IO, Any, ClassVar

import pydantic
from google.api_core import exceptions as gexc

from mediajobs import cloud
from mediajobs.exports import sources, split
from mediajobs.exports.archive import (
    PREFETCH_MAX_BYTES,
    FileError,
    FileProblem,
    Readable,
    SourceFile,
)
from mediajobs.exports.parts import DEFAULT_ARCHIVE_MAX_BYTES, MAX_ARCHIVE_MAX_BYTES, MIN_ARCHIVE_MAX_BYTES
from mediajobs.jobs.kinds import Item, ItemContext, ItemFailed, ItemSpec, JobFailed, JobKind, Outcome, Summary
from mediajobs.jobs.models import ErrorInfo, Job
from mediajobs.jobs.store import now, paged
from mediajobs.names import safe_email
from mediajobs.validation import StrictModel

MAX_USER_IDS = 10_000
QUICK_PLAN_MAX_USERS = 500  # a listed export this small is planned by its start trigger
MAX_ARCHIVES_IN_RESULT = 500  # the job document must stay far below Firestore's 1 MiB
MAX_ARCHIVE_LIST_BYTES = 160 * 1024  # result.archives, parts included (a result holds at most 256 KiB)


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
    archive_max_bytes: int = pydantic.Field(
        default=DEFAULT_ARCHIVE_MAX_BYTES, ge=MIN_ARCHIVE_MAX_BYTES, le=MAX_ARCHIVE_MAX_BYTES
    )
    """A user's archive bigger than this is split into numbered parts, each a complete ZIP
    (64 MiB to 50 GiB; 2 GiB by default)."""


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
            previous = cloud.db().collection("jobs").document(input.resume_from).get()
            if not previous.exists or (previous.to_dict() or {}).get("type") != self.job_type:
                raise JobFailed("not-found", f"resume_from: {input.resume_from} is not a media_export job.")
        users = cloud.db().collection("email_users")
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
        earlier: list[split.PartRecord] = []
        if input.resume_from:
            previous = _previous_item(input.resume_from, user_id)
            if kept := _verified_previous_archive(previous, input.resume_from):
                return kept
            earlier = split.parts_of(previous)  # parts of a user the earlier export was cut off in
        db = cloud.db()
        try:
            user_snap = db.collection("email_users").document(user_id).get()
            email = sources.email_of(user_id, user_snap.to_dict() if user_snap.exists else None)
            wanted, id_errors = sources.wanted_ids(user_id, user_snap.to_dict() or {})
            user = _collect(user_id, email, wanted, id_errors)
        except sources.UserProblem as problem:
            raise ItemFailed(problem.code, problem.message) from None
        reusable = [*split.parts_of({"checkpoint": item.checkpoint}), *earlier]
        try:
            # A first attempt writes blind (only if the name is free): one Storage round trip
            # less per user. A retry, or a name another user took, looks at what is there.
            archive = _write_user_archive(ctx, user, options, reusable, look=item.attempt > 1)
        except gexc.PreconditionFailed:  # the name is taken: by an earlier attempt or another user
            archive = _write_user_archive(ctx, user, options, reusable, look=True)
        result = archive_result(user_id, user.email, archive)
        if not archive.archived and archive.errors:
            summary = "; ".join(f"{e.code}: {e.message}" for e in archive.errors[:3])
            raise ItemFailed(
                "no-readable-files", f"None of the user's {len(archive.errors)} files could be archived ({summary})."
            )
        return result

    def finalize(self, job: Job, summary: Summary) -> Outcome:
        archives = []
        totals = {"total_files": 0, "total_bytes": 0, "failed_files": 0}
        for record in summary.items():
            if record.status != "done" or not record.result:
                continue
            r = record.result
            archives.append(archive_entry(r))
            totals["total_files"] += int(r.get("files", 0))
            totals["total_bytes"] += int(r.get("bytes", 0))
            totals["failed_files"] += int(r.get("failed_files", 0))
        index_path = f"exports/{job.id}/index.json"
        cloud.bucket().blob(index_path).upload_from_string(
            json.dumps({"job_id": job.id, "archives": archives}, ensure_ascii=False), content_type="application/json"
        )
        listed = archives_within(archives, MAX_ARCHIVES_IN_RESULT, MAX_ARCHIVE_LIST_BYTES)
        started = job.started_at or now()
        result = {
            "archives": listed,
            "archives_truncated": len(listed) < len(archives),
            "index_path": index_path,
            **totals,
            "successful_users": summary.done,
            "failed_users": summary.failed,
            "processing_time_seconds": round((now() - started).total_seconds(), 3),
        }
        if summary.total and not summary.done:
            return Outcome(result, ErrorInfo(code="nothing-exported", message="No user could be exported; see errors."))
        return Outcome(result)


def archive_entry(item_result: dict[str, Any]) -> dict[str, Any]:
    """An archive as the job's result and index.json list it: the user, the files, the parts."""
    entry = {k: item_result.get(k) for k in ("user_id", "email", "path", "files", "bytes", "expires_at")}
    parts = item_result.get("parts") or []
    entry["parts"] = [
        {k: p.get(k) for k in ("number", "path", "archive_bytes", "sha256", "expires_at")}
        for p in parts
        if isinstance(p, dict)
    ]
    return entry


def archives_within(archives: list[dict[str, Any]], count: int, max_bytes: int) -> list[dict[str, Any]]:
    """The first archives that fit in `count` entries and about `max_bytes` of JSON."""
    listed: list[dict[str, Any]] = []
    used = 0
    for archive in archives[:count]:
        used += len(json.dumps(archive, ensure_ascii=False).encode())
        if used > max_bytes:
            break
        listed.append(archive)
    return listed


def _collect(user_id: str, email: str, wanted: dict[str, list[str]], errors: list[Any]) -> sources.UserFiles:
    db = cloud.db()
    files: list[SourceFile] = []
    errors = list(errors)
    default_bucket = cloud.bucket().name
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
    ctx: ItemContext,
    user: sources.UserFiles,
    options: ExportOptions,
    reusable: list[split.PartRecord],
    *,
    look: bool,
) -> split.SplitArchive:
    """exports/{job_id}/{safe_email}.zip (or -001.zip, -002.zip, ... when split); a second
    user with the same email gets its id appended. Writes are conditional on what was seen at
    each name (nothing, or this user's part from an earlier attempt; without `look`, assumed
    nothing), so two users of one email exported at once cannot overwrite each other."""
    base = f"exports/{ctx.job.id}/{safe_email(user.email)}"
    spec = split.ArchiveSpec(
        base=base,
        owner_id=user.user_id,
        files=user.files,
        known_errors=user.errors,
        manifest_extra={
            "job_id": ctx.job.id,
            "user_id": user.user_id,
            "email": user.email,
            "exported_at": now().isoformat(),
        },
        max_bytes=options.archive_max_bytes,
        concurrency=options.concurrency,
    )
    try:
        return split.write_split_archive(ctx, spec, open_source, reusable=reusable, look=look)
    except split.NameTaken:
        alone = dataclasses.replace(spec, base=f"{base}-{user.user_id}")  # a name only this user uses
        return split.write_split_archive(ctx, alone, open_source, reusable=reusable, look=True)


def archive_result(owner_id: str, email: str, archive: split.SplitArchive) -> dict[str, Any]:
    """An item's result for one owner's (maybe split) archive."""
    parts = archive.parts
    return {
        "user_id": owner_id,
        "email": email,
        "path": parts[0].path,
        "files": len(archive.archived),
        "bytes": sum(f.size for f in archive.archived),
        "archive_bytes": sum(p.archive_bytes for p in parts),
        "archive_crc32c": parts[0].crc32c if len(parts) == 1 else None,
        "parts": [p.public() for p in parts],
        "expires_at": min(p.expires_at for p in parts),
        "file_errors": [_error_record(e) for e in archive.errors[:50]],
        "failed_files": len(archive.errors),
        "warnings": [_error_record(w) for w in archive.warnings[:50]],
    }


def _error_record(error: FileError) -> dict[str, str]:
    return {"id": error.id, "kind": error.kind, "code": error.code, "message": error.message}


def open_source(source: SourceFile) -> Readable:
    """A file of the default bucket to archive; missing or forbidden is that file's problem."""
    blob = cloud.bucket().blob(source.source_path)
    try:
        if source.expected_size is not None and source.expected_size <= PREFETCH_MAX_BYTES:
            return io.BytesIO(blob.download_as_bytes())  # small: one request
        reader: IO[bytes] = blob.open("rb", chunk_size=4 * 1024 * 1024)
        return CheckedReader(reader, source)
    except gexc.NotFound:
        raise FileProblem("object-missing", f"{source.source_path} is not in Storage.") from None
    except gexc.Forbidden as error:
        raise FileProblem("object-unreadable", f"{source.source_path} cannot be read: {error.message}") from None


class CheckedReader:
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

    def __enter__(self) -> CheckedReader:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any, /) -> None:
        with contextlib.suppress(gexc.GoogleAPICallError):
            self._reader.close()


def _previous_item(previous_job: str, user_id: str) -> dict[str, Any]:
    item = cloud.db().collection("jobs").document(previous_job).collection("items").document(user_id).get()
    return item.to_dict() or {}


def _verified_previous_archive(previous: dict[str, Any], previous_job: str) -> dict[str, Any] | None:
    """The earlier export's result for this user if every part of it is still there and intact.
    (A result from before archives were split names no parts: that user is exported again.)"""
    result = previous.get("result") or {}
    if previous.get("status") != "done" or not split.all_intact(split.parts_of(previous)):
        return None
    return {**result, "resumed_from": previous_job}
