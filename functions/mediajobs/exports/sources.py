"""What one user's archive should hold, read from `email_users`, `images` and `voices`.

User documents come from an older client and are not trusted: every oddity becomes a
recorded error for that file (or that user) instead of an exception.
"""

from __future__ import annotations

import dataclasses
import os
import re
import urllib.parse
from typing import Any

from mediajobs import storage_paths
from mediajobs.errors import CodedError
from mediajobs.exports.archive import FileError, SourceFile

ID_FIELDS = {"images": ("imageIds", "images"), "voices": ("voiceIds", "voices")}  # kind: (user field, collection)
MAX_IDS_PER_KIND = 10_000


class UserProblem(CodedError):
    """The user as a whole cannot be exported (no document, no email)."""


@dataclasses.dataclass(frozen=True)
class UserFiles:
    user_id: str
    email: str
    files: list[SourceFile]
    errors: list[FileError]


def valid_document_id(value: object) -> bool:
    """Whether Firestore accepts `value` as a document id (else a read of it fails the whole user)."""
    if not isinstance(value, str) or not value or "/" in value or value in (".", ".."):
        return False
    if value.startswith("__") and value.endswith("__"):  # reserved by Firestore
        return False
    try:
        return len(value.encode("utf-8")) <= 1500
    except UnicodeEncodeError:
        return False


def wanted_ids(user_id: str, data: dict[str, Any]) -> tuple[dict[str, list[str]], list[FileError]]:
    """The ids of each kind the user document asks for, de-duplicated, with what was wrong."""
    wanted: dict[str, list[str]] = {}
    errors: list[FileError] = []
    for kind, (field, _) in ID_FIELDS.items():
        raw = data.get(field)
        if raw is None:
            wanted[kind] = []
            continue
        if not isinstance(raw, list):
            errors.append(
                FileError(
                    field,
                    kind,
                    "invalid-id-list",
                    f"{field} of user {user_id} is a {type(raw).__name__}, not a list; skipped.",
                )
            )
            wanted[kind] = []
            continue
        ids: list[str] = []
        for value in raw[:MAX_IDS_PER_KIND]:
            if not valid_document_id(value):
                errors.append(
                    FileError(str(value)[:100], kind, "invalid-id", f"{field} holds an invalid id {value!r}.")
                )
            elif value in ids:
                errors.append(
                    FileError(
                        value, kind, "duplicate-id", f"{value} is listed more than once in {field}; archived once."
                    )
                )
            else:
                ids.append(value)
        if len(raw) > MAX_IDS_PER_KIND:
            errors.append(
                FileError(
                    field,
                    kind,
                    "too-many-ids",
                    f"{field} lists {len(raw)} ids; only the first {MAX_IDS_PER_KIND} are exported.",
                )
            )
        wanted[kind] = ids
    return wanted, errors


def email_of(user_id: str, data: dict[str, Any] | None) -> str:
    if data is None:
        raise UserProblem("user-not-found", f"email_users/{user_id} does not exist.")
    email = data.get("email")
    if not isinstance(email, str) or "@" not in email or len(email) > 320:
        raise UserProblem(
            "missing-email", f"email_users/{user_id} has no valid email ({email!r}); cannot name its archive."
        )
    return email.strip()


# Field names as either client wrote them; the first one present wins.
PATH_FIELDS = ("storage_path", "storagePath", "path", "gs_url", "gsUrl", "download_url", "downloadUrl",
               "downloadURL", "url")  # fmt: skip
NAME_FIELDS = ("filename", "file_name", "fileName", "original_name", "originalName", "name")
TYPE_FIELDS = ("content_type", "contentType", "mime_type", "mimeType")
SIZE_FIELDS = ("size", "file_size", "fileSize", "size_bytes", "sizeBytes")
DOWNLOAD_HOSTS = ("firebasestorage.googleapis.com",)


def first_field(meta: dict[str, Any], names: tuple[str, ...]) -> Any:
    return next((meta[name] for name in names if meta.get(name) not in (None, "")), None)


def emulator_hosts() -> tuple[str, ...]:
    """Hosts that serve Firebase download URLs locally (the Storage emulator's), when there is one."""
    hosts = []
    for name in ("STORAGE_EMULATOR_HOST", "FIREBASE_STORAGE_EMULATOR_HOST"):
        value = os.environ.get(name, "")
        if value:
            hosts.append(urllib.parse.urlsplit(value if "//" in value else f"//{value}").netloc.lower())
    return tuple(h for h in hosts if h)


class LocationProblem(CodedError):
    """A metadata document's location is not an object of the default bucket."""


def object_path(location: object, default_bucket: str | None, local_hosts: tuple[str, ...] = ()) -> str:
    """The object path inside the default bucket that `location` names: a plain path,
    `gs://bucket/path` or a Firebase download URL (`.../v0/b/<bucket>/o/<encoded path>?...`)."""
    if not isinstance(location, str) or not location.strip():
        raise LocationProblem("invalid-storage-path", f"no storage path ({location!r}).")
    text = location.strip()
    bucket: str | None = None
    path = location  # a plain path is taken as written
    if text.lower().startswith("gs://"):
        bucket, _, path = text[5:].partition("/")
    elif text.lower().startswith(("https://", "http://")):
        url = urllib.parse.urlsplit(text)
        host = url.netloc.lower()
        if host not in DOWNLOAD_HOSTS and host not in local_hosts:
            raise LocationProblem("unsupported-url", f"{text[:200]!r} is not a Firebase Storage download URL.")
        match = re.fullmatch(r"/v0/b/([^/]+)/o/([^/]+)", url.path)
        if not match:
            raise LocationProblem("unsupported-url", f"{text[:200]!r} is not a Firebase Storage download URL.")
        bucket = urllib.parse.unquote(match.group(1))
        path = urllib.parse.unquote(match.group(2))
    if bucket is not None and bucket != default_bucket:
        raise LocationProblem(
            "foreign-bucket", f"{text[:200]!r} is in bucket {bucket!r}; only the default bucket is exported."
        )
    if not storage_paths.is_plain(path):
        raise LocationProblem("invalid-storage-path", f"invalid storage path {path[:200]!r}.")
    return path


def source_file(
    kind: str,
    file_id: str,
    meta: dict[str, Any] | None,
    default_bucket: str | None = None,
    local_hosts: tuple[str, ...] = (),
) -> SourceFile | FileError:
    """The metadata document of one file, checked; snake_case or camelCase fields."""
    collection = ID_FIELDS[kind][1]
    if meta is None:
        return FileError(file_id, kind, "metadata-not-found", f"{collection}/{file_id} does not exist.")
    location = first_field(meta, PATH_FIELDS)
    try:
        path = object_path(location, default_bucket, local_hosts)
    except LocationProblem as problem:
        return FileError(file_id, kind, problem.code, f"{collection}/{file_id}: {problem.message}")
    size = first_field(meta, SIZE_FIELDS)
    name = first_field(meta, NAME_FIELDS)
    content_type = first_field(meta, TYPE_FIELDS)
    return SourceFile(
        id=file_id,
        kind=kind,
        source_path=path,
        filename=str(name or path.rsplit("/", 1)[-1]),
        content_type=str(content_type or "application/octet-stream"),
        expected_size=size if isinstance(size, int) and not isinstance(size, bool) and size >= 0 else None,
    )
