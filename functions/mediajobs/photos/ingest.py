"""Turns uploaded files (images or ZIP archives of images) into the images of a batch, safely.

ZIP archives are untrusted: the central directory is sized up from the end records (classic
and ZIP64) and its records counted before zipfile builds anything from it (a directory of a
million entries would otherwise take gigabytes); entry count, total uncompressed size and the
compression ratio of every entry and of the whole archive are bounded before anything is
extracted (ZIP bombs), names never become paths (traversal), nested archives are not
expanded, and encrypted or corrupt archives give a clear error. Archives are read through a seekable file
(a ranged reader over Storage) and entries are copied out in small chunks, one at a time, so
memory stays bounded whatever the archive holds.
"""

from __future__ import annotations

import dataclasses
import io
import lzma
import posixpath
import struct
import zipfile
import zlib
from collections.abc import Iterable
from typing import IO, Any

from mediajobs.errors import CodedError
from mediajobs.jobs.models import MAX_LABEL_BYTES, clip
from mediajobs.names import safe_filename

MAX_ENTRIES = 1000
# The central directory read at all: 1000 entries with names of 4 KB. zipfile holds it, and then
# a ZipInfo per record (a few hundred bytes each besides the name), while it parses.
MAX_DIRECTORY_BYTES = 4 * 1024 * 1024
MAX_TOTAL_UNCOMPRESSED = 1024 * 1024 * 1024  # 1 GiB for a whole archive
MAX_ENTRY_BYTES = 100 * 1024 * 1024
MAX_RATIO = 100  # uncompressed / compressed, per entry and per archive (images barely compress)
COPY_CHUNK = 1024 * 1024  # what one entry copy holds in memory at a time
READ_CHUNK = 1024 * 1024  # what the ranged reader over Storage holds
HEAD_BYTES = 12  # enough for every signature that tells an archive from an image
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff", ".heic", ".heif", ".avif")
ARCHIVE_EXTENSIONS = (".zip", ".7z", ".rar", ".tar", ".gz", ".tgz")
# What reading one damaged entry can raise: zipfile's own errors, and the decompressors' (a
# corrupt deflate or LZMA stream, a compression method zipfile does not know).
ENTRY_ERRORS = (zipfile.BadZipFile, EOFError, ValueError, OSError, zlib.error, lzma.LZMAError, NotImplementedError)

# The records at a ZIP's end, as APPNOTE 4.3.14-16 (and zipfile) lay them out.
_END = struct.Struct("<4s4H2LH")  # signature, disk, directory's disk, entries here, entries, size, offset, comment
_END_SIGNATURE = b"PK\x05\x06"
_MAX_COMMENT = 0xFFFF
_ZIP64_LOCATOR = struct.Struct("<4sLQL")  # signature, disk of the ZIP64 end, its offset, disks
_ZIP64_LOCATOR_SIGNATURE = b"PK\x06\x07"
_ZIP64_END = struct.Struct("<4sQ2H2L4Q")  # signature, size, versions, disks, entries here, entries, size, offset
_ZIP64_END_SIGNATURE = b"PK\x06\x06"
_CENTRAL = struct.Struct("<4s42x")  # a directory record's fixed part
_CENTRAL_SIGNATURE = b"PK\x01\x02"
_CENTRAL_LENGTHS = struct.Struct("<3H")  # name, extra and comment lengths, 28 bytes into a record


@dataclasses.dataclass(frozen=True)
class Skipped:
    source: str
    entry: str
    reason: str  # a code
    message: str


@dataclasses.dataclass(frozen=True)
class ImageEntry:
    source: str  # storage path of the upload
    entry: str | None  # name inside the archive, None for a plain image
    name: str  # safe file name, for outputs
    data: bytes


def shown(name: str) -> str:
    """An entry's name as messages quote it: a name may be 64 KiB long, a message is read."""
    return clip(name, MAX_LABEL_BYTES)


class ArchiveRefused(CodedError):
    """The whole archive is refused (bomb, encrypted, corrupt); nothing from it is used."""


