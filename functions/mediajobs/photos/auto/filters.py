"""Which finalized objects processing on upload takes, as named guards (the extension's
`filters`): each refusal has a reason, logged, so a skipped upload is explainable.

Pure functions over the object's name, type, size and metadata: nothing here knows Firebase.
"""

from __future__ import annotations

import dataclasses
import posixpath

from mediajobs import storage_paths
from mediajobs.photos.auto.presets import OUTPUTS, WATCHED, preset

MAX_BYTES = 25 * 1024 * 1024  # as storage.rules allow under users/{uid}/auto/
IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp"})
OUTPUT_MARKER = "mediajobs_auto_output"  # metadata on every output: never processed again


@dataclasses.dataclass(frozen=True)
class Upload:
    uid: str
    preset: str
    relative: str  # the path under users/{uid}/auto/{preset}/


@dataclasses.dataclass(frozen=True)
class Skip:
    reason: str
    message: str


def watched(name: str) -> Upload | Skip:
    """users/{uid}/auto/{preset}/{relative}, or why not."""
    parts = storage_paths.segments(name)
    if parts is None:
        return Skip("not-plain", "not a plain object path")
    if len(parts) >= 3 and parts[0] == "users" and parts[2] == OUTPUTS:
        return Skip("own-output", "an output of processing on upload")
    if len(parts) < 5 or parts[0] != "users" or parts[2] != WATCHED:
        return Skip("not-watched", f"not under users/{{uid}}/{WATCHED}/{{preset}}/")
    if preset(parts[3]) is None:
        return Skip("unknown-preset", f"no preset named {parts[3]!r}")
    if any(part.startswith(".") for part in parts[4:]):
        return Skip("hidden-file", "a hidden file or folder")
    return Upload(uid=parts[1], preset=parts[3], relative="/".join(parts[4:]))


def takes(name: str, content_type: str | None, size: int, metadata: dict[str, str] | None) -> Upload | Skip:
    """The upload to process, or why this object is left alone."""
    if (metadata or {}).get(OUTPUT_MARKER):
        return Skip("own-output", "an output of processing on upload (marked)")
    found = watched(name)
    if isinstance(found, Skip):
        return found
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if media_type not in IMAGE_TYPES:
        return Skip("not-an-image", f"type {media_type or 'unknown'} is not one of {sorted(IMAGE_TYPES)}")
    if size <= 0:
        return Skip("empty", "an empty object")
    if size > MAX_BYTES:
        return Skip("too-large", f"over {MAX_BYTES // (1024 * 1024)} MB")
    return found


def output_path(upload: Upload, extension: str) -> str:
    """users/{uid}/auto-out/{preset}/{relative without its extension}.{extension}"""
    stem, _ = posixpath.splitext(upload.relative)
    return f"users/{upload.uid}/{OUTPUTS}/{upload.preset}/{stem}.{extension}"
