"""Turns uploaded files (images or ZIP archives of images) into the images of a batch, safely.

ZIP archives are untrusted: entry count, total uncompressed size and compression ratio are
bounded before anything is extracted (ZIP bombs), names never become paths (traversal),
nested archives are not expanded, and encrypted or corrupt archives give a clear error.
"""

from __future__ import annotations

import dataclasses
import io
import lzma
import posixpath
import zipfile
import zlib

from mediajobs.errors import CodedError
from mediajobs.exports.archive import safe_filename

MAX_ENTRIES = 1000
MAX_TOTAL_UNCOMPRESSED = 1024 * 1024 * 1024  # 1 GiB for a whole archive
MAX_ENTRY_BYTES = 100 * 1024 * 1024
MAX_RATIO = 100  # uncompressed / compressed, per entry (images barely compress)
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff", ".heic", ".heif", ".avif")
ARCHIVE_EXTENSIONS = (".zip", ".7z", ".rar", ".tar", ".gz", ".tgz")
# What reading one damaged entry can raise: zipfile's own errors, and the decompressors' (a
# corrupt deflate or LZMA stream, a compression method zipfile does not know).
ENTRY_ERRORS = (zipfile.BadZipFile, EOFError, ValueError, OSError, zlib.error, lzma.LZMAError, NotImplementedError)


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


class ArchiveRefused(CodedError):
    """The whole archive is refused (bomb, encrypted, corrupt); nothing from it is used."""


def is_zip(name: str, data: bytes) -> bool:
    return data[:4] in (b"PK\x03\x04", b"PK\x05\x06") or name.lower().endswith(".zip")


def expand_zip(source: str, data: bytes) -> tuple[list[ImageEntry], list[Skipped]]:
    """The image entries of a ZIP and the entries skipped, with reasons."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except ENTRY_ERRORS as error:  # e.g. NotImplementedError "zip file version 6.4" from a damaged directory
        raise ArchiveRefused("corrupt-archive", f"{source} is not a readable ZIP archive ({error}).") from None
    if len(infos) > MAX_ENTRIES:
        raise ArchiveRefused("too-many-entries", f"{source} has {len(infos)} entries; the limit is {MAX_ENTRIES}.")
    declared = sum(info.file_size for info in infos)
    if declared > MAX_TOTAL_UNCOMPRESSED:
        raise ArchiveRefused(
            "zip-bomb", f"{source} would expand to {declared:,} bytes; the limit is {MAX_TOTAL_UNCOMPRESSED:,}."
        )
    for info in infos:
        if info.flag_bits & 0x1:
            raise ArchiveRefused(
                "encrypted-archive", f"{source} is encrypted ({info.filename}); upload it without a password."
            )
        if info.file_size > 1024 * 1024 and info.compress_size and info.file_size / info.compress_size > MAX_RATIO:
            ratio = info.file_size // max(info.compress_size, 1)
            raise ArchiveRefused("zip-bomb", f"{source}: {info.filename} expands {ratio}x; refused as a ZIP bomb.")
    images: list[ImageEntry] = []
    skipped: list[Skipped] = []
    for info in infos:
        name = info.filename
        base = posixpath.basename(name.replace("\\", "/").rstrip("/"))
        lower = base.lower()
        if not name:  # a name that starts with NUL reads as "" (and ZipInfo.is_dir() then fails)
            skipped.append(Skipped(source, name, "corrupt-entry", "An entry has no usable name; skipped."))
            continue
        if info.is_dir():
            continue  # folders are structure, not content
        if base.startswith(".") or "__MACOSX" in name.split("/"):
            skipped.append(Skipped(source, name, "hidden-file", f"{name} is a hidden or system file."))
        elif lower.endswith(ARCHIVE_EXTENSIONS):
            skipped.append(
                Skipped(source, name, "nested-archive", f"{name} is an archive inside the archive; not expanded.")
            )
        elif not lower.endswith(IMAGE_EXTENSIONS):
            skipped.append(Skipped(source, name, "not-an-image", f"{name} is not an image file."))
        elif info.file_size > MAX_ENTRY_BYTES:
            skipped.append(
                Skipped(
                    source, name, "too-large", f"{name} is {info.file_size:,} bytes; the limit is {MAX_ENTRY_BYTES:,}."
                )
            )
        else:
            try:
                content = _read_bounded(archive, info)
            except ENTRY_ERRORS as error:
                skipped.append(Skipped(source, name, "corrupt-entry", f"{name} cannot be extracted ({error})."))
                continue
            images.append(ImageEntry(source, name, safe_filename(base, fallback="image"), content))
    return images, skipped


def _read_bounded(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """Reads an entry without trusting its declared size."""
    with archive.open(info) as entry:
        content = entry.read(MAX_ENTRY_BYTES + 1)
    if len(content) > MAX_ENTRY_BYTES:
        raise ValueError("larger than declared")
    return content
