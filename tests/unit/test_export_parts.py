"""Split archives: how files are cut into parts, and that the parts, written one after the
other with shared names, are complete ZIPs whose union is every file exactly once."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import random
import zipfile
from pathlib import Path

import pydantic
import pytest

from mediajobs.cli.download import DownloadSummary, joined_manifest, part_paths, unpack, user_folder
from mediajobs.exports.archive import SourceFile, write_archive
from mediajobs.exports.kind import ExportOptions
from mediajobs.exports.parts import (
    LIFECYCLE_DAYS,
    HashingWriter,
    MiB,
    estimated_entry_bytes,
    expires_at,
    part_digest,
    part_path,
    plan_parts,
)
from mediajobs.names import UniqueNames

ROOT = Path(__file__).resolve().parents[2]


def source(index: int, size: int, name: str | None = None, kind: str = "images") -> SourceFile:
    return SourceFile(f"f{index}", kind, f"users/u/{kind}/f{index}", name or f"f{index}.jpg", "image/jpeg", size)


def test_files_are_cut_in_order_into_parts_under_the_limit() -> None:
    files = [source(i, 30 * MiB) for i in range(10)]
    parts = plan_parts(files, 128 * MiB)
    assert [len(p) for p in parts] == [4, 4, 2]
    assert [f for p in parts for f in p] == files
    assert all(sum(estimated_entry_bytes(f) for f in p) < 128 * MiB for p in parts)


def test_a_file_bigger_than_the_limit_gets_a_part_of_its_own_and_nothing_is_empty() -> None:
    files = [source(0, 1 * MiB), source(1, 200 * MiB), source(2, 1 * MiB)]
    assert [[f.id for f in p] for p in plan_parts(files, 64 * MiB)] == [["f0"], ["f1"], ["f2"]]
    assert plan_parts([], 64 * MiB) == [[]]


def test_the_cut_and_its_digests_are_the_same_every_time_and_change_with_the_files() -> None:
    files = [source(i, random.Random(i).randint(1, 40) * MiB) for i in range(20)]
    first = plan_parts(files, 100 * MiB)
    again = plan_parts(list(files), 100 * MiB)
    assert first == again
    digests = [part_digest(p, n, len(first)) for n, p in enumerate(first, 1)]
    assert digests == [part_digest(p, n, len(again)) for n, p in enumerate(again, 1)]
    assert len(set(digests)) == len(digests)
    changed = [*first[0][:-1], source(99, 1)]
    assert part_digest(changed, 1, len(first)) != digests[0]


def test_part_names_are_numbered_only_when_split() -> None:
    assert part_path("exports/j/a@b.com", 1, 1) == "exports/j/a@b.com.zip"
    assert part_path("exports/j/a@b.com", 2, 3) == "exports/j/a@b.com-002.zip"
    assert user_folder("exports/j/a@b.com-002.zip", split=True) == "a@b.com"
    assert user_folder("exports/j/a-001@b.com.zip") == "a-001@b.com"
    listed = {"path": "x-001.zip", "parts": [{"number": 2, "path": "x-002.zip"}, {"number": 1, "path": "x-001.zip"}]}
    assert part_paths(listed) == ["x-001.zip", "x-002.zip"]
    assert part_paths({"path": "old.zip"}) == ["old.zip"]


def test_expiry_follows_the_lifecycle_rule_of_exports() -> None:
    rules = json.loads((ROOT / "storage.lifecycle.json").read_text())["rule"]
    ages = {p: r["condition"]["age"] for r in rules for p in r["condition"].get("matchesPrefix", [])}
    assert ages["exports/"] == ages["jobs/"] == LIFECYCLE_DAYS
    written = dt.datetime(2026, 1, 31, 12, 0, tzinfo=dt.UTC)
    assert expires_at(written) == "2026-03-02T12:00:00+00:00"


def test_archive_max_bytes_is_bounded_with_a_clear_error() -> None:
    assert ExportOptions().archive_max_bytes == 2 * 1024 * MiB
    assert ExportOptions(archive_max_bytes=64 * MiB).archive_max_bytes == 64 * MiB
    for bad in (64 * MiB - 1, 0, -1, "big", 51 * 1024 * MiB):
        with pytest.raises(pydantic.ValidationError, match="archive_max_bytes"):
            ExportOptions(archive_max_bytes=bad)  # type: ignore[arg-type]


class Sink(io.RawIOBase):
    def __init__(self) -> None:
        self.buffer = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        self.buffer.extend(data)
        return len(data)


def test_parts_are_complete_zips_whose_union_is_every_file_once_with_unique_names(tmp_path: Path) -> None:
    rng = random.Random(5)
    data = {f"f{i}": rng.randbytes(rng.randint(1, 300_000)) for i in range(12)}
    # The same original name several times: names must stay unique across parts too.
    files = [source(i, len(data[f"f{i}"]), name="same.jpg" if i % 3 == 0 else None) for i in range(12)]
    parts = plan_parts(files, 700_000)
    assert len(parts) > 2
    names = UniqueNames()
    zips: list[bytes] = []
    for number, group in enumerate(parts, 1):
        sink = Sink()
        hashing = HashingWriter(sink)  # type: ignore[arg-type]
        write_archive(
            hashing,  # type: ignore[arg-type]
            group,
            lambda s: io.BytesIO(data[s.id]),
            {"part": number, "parts": len(parts)},
            names=names,
        )
        assert hashing.size == len(sink.buffer)
        assert hashing.hexdigest() == hashlib.sha256(sink.buffer).hexdigest()
        zips.append(bytes(sink.buffer))
    seen: dict[str, bytes] = {}
    for blob in zips:
        archive = zipfile.ZipFile(io.BytesIO(blob))
        assert archive.testzip() is None
        manifest = json.loads(archive.read("manifest.json"))
        for entry in manifest["files"]:
            assert entry["archive_name"] not in {n for n in seen}
            seen[entry["archive_name"]] = archive.read(entry["archive_name"])
    assert sorted(seen.values()) == sorted(data.values())

    # Joined again on disk: one folder, every file, one manifest listing them all.
    summary = DownloadSummary()
    disk_names = UniqueNames()
    manifests = [
        unpack(
            zipfile.ZipFile(io.BytesIO(b)), tmp_path, summary, lambda _n: None, names=disk_names, write_manifest=False
        )
        for b in zips
    ]
    joined = joined_manifest([m for m in manifests if m is not None])
    assert len(joined["files"]) == 12 and joined["parts"] == len(zips)
    on_disk = {str(p.relative_to(tmp_path)): p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    assert on_disk == seen and summary.written == 12 and not summary.problems


def test_a_retry_finds_its_parts_in_the_checkpoint_and_a_resume_in_the_earlier_result() -> None:
    from mediajobs.exports.split import PartRecord, parts_of

    part = PartRecord(1, "exports/j/a-001.zip", "d1", 3, 300, 400, "ab" * 32, "crc==", "2027-01-01T00:00:00+00:00")
    other = {**part.public(), "number": 2, "path": "exports/j/a-002.zip", "digest": "d2"}
    assert parts_of({"status": "running", "checkpoint": {"parts": [part.public()]}}) == [part]
    assert parts_of({"status": "failed", "checkpoint": {"parts": [part.public(), other]}})[1].digest == "d2"
    assert parts_of({"status": "done", "result": {"parts": [other]}, "checkpoint": {"parts": [part.public()]}}) == [
        PartRecord.parse(other)
    ]
    # Anything malformed is ignored (the part is then written again), never trusted.
    assert parts_of({"status": "running", "checkpoint": {"parts": [{"path": "x"}, "junk", None]}}) == []
    assert parts_of({}) == []


def test_a_data_export_entry_lands_at_its_path_and_never_outside_the_folder(tmp_path: Path) -> None:
    from mediajobs.cli.download import local_target

    names = UniqueNames()
    root = tmp_path.resolve()
    assert local_target(tmp_path, "users/u1/notes/a.bin", names, any_folder=True) == root / "users/u1/notes/a.bin"
    for hostile in ("../../etc/passwd", "/abs/x", "a/../../b", "..", "", "\\\\server\\share\\x"):
        target = local_target(tmp_path, hostile, names, any_folder=True)
        assert target is None or target.is_relative_to(root), (hostile, target)
    assert local_target(tmp_path, "users/u1/notes/a.bin", names) is None  # a media export takes images/voices only
