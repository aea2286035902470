"""Storage object paths that clients, kinds and stored documents name: one rule set for all.

A path is *plain* when it names exactly the object it seems to name, wherever it is used
(a Storage call, a URL, an archive's manifest, a log line):

- not blank, at most MAX_PATH_BYTES bytes in UTF-8 (Cloud Storage's limit for object names);
- no leading "/" and no empty, "." or ".." segment, so no "//" and no trailing "/": it is its
  own `posixpath.normpath`;
- no backslash (a separator to Windows tools and unzippers) and no control character (Storage
  refuses CR and LF; the others hide in logs and file names).

Every caller checks with `path_problem` (or `segments`) and turns the answer into its own error:
the codes and messages clients see stay each caller's. Who owns what: `users/{uid}/...` and
`uploads/{uid}/...` (what /upload staged) are the user's own (`owned_by`, `owner_of`).
Nothing here knows Firebase.
"""

from __future__ import annotations

import unicodedata

MAX_PATH_BYTES = 1024
OWNER_FOLDERS = ("users", "uploads")  # {folder}/{uid}/...: that user's files


def path_problem(path: object) -> str | None:
    """Why `path` is not a plain object path, or None when it is."""
    if not isinstance(path, str) or not path.strip():
        return "it is empty"
    try:
        size = len(path.encode("utf-8"))
    except UnicodeEncodeError:
        return "it is not valid Unicode"
    if size > MAX_PATH_BYTES:
        return f"it is longer than {MAX_PATH_BYTES} bytes"
    if path.startswith("/"):
        return "it starts with '/'"
    if any(segment in ("", ".", "..") for segment in path.split("/")):
        return "it has an empty, '.' or '..' segment"
    if "\\" in path:
        return "it holds a backslash"
    if any(unicodedata.category(c) == "Cc" for c in path):
        return "it holds a control character"
    return None


def is_plain(path: object) -> bool:
    return path_problem(path) is None


def segments(path: str) -> list[str] | None:
    """The path's segments when it is plain, else None."""
    return path.split("/") if is_plain(path) else None


def owner_prefixes(uid: str) -> tuple[str, ...]:
    """The folders whose objects belong to the user `uid`."""
    return tuple(f"{folder}/{uid}/" for folder in OWNER_FOLDERS)


def owned_by(path: str, uid: str) -> bool:
    """Whether `path` is a plain path inside one of `uid`'s own folders (never the folder itself)."""
    parts = segments(path)
    return parts is not None and owner_of(parts) == uid


def owner_of(parts: list[str]) -> str | None:
    """The uid of the user whose own folder holds the object at `parts` (a plain path's segments)."""
    if len(parts) > 2 and parts[0] in OWNER_FOLDERS and parts[1]:
        return parts[1]
    return None
