"""A ZIP's central directory is sized up from its end records before anything of it is parsed:
archives of 100k and 1M entries (classic and ZIP64 end records, honest or lying counts) are
refused as `too-many-entries` in a few MiB, damaged end records give `corrupt-archive`, and
the photo plan turns the refusal into a failed job at once.

The archives are written by hand (one local header that every directory record points to),
so that a million entries take a second to make, not a minute."""

from __future__ import annotations

import io
import struct
import time
import tracemalloc
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import pytest

from mediajobs import cloud
from mediajobs.jobs import store
from mediajobs.jobs.kinds import JobFailed
from mediajobs.jobs.models import Job
from mediajobs.photos import ingest
from mediajobs.photos.kind import PhotoBatchJob, PhotoInput, PhotoOptions

MiB = 1024 * 1024
# Refusing reads the end records (at most 64 KiB) and, for a directory under its limit, that
# directory (4 MiB at most): far under the 64 MiB the issue allows, whatever the archive.
PEAK_LIMIT = 8 * MiB
NAME_BYTES = 8  # "%07x/": a folder entry, unique per record
_LOCAL = struct.Struct("<4s5H3L2H")  # 30 bytes
_CENTRAL = struct.Struct("<4s4B4HL2L5H2L")  # 46 bytes
_EOCD = struct.Struct("<4s4H2LH")  # 22 bytes
_ZIP64_EOCD = struct.Struct("<4sQ2H2L4Q")  # 56 bytes
_ZIP64_LOCATOR = struct.Struct("<4sLQL")  # 20 bytes


def _directory_records(entries: int) -> Iterator[bytes]:
    header = _CENTRAL.pack(b"PK\x01\x02", 20, 3, 10, 0, 0, 0, 0, 0x21, 0, 0, 0, NAME_BYTES, 0, 0, 0, 0, 0x10, 0)
    for start in range(0, entries, 65536):
        yield b"".join(header + b"%07x/" % index for index in range(start, min(entries, start + 65536)))


def write_folder_zip(
    path: Path, entries: int, *, zip64: bool, declared_entries: int | None = None, declared_size: int | None = None
) -> Path:
    """A ZIP of `entries` folder entries (all sharing one local header); the end records declare
    `declared_entries`/`declared_size` instead of the truth when given (a lying archive)."""
    local = _LOCAL.pack(b"PK\x03\x04", 10, 0, 0, 0, 0x21, 0, 0, 0, NAME_BYTES, 0) + b"0000000/"
    with path.open("wb") as out:
        out.write(local)
        for block in _directory_records(entries):
            out.write(block)
        size = out.tell() - len(local)
        count = entries if declared_entries is None else declared_entries
        size = size if declared_size is None else declared_size
        if zip64:
            zip64_at = out.tell()
            out.write(_ZIP64_EOCD.pack(b"PK\x06\x06", 44, 45, 45, 0, 0, count, count, size, len(local)))
            out.write(_ZIP64_LOCATOR.pack(b"PK\x06\x07", 0, zip64_at, 1))
            out.write(_EOCD.pack(b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0))
        else:
            out.write(_EOCD.pack(b"PK\x05\x06", 0, 0, count & 0xFFFF, count & 0xFFFF, size, len(local), 0))
    return path


def refusal_and_peak(path: Path) -> tuple[ingest.ArchiveRefused, int, float]:
    with path.open("rb") as file:
        tracemalloc.start()
        started = time.monotonic()
        try:
            with pytest.raises(ingest.ArchiveRefused) as raised:
                ingest.CheckedZip("users/u1/huge.zip", file, path.stat().st_size)
            elapsed = time.monotonic() - started
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    return raised.value, peak, elapsed


