"""Writes one owner's files into Storage as one ZIP or numbered ZIP parts (`exports.parts`).

Each part is streamed into its own object (never held whole in memory) and recorded in the
item's checkpoint as soon as it exists. A later attempt, or an export resumed from this one,
keeps every part whose digest (the files it holds) is unchanged and whose object is intact
(size and CRC32C), reading back only its manifest; so a resume never duplicates or loses a
file. Names stay unique across the parts of one archive.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import zipfile
from collections.abc import Callable, Sequence
from typing import IO, Any, cast

from google.api_core import exceptions as gexc

from mediajobs import cloud
from mediajobs.exports.archive import ArchivedFile, FileError, Opener, SourceFile, write_archive
from mediajobs.exports.parts import HashingWriter, expires_at, part_digest, part_path, plan_parts
from mediajobs.jobs.kinds import ItemContext
from mediajobs.jobs.progress import ByteProgress
from mediajobs.jobs.store import now
from mediajobs.names import UniqueNames
from mediajobs.storage_io import SpillingUpload

MAX_CHECKPOINT_PARTS = 40  # an item's checkpoint is capped at 16 KiB; later parts are just written again


class NameTaken(Exception):
    """A part's name holds another owner's archive: the caller picks a name only it uses."""


@dataclasses.dataclass(frozen=True)
class PartRecord:
    """One part as the item result, the checkpoint and index.json list it."""

    number: int
    path: str
    digest: str
    files: int
    bytes: int  # the files' size before compression
    archive_bytes: int  # the ZIP object's size
    sha256: str
    crc32c: str
    expires_at: str

    @classmethod
    def parse(cls, value: object) -> PartRecord | None:
        if not isinstance(value, dict):
            return None
        try:
            return cls(**{f.name: value[f.name] for f in dataclasses.fields(cls)})
        except (KeyError, TypeError):
            return None

    def public(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass
class SplitArchive:
    parts: list[PartRecord]
    archived: list[ArchivedFile]
    errors: list[FileError]
    warnings: list[FileError]


@dataclasses.dataclass(frozen=True)
class ArchiveSpec:
    base: str  # object path without `.zip`; parts add `-001`, ...
    owner_id: str  # stored as the objects' `user_id` metadata
    files: Sequence[SourceFile]
    known_errors: Sequence[FileError]
    manifest_extra: dict[str, Any]
    max_bytes: int
    concurrency: int
    first_part_files: dict[str, bytes] = dataclasses.field(default_factory=dict)  # e.g. an index, in part 1


def write_split_archive(
    ctx: ItemContext,
    spec: ArchiveSpec,
    opener: Opener,
    *,
    reusable: Sequence[PartRecord] = (),
    look: bool = True,
) -> SplitArchive:
    """Writes (or keeps) every part of `spec`. Without `look`, parts are written only if
    their name is free (a blind first attempt); with it, a name holding this owner's object
    is replaced and one holding another owner's raises NameTaken."""
    reserve = sum(len(e.message) + 200 for e in spec.known_errors) + sum(len(b) for b in spec.first_part_files.values())
    groups = plan_parts(spec.files, spec.max_bytes, first_part_reserve=reserve)
    count = len(groups)
    candidates: dict[str, list[PartRecord]] = {}
    for earlier in reusable:  # this job's own parts first, then an earlier export's
        candidates.setdefault(earlier.digest, []).append(earlier)
    names = UniqueNames()
    for name in spec.first_part_files:
        names.reserve(name)
    out = SplitArchive([], [], [], [])
    progress = ByteProgress(ctx, [f.expected_size for files in groups for f in files])  # the user's bar
    for number, files in enumerate(groups, start=1):
        digest = part_digest(files, number, count)
        kept = next((p for p in candidates.get(digest, []) if _intact(p) and _take_manifest(p, names, out)), None)
        if kept is not None:
            out.parts.append(kept)
            for _ in files:
                progress.file_done()
        else:
            path = part_path(spec.base, number, count)
            generation = _generation_for(path, spec.owner_id) if look else 0
            out.parts.append(
                _write_part(
                    ctx,
                    spec,
                    opener,
                    path=path,
                    generation=generation,
                    files=files,
                    number=number,
                    count=count,
                    digest=digest,
                    names=names,
                    out=out,
                    on_file=progress.file_done,
                )
            )
        if count > 1:
            _checkpoint(ctx, out.parts)
    _delete_stale_parts(spec, reusable, out.parts)
    return out


