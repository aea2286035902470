"""Streaming URLs that a standard player can follow: the HTTP function `stream`.

A player given a playlist URL resolves every URI inside against that URL (RFC 3986). Storage
cannot serve that: each object is reachable only through its own signed URL. So `download_url`
hands out, for a job's HLS playlist or DASH manifest,

    {STREAM_BASE_URL}/{token}/jobs/{job_id}/video/stream/master.m3u8

where `token` names a grant `stream_grants/{token}` (128 random bits, the job's video folder,
who asked, an expiry), written after the ownership check. Relative URIs in the playlists
(`720p/index.m3u8`, `720p/seg_00001.m4s`, `audio/init.mp4`) resolve to the same function with
the same token. The function serves playlists and manifests itself (a few KB, text) and answers
every other object of the folder with a redirect (302) to a short-lived URL of that object
(a V4 signed URL deployed, the Storage emulator's media URL locally), so the media bytes never
pass through a function. Anything outside the grant's folder, an unknown or expired token
answers 404. Responses allow any origin (the token in the path is the credential; no cookies).
"""

from __future__ import annotations

import datetime as dt
import os
import posixpath
import re
import secrets
import threading
import time

from flask import Request, Response

from mediajobs import cloud, config, object_urls

GRANTS = "stream_grants"
STREAM_LIFETIME = dt.timedelta(hours=6)  # long enough to watch a 30-minute video with pauses
MEDIA_URL_LIFETIME = dt.timedelta(minutes=15)  # each redirect target is used at once
PLAYLIST_TYPES = {".m3u8": "application/vnd.apple.mpegurl", ".mpd": "application/dash+xml", ".vtt": "text/vtt"}
MEDIA_SUFFIXES = {".m4s", ".mp4", ".ts", ".jpg", ".m4a", ".aac"}
_TOKEN = re.compile(r"^[0-9a-f]{32}$")
_CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, HEAD, OPTIONS",
    "Access-Control-Allow-Headers": "Range",
    "Access-Control-Max-Age": "3600",
}


def is_stream_manifest(parts: list[str]) -> bool:
    """A playlist, manifest or WebVTT track of a video folder: played through `stream`."""
    return stream_folder(parts) is not None and posixpath.splitext(parts[-1])[1] in PLAYLIST_TYPES


def stream_folder(parts: list[str]) -> str | None:
    """The video folder holding the object at `parts` (what a stream grant opens), or None:
    videos/{video_id}/ of the library, jobs/{job_id}/video/ of jobs made before it."""
    if len(parts) > 2 and parts[0] == "videos":
        return f"videos/{parts[1]}/"
    if len(parts) > 3 and parts[0] == "jobs" and parts[2] == "video":
        return f"jobs/{parts[1]}/video/"
    return None


def grant(uid: str, folder: str) -> str:
    """A new token for a video folder (`stream_folder`), valid STREAM_LIFETIME."""
    token = secrets.token_hex(16)
    cloud.db().collection(GRANTS).document(token).set(
        {
            "uid": uid,
            "prefix": folder,
            "expires_at": platform_now() + STREAM_LIFETIME,
            "created_at": platform_now(),
        }
    )
    return token


def url(base: str, token: str, path: str) -> str:
    return f"{base.rstrip('/')}/{token}/{path}"


def base_url(request_url: str | None) -> str:
    """Where `stream` is reached: STREAM_BASE_URL if set (e.g. a Hosting rewrite), else the
    emulator's origin locally, else the function's default URL in this project and REGION."""
    configured = config.STREAM_BASE_URL.value
    if configured:
        return configured.rstrip("/")
    origin = os.environ.get("FUNCTIONS_ORIGIN")
    if origin:
        return f"{origin.rstrip('/')}/stream"
    if request_url and os.environ.get("FUNCTIONS_EMULATOR") == "true":
        return request_url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[0] + "/stream"
    return config.deployed_function_url("stream", config.REGION.value, config.project_id())


def platform_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# ---------------------------------------------------------------- the function


def handle_stream(req: Request) -> Response:
    if req.method == "OPTIONS":
        return Response(status=204, headers=_CORS)
    if req.method not in ("GET", "HEAD"):
        return _not_found()
    parts = [p for p in req.path.split("/") if p]
    if parts and parts[0] == "stream":  # reached through a Hosting rewrite: /stream/...
        parts = parts[1:]
    if len(parts) < 2 or not _TOKEN.match(parts[0]) or any(p in (".", "..") for p in parts):
        return _not_found()
    token, path = parts[0], "/".join(parts[1:])
    prefix = _grant_prefix(token)
    if prefix is None or not path.startswith(prefix):
        return _not_found()
    suffix = posixpath.splitext(path)[1]
    if suffix in PLAYLIST_TYPES:
        blob = cloud.bucket().get_blob(path)
        if blob is None:
            return _not_found()
        body = blob.download_as_bytes()
        headers = {**_CORS, "Cache-Control": "private, max-age=300", "X-Content-Type-Options": "nosniff"}
        return Response(body, status=200, mimetype=PLAYLIST_TYPES[suffix], headers=headers)
    if suffix in MEDIA_SUFFIXES:
        target = media_url(path)
        headers = {**_CORS, "Location": target, "Cache-Control": "private, max-age=60"}
        return Response(status=302, headers=headers)
    return _not_found()


def _not_found() -> Response:
    return Response("Not found, or this link has expired.\n", status=404, mimetype="text/plain", headers=_CORS)


_grants: dict[str, tuple[float, str | None]] = {}  # token -> (read at, prefix or None)
_GRANT_CACHE_SECONDS = 30.0


def _grant_prefix(token: str) -> str | None:
    cached = _grants.get(token)
    if cached is None or time.monotonic() - cached[0] > _GRANT_CACHE_SECONDS:
        data = cloud.db().collection(GRANTS).document(token).get().to_dict()
        prefix = None
        if data and data.get("expires_at") and data["expires_at"] > platform_now():
            prefix = str(data.get("prefix") or "") or None
        if len(_grants) > 10_000:
            _grants.clear()
        cached = (time.monotonic(), prefix)
        _grants[token] = cached
    return cached[1]


# ---------------------------------------------------------------- object URLs

_signed: dict[str, tuple[float, str]] = {}
_signed_lock = threading.Lock()


def media_url(path: str) -> str:
    """A URL of the object at `path` valid for several minutes (cached while it is)."""
    with _signed_lock:
        cached = _signed.get(path)
    if cached is not None and cached[0] > time.monotonic():
        return cached[1]
    link = object_urls.url_for(cloud.bucket().blob(path), lifetime=MEDIA_URL_LIFETIME, disposition=None)
    with _signed_lock:
        if len(_signed) > 50_000:
            _signed.clear()
        _signed[path] = (time.monotonic() + MEDIA_URL_LIFETIME.total_seconds() / 2, link)
    return link
