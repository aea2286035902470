"""The `upload` HTTP function: a multipart POST of images or ZIP files starts a photo_batch.

POST /upload   Authorization: Bearer <Firebase ID token>
               file=<image or zip> (repeatable; `files` also),
               options=<JSON of photo options> and/or one form field per option
               (remove_bg=true, crop_face=false, model=u2netp, output_format, face_size, face_margin)
-> 202 {"job_id": ...}   or 4xx {"error": {"status", "message"}}

The body is parsed as it arrives and each file is streamed into Storage through a bounded
buffer; nothing is read whole. The user's job slot is reserved before the first byte is
stored, and a refused upload deletes what it stored and gives the slot back.
"""

from __future__ import annotations

import json
from typing import Any

import pydantic
from firebase_admin import auth
from firebase_functions import https_fn, logger
from flask import Request, Response
from werkzeug.sansio.multipart import Data, Epilogue, Field, File, MultipartDecoder, NeedData

from mediajobs import cloud, config
from mediajobs.jobs.api import CallerInfo, create_job, release_job_slot, reserve_job_slot
from mediajobs.jobs.notify.models import NotifySettings
from mediajobs.names import safe_filename
from mediajobs.photos.kind import PhotoOptions
from mediajobs.photos.models_catalogue import model_problem
from mediajobs.storage_io import SpillingUpload
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
SNIFF_BYTES = 12  # enough for every signature above
READ_CHUNK = 64 * 1024  # what is read from the request at a time
MAX_FIELD_BYTES = 64 * 1024  # a form field (options) is small
FILE_FIELDS = ("file", "files")
OPTION_FIELDS = tuple(PhotoOptions.model_fields)
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
    finally:
        _drain(req)
    return reply(202, {"job_id": job_id})


def _drain(req: Request) -> None:
    """Reads what is left of a refused body a chunk at a time: the framework would otherwise
    read it whole into memory before answering."""
    try:
        while req.stream.read(READ_CHUNK):
            pass
    except Exception:  # noqa: BLE001 - the client went away; nothing to answer
        pass


def _caller(req: Request) -> CallerInfo:
    header = req.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        raise UploadError(401, "unauthenticated", "Send a Firebase ID token: Authorization: Bearer <token>.")
    try:
        claims = auth.verify_id_token(header.removeprefix("Bearer ").strip(), app=cloud.app())
    except (ValueError, auth.InvalidIdTokenError, auth.ExpiredIdTokenError, auth.RevokedIdTokenError) as error:
        raise UploadError(401, "unauthenticated", f"The ID token is not valid: {error}") from None
    return CallerInfo(uid=str(claims["uid"]), is_admin=claims.get("admin") is True)


def _start_batch(req: Request, caller: CallerInfo) -> str:
    max_bytes = config.UPLOAD_MAX_MB.value * 1_000_000  # MB: under Cloud Run's 32 MiB, which answers without our JSON
    if (req.content_length or 0) > max_bytes:
        raise UploadError(413, "too-large", f"The request is over {config.UPLOAD_MAX_MB.value} MB.")
    boundary = req.mimetype_params.get("boundary", "")
    if req.mimetype != "multipart/form-data" or not boundary:
        raise UploadError(400, "invalid-argument", "Send multipart/form-data with one or more 'file' fields.")
    job_id = reserve_job_slot(caller.uid)  # before any byte is stored
    batch = _Batch(caller.uid, job_id, max_bytes)
    try:
        batch.receive(req.stream, boundary.encode("latin-1"))
        options = batch.options()
        if options.remove_bg and (problem := model_problem(options.model)):
            raise UploadError(412, "failed-precondition", problem)
        paths = [path for path, _ in batch.stored]
        notify = {"notify": given} if (given := batch.notify()) is not None else {}
        created = create_job(caller, "photo_batch", {"paths": paths}, options.model_dump(), job_id=job_id, **notify)
    except BaseException:
        batch.discard()
        release_job_slot(caller.uid, job_id)
        raise
    logger.info("upload started a photo batch", job_id=created, files=len(batch.stored), bytes=batch.total)
    return created


def multipart_decoder(boundary: bytes) -> MultipartDecoder:
    """werkzeug's decoder refuses (413, as HTML) data that would grow what it holds past
    max_form_memory_size, file parts included: it keeps a part's last bytes (a boundary may
    start there) and then receives a whole READ_CHUNK. Fields are bounded by _on_data."""
    return MultipartDecoder(boundary, max_form_memory_size=MAX_FIELD_BYTES + READ_CHUNK)


