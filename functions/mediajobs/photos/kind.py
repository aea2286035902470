"""`photo_batch` jobs: images or ZIP archives in, processed images and one results.zip out.

input    {paths: [storage paths of images or ZIP archives]}
options  {remove_bg, crop, crop_face, crop_margin, model, output_format, face_size, face_margin, bg, size,
         output} (photos/options.py)
outputs  jobs/{job_id}/outputs/<name>.<ext>, all of them in jobs/{job_id}/results.zip
result   {outputs, outputs_omitted, archive_path, succeeded, failed, skipped, skipped_count,
         skipped_omitted}, within byte budgets (photos/bounds.py) whatever the names in a ZIP
"""

from __future__ import annotations

import datetime as dt
import posixpath
import threading
import time
import zlib
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ClassVar

import pydantic
from firebase_functions import logger
from google.api_core import exceptions as gexc

from mediajobs import cloud, config, storage_paths
from mediajobs.jobs import store
from mediajobs.jobs.kinds import (
    Caller,
    Item,
    ItemContext,
    ItemFailed,
    ItemSpec,
    JobFailed,
    JobKind,
    Outcome,
    Summary,
)
from mediajobs.jobs.models import MAX_LABEL_BYTES, ErrorInfo, Job, clip
from mediajobs.names import UniqueNames
from mediajobs.photos import bounds, ingest
from mediajobs.photos.models_catalogue import model_problem
from mediajobs.photos.options import PhotoOptions
from mediajobs.storage_zip import DateTime, Member, compose_zip, prefix_member
from mediajobs.validation import StrictModel

__all__ = ["PhotoBatchJob", "PhotoInput", "PhotoOptions"]  # PhotoOptions lives in options.py

MAX_PATHS = 200
MAX_INPUT_BYTES = 200 * 1024 * 1024
MAX_IMAGES_PER_JOB = 2000
PLAN_LOOKUP_THREADS = 8
QUICK_PLAN_MAX_PATHS = 50
ZIP_MAGIC_BYTES = 4
RESULTS_LOOKUP_THREADS = 8
CONTENT_TYPES = {"png": "image/png", "webp": "image/webp", "jpg": "image/jpeg"}
MAX_BACKGROUND_BYTES = 25 * 1024 * 1024  # a background image downloaded for every item
_COMPUTE = threading.Lock()  # one image computes at a time per worker (photos/processing holds the model)


class PhotoInput(StrictModel):
    paths: list[str] = pydantic.Field(min_length=1, max_length=MAX_PATHS)

    @pydantic.field_validator("paths")
    @classmethod
    def paths_are_safe(cls, paths: list[str]) -> list[str]:
        for path in paths:
            if not storage_paths.is_plain(path):
                raise ValueError(f"{path!r} is not a valid storage path")
        return list(dict.fromkeys(paths))


