"""A ZIP archive assembled inside Cloud Storage from objects that are already there.

No member's bytes pass through this process. Each member's local header, and the central
directory at the end, are small objects of their own; Storage's `compose` concatenates them
with the members, at most 32 objects per call, in a tree of calls for more. A member can
also be prefixed ahead of time (`prefix_member`: its header and bytes in one object, made by
the item that produced it), which halves the objects to concatenate at the end. Members are
stored, not deflated: this is for images, which are compressed already. ZIP64 fields are
written only where sizes, offsets or the member count need them, as Python's zipfile does.
"""

from __future__ import annotations

import contextlib
import dataclasses
import struct
import time
import zipfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from firebase_functions import logger
from google.api_core import exceptions as gexc

COMPOSE_LIMIT = 32  # source objects per compose call
THREADS = 8
LIMIT = zipfile.ZIP64_LIMIT  # sizes and offsets beyond this go into ZIP64 fields
COUNT_LIMIT = zipfile.ZIP_FILECOUNT_LIMIT
DEFAULT_VERSION = 20  # what zipfile writes for a stored member
ZIP64_VERSION = 45
UNIX_REGULAR_FILE = 0o100644 << 16  # external attributes: a regular file, rw-r--r--
UTF8_NAME = 0x800

_CENTRAL = struct.Struct("<4s4B4HL2L5H2L")
_END64 = struct.Struct("<4sQ2H2L4Q")
_LOCATOR64 = struct.Struct("<4sLQL")
_END = struct.Struct("<4s4H2LH")

DateTime = tuple[int, int, int, int, int, int]


@dataclasses.dataclass(frozen=True)
class Member:
    name: str  # its name inside the archive
    path: str  # the object holding its bytes
    size: int
    crc32: int
    with_header: str | None = None  # an object holding its local header, then its bytes (prefix_member)


def local_header(member: Member, date_time: DateTime) -> bytes:
    """The member's local file header (with ZIP64 sizes if it needs them); stored, not deflated."""
    info = zipfile.ZipInfo(member.name, date_time)  # stored: ZipInfo's default
    info.CRC, info.file_size, info.compress_size = member.crc32, member.size, member.size
    return info.FileHeader()


def prefix_member(bucket: Any, member: Member, date_time: DateTime, destination: str) -> Member:
    """Writes `destination`: the member's local header followed by its bytes, composed in
    Storage. Done ahead (e.g. by the item that made the member), it halves what compose_zip
    has to concatenate, and so its levels of compose calls. Use the same `date_time` there."""
    header_path = f"{destination}.header"
    bucket.blob(header_path).upload_from_string(local_header(member, date_time))
    try:
        _compose(bucket, destination, [header_path, member.path], None)
    finally:
        _delete_quietly(bucket, header_path)
    return dataclasses.replace(member, with_header=destination)


def layout(members: Sequence[Member], date_time: DateTime) -> tuple[list[bytes], bytes]:
    """Each member's local header, and the central directory with its end records: the
    archive is header 1, member 1, header 2, member 2, ..., directory."""
    headers: list[bytes] = []
    directory = bytearray()
    offset = 0
    for member in members:
        header = local_header(member, date_time)
        headers.append(header)
        directory += _central_record(member, date_time, offset)
        offset += len(header) + member.size
    return headers, bytes(directory) + _end_records(len(members), offset, len(directory))


def _central_record(member: Member, date_time: DateTime, offset: int) -> bytes:
    year, month, day, hour, minute, second = date_time
    zip64: list[int] = []
    size_field = offset_field = 0xFFFFFFFF
    if member.size > LIMIT:
        zip64 += [member.size, member.size]
    else:
        size_field = member.size
    if offset > LIMIT:
        zip64.append(offset)
    else:
        offset_field = offset
    extra = struct.pack(f"<HH{len(zip64)}Q", 1, 8 * len(zip64), *zip64) if zip64 else b""
    version = ZIP64_VERSION if zip64 else DEFAULT_VERSION
    try:
        name, flags = member.name.encode("ascii"), 0
    except UnicodeEncodeError:
        name, flags = member.name.encode("utf-8"), UTF8_NAME
    record = _CENTRAL.pack(
        b"PK\x01\x02", version, 3, version, 0, flags, zipfile.ZIP_STORED,
        hour << 11 | minute << 5 | second // 2, (year - 1980) << 9 | month << 5 | day,
        member.crc32, size_field, size_field, len(name), len(extra), 0, 0, 0, UNIX_REGULAR_FILE, offset_field,
    )  # fmt: skip
    return record + name + extra