def _delete_stale_parts(spec: ArchiveSpec, reusable: Sequence[PartRecord], parts: Sequence[PartRecord]) -> None:
    """Parts an earlier attempt of this job wrote under another cut (the files changed in
    between) are not part of the archive: they go, so the folder holds each file once."""
    folder = spec.base.rsplit("/", 1)[0] + "/"
    current = {p.path for p in parts}
    for stale in {p.path for p in reusable if p.path.startswith(folder)} - current:
        blob = cloud.bucket().get_blob(stale)
        if blob is not None and (blob.metadata or {}).get("user_id") == spec.owner_id:
            with contextlib.suppress(gexc.NotFound):
                blob.delete()


def _generation_for(path: str, owner_id: str) -> int:
    existing = cloud.bucket().get_blob(path)
    if existing is None:
        return 0  # only if still free
    if (existing.metadata or {}).get("user_id") not in (None, owner_id):
        raise NameTaken(path)
    return int(existing.generation)  # ours, from an earlier attempt: replace exactly that


def _write_part(
    ctx: ItemContext,
    spec: ArchiveSpec,
    opener: Opener,
    *,
    path: str,
    generation: int,
    files: Sequence[SourceFile],
    number: int,
    count: int,
    digest: str,
    names: UniqueNames,
    out: SplitArchive,
    on_file: Callable[[], None],
) -> PartRecord:
    """Streams one part into Storage; a failure part-way leaves no object behind."""
    blob = cloud.bucket().blob(path)
    blob.metadata = {"user_id": spec.owner_id, "job_id": ctx.job.id, "part": str(number), "parts": str(count)}
    upload = SpillingUpload(blob, content_type="application/zip", if_generation_match=generation)
    hashing = HashingWriter(cast(IO[bytes], upload))
    warnings: list[FileError] = []
    extra = {**spec.manifest_extra, "part": number, "parts": count}
    first = number == 1
    archived, errors = write_archive(
        cast(IO[bytes], hashing),
        files,
        opener,
        extra,
        known_errors=spec.known_errors if first else (),
        concurrency=spec.concurrency,
        on_file=on_file,
        warnings=warnings,
        names=names,
        extra_entries=spec.first_part_files if first else None,
    )
    upload.finish()  # not a `with`: an exception above must never complete a partial upload
    out.archived += archived
    out.errors += errors
    out.warnings += warnings
    return PartRecord(
        number=number,
        path=path,
        digest=digest,
        files=len(archived),
        bytes=sum(f.size for f in archived),
        archive_bytes=hashing.size,
        sha256=hashing.hexdigest(),
        crc32c=str(blob.crc32c or ""),
        expires_at=expires_at(blob.time_created or now()),
    )


def _intact(part: PartRecord) -> bool:
    blob = cloud.bucket().get_blob(part.path)
    return blob is not None and blob.size == part.archive_bytes and blob.crc32c == part.crc32c


def _take_manifest(part: PartRecord, names: UniqueNames, out: SplitArchive) -> bool:
    """Adds a kept part's files and errors (read back from its manifest) and takes its names."""
    reader: Any = cloud.bucket().blob(part.path).open("rb", chunk_size=1024 * 1024)
    try:
        with zipfile.ZipFile(reader) as archive:
            manifest = json.loads(archive.read("manifest.json"))
            entries = archive.namelist()
    except (KeyError, ValueError, zipfile.BadZipFile):
        return False
    finally:
        reader.close()
    for name in entries:
        names.reserve(name)
    out.archived += [ArchivedFile(**f) for f in manifest.get("files") or []]
    out.errors += [FileError(**e) for e in manifest.get("errors") or []]
    out.warnings += [FileError(**w) for w in manifest.get("warnings") or []]
    return True


def _checkpoint(ctx: ItemContext, parts: list[PartRecord]) -> None:
    if len(parts) <= MAX_CHECKPOINT_PARTS:
        ctx.save_checkpoint({"parts": [p.public() for p in parts]})


def parts_of(record: dict[str, Any]) -> list[PartRecord]:
    """The parts an item document names: those of its result when done, else of its checkpoint."""
    result = record.get("result") if record.get("status") == "done" else None
    listed = (result or {}).get("parts") or (record.get("checkpoint") or {}).get("parts") or []
    return [p for p in map(PartRecord.parse, listed) if p is not None]


def all_intact(parts: Sequence[PartRecord], check: Callable[[PartRecord], bool] = _intact) -> bool:
    return bool(parts) and all(check(p) for p in parts)