class PhotoBatchJob(JobKind):
    job_type: ClassVar[str] = "photo_batch"
    Input = PhotoInput
    Options = PhotoOptions
    queue: ClassVar[str] = "photoitems"
    chunk_size: ClassVar[int] = 4  # a worker keeps its model warm over a few images
    # Two of a chunk's images at once: one computes while the other is claimed, downloaded,
    # uploaded and settled. The computing itself takes turns (_COMPUTE): the model's threads
    # are all the CPU the worker has.
    items_in_flight: ClassVar[int] = 2

    def input_denial(self, caller: Caller, input: PhotoInput, options: PhotoOptions) -> str | None:
        if not caller.is_admin:
            # theirs (users/{uid}/), and what /upload staged (uploads/{uid}/)
            foreign = [p for p in input.paths if not storage_paths.owned_by(p, caller.uid)]
            if foreign:
                return f"You can only process your own uploads (under users/{caller.uid}/); not: {foreign[:3]}"
            background = options.background_path
            if background is not None and not storage_paths.owned_by(background, caller.uid):
                return f"options.bg: the background image must be yours (under users/{caller.uid}/); not: {background}"
        if options.remove_bg and (problem := model_problem(options.model)):
            from firebase_functions import https_fn

            raise https_fn.HttpsError(https_fn.FunctionsErrorCode.FAILED_PRECONDITION, problem)
        return None

    def plans_quickly(self, input: PhotoInput) -> bool:
        """A few plain images (no archive to read and expand) are planned by the start trigger;
        what is an archive is decided by the bytes (a ZIP named x.png is one), as the plan does."""
        if len(input.paths) > QUICK_PLAN_MAX_PATHS or any(
            p.lower().endswith(ingest.ARCHIVE_EXTENSIONS) for p in input.paths
        ):
            return False
        return not ingest.any_archive(ingest.heads_in_storage(cloud.bucket(), input.paths))

    def plan(self, job: Job, input: PhotoInput, options: PhotoOptions) -> Iterable[ItemSpec]:
        if options.remove_bg and (problem := model_problem(options.model)):  # a job written by the Admin SDK
            raise JobFailed("failed-precondition", problem)
        bucket = cloud.bucket()
        names = UniqueNames()
        skipped = bounds.SkippedLog()  # what the plan leaves out, within its budget
        index = 0

        def spec(label: str, payload: dict[str, Any]) -> ItemSpec:
            nonlocal index
            index += 1
            return ItemSpec(id=f"img-{index:05d}", label=clip(label, MAX_LABEL_BYTES), payload=payload)

        with ThreadPoolExecutor(PLAN_LOOKUP_THREADS) as pool:
            looked_up = list(pool.map(_look_up, input.paths))
        for path, blob, head in looked_up:
            if blob is None:
                yield spec(path, {"error": {"code": "input-missing", "message": f"{path} is not in Storage."}})
                continue
            if (blob.size or 0) > MAX_INPUT_BYTES:
                message = f"{path} is {blob.size:,} bytes; the limit is {MAX_INPUT_BYTES:,}."
                yield spec(path, {"error": {"code": "too-large", "message": message}})
                continue
            if not ingest.is_zip(path, head):
                name = posixpath.basename(path)
                yield spec(name, {"input_path": path, "name": name, "output_stem": _stem(names, name)})
                continue
            try:  # read through a ranged reader and copied out an entry at a time: bounded memory
                with ingest.open_in_storage(blob) as file:
                    checked = ingest.CheckedZip(path, file, int(blob.size or 0))
                    skipped.extend(checked.skipped)
                    for image in checked.images:
                        if index >= MAX_IMAGES_PER_JOB:
                            skipped.add(ingest.Skipped(path, image.entry, "too-many-images", "over the job's limit"))
                            continue
                        extracted = f"jobs/{job.id}/inputs/{index + 1:05d}-{image.name}"
                        try:
                            ingest.copy_to_storage(checked, image, bucket.blob(extracted))
                        except ingest.EntryUnreadable as unreadable:
                            skipped.add(unreadable.skipped)
                            continue
                        stem = _stem(names, image.name)
                        label = f"{posixpath.basename(path)}:{image.entry}"
                        name = clip(image.entry, MAX_LABEL_BYTES)  # a ZIP entry's name may be 64 KiB
                        yield spec(label, {"input_path": extracted, "name": name, "output_stem": stem})
            except gexc.NotFound:
                yield spec(path, {"error": {"code": "input-missing", "message": f"{path} is not in Storage."}})
            except ingest.ArchiveRefused as refused:
                if refused.code == "too-many-entries":  # over the job's limits, like too many paths
                    raise JobFailed(refused.code, f"{refused.message} Split the archive into smaller ones.") from None
                yield spec(path, {"error": {"code": refused.code, "message": refused.message}})
        store.kind_ref(job.id, "photo_skipped").set({**skipped.record(), "expire_at": store.expires_at()})

    def process_item(self, ctx: ItemContext, item: Item, input: PhotoInput, options: PhotoOptions) -> dict[str, Any]:
        from mediajobs.photos.processing import PhotoError, process_photo

        payload = item.payload
        if "error" in payload:
            raise ItemFailed(payload["error"]["code"], payload["error"]["message"])
        started = time.monotonic()
        try:
            data = cloud.bucket().blob(payload["input_path"]).download_as_bytes()
        except gexc.NotFound:
            raise ItemFailed("input-missing", f"{payload['input_path']} is no longer in Storage.") from None
        background = _background(options.background_path)
        try:
            with _COMPUTE:
                photo = process_photo(
                    data, str(payload["name"]), options, background=background,
                    threads=config.PHOTO_MODEL_THREADS.value,
                )  # fmt: skip
        except PhotoError as error:
            raise ItemFailed(error.code, error.message) from None
        output_path = f"jobs/{ctx.job.id}/outputs/{payload['output_stem']}.{options.extension}"
        bucket = cloud.bucket()
        bucket.blob(output_path).upload_from_string(photo.data, content_type=CONTENT_TYPES[options.extension])
        member = Member(posixpath.basename(output_path), output_path, len(photo.data), zlib.crc32(photo.data))
        part = _prefixed(bucket, member, ctx.job, str(payload["output_stem"]))
        return {
            "input": payload["name"],
            "input_path": payload["input_path"],
            "output_path": output_path,
            "size": len(photo.data),
            "crc32": member.crc32,  # results.zip is composed in Storage from these
            "zip_part": part,
            "width": photo.width,
            "height": photo.height,
            "faces_found": photo.faces_found,
            "crop_box": list(photo.crop_box) if photo.crop_box else None,
            "warnings": photo.warnings,
            "duration_ms": round((time.monotonic() - started) * 1000),
        }

    def finalize(self, job: Job, summary: Summary) -> Outcome:
        done = [r.result for r in summary.items() if r.status == "done" and r.result]
        outputs = [str(r["output_path"]) for r in done]
        archive_path = f"jobs/{job.id}/results.zip"
        with ThreadPoolExecutor(RESULTS_LOOKUP_THREADS) as pool:
            members = list(pool.map(_member, done))
        compose_zip(cloud.bucket(), members, archive_path, scratch=_parts_folder(job.id), date_time=_archive_time(job))
        skipped = store.kind_ref(job.id, "photo_skipped").get().to_dict() or {}
        result = bounds.photo_result(
            outputs=outputs, archive_path=archive_path, succeeded=summary.done, failed=summary.failed, skipped=skipped
        )
        if summary.total and not summary.done:
            return Outcome(
                result, ErrorInfo(code="all-items-failed", message="No image could be processed; see errors.")
            )
        return Outcome(result)