def is_zip(name: str, data: bytes) -> bool:
    return data[:4] in (b"PK\x03\x04", b"PK\x05\x06") or name.lower().endswith(".zip")


def sniffs_as_archive(head: bytes) -> bool:
    """True when the first bytes of a file are an archive's, whatever its name says (ZIP,
    7z, RAR, gzip, bzip2, xz; a tar has no magic this early)."""
    return head[:4] in (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08") or head.startswith(
        (b"7z\xbc\xaf\x27\x1c", b"Rar!", b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00")
    )


def any_archive(heads: Iterable[tuple[str, bytes]]) -> bool:
    """True if one of (name, first bytes) is an archive by its bytes or by its name; a file
    that could not be read counts as one (the plan task, not the start trigger, looks at it)."""
    return any(not head or sniffs_as_archive(head) or name.lower().endswith(ARCHIVE_EXTENSIONS) for name, head in heads)


@dataclasses.dataclass(frozen=True)
class ZipImage:
    entry: str  # name inside the archive
    name: str  # safe file name, for outputs
    info: zipfile.ZipInfo


class EntryUnreadable(Exception):
    def __init__(self, skipped: Skipped) -> None:
        super().__init__(skipped.message)
        self.skipped = skipped


class CheckedZip:
    """An archive whose directory passed every check; its images are copied out one at a time.

    `file` must be seekable (zipfile reads the directory at the end first): a BytesIO, a local
    file, or a ranged reader over a Storage object (`open_in_storage`)."""

    def __init__(self, source: str, file: IO[bytes], archive_size: int) -> None:
        self.source = source
        try:
            check_central_directory(source, file)  # before zipfile builds anything from it
            self.archive = zipfile.ZipFile(file)
            infos = self.archive.infolist()
        except ENTRY_ERRORS as error:  # e.g. NotImplementedError "zip file version 6.4" from a damaged directory
            raise ArchiveRefused("corrupt-archive", f"{source} is not a readable ZIP archive ({error}).") from None
        _check_directory(source, infos, archive_size)
        self.images: list[ZipImage] = []
        self.skipped: list[Skipped] = []
        for info in infos:
            if not info.filename or not info.is_dir():  # folders are structure, not content
                self._sort(info)

    def _sort(self, info: zipfile.ZipInfo) -> None:
        source, name = self.source, info.filename
        shown_name = shown(name)
        base = posixpath.basename(name.replace("\\", "/").rstrip("/"))
        lower = base.lower()
        if not name:  # a name that starts with NUL reads as "" (and ZipInfo.is_dir() then fails)
            self.skipped.append(Skipped(source, name, "corrupt-entry", "An entry has no usable name; skipped."))
        elif base.startswith(".") or "__MACOSX" in name.split("/"):
            self.skipped.append(Skipped(source, name, "hidden-file", f"{shown_name} is a hidden or system file."))
        elif lower.endswith(ARCHIVE_EXTENSIONS):
            message = f"{shown_name} is an archive inside the archive; not expanded."
            self.skipped.append(Skipped(source, name, "nested-archive", message))
        elif not lower.endswith(IMAGE_EXTENSIONS):
            self.skipped.append(Skipped(source, name, "not-an-image", f"{shown_name} is not an image file."))
        elif info.file_size > MAX_ENTRY_BYTES:
            message = f"{shown_name} is {info.file_size:,} bytes; the limit is {MAX_ENTRY_BYTES:,}."
            self.skipped.append(Skipped(source, name, "too-large", message))
        else:
            self.images.append(ZipImage(name, safe_filename(base, fallback="image"), info))

    def copy(self, image: ZipImage, out: IO[bytes]) -> int:
        """Writes the image's bytes to `out` a chunk at a time; EntryUnreadable if it is damaged
        (then `out` may hold part of it: write to something that only keeps a finished copy)."""
        copied = 0
        try:
            with self.archive.open(image.info) as entry:
                while chunk := entry.read(COPY_CHUNK):
                    copied += len(chunk)
                    if copied > MAX_ENTRY_BYTES:  # zipfile stops at the declared size; this is a second fence
                        raise ValueError("larger than declared")
                    out.write(chunk)
        except ENTRY_ERRORS as error:
            message = f"{shown(image.entry)} cannot be extracted ({error})."
            raise EntryUnreadable(Skipped(self.source, image.entry, "corrupt-entry", message)) from None
        return copied

    def read(self, image: ZipImage) -> bytes:
        buffer = io.BytesIO()
        self.copy(image, buffer)
        return buffer.getvalue()


def check_central_directory(source: str, file: IO[bytes]) -> None:
    """Refuses an archive whose central directory is too large to parse, reading only its end
    records (the last 64 KiB at most) and then, if it is small enough, the directory itself,
    whose records are counted without being built: `too-many-entries` for more than
    MAX_ENTRIES records or a directory over MAX_DIRECTORY_BYTES, ArchiveRefused
    `corrupt-archive` if the end records are missing, truncated or point outside the file.
    Finds the directory where zipfile will (the end record, or the ZIP64 one just before its
    locator; a directory ends where they begin), so what it checks is what zipfile then reads."""

    def corrupt(why: str) -> ArchiveRefused:
        return ArchiveRefused("corrupt-archive", f"{source} is not a readable ZIP archive ({why}).")

    file.seek(0, io.SEEK_END)
    file_size = file.tell()
    if file_size < _END.size:
        raise corrupt("too short for a ZIP's end record")
    tail_start = max(0, file_size - _END.size - _MAX_COMMENT)
    file.seek(tail_start)
    tail = file.read(file_size - tail_start)
    at = len(tail) - _END.size  # an end record with no comment, else the last signature
    if not (tail[at:].startswith(_END_SIGNATURE) and tail[-2:] == b"\x00\x00"):
        at = tail.rfind(_END_SIGNATURE)
    if at < 0:
        raise corrupt("no end-of-central-directory record")
    if at + _END.size > len(tail):
        raise corrupt("its end-of-central-directory record is cut short")
    _, _, _, here, entries, size, _, _ = _END.unpack_from(tail, at)
    end_at = tail_start + at  # where the directory (or its ZIP64 end record) stops
    counts = [here, entries]
    if end_at >= _ZIP64_LOCATOR.size:
        file.seek(end_at - _ZIP64_LOCATOR.size)
        locator = file.read(_ZIP64_LOCATOR.size)
        if locator[:4] == _ZIP64_LOCATOR_SIGNATURE:
            _, disk, _, disks = _ZIP64_LOCATOR.unpack(locator)
            if disk != 0 or disks > 1:
                raise corrupt("it spans several disks")
            zip64_at = end_at - _ZIP64_LOCATOR.size - _ZIP64_END.size  # zipfile's place for it
            if zip64_at < 0:
                raise corrupt("its ZIP64 end record is missing")
            file.seek(zip64_at)
            record = file.read(_ZIP64_END.size)
            if record[:4] == _ZIP64_END_SIGNATURE:  # else zipfile keeps the classic record's numbers
                _, _, _, _, _, _, here64, entries64, size, _ = _ZIP64_END.unpack(record)
                counts, end_at = [here64, entries64], zip64_at
    declared = max(counts)
    if declared > MAX_ENTRIES:
        raise ArchiveRefused("too-many-entries", f"{source} has {declared:,} entries; the limit is {MAX_ENTRIES:,}.")
    start = end_at - size
    if start < 0:
        raise corrupt(f"its central directory of {size:,} bytes starts before the file")
    if size > MAX_DIRECTORY_BYTES:
        message = f"{source} has a central directory of {size:,} bytes (the limit is {MAX_DIRECTORY_BYTES:,}): "
        raise ArchiveRefused("too-many-entries", message + "too many entries, or names too long.")
    file.seek(start)
    directory = file.read(size)
    records = offset = 0
    while offset < size:  # as zipfile walks it, without building a ZipInfo per record
        if offset + _CENTRAL.size > len(directory) or directory[offset : offset + 4] != _CENTRAL_SIGNATURE:
            raise corrupt("its central directory is truncated or damaged")
        records += 1
        if records > MAX_ENTRIES:
            message = f"{source} has more than {MAX_ENTRIES:,} entries; the limit is {MAX_ENTRIES:,}."
            raise ArchiveRefused("too-many-entries", message)
        offset += _CENTRAL.size + sum(_CENTRAL_LENGTHS.unpack_from(directory, offset + 28))


def _check_directory(source: str, infos: list[zipfile.ZipInfo], archive_size: int) -> None:
    """Refuses the archive before anything is extracted: too many entries, too big, encrypted,
    or compressed more than a real photo ever is (every entry, and the archive as a whole)."""
    if len(infos) > MAX_ENTRIES:  # a second fence: check_central_directory counted them already
        raise ArchiveRefused("too-many-entries", f"{source} has {len(infos):,} entries; the limit is {MAX_ENTRIES:,}.")
    declared = sum(info.file_size for info in infos)
    if declared > MAX_TOTAL_UNCOMPRESSED:
        raise ArchiveRefused(
            "zip-bomb", f"{source} would expand to {declared:,} bytes; the limit is {MAX_TOTAL_UNCOMPRESSED:,}."
        )
    if declared > MAX_RATIO * max(archive_size, 1):
        ratio = declared // max(archive_size, 1)
        raise ArchiveRefused("zip-bomb", f"{source} expands {ratio}x as a whole; refused as a ZIP bomb.")
    for info in infos:
        if info.flag_bits & 0x1:
            raise ArchiveRefused(
                "encrypted-archive", f"{source} is encrypted ({shown(info.filename)}); upload it without a password."
            )
        if info.file_size > MAX_RATIO * max(info.compress_size, 1):
            ratio = info.file_size // max(info.compress_size, 1)
            message = f"{source}: {shown(info.filename)} expands {ratio}x; refused as a ZIP bomb."
            raise ArchiveRefused("zip-bomb", message)


def open_in_storage(blob: Any) -> IO[bytes]:
    """A seekable reader over a Storage object that holds one small range at a time."""
    reader: IO[bytes] = blob.open("rb", chunk_size=READ_CHUNK)
    return reader


def expand_zip(source: str, data: bytes) -> tuple[list[ImageEntry], list[Skipped]]:
    """The image entries of a ZIP held in memory and the entries skipped, with reasons."""
    checked = CheckedZip(source, io.BytesIO(data), len(data))
    images: list[ImageEntry] = []
    skipped = list(checked.skipped)
    for image in checked.images:
        try:
            images.append(ImageEntry(source, image.entry, image.name, checked.read(image)))
        except EntryUnreadable as unreadable:
            skipped.append(unreadable.skipped)
    return images, skipped


def copy_to_storage(checked: CheckedZip, image: ZipImage, blob: Any) -> None:
    """Copies one image out of the archive into a Storage object, in bounded memory; a damaged
    entry raises EntryUnreadable and leaves no object behind."""
    from mediajobs.storage_io import SpillingUpload

    upload = SpillingUpload(blob, "application/octet-stream")
    checked.copy(image, upload)  # type: ignore[arg-type]  # a write-only binary stream
    upload.finish()


def heads_in_storage(bucket: Any, paths: list[str], threads: int = 8) -> list[tuple[str, bytes]]:
    """(path, first bytes) of each object; b"" for one that is missing, empty or unreadable."""
    from concurrent.futures import ThreadPoolExecutor

    def head(path: str) -> tuple[str, bytes]:
        try:
            return path, bucket.blob(path).download_as_bytes(start=0, end=HEAD_BYTES - 1)
        except Exception:  # noqa: BLE001 - the plan task looks at it again and says what is wrong
            return path, b""

    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(head, paths))