def _end_records(count: int, directory_offset: int, directory_size: int) -> bytes:
    records = b""
    if count > COUNT_LIMIT or directory_offset > LIMIT or directory_size > LIMIT:
        end64_offset = directory_offset + directory_size
        records += _END64.pack(
            b"PK\x06\x06", 44, ZIP64_VERSION, ZIP64_VERSION, 0, 0, count, count, directory_size, directory_offset
        )
        records += _LOCATOR64.pack(b"PK\x06\x07", 0, end64_offset, 1)
        count = min(count, 0xFFFF)
        directory_size, directory_offset = min(directory_size, 0xFFFFFFFF), min(directory_offset, 0xFFFFFFFF)
    return records + _END.pack(b"PK\x05\x06", 0, 0, count, count, directory_size, directory_offset, 0)


def compose_zip(
    bucket: Any,
    members: Sequence[Member],
    destination: str,
    scratch: str,
    *,
    content_type: str = "application/zip",
    date_time: DateTime | None = None,
) -> None:
    """Writes the archive of `members` to `destination`. Its scratch objects (headers,
    directory, partial composes) live under `scratch` and are deleted afterwards, and so are
    the members' `with_header` objects once the archive exists. A retry finds the archive
    written (by its size) and only cleans up; a member whose `with_header` object is gone is
    composed from its header and bytes instead."""
    date_time = date_time or time.gmtime()[:6]
    headers, directory = layout(members, date_time)
    size = sum(len(header) + member.size for header, member in zip(headers, members, strict=True)) + len(directory)
    existing = bucket.get_blob(destination)
    if existing is None or existing.size != size:  # else: a retry after the archive was written
        try:
            _compose_zip(bucket, members, [*headers, directory], destination, scratch, content_type=content_type)
        except (gexc.NotFound, gexc.InternalServerError):  # a missing source (the emulator answers 500)
            if not any(m.with_header for m in members):
                raise
            logger.warn("a prefixed member is gone; composing from the members themselves", destination=destination)
            plain = [dataclasses.replace(m, with_header=None) for m in members]
            _compose_zip(bucket, plain, [*headers, directory], destination, scratch, content_type=content_type)
    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(lambda m: _delete_quietly(bucket, m.with_header), [m for m in members if m.with_header]))


def _compose_zip(
    bucket: Any, members: Sequence[Member], pieces: list[bytes], destination: str, scratch: str, *, content_type: str
) -> None:
    """`pieces`: the members' local headers, then the directory (as `layout` made them)."""
    *headers, directory = pieces
    directory_path = f"{scratch}/directory"
    small = {directory_path: directory}
    sources = []
    for index, (member, header) in enumerate(zip(members, headers, strict=True)):
        if member.with_header:
            sources.append(member.with_header)
        else:
            header_path = f"{scratch}/h{index:06d}"
            small[header_path] = header
            sources += [header_path, member.path]
    sources.append(directory_path)
    made = list(small)
    with ThreadPoolExecutor(THREADS) as pool:
        try:
            list(pool.map(lambda path: bucket.blob(path).upload_from_string(small[path]), small))
            level = 0
            while len(sources) > COMPOSE_LIMIT:
                groups = [sources[i : i + COMPOSE_LIMIT] for i in range(0, len(sources), COMPOSE_LIMIT)]
                sources = [f"{scratch}/c{level}-{index:05d}" for index in range(len(groups))]
                made += sources
                list(pool.map(lambda path, group: _compose(bucket, path, group, None), sources, groups))
                level += 1
            _compose(bucket, destination, sources, content_type)
        finally:  # also after a failure: a retry writes them all again
            list(pool.map(lambda path: _delete_quietly(bucket, path), made))


def _compose(bucket: Any, destination: str, sources: list[str], content_type: str | None) -> None:
    blob = bucket.blob(destination)
    if content_type:
        blob.content_type = content_type
    blob.compose([bucket.blob(source) for source in sources])


def _delete_quietly(bucket: Any, path: str) -> None:
    with contextlib.suppress(gexc.NotFound):
        bucket.blob(path).delete()
