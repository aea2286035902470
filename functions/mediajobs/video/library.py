"""The video library: `videos/{video_id}`, a lasting record of a processed video, and its objects
under `videos/{video_id}/` (outside every lifecycle expiry rule, unlike `jobs/`).

The video job writes the document: created `processing` when it plans (the video id is the
job id, so a retried plan finds its own document), filled and `ready` at finalize, `failed` or
`cancelled` when the job ends so. A document its owner deleted is never recreated by a late
worker: everything after the plan is an update, which fails on a missing document.

The owner reads it (and anyone, when the owner set `public`); the owner changes `title` and
`public` with `update_video` and removes the video with `delete_video`, which cancels a job
still making it, then deletes the document and every object under its folder.
"""

from __future__ import annotations

import contextlib
from typing import Any

import pydantic
from firebase_functions import https_fn, logger
from google.api_core import exceptions as gexc
from google.cloud import firestore as gfs

from mediajobs import cloud
from mediajobs.jobs.api import CallerInfo, Code, caller_of, parse, request_cancel
from mediajobs.validation import StrictModel
from mediajobs.video.models import VideoResult

COLLECTION = "videos"
SERVER_TIMESTAMP: Any = gfs.SERVER_TIMESTAMP
TITLE_MAX = 200


class VideoStatus:
    PROCESSING = "processing"
    READY = "ready"
    FAILED = "failed"
    CANCELLED = "cancelled"


class VideoRef(StrictModel):
    video_id: str = pydantic.Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_-]+$")


class UpdateVideo(VideoRef):
    title: str | None = pydantic.Field(default=None, min_length=1, max_length=TITLE_MAX)
    public: bool | None = None


def prefix(video_id: str) -> str:
    """The video's Storage folder, with its trailing slash."""
    return f"{COLLECTION}/{video_id}/"


def video_ref(video_id: str) -> Any:
    return cloud.db().collection(COLLECTION).document(video_id)


# ---------------------------------------------------------------- written by the video job


def create_processing(video_id: str, *, owner_uid: str, job_id: str, source: str, title: str, size: int) -> None:
    """The record of a video being made; a retried plan leaves the one it wrote alone."""
    with contextlib.suppress(gexc.AlreadyExists, gexc.Conflict):
        video_ref(video_id).create(
            {
                "owner_uid": owner_uid,
                "job_id": job_id,
                "title": title[:TITLE_MAX],
                "source": source,
                "size_bytes": size,
                "status": VideoStatus.PROCESSING,
                "public": False,
                "created_at": SERVER_TIMESTAMP,
                "updated_at": SERVER_TIMESTAMP,
            }
        )


def update_existing(video_id: str, fields: dict[str, Any]) -> bool:
    """Updates the record if it still exists (its owner may have deleted it); whether it did."""
    try:
        video_ref(video_id).update({**fields, "updated_at": SERVER_TIMESTAMP})
    except gexc.NotFound:
        return False
    return True


def ready_fields(result: VideoResult) -> dict[str, Any]:
    """What finalize writes on the record of a video made whole."""
    fields = result.model_dump(exclude={"video_id", "warnings", "rotation", "video_codec"})
    return {**fields, "status": VideoStatus.READY, "error": None}


def mark_ended(video_id: str, status: str, error: dict[str, Any] | None) -> None:
    """A job that failed or was cancelled: the record says so, unless it is already ready."""
    snapshot = video_ref(video_id).get()
    data = snapshot.to_dict() if snapshot.exists else None
    if data is None or data.get("status") != VideoStatus.PROCESSING:
        return
    update_existing(video_id, {"status": status, "error": error})


# ---------------------------------------------------------------- reading


def readable(caller: CallerInfo, video_id: str) -> bool:
    """The owner, an admin, or anyone when the video is public."""
    snapshot = video_ref(video_id).get()
    data = snapshot.to_dict() if snapshot.exists else None
    if data is None:
        return False
    return data.get("owner_uid") == caller.uid or caller.is_admin or data.get("public") is True


def owned(video_id: str, caller: CallerInfo) -> dict[str, Any]:
    snapshot = video_ref(video_id).get()
    data = snapshot.to_dict() if snapshot.exists else None
    if data is None or (data.get("owner_uid") != caller.uid and not caller.is_admin):
        raise https_fn.HttpsError(Code.NOT_FOUND, f"Video {video_id} does not exist or is not yours.")
    return dict(data)


# ---------------------------------------------------------------- callables


def update_video(req: https_fn.CallableRequest[Any]) -> dict[str, str]:
    """{video_id, title?, public?}: the owner renames the video or makes it public or private."""
    caller = caller_of(req)
    request = parse(UpdateVideo, req.data)
    owned(request.video_id, caller)
    fields: dict[str, Any] = {}
    if request.title is not None:
        fields["title"] = request.title.strip() or request.title
    if request.public is not None:
        fields["public"] = request.public
    if fields and not update_existing(request.video_id, fields):
        raise https_fn.HttpsError(Code.NOT_FOUND, f"Video {request.video_id} does not exist or is not yours.")
    return {"video_id": request.video_id}


def delete_video(req: https_fn.CallableRequest[Any]) -> dict[str, str]:
    """{video_id}: cancels the job still making it, then deletes the record and every object."""
    caller = caller_of(req)
    request = parse(VideoRef, req.data)
    data = owned(request.video_id, caller)
    job_id = str(data.get("job_id") or "")
    if job_id and data.get("status") == VideoStatus.PROCESSING:
        with contextlib.suppress(https_fn.HttpsError):  # the job is gone or not the caller's
            request_cancel(job_id, CallerInfo(uid=str(data.get("owner_uid")), is_admin=caller.is_admin))
    video_ref(request.video_id).delete()
    objects = delete_objects(request.video_id)
    logger.info("video deleted", video_id=request.video_id, by=caller.uid, objects=objects)
    return {"video_id": request.video_id}


def delete_objects(video_id: str) -> int:
    """Every object under the video's folder; how many there were."""
    bucket = cloud.bucket()
    blobs = list(bucket.list_blobs(prefix=prefix(video_id)))
    for blob in blobs:
        with contextlib.suppress(gexc.NotFound):
            blob.delete()
    return len(blobs)