@pytest.fixture(scope="module")
def million(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_folder_zip(tmp_path_factory.mktemp("zips") / "million.zip", 1_000_000, zip64=True)


def test_the_generated_archives_are_real_zips(tmp_path: Path) -> None:
    """The generator writes what zipfile reads (so the refusals below are of real archives)."""
    for zip64 in (False, True):
        path = write_folder_zip(tmp_path / f"small-{zip64}.zip", 5, zip64=zip64)
        with zipfile.ZipFile(path) as archive:
            assert [info.filename for info in archive.infolist()] == [f"{i:07x}/" for i in range(5)]
            assert all(info.is_dir() for info in archive.infolist())
        with path.open("rb") as file:
            checked = ingest.CheckedZip("users/u1/small.zip", file, path.stat().st_size)
        assert checked.images == [] and checked.skipped == []  # folders are structure, not content


@pytest.mark.parametrize("zip64", [True, False], ids=["zip64-eocd", "classic-eocd"])
def test_a_hundred_thousand_entries_are_refused_from_the_end_records(tmp_path: Path, zip64: bool) -> None:
    path = write_folder_zip(tmp_path / "many.zip", 100_000, zip64=zip64)
    refused, peak, elapsed = refusal_and_peak(path)
    assert refused.code == "too-many-entries", refused.message
    assert refused.message.startswith("users/u1/huge.zip") and "1000" in refused.message.replace(",", "")
    assert peak < PEAK_LIMIT, f"peak {peak / MiB:.1f} MiB"
    assert elapsed < 1.0


def test_a_million_entries_behind_a_zip64_end_record_are_refused_at_once(million: Path) -> None:
    assert million.stat().st_size > 50 * MiB
    refused, peak, elapsed = refusal_and_peak(million)
    assert refused.code == "too-many-entries", refused.message
    assert peak < PEAK_LIMIT, f"peak {peak / MiB:.1f} MiB"
    assert elapsed < 1.0
    assert "1,000,000" in refused.message


def test_end_records_that_understate_the_entries_do_not_get_past(tmp_path: Path) -> None:
    # A directory of 5 MiB declared with 10 entries: refused by its size, unread.
    big = write_folder_zip(tmp_path / "big.zip", 100_000, zip64=False, declared_entries=10)
    refused, peak, _ = refusal_and_peak(big)
    assert refused.code == "too-many-entries" and "directory" in refused.message
    assert peak < PEAK_LIMIT
    # A directory under the size limit (60k records of 54 bytes) that declares 10 entries: its
    # records are counted as they are read, without building them.
    dense = write_folder_zip(tmp_path / "dense.zip", 60_000, zip64=True, declared_entries=10)
    refused, peak, _ = refusal_and_peak(dense)
    assert refused.code == "too-many-entries" and "1000" in refused.message.replace(",", "")
    assert peak < PEAK_LIMIT


def test_a_directory_size_larger_than_the_file_is_corrupt(tmp_path: Path) -> None:
    path = write_folder_zip(tmp_path / "liar.zip", 10, zip64=True, declared_size=3 * MiB)
    refused, _, _ = refusal_and_peak(path)
    assert refused.code == "corrupt-archive", refused.message


def _valid_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a.png", b"\x89PNG\r\n\x1a\n" + bytes(100))
        archive.writestr("b.txt", b"text")
    return buffer.getvalue()


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"PK",
        b"PK\x03\x04" + bytes(1000),
        bytes(range(256)) * 300,  # no end record anywhere
        _valid_zip()[:-5],  # the end record cut short
        _valid_zip()[:-30],  # the end record gone, the directory cut
        b"PK\x05\x06" + bytes(10),  # a signature with no room for its record
        b"junk" + _EOCD.pack(b"PK\x05\x06", 0, 0, 1, 1, 46, 0, 0),  # a directory before the file's start
        b"\x00" * 46 + _EOCD.pack(b"PK\x05\x06", 0, 0, 1, 1, 46, 0, 0),  # a record without its signature
        _ZIP64_EOCD.pack(b"PK\x06\x06", 44, 45, 45, 0, 0, 1, 1, 10**6, 0)  # a ZIP64 directory larger than the file
        + _ZIP64_LOCATOR.pack(b"PK\x06\x07", 0, 0, 1)
        + _EOCD.pack(b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0),
        _ZIP64_LOCATOR.pack(b"PK\x06\x07", 0, 0, 2) + _EOCD.pack(b"PK\x05\x06", 0, 0, 1, 1, 0, 0, 0),  # 2 disks
    ],
    ids=lambda data: f"{len(data)}-bytes",
)
def test_truncated_or_garbage_archives_are_corrupt_not_a_crash(data: bytes) -> None:
    with pytest.raises(ingest.ArchiveRefused) as raised:
        ingest.CheckedZip("users/u1/bad.zip", io.BytesIO(data), len(data))
    assert raised.value.code == "corrupt-archive"
    assert raised.value.message.startswith("users/u1/bad.zip is not a readable ZIP archive")


def test_an_archive_with_a_comment_and_long_names_is_still_read() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.comment = b"x" * 60_000  # the end record is 60 kB before the file's end
        archive.writestr("n" * 30_000 + ".png", b"\x89PNG")
        for index in range(ingest.MAX_ENTRIES - 1):
            archive.writestr(f"{index}.txt", b"")
    images, skipped = ingest.expand_zip("users/u1/ok.zip", buffer.getvalue())
    assert len(images) == 1 and len(skipped) == ingest.MAX_ENTRIES - 1


class FakeBlob:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.size = path.stat().st_size

    def download_as_bytes(self, start: int = 0, end: int | None = None) -> bytes:
        with self.path.open("rb") as file:
            file.seek(start)
            return file.read((end + 1 - start) if end is not None else -1)

    def open(self, mode: str, chunk_size: int = 0) -> Any:
        return self.path.open(mode)


class FakeBucket:
    def __init__(self, blobs: dict[str, Path]) -> None:
        self.blobs = blobs
        self.written: list[str] = []

    def get_blob(self, path: str) -> FakeBlob | None:
        return FakeBlob(self.blobs[path]) if path in self.blobs else None

    def blob(self, path: str) -> Any:
        self.written.append(path)
        return mock.MagicMock()


def test_the_plan_fails_the_job_at_once_with_too_many_entries(million: Path) -> None:
    path = "users/u1/in/million.zip"
    bucket = FakeBucket({path: million})
    job = Job(id="job-1", type="photo_batch", input={"paths": [path]})
    kind_doc = mock.MagicMock()
    with (
        mock.patch.object(cloud, "bucket", return_value=bucket),
        mock.patch.object(store, "kind_ref", return_value=kind_doc),
    ):
        tracemalloc.start()
        try:
            with pytest.raises(JobFailed) as failed:
                list(PhotoBatchJob().plan(job, PhotoInput(paths=[path]), PhotoOptions(remove_bg=False, crop_face=True)))
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert failed.value.code == "too-many-entries"
    assert failed.value.message.startswith(path) and "split the archive" in failed.value.message.lower()
    assert peak < PEAK_LIMIT
    assert bucket.written == []  # nothing was extracted
