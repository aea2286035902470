"""`my_data` jobs: a signed-in user's own export of everything this system holds for them
(GDPR Art. 20 data portability), as Google Takeout makes it.

input    {}
options  {archive_max_bytes}
output   jobs/{job_id}/my-data.zip (or my-data-001.zip, ... when split, as media_export splits),
         with my_data.json (every document) in the first part; also jobs/{job_id}/my_data.json
result   {path, parts, files, bytes, archive_bytes, expires_at, index_path, counts, ...}
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

import pydantic

from mediajobs import cloud
from mediajobs.exports import holdings, split
from mediajobs.exports.kind import ExportOptions, open_source
from mediajobs.exports.parts import DEFAULT_ARCHIVE_MAX_BYTES, MAX_ARCHIVE_MAX_BYTES, MIN_ARCHIVE_MAX_BYTES
from mediajobs.jobs.kinds import Item, ItemContext, ItemFailed, ItemSpec, JobKind, Outcome, Summary
from mediajobs.jobs.models import ErrorInfo, Job
from mediajobs.jobs.store import now
from mediajobs.validation import StrictModel

INDEX_NAME = "my_data.json"
ITEM_ID = "my-data"


class MyDataInput(StrictModel):
    """Nothing to choose: the export holds everything of the user who starts it."""


class MyDataOptions(StrictModel):
    archive_max_bytes: int = pydantic.Field(
        default=DEFAULT_ARCHIVE_MAX_BYTES, ge=MIN_ARCHIVE_MAX_BYTES, le=MAX_ARCHIVE_MAX_BYTES
    )
    """The archive is split into numbered parts of at most this size (64 MiB to 50 GiB; 2 GiB)."""


class MyDataJob(JobKind):
    job_type: ClassVar[str] = holdings.OWN_EXPORT_TYPE
    Input = MyDataInput
    Options = MyDataOptions
    queue: ClassVar[str] = "exportitems"

    def plans_quickly(self, input: MyDataInput) -> bool:
        return True

    def plan(self, job: Job, input: MyDataInput, options: MyDataOptions) -> Iterable[ItemSpec]:
        yield ItemSpec(id=ITEM_ID, label="your data", payload={"uid": job.owner_uid})

    def process_item(self, ctx: ItemContext, item: Item, input: MyDataInput, options: MyDataOptions) -> dict[str, Any]:
        uid = str(item.payload["uid"])
        if uid != ctx.job.owner_uid:  # belt and braces: only the job's owner is ever exported
            raise ItemFailed("permission-denied", "A data export holds only its owner's data.")
        exported_at = now()
        held = holdings.holdings_of(uid, skip_job=ctx.job.id)
        index = holdings.index_json(held, ctx.job.id, exported_at)
        index_path = f"jobs/{ctx.job.id}/{INDEX_NAME}"
        cloud.bucket().blob(index_path).upload_from_string(index, content_type="application/json")
        spec = split.ArchiveSpec(
            base=f"jobs/{ctx.job.id}/my-data",
            owner_id=uid,
            files=held.files,
            known_errors=(),
            manifest_extra={"job_id": ctx.job.id, "uid": uid, "exported_at": exported_at.isoformat()},
            max_bytes=options.archive_max_bytes,
            concurrency=ExportOptions().concurrency,
            first_part_files={INDEX_NAME: index},
        )
        archive = split.write_split_archive(
            ctx, spec, open_source, reusable=split.parts_of({"checkpoint": item.checkpoint}), look=True
        )
        parts = archive.parts
        return {
            "path": parts[0].path,
            "index_path": index_path,
            "files": len(archive.archived),
            "bytes": sum(f.size for f in archive.archived),
            "archive_bytes": sum(p.archive_bytes for p in parts),
            "parts": [p.public() for p in parts],
            "expires_at": min(p.expires_at for p in parts),
            "counts": {
                "objects": len(held.files),
                "jobs": len(held.documents["jobs"]),
                "projects": len(held.documents["projects"]),
                "scenes": sum(len(p["scenes"]) for p in held.documents["projects"]),
                "moods": sum(len(p["moods"]) for p in held.documents["projects"]),
                "videos": len(held.documents["videos"]),
            },
            "file_errors": [{"path": e.id, "code": e.code, "message": e.message} for e in archive.errors[:50]],
            "failed_files": len(archive.errors),
        }

    def finalize(self, job: Job, summary: Summary) -> Outcome:
        for record in summary.items():
            if record.status == "done" and record.result:
                return Outcome(dict(record.result))
            if record.error:
                return Outcome({}, record.error)
        return Outcome({}, ErrorInfo(code="nothing-exported", message="The data export made no archive."))
