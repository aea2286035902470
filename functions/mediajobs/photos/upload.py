"""The `upload` HTTP function: a multipart POST of images or ZIP files starts a photo_batch.

POST /upload   Authorization: Bearer <Firebase ID token>
               file=<image or zip> (repeatable), options=<JSON of photo options>
-> 202 {"job_id": ...}   or 4xx {"error": {"status", "message"}}
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pydantic
from firebase_admin import auth
from firebase_functions import https_fn, logger
from flask import Request, Response

from mediajobs import config, platform
from mediajobs.exports.archive import safe_filename
from mediajobs.jobs.api import CallerInfo, create_job
from mediajobs.photos.kind import PhotoOptions
from mediajobs.validation import describe

HTTP_STATUS = {
    "invalid-argument": 400,
    "unauthenticated": 401,
    "permission-denied": 403,
    "not-found": 404,
    "resource-exhausted": 429,
    "failed-precondition": 412,
}
SIGNATURES = (
    (0, b"\xff\xd8\xff", "image/jpeg"),
    (0, b"\x89PNG\r\n\x1a\n", "image/png"),
    (0, b"GIF8", "image/gif"),
    (0, b"BM", "image/bmp"),
    (0, b"II*\x00", "image/tiff"),
    (0, b"MM\x00*", "image/tiff"),
    (8, b"WEBP", "image/webp"),
    (4, b"ftypheic", "image/heic"),
    (4, b"ftypheix", "image/heic"),
    (4, b"ftypmif1", "image/heif"),
    (4, b"ftypavif", "image/avif"),
    (0, b"PK\x03\x04", "application/zip"),
)
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "POST, OPTIONS",
    "Access-Control-Allow-Headers": "Authorization, Content-Type",
}


class UploadError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def sniff(data: bytes) -> str | None:
    """The content type the bytes really have (images and ZIP only), whatever the client said."""
    for offset, magic, content_type in SIGNATURES:
        if data[offset : offset + len(magic)] == magic:
            return content_type
    return None


def reply(status: int, body: dict[str, Any]) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json", headers=CORS_HEADERS)


def handle_upload(req: Request) -> Response:
    if req.method == "OPTIONS":
        return Response("", status=204, headers=CORS_HEADERS)
    try:
        if req.method != "POST":
            raise UploadError(405, "method-not-allowed", "Use POST with multipart/form-data.")
        caller = _caller(req)
        job_id = _start_batch(req, caller)
    except UploadError as error:
        return reply(error.status, {"error": {"status": error.code, "message": error.message}})
    except https_fn.HttpsError as error:
        code = error.code.value
        return reply(HTTP_STATUS.get(code, 500), {"error": {"status": code, "message": error.message}})
    return reply(202, {"job_id": job_id})


def _caller(req: Request) -> CallerInfo:
    header = req.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        raise UploadError(401, "unauthenticated", "Send a Firebase ID token: Authorization: Bearer <token>.")
    try:
        claims = auth.verify_id_token(header.removeprefix("Bearer ").strip(), app=platform.app())
    except (ValueError, auth.InvalidIdTokenError, auth.ExpiredIdTokenError, auth.RevokedIdTokenError) as error:
        raise UploadError(401, "unauthenticated", f"The ID token is not valid: {error}") from None
    return CallerInfo(uid=str(claims["uid"]), is_admin=claims.get("admin") is True)


def _start_batch(req: Request, caller: CallerInfo) -> str:
    max_files = config.UPLOAD_MAX_FILES.value
    max_bytes = config.UPLOAD_MAX_MB.value * 1024 * 1024
    if (req.content_length or 0) > max_bytes:
        raise UploadError(413, "too-large", f"The request is over {config.UPLOAD_MAX_MB.value} MB.")
    if not (req.mimetype or "").startswith("multipart/form-data"):
        raise UploadError(400, "invalid-argument", "Send multipart/form-data with one or more 'file' fields.")
    files = [f for _, f in req.files.items(multi=True)]
    if not files:
        raise UploadError(400, "invalid-argument", "No files in the request: add one or more 'file' fields.")
    if len(files) > max_files:
        raise UploadError(400, "invalid-argument", f"{len(files)} files sent; the limit is {max_files} per upload.")
    try:
        options = json.loads(req.form.get("options") or "{}")
    except json.JSONDecodeError as error:
        raise UploadError(400, "invalid-argument", f"options is not valid JSON: {error}") from None
    except RecursionError:
        raise UploadError(400, "invalid-argument", "options is nested too deeply to be photo options.") from None
    if not isinstance(options, dict):
        raise UploadError(400, "invalid-argument", "options must be a JSON object.")
    try:
        PhotoOptions.model_validate(options)  # before storing anything
    except pydantic.ValidationError as error:
        raise UploadError(400, "invalid-argument", describe(error, "options")) from None

    batch = uuid.uuid4().hex[:12]
    stored: list[tuple[str, bytes, str]] = []
    total = 0
    for index, upload in enumerate(files):
        data = upload.stream.read(max_bytes + 1)
        total += len(data)
        name = safe_filename(upload.filename or "", fallback=f"upload-{index}")
        if total > max_bytes:
            raise UploadError(413, "too-large", f"The upload is over {config.UPLOAD_MAX_MB.value} MB in total.")
        content_type = sniff(data)
        if content_type is None:
            said = upload.mimetype or "no content type"
            raise UploadError(
                400, "invalid-argument", f"{name} ({said}) is not an image or a ZIP archive; nothing was uploaded."
            )
        stored.append((f"users/{caller.uid}/uploads/{batch}/{index:03d}-{name}", data, content_type))
    bucket = platform.bucket()
    for path, data, content_type in stored:
        bucket.blob(path).upload_from_string(data, content_type=content_type)
    job_id = create_job(caller, "photo_batch", {"paths": [p for p, _, _ in stored]}, options)
    logger.info("upload started a photo batch", job_id=job_id, files=len(stored), bytes=total)
    return job_id
