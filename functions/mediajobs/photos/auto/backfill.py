"""`auto_backfill` (admins): starts the jobs of images already under users/{uid}/auto/{preset}/
(uploaded before the trigger was deployed, or refused by a cap then), as the trigger would have:
the same filters, one job per object version, versions that have their job left alone."""

from __future__ import annotations

from typing import Any

import pydantic
from firebase_functions import https_fn

from mediajobs import cloud
from mediajobs.jobs.api import Code, caller_of, parse
from mediajobs.photos.auto import uploads
from mediajobs.photos.auto.presets import PRESETS, WATCHED
from mediajobs.validation import StrictModel

MAX_OBJECTS = 5000


class AutoBackfill(StrictModel):
    uid: str | None = pydantic.Field(
        default=None, min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_-]+$", description="One user's images only."
    )
    preset: str | None = pydantic.Field(default=None, description="One preset's folder only (needs uid).")
    max_objects: int = pydantic.Field(default=1000, ge=1, le=MAX_OBJECTS, description="Objects looked at, at most.")


def auto_backfill(req: https_fn.CallableRequest[Any]) -> dict[str, Any]:
    """{uid?, preset?, max_objects?} -> {scanned, started, already, refused, skipped, truncated}."""
    caller = caller_of(req)
    if not caller.is_admin:
        raise https_fn.HttpsError(Code.PERMISSION_DENIED, "auto_backfill is for administrators only.")
    request = parse(AutoBackfill, req.data)
    if request.preset is not None and request.preset not in PRESETS:
        raise https_fn.HttpsError(Code.INVALID_ARGUMENT, f"preset: one of {sorted(PRESETS)} (got {request.preset!r}).")
    if request.preset is not None and request.uid is None:
        raise https_fn.HttpsError(Code.INVALID_ARGUMENT, "preset needs uid (the folder is users/{uid}/auto/{preset}/).")
    prefix = "users/"
    if request.uid is not None:
        prefix = f"users/{request.uid}/{WATCHED}/" + (f"{request.preset}/" if request.preset else "")
    counts = {"scanned": 0, "started": 0, "already": 0, "refused": 0, "skipped": 0}
    bucket = cloud.bucket()
    truncated = False
    for blob in bucket.list_blobs(prefix=prefix):
        if counts["scanned"] >= request.max_objects:
            truncated = True
            break
        counts["scanned"] += 1
        outcome = uploads.on_object(
            bucket.name, blob.name, generation=str(blob.generation), content_type=blob.content_type,
            size=int(blob.size or 0), metadata=blob.metadata, retry_refused=True,
        )  # fmt: skip
        counts[outcome if outcome in counts else "skipped"] += 1
    return {**counts, "truncated": truncated}
