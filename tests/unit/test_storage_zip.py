"""The ZIP layout behind results.zip, read back by Python's zipfile (which checks every
member's CRC), including archives that need ZIP64, without Storage."""

from __future__ import annotations

import io
import os
import zipfile
import zlib

from mediajobs.storage_zip import Member, layout

WHEN = (2026, 11, 22, 10, 42, 30)


def assemble(members: list[Member], data: list[bytes]) -> bytes:
    headers, directory = layout(members, WHEN)
    return b"".join(header + body for header, body in zip(headers, data, strict=True)) + directory


def member(name: str, data: bytes) -> Member:
    return Member(name, f"jobs/j/outputs/{name}", len(data), zlib.crc32(data))


def test_members_read_back_with_their_names_bytes_and_time() -> None:
    data = [os.urandom(1000), b"", os.urandom(70_000), "ünïcødé".encode()]
    names = ["a.png", "empty.png", "big.webp", "ünïcødé-名前.png"]
    archive = zipfile.ZipFile(io.BytesIO(assemble([member(n, d) for n, d in zip(names, data, strict=True)], data)))
    assert archive.testzip() is None
    assert archive.namelist() == names
    assert [archive.read(name) for name in names] == data
    assert {info.date_time for info in archive.infolist()} == {WHEN}
    assert {info.compress_type for info in archive.infolist()} == {zipfile.ZIP_STORED}


def test_no_members_is_an_empty_archive() -> None:
    assert zipfile.ZipFile(io.BytesIO(assemble([], []))).namelist() == []


def test_a_wrong_checksum_is_caught_by_readers() -> None:
    """The layout trusts the recorded CRC; a reader then refuses a member that does not match."""
    data = os.urandom(100)
    archive = zipfile.ZipFile(io.BytesIO(assemble([Member("x.png", "p", 100, zlib.crc32(data) ^ 1)], [data])))
    assert archive.testzip() == "x.png"


class Sparse(io.RawIOBase):
    """A seekable file of `size` bytes: zeros except the given pieces."""

    def __init__(self, size: int, pieces: list[tuple[int, bytes]]) -> None:
        self._size, self._pieces, self._position = size, pieces, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        self._position = {0: 0, 1: self._position, 2: self._size}[whence] + offset
        return self._position

    def tell(self) -> int:
        return self._position

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        count = max(0, min(len(buffer), self._size - self._position))
        view = memoryview(buffer)
        view[:count] = bytes(count)
        for start, data in self._pieces:
            low, high = max(start, self._position), min(start + len(data), self._position + count)
            if low < high:
                view[low - self._position : high - self._position] = data[low - start : high - start]
        self._position += count
        return count


def test_offsets_and_sizes_beyond_4_gib_use_zip64() -> None:
    """A 5 GiB member (never read: zeros), then a small one whose header lies past 4 GiB."""
    huge = Member("huge.png", "p/huge", 5 * 2**30, 0)
    small_data = os.urandom(5000)
    small = member("small.png", small_data)
    headers, directory = layout([huge, small], WHEN)
    small_at = len(headers[0]) + huge.size
    directory_at = small_at + len(headers[1]) + small.size
    pieces = [(0, headers[0]), (small_at, headers[1] + small_data), (directory_at, directory)]
    archive = zipfile.ZipFile(Sparse(directory_at + len(directory), pieces))
    infos = {info.filename: info for info in archive.infolist()}
    assert infos["huge.png"].file_size == 5 * 2**30
    assert infos["small.png"].header_offset == small_at > 2**32
    assert archive.read("small.png") == small_data


def test_more_than_65535_members_use_zip64() -> None:
    members = [Member(f"{index}.png", "p", 0, 0) for index in range(70_000)]
    archive = zipfile.ZipFile(io.BytesIO(assemble(members, [b""] * len(members))))
    assert len(archive.infolist()) == 70_000
    assert archive.read("69999.png") == b""