def _prefixed(bucket: Any, member: Member, job: Job, stem: str) -> str | None:
    """results.zip's part for an output, made by its item (while the other image computes) so
    that finalize composes half as many objects. Only a shortcut: if Storage refuses, the
    finalize composes this member from its header and output, and the photo is kept."""
    try:
        return prefix_member(bucket, member, _archive_time(job), f"{_parts_folder(job.id)}/members/{stem}").with_header
    except gexc.GoogleAPICallError as error:
        logger.warn("results.zip part not made; finalize will compose it", job_id=job.id, error=str(error))
        return None


def _parts_folder(job_id: str) -> str:
    return f"jobs/{job_id}/results-parts"


def _archive_time(job: Job) -> DateTime:
    """The date every member of results.zip carries: the job's creation (items and finalize agree)."""
    return (job.created_at or dt.datetime(2020, 1, 1, tzinfo=dt.UTC)).astimezone(dt.UTC).timetuple()[:6]


def _member(result: dict[str, Any]) -> Member:
    """An output as a member of results.zip. Items settled before outputs carried their
    checksum have theirs computed here from the object."""
    path = str(result["output_path"])
    if "crc32" in result:
        part = result.get("zip_part")
        return Member(posixpath.basename(path), path, int(result["size"]), int(result["crc32"]), part and str(part))
    data = cloud.bucket().blob(path).download_as_bytes()
    return Member(posixpath.basename(path), path, len(data), zlib.crc32(data))


def _background(path: str | None) -> bytes | None:
    """The background image's bytes, within MAX_BACKGROUND_BYTES; decoded (with the inputs'
    decompression-bomb guard) by processing."""
    if path is None:
        return None
    blob = cloud.bucket().get_blob(path)
    if blob is None:
        raise ItemFailed("background-missing", f"The background image {path} is not in Storage.")
    if (blob.size or 0) > MAX_BACKGROUND_BYTES:
        message = f"The background image {path} is {blob.size:,} bytes; the limit is {MAX_BACKGROUND_BYTES:,}."
        raise ItemFailed("background-too-large", message)
    try:
        data: bytes = blob.download_as_bytes(start=0, end=MAX_BACKGROUND_BYTES)  # replaced since: still capped
    except gexc.NotFound:
        raise ItemFailed("background-missing", f"The background image {path} is not in Storage.") from None
    if len(data) > MAX_BACKGROUND_BYTES:
        raise ItemFailed("background-too-large", f"The background image {path} is over {MAX_BACKGROUND_BYTES:,} bytes.")
    return data


def _look_up(path: str) -> tuple[str, Any, bytes]:
    """The input's blob (None if missing) and its first bytes, which tell an archive apart;
    plain images are read by their items, not by the plan."""
    blob = cloud.bucket().get_blob(path)
    if blob is None or not blob.size or blob.size > MAX_INPUT_BYTES:
        return path, blob, b""
    try:
        return path, blob, blob.download_as_bytes(start=0, end=ZIP_MAGIC_BYTES - 1)
    except gexc.NotFound:  # deleted since
        return path, None, b""


def _stem(names: UniqueNames, name: str) -> str:
    stem = posixpath.splitext(name)[0] or "image"
    return posixpath.basename(names.claim("o", stem))
