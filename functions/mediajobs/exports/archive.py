"""Per-user ZIP archives, streamed: names made safe and unique (`mediajobs.names`), contents
hashed on the way.

Plain functions over streams; nothing here knows Firebase.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
import zipfile
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import IO, Any, Protocol

from mediajobs.errors import CodedError
from mediajobs.names import MAX_NAME_BYTES, MAX_NAME_LENGTH, UniqueNames, safe_email, safe_filename

# The export names files by the shared rules of `mediajobs.names`; they are part of this API too.
__all__ = [
    "ALREADY_COMPRESSED",
    "CHUNK",
    "MAX_NAME_BYTES",
    "MAX_NAME_LENGTH",
    "PREFETCH_MAX_BYTES",
    "ArchivedFile",
    "FileError",
    "FileProblem",
    "Opener",
    "Readable",
    "SourceFile",
    "UniqueNames",
    "safe_email",
    "safe_filename",
    "size_mismatch",
    "write_archive",
]

CHUNK = 1024 * 1024
PREFETCH_MAX_BYTES = 8 * 1024 * 1024  # files up to this size are fetched ahead, concurrently
ALREADY_COMPRESSED = (".jpg", ".jpeg", ".png", ".gif", ".webp", ".heic", ".avif", ".mp3", ".m4a", ".aac", ".ogg",
                      ".opus", ".mp4", ".webm", ".zip")  # fmt: skip


@dataclasses.dataclass(frozen=True)
class SourceFile:
    id: str
    kind: str  # "images" | "voices"
    source_path: str
    filename: str
    content_type: str
    expected_size: int | None


@dataclasses.dataclass(frozen=True)
class ArchivedFile:
    id: str
    kind: str
    source_path: str
    archive_name: str
    size: int
    sha256: str
    content_type: str


@dataclasses.dataclass(frozen=True)
class FileError:
    id: str
    kind: str
    code: str
    message: str
    source_path: str | None = None


class FileProblem(CodedError):
    """This one file cannot be archived (missing, unreadable, empty); the rest go on."""


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...

    def __enter__(self) -> Readable: ...

    def __exit__(self, exc_type: Any, exc: Any, tb: Any, /) -> Any: ...


Opener = Callable[[SourceFile], Readable]


def _prefetch(opener: Opener, source: SourceFile) -> bytes:
    with opener(source) as stream:
        return stream.read()


def write_archive(
    out: IO[bytes],
    files: Iterable[SourceFile],
    opener: Opener,
    manifest_extra: dict[str, Any],
    *,
    known_errors: Iterable[FileError] = (),
    concurrency: int = 4,
    on_file: Callable[[], None] | None = None,
    warnings: list[FileError] | None = None,
    names: UniqueNames | None = None,
    extra_entries: dict[str, bytes] | None = None,
) -> tuple[list[ArchivedFile], list[FileError]]:
    """Writes every readable file and a manifest.json into a ZIP on `out` (which may be a
    non-seekable upload stream). Small files are fetched `concurrency` at a time ahead of
    the writer; large ones are streamed in chunks, so memory stays bounded. Returns what was
    archived and every error (`known_errors` first), as the manifest lists them. A file whose
    byte count differs from its metadata `size` is archived as read and listed under the
    manifest's `warnings` (also appended to `warnings` when given). `names` carries the names
    taken by earlier parts of the same export, so names stay unique across its parts;
    `extra_entries` (name: bytes, names already reserved in `names`) go in first, deflated."""
    names = names if names is not None else UniqueNames()
    found_warnings: list[FileError] = []
    archived: list[ArchivedFile] = []
    errors: list[FileError] = list(known_errors)
    sources = list(files)
    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool, zipfile.ZipFile(out, "w") as archive:
        ahead: dict[int, Future[bytes]] = {}
        for extra_name, data in (extra_entries or {}).items():
            archive.writestr(extra_name, data, compress_type=zipfile.ZIP_DEFLATED)

        def schedule(upto: int) -> None:
            for index in range(upto, min(len(sources), upto + concurrency * 2)):
                source = sources[index]
                small = source.expected_size is not None and source.expected_size <= PREFETCH_MAX_BYTES
                if small and index not in ahead:
                    ahead[index] = pool.submit(_prefetch, opener, source)

        for index, source in enumerate(sources):
            schedule(index)
            try:
                chunks = _chunks_of(ahead.pop(index).result()) if index in ahead else _stream(opener, source)
                entry = _add(archive, names, source, chunks)
            except FileProblem as problem:
                errors.append(FileError(source.id, source.kind, problem.code, problem.message, source.source_path))
            else:
                archived.append(entry)
                if source.expected_size is not None and entry.size != source.expected_size:
                    found_warnings.append(size_mismatch(source, entry.size))
            if on_file:
                on_file()
        manifest = {
            **manifest_extra,
            "files": [dataclasses.asdict(f) for f in archived],
            "errors": [dataclasses.asdict(e) for e in errors],
            "warnings": [dataclasses.asdict(w) for w in found_warnings],
        }
        archive.writestr("manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False))
    if warnings is not None:
        warnings.extend(found_warnings)
    return archived, errors


def size_mismatch(source: SourceFile, actual: int) -> FileError:
    return FileError(
        source.id,
        source.kind,
        "size-mismatch",
        f"{source.source_path} holds {actual} bytes but its metadata says {source.expected_size}; archived as read.",
        source.source_path,
    )


def _chunks_of(data: bytes) -> Iterator[bytes]:
    for start in range(0, len(data), CHUNK):
        yield data[start : start + CHUNK]


def _stream(opener: Opener, source: SourceFile) -> Iterator[bytes]:
    with opener(source) as stream:
        while chunk := stream.read(CHUNK):
            yield chunk


def _add(archive: zipfile.ZipFile, names: UniqueNames, source: SourceFile, chunks: Iterator[bytes]) -> ArchivedFile:
    """Adds one file; an empty or unreadable file leaves no entry behind."""
    first = next(chunks, b"")  # read before creating the entry, so failures leave nothing
    if not first:
        raise FileProblem("empty-file", f"{source.source_path} is empty (0 bytes); nothing to archive.")
    name = names.claim(source.kind, safe_filename(source.filename, fallback=source.id))
    compress = zipfile.ZIP_STORED if name.lower().endswith(ALREADY_COMPRESSED) else zipfile.ZIP_DEFLATED
    info = zipfile.ZipInfo(name, date_time=time.gmtime()[:6])
    info.compress_type = compress
    info.external_attr = 0o644 << 16
    digest = hashlib.sha256()
    size = 0
    with archive.open(info, "w", force_zip64=True) as entry:
        for chunk in _chain(first, chunks):
            digest.update(chunk)
            size += len(chunk)
            entry.write(chunk)
    return ArchivedFile(source.id, source.kind, source.source_path, name, size, digest.hexdigest(), source.content_type)


def _chain(first: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    yield first
    yield from rest