class _Batch:
    """The files of one upload, streamed into uploads/{uid}/{job_id}/ as they arrive (a prefix
    this system owns, so the bucket's lifecycle rules may delete it; users/ is the user's)."""

    def __init__(self, uid: str, job_id: str, max_bytes: int) -> None:
        self.folder = f"uploads/{uid}/{job_id}"
        self.max_bytes = max_bytes
        self.max_files = config.UPLOAD_MAX_FILES.value
        self.stored: list[tuple[str, int]] = []  # (path, size)
        self.total = 0
        self.fields: dict[str, str] = {}
        self._file: _IncomingFile | None = None
        self._field: tuple[str, bytearray] | None = None

    def receive(self, stream: Any, boundary: bytes) -> None:
        decoder = multipart_decoder(boundary)
        ended = False
        while not ended:
            chunk = stream.read(READ_CHUNK)
            decoder.receive_data(chunk or None)
            event = decoder.next_event()
            while not isinstance(event, NeedData):
                if isinstance(event, Epilogue):
                    ended = True
                    break
                self._on(event)
                event = decoder.next_event()
            if not chunk and not ended:
                raise UploadError(400, "invalid-argument", "The multipart body ended early.")
        if not self.stored:
            raise UploadError(400, "invalid-argument", "No files in the request: add one or more 'file' fields.")

    def _on(self, event: Any) -> None:
        if isinstance(event, File) and event.name in FILE_FIELDS:
            if len(self.stored) >= self.max_files:
                raise UploadError(400, "invalid-argument", f"Over {self.max_files} files sent; that is the limit.")
            index = len(self.stored)
            name = safe_filename(event.filename or "", fallback=f"upload-{index}")
            self._file = _IncomingFile(f"{self.folder}/{index:03d}-{name}", name)
        elif isinstance(event, Field | File):
            if event.name not in ("options", "notify", *OPTION_FIELDS):
                known = ", ".join(("file", "options", "notify", *OPTION_FIELDS))
                raise UploadError(400, "invalid-argument", f"Unknown form field {event.name!r}; known: {known}.")
            if event.name in self.fields:
                raise UploadError(400, "invalid-argument", f"The form field {event.name!r} is sent twice.")
            self._field = (event.name, bytearray())
        elif isinstance(event, Data):
            self._on_data(event.data, event.more_data)

    def _on_data(self, data: bytes, more: bool) -> None:
        if self._field is not None:
            name, value = self._field
            value += data
            if len(value) > MAX_FIELD_BYTES:
                raise UploadError(400, "invalid-argument", f"The form field {name!r} is too long.")
            if not more:
                self.fields[name] = value.decode("utf-8", "replace")
                self._field = None
            return
        if self._file is None:
            return
        self.total += len(data)
        if self.total > self.max_bytes:
            raise UploadError(413, "too-large", f"The upload is over {config.UPLOAD_MAX_MB.value} MB in total.")
        self._file.write(data)
        if not more:
            size = self._file.finish()
            self.stored.append((self._file.path, size))
            self._file = None

    def options(self) -> PhotoOptions:
        """The photo options from the `options` JSON and the per-option fields together."""
        try:
            options = json.loads(self.fields.get("options") or "{}")
        except json.JSONDecodeError as error:
            raise UploadError(400, "invalid-argument", f"options is not valid JSON: {error}") from None
        except RecursionError:
            raise UploadError(400, "invalid-argument", "options is nested too deeply to be photo options.") from None
        if not isinstance(options, dict):
            raise UploadError(400, "invalid-argument", "options must be a JSON object.")
        for name in OPTION_FIELDS:
            if name in self.fields:
                if name in options:
                    raise UploadError(400, "invalid-argument", f"{name} is both in options and a form field.")
                options[name] = self.fields[name]
        try:
            return PhotoOptions.model_validate(options)
        except pydantic.ValidationError as error:
            raise UploadError(400, "invalid-argument", describe(error, "options")) from None

    def notify(self) -> NotifySettings | None:
        """The `notify` JSON field (how the owner is told about the job), if sent."""
        if "notify" not in self.fields:
            return None
        try:
            return NotifySettings.model_validate(json.loads(self.fields["notify"]))
        except (json.JSONDecodeError, RecursionError):
            raise UploadError(400, "invalid-argument", "notify is not a JSON object.") from None
        except pydantic.ValidationError as error:
            raise UploadError(400, "invalid-argument", describe(error, "notify")) from None

    def discard(self) -> None:
        """Deletes what this upload stored (a refused upload leaves nothing behind)."""
        bucket = cloud.bucket()
        for path, _ in self.stored:
            try:
                bucket.blob(path).delete()
            except Exception as error:  # noqa: BLE001 - the lifecycle rule removes it later
                logger.warn("could not delete a refused upload", path=path, error=str(error))


class _IncomingFile:
    """One file of the body on its way into Storage: sniffed from its first bytes, then streamed."""

    def __init__(self, path: str, name: str) -> None:
        self.path = path
        self.name = name
        self._head = bytearray()
        self._upload: SpillingUpload | None = None
        self._size = 0

    def write(self, data: bytes) -> None:
        self._size += len(data)
        if self._upload is None:
            self._head += data
            if len(self._head) >= SNIFF_BYTES:
                self._start()
        else:
            self._upload.write(data)

    def _start(self) -> None:
        content_type = sniff(bytes(self._head))
        if content_type is None:
            raise UploadError(
                400, "invalid-argument", f"{self.name} is not an image or a ZIP archive; nothing was uploaded."
            )
        blob = cloud.bucket().blob(self.path)
        blob.content_disposition = "attachment"  # served as a download, never rendered by a browser
        self._upload = SpillingUpload(blob, content_type)
        self._upload.write(bytes(self._head))
        self._head = bytearray()

    def finish(self) -> int:
        if self._upload is None:
            self._start()  # a file shorter than the sniffed prefix
        assert self._upload is not None
        self._upload.finish()
        return self._size
