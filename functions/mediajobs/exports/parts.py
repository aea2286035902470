"""Cutting one archive into numbered parts of at most `archive_max_bytes`, as Google Takeout
does: every part is a complete ZIP with its own manifest.json.

The cut is decided before any byte is read, from the sizes the metadata states, so every
attempt (and a later export resumed from this one) puts the same files into the same parts:
a part already written is recognised by its digest and kept, never written twice. A part can
only outgrow the limit when one file alone is bigger, or when metadata understates a size.

Plain functions; nothing here knows Firebase.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
from collections.abc import Sequence
from typing import IO, Any

from mediajobs.exports.archive import SourceFile

MiB = 1024 * 1024
DEFAULT_ARCHIVE_MAX_BYTES = 2 * 1024 * MiB
MIN_ARCHIVE_MAX_BYTES = 64 * MiB
MAX_ARCHIVE_MAX_BYTES = 50 * 1024 * MiB  # Takeout's largest choice
MANIFEST_RESERVE = 256 * 1024  # the manifest's own fields and the user's id-list errors
ENTRY_OVERHEAD = 1024  # local header with ZIP64 extra, data descriptor, central record, manifest record

# `storage.lifecycle.json` deletes objects under `exports/` and `jobs/` this long after they were written.
LIFECYCLE_DAYS = 30


def estimated_entry_bytes(source: SourceFile) -> int:
    """What one file adds to a part at most: its bytes (deflate may grow incompressible data
    by about 0.03 %), its names twice and its manifest record."""
    size = source.expected_size or 0
    names = len(source.filename.encode("utf-8", "replace")) + len(source.kind) + len(source.source_path) + 16
    return size + size // 1000 + ENTRY_OVERHEAD + 3 * names


def plan_parts(files: Sequence[SourceFile], max_bytes: int, *, first_part_reserve: int = 0) -> list[list[SourceFile]]:
    """The files of each part, in order; always at least one (maybe empty) part."""
    parts: list[list[SourceFile]] = [[]]
    used = MANIFEST_RESERVE + first_part_reserve
    for source in files:
        cost = estimated_entry_bytes(source)
        if parts[-1] and used + cost > max_bytes:
            parts.append([])
            used = MANIFEST_RESERVE
        parts[-1].append(source)
        used += cost
    return parts


def part_digest(files: Sequence[SourceFile], number: int, count: int) -> str:
    """Names what a part holds: the same files at the same place of the same cut."""
    listed = [[f.id, f.kind, f.source_path, f.filename, f.expected_size] for f in files]
    return hashlib.sha256(json.dumps([number, count, listed], ensure_ascii=False).encode()).hexdigest()


def part_path(base: str, number: int, count: int) -> str:
    """`{base}.zip` for a single archive, else `{base}-001.zip`, `{base}-002.zip`, ..."""
    return f"{base}.zip" if count == 1 else f"{base}-{number:03d}.zip"


def expires_at(written_at: dt.datetime) -> str:
    """When the bucket's lifecycle rule deletes an object written at `written_at` (RFC 3339, UTC)."""
    return (written_at.astimezone(dt.UTC) + dt.timedelta(days=LIFECYCLE_DAYS)).isoformat()


class HashingWriter(io.RawIOBase):
    """Passes every byte on to `out`, counting them and hashing them (sha256) on the way."""

    def __init__(self, out: IO[bytes]) -> None:
        super().__init__()
        self._out = out
        self._digest = hashlib.sha256()
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        view = memoryview(data)
        self._digest.update(view)
        self._out.write(data)
        self.size += len(view)
        return len(view)

    def hexdigest(self) -> str:
        return self._digest.hexdigest()
