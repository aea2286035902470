"""What one user's archive should hold, read from `email_users`, `images` and `voices`.

User documents come from an older client and are not trusted: every oddity becomes a
recorded error for that file (or that user) instead of an exception.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from mediajobs.errors import CodedError
from mediajobs.exports.archive import FileError, SourceFile

ID_FIELDS = {"images": ("imageIds", "images"), "voices": ("voiceIds", "voices")}  # kind: (user field, collection)
MAX_IDS_PER_KIND = 10_000
MAX_PATH_LENGTH = 1024


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


def source_file(kind: str, file_id: str, meta: dict[str, Any] | None) -> SourceFile | FileError:
    """The metadata document of one file, checked."""
    collection = ID_FIELDS[kind][1]
    if meta is None:
        return FileError(file_id, kind, "metadata-not-found", f"{collection}/{file_id} does not exist.")
    path = meta.get("storage_path")
    if (
        not isinstance(path, str)
        or not path.strip()
        or len(path) > MAX_PATH_LENGTH
        or path.startswith("/")
        or ".." in path.split("/")
    ):
        return FileError(
            file_id, kind, "invalid-storage-path", f"{collection}/{file_id} has an invalid storage_path {path!r}."
        )
    size = meta.get("size")
    return SourceFile(
        id=file_id,
        kind=kind,
        source_path=path,
        filename=str(meta.get("filename") or path.rsplit("/", 1)[-1]),
        content_type=str(meta.get("content_type") or "application/octet-stream"),
        expected_size=size if isinstance(size, int) and not isinstance(size, bool) and size >= 0 else None,
    )
