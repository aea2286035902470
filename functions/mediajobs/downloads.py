"""The `download_url` callable: a short-lived URL for Storage objects the caller may read.

Clients never read Storage directly (the local Storage emulator cannot evaluate
storage.rules); they ask for URLs here, and this module applies the same ownership rules:

    jobs/{job_id}/...          the job's owner, or an admin
    videos/{video_id}/...      the video's owner, an admin, or anyone when the video is public
    projects/{project_id}/...  the project's owner
    users/{uid}/...            that user
    uploads/{uid}/...          that user (files the /upload endpoint staged for a job)
    exports/...                admins

A job or project that is not yours answers `not-found`, exactly like a missing one.
URLs are served as attachments (saved, never rendered) unless the object's type is a plain
image, video or audio type that runs no script (INLINE_TYPES), so an uploaded SVG or HTML page
cannot run script on the URL's origin. A video's HLS playlist, DASH manifest or WebVTT track gets a URL of the
`stream` function instead (see mediajobs/video/stream.py), under which every URI the player
resolves is reachable. The URLs themselves are made by mediajobs/object_urls.py (signed URLs
deployed, the Storage emulator's media URLs locally).
"""

from __future__ import annotations

from typing import Annotated, Any

import pydantic
from firebase_functions import https_fn

from mediajobs import cloud, storage_paths
from mediajobs.jobs.api import CallerInfo, Code, caller_of, parse
from mediajobs.object_urls import URL_LIFETIME, url_for
from mediajobs.validation import StrictModel
from mediajobs.video import library, stream

# Shown inline (players, <img>, <audio>): types whose rendering runs no script.
INLINE_TYPES = frozenset(
    {"image/jpeg", "image/png", "image/webp", "image/gif", "image/avif", "video/mp4", "video/webm",
     "audio/mpeg", "audio/mp4", "audio/wav", "audio/x-wav", "audio/wave", "audio/ogg", "audio/webm"}
)  # fmt: skip
MAX_PATHS = 100


class DownloadUrlRequest(StrictModel):
    paths: list[Annotated[str, pydantic.StringConstraints(min_length=1, max_length=1024)]] = pydantic.Field(
        min_length=1, max_length=MAX_PATHS
    )


def download_url(req: https_fn.CallableRequest[Any]) -> dict[str, Any]:
    """{paths: [...]} -> {urls: {path: url}}; every path is checked before any URL is made."""
    caller = caller_of(req)
    request = parse(DownloadUrlRequest, req.data)
    paths = list(dict.fromkeys(request.paths))
    checked: dict[str, bool] = {}
    for path in paths:
        check_readable(caller, normalized(path), checked)
    bucket = cloud.bucket()
    urls = {}
    tokens: dict[str, str] = {}  # video folder -> stream token, one per call and folder
    for path in paths:
        blob = bucket.get_blob(path)
        if blob is None:
            raise https_fn.HttpsError(Code.NOT_FOUND, f"{path} does not exist (yet).")
        parts = path.split("/")
        folder = stream.stream_folder(parts)
        if folder is not None and stream.is_stream_manifest(parts):
            if folder not in tokens:
                tokens[folder] = stream.grant(caller.uid, folder)
            urls[path] = stream.url(stream.base_url(_request_url(req)), tokens[folder], path)
        else:
            urls[path] = url_for(blob, disposition=disposition_for(blob.content_type))
    lifetimes = [URL_LIFETIME] + ([stream.STREAM_LIFETIME] if tokens else [])
    return {"urls": urls, "expires_in": int(min(lifetimes).total_seconds())}  # every URL lives that long


def _request_url(req: https_fn.CallableRequest[Any]) -> str | None:
    raw = getattr(req, "raw_request", None)
    return str(raw.url) if raw is not None else None


def normalized(path: str) -> list[str]:
    """The path's segments; refuses anything that could name another object than it seems to."""
    parts = storage_paths.segments(path)
    if parts is None:
        raise https_fn.HttpsError(Code.INVALID_ARGUMENT, f"{path!r} is not a plain object path.")
    return parts


def check_readable(caller: CallerInfo, parts: list[str], checked: dict[str, bool]) -> None:
    """Raises not-found / permission-denied unless the caller may read the object at `parts`."""
    path = "/".join(parts)
    top, owner_key = parts[0], "/".join(parts[:2])
    if top == "exports":
        if not caller.is_admin:
            raise https_fn.HttpsError(Code.PERMISSION_DENIED, "Export archives are for administrators only.")
        return
    if (owner := storage_paths.owner_of(parts)) is not None:
        if owner != caller.uid and not caller.is_admin:
            raise https_fn.HttpsError(Code.PERMISSION_DENIED, "You can only read your own uploads.")
        return
    if top == "videos" and len(parts) > 2:
        if owner_key not in checked:
            checked[owner_key] = library.readable(caller, parts[1])
        if not checked[owner_key]:
            raise https_fn.HttpsError(Code.NOT_FOUND, f"Video {parts[1]} does not exist or is not yours.")
        return
    if top in ("jobs", "projects") and len(parts) > 2:
        if owner_key not in checked:
            checked[owner_key] = _owns(caller, top, parts[1])
        if not checked[owner_key]:
            what = "Job" if top == "jobs" else "Project"
            raise https_fn.HttpsError(Code.NOT_FOUND, f"{what} {parts[1]} does not exist or is not yours.")
        return
    raise https_fn.HttpsError(Code.PERMISSION_DENIED, f"{path} is not a downloadable path.")


def _owns(caller: CallerInfo, collection: str, doc_id: str) -> bool:
    snapshot = cloud.db().collection(collection).document(doc_id).get()
    data = snapshot.to_dict() if snapshot.exists else None
    if data is None:
        return False
    if collection == "jobs":
        return data.get("owner_uid") == caller.uid or caller.is_admin
    return bool(data.get("user_id") == caller.uid)


def disposition_for(content_type: str | None) -> str:
    """inline only for media types a browser shows without running anything; else attachment,
    so an uploaded SVG or HTML page (or anything claiming a type we do not know) is saved,
    never rendered on the URL's origin."""
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    return "inline" if media_type in INLINE_TYPES else "attachment"
