"""Unpacking an export onto disk: hostile entry names stay inside the user's folder; resumable."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path

from mediajobs.cli.download import DownloadSummary, unpack, user_folder


def hostile_archive(entries: dict[str, bytes], listed: dict[str, bytes] | None = None) -> zipfile.ZipFile:
    """A ZIP whose manifest lists `listed` (default: every entry) with their sha256."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
        files = [
            {"archive_name": name, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
            for name, data in (listed if listed is not None else entries).items()
        ]
        archive.writestr("manifest.json", json.dumps({"files": files}))
    return zipfile.ZipFile(io.BytesIO(out.getvalue()))


def every_file(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_hostile_entry_names_never_leave_the_users_folder(tmp_path: Path) -> None:
    entries = {
        "images/../../../evil.sh": b"1",
        "images/..\\..\\win.bat": b"2",
        "voices//etc/passwd": b"3",
        "../outside.jpg": b"4",
        "/abs/olute.jpg": b"5",
        "images/ok.jpg": b"6",
        "images/.hidden": b"7",
        "other/x.jpg": b"8",
    }
    root = tmp_path / "dest"
    user_dir = root / user_folder("exports/job/../../escape.zip")
    user_dir.mkdir(parents=True)
    summary = DownloadSummary()

    unpack(hostile_archive(entries), user_dir, summary, lambda _n: None)

    files = every_file(tmp_path)
    assert all(name.startswith("dest/escape/") for name in files), files
    assert files["dest/escape/images/ok.jpg"] == b"6"
    assert files["dest/escape/images/evil.sh"] == b"1"
    assert files["dest/escape/voices/passwd"] == b"3"
    assert len(summary.problems) == 3  # ../outside.jpg, /abs/olute.jpg, other/x.jpg: not images|voices
    assert not any(p.name.endswith(".part") for p in root.rglob("*"))


def test_a_second_unpack_skips_intact_files_and_repairs_the_rest(tmp_path: Path) -> None:
    entries = {"images/a.jpg": b"alpha" * 100, "images/b.jpg": b"beta" * 100, "voices/c.wav": b"gamma" * 100}
    first = DownloadSummary()
    unpack(hostile_archive(entries), tmp_path, first, lambda _n: None)
    assert (first.written, first.skipped) == (3, 0)
    (tmp_path / "images/a.jpg").write_bytes(b"damaged")
    (tmp_path / "voices/c.wav").unlink()
    untouched = (tmp_path / "images/b.jpg").stat().st_mtime_ns
    seen: list[int] = []

    second = DownloadSummary()
    unpack(hostile_archive(entries), tmp_path, second, seen.append)

    assert (second.written, second.skipped, second.problems) == (2, 1, [])
    assert (tmp_path / "images/b.jpg").stat().st_mtime_ns == untouched
    assert {k: v for k, v in every_file(tmp_path).items() if k != "manifest.json"} == entries
    assert sum(seen) == sum(len(d) for d in entries.values())


def test_an_entry_whose_bytes_differ_from_the_manifest_is_not_kept(tmp_path: Path) -> None:
    archive = hostile_archive({"images/a.jpg": b"tampered"}, listed={"images/a.jpg": b"original"})
    summary = DownloadSummary()
    unpack(archive, tmp_path, summary, lambda _n: None)
    assert summary.written == 0 and "sha256" in summary.problems[0]
    assert not (tmp_path / "images/a.jpg").exists()
    assert not (tmp_path / "images/a.jpg.part").exists()
