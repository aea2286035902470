"""Unpacks a media export onto a local disk in the original layout:
`DIR/{safe_email}/images/...` and `DIR/{safe_email}/voices/...`, one folder per user; the
numbered parts of a split archive are joined into that one folder, with one manifest.json.

Resumable: a file already on disk with the sha256 its archive's manifest records is skipped
(and its bytes are not even fetched: archives are read from Storage with range requests, so
only the central directory, the manifest and the missing files travel). Archive entry names
are not trusted: every target is a sanitised base name inside `images/` or `voices/` of its
user's folder, so no name can write outside `DIR`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import posixpath
import re
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from mediajobs import cloud
from mediajobs.names import UniqueNames, safe_filename

KINDS = ("images", "voices")
CHUNK = 1024 * 1024


@dataclasses.dataclass
class DownloadSummary:
    archives: int = 0
    written: int = 0
    skipped: int = 0
    bytes_written: int = 0
    problems: list[str] = dataclasses.field(default_factory=list)


def archives_of(job_id: str, job: dict[str, Any]) -> list[dict[str, Any]]:
    """Every archive of the export: the full list in index.json, else the job's result."""
    result = job.get("result") or {}
    index_path = result.get("index_path") or f"exports/{job_id}/index.json"
    blob = cloud.bucket().get_blob(index_path)
    if blob is not None:
        archives = json.loads(blob.download_as_bytes()).get("archives") or []
    else:
        archives = result.get("archives") or []
    return [a for a in archives if isinstance(a, dict) and isinstance(a.get("path"), str)]


def user_folder(archive_path: str, *, split: bool = False) -> str:
    """`exports/{job}/{safe_email}.zip` (or, split, `{safe_email}-001.zip`) -> `{safe_email}`
    (made safe again: it names a folder)."""
    stem = posixpath.basename(archive_path)
    if stem.lower().endswith(".zip"):
        stem = stem[:-4]
    if split:
        stem = re.sub(r"-\d{3,}$", "", stem)
    return safe_filename(stem, fallback="unknown-user")


def part_paths(archive: dict[str, Any]) -> list[str]:
    """The ZIPs of one archive in order: its parts, or (an export from before parts) its path."""
    parts = [p for p in archive.get("parts") or [] if isinstance(p, dict) and isinstance(p.get("path"), str)]
    parts.sort(key=lambda p: int(p.get("number") or 0))
    return [p["path"] for p in parts] or [archive["path"]]


def local_target(user_dir: Path, archive_name: object, names: UniqueNames, *, any_folder: bool = False) -> Path | None:
    """Where an archive entry goes, or None if it is not `images/<name>` or `voices/<name>`
    (with `any_folder`, as a data export names its entries: any folders, each made safe)."""
    if not isinstance(archive_name, str):
        return None
    if any_folder:
        segments = [safe_filename(p, fallback="folder") for p in archive_name.replace("\\", "/").split("/") if p]
        kind, name = "/".join(segments[:-1]), (segments[-1] if segments else "")
    else:
        kind, _, name = archive_name.replace("\\", "/").partition("/")
    if (kind not in KINDS and not (any_folder and kind)) or not name:
        return None
    claimed = names.claim(kind, safe_filename(name, fallback="file"))
    target = (user_dir / claimed).resolve()
    if not target.is_relative_to(user_dir.resolve()):  # belt and braces: safe_filename has no "/"
        return None
    return target


def sha256_of(path: Path) -> str | None:
    if not path.is_file():
        return None
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def unpack(
    archive: zipfile.ZipFile,
    user_dir: Path,
    summary: DownloadSummary,
    on_bytes: Callable[[int], None],
    *,
    names: UniqueNames | None = None,
    write_manifest: bool = True,
    any_folder: bool = False,
) -> dict[str, Any] | None:
    """Writes every file the archive's manifest lists into `user_dir`, verified by sha256, and
    returns the manifest. `names` carries what earlier parts of the same archive took."""
    try:
        manifest: dict[str, Any] = json.loads(archive.read("manifest.json"))
    except (KeyError, ValueError) as error:
        summary.problems.append(f"{user_dir.name}: no readable manifest.json ({error}); skipped.")
        return None
    names = names if names is not None else UniqueNames()
    for entry in manifest.get("files") or []:
        if not isinstance(entry, dict):
            continue
        archive_name = entry.get("archive_name")
        target = local_target(user_dir, archive_name, names, any_folder=any_folder)
        expected = entry.get("sha256")
        size = entry["size"] if isinstance(entry.get("size"), int) else 0
        if target is None or not isinstance(expected, str):
            summary.problems.append(f"{user_dir.name}: unsafe or unlisted entry {str(archive_name)[:200]!r}; skipped.")
            continue
        if sha256_of(target) == expected:
            summary.skipped += 1
            on_bytes(size)
            continue
        try:
            written = _extract(archive, str(archive_name), target, expected, on_bytes)
        except (KeyError, zipfile.BadZipFile, OSError, ValueError) as error:
            summary.problems.append(f"{user_dir.name}/{target.parent.name}/{target.name}: {error}")
            continue
        summary.written += 1
        summary.bytes_written += written
    if write_manifest:
        write_manifest_file(user_dir, manifest)
    return manifest


def write_manifest_file(user_dir: Path, manifest: dict[str, Any]) -> None:
    (user_dir / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")


def joined_manifest(manifests: list[dict[str, Any]]) -> dict[str, Any]:
    """One manifest for the parts of a split archive: their files, errors and warnings together."""
    joined = {k: v for k, v in manifests[0].items() if k not in ("part", "parts")}
    for key in ("files", "errors", "warnings"):
        joined[key] = [entry for m in manifests for entry in m.get(key) or []]
    joined["parts"] = len(manifests)
    return joined


def _extract(archive: zipfile.ZipFile, name: str, target: Path, expected: str, on_bytes: Callable[[int], None]) -> int:
    """Writes one entry next to its target, checks its sha256, then moves it into place."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".part")
    digest = hashlib.sha256()
    written = 0
    try:
        with archive.open(name) as source, partial.open("wb") as out:
            while chunk := source.read(CHUNK):
                digest.update(chunk)
                out.write(chunk)
                written += len(chunk)
                on_bytes(len(chunk))
        if digest.hexdigest() != expected:
            raise ValueError(f"sha256 {digest.hexdigest()} differs from the manifest's {expected}")
        os.replace(partial, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
    return written


@contextlib.contextmanager
def open_remote_zip(path: str) -> Iterator[zipfile.ZipFile]:
    """The archive in Storage as a seekable ZIP: only what is read is fetched."""
    reader: IO[bytes] = cloud.bucket().blob(path).open("rb", chunk_size=CHUNK)
    try:
        with zipfile.ZipFile(reader) as archive:
            yield archive
    finally:
        reader.close()


def download_export(job_id: str, job: dict[str, Any], dest: Path, show_progress: bool = True) -> DownloadSummary:
    """Unpacks every archive of the export `job_id` under `dest`, joining split ones."""
    from tqdm import tqdm

    archives = archives_of(job_id, job)
    summary = DownloadSummary()
    dest.mkdir(parents=True, exist_ok=True)
    total = sum(int(a.get("bytes") or 0) for a in archives)
    with tqdm(total=total, unit="B", unit_scale=True, desc="download", disable=not show_progress) as bar:
        for archive_info in archives:
            paths = part_paths(archive_info)
            user_dir = dest / user_folder(archive_info["path"], split=len(paths) > 1)
            user_dir.mkdir(exist_ok=True)
            bar.set_postfix_str(user_dir.name[:40])
            names = UniqueNames()
            manifests: list[dict[str, Any]] = []
            for path in paths:
                manifest = _unpack_remote(path, user_dir, summary, bar.update, names)
                if manifest is None:
                    break
                manifests.append(manifest)
            else:
                write_manifest_file(user_dir, joined_manifest(manifests) if len(paths) > 1 else manifests[0])
                summary.archives += 1
    return summary


def _unpack_remote(
    path: str, user_dir: Path, summary: DownloadSummary, on_bytes: Callable[[int], None], names: UniqueNames
) -> dict[str, Any] | None:
    """One ZIP (an archive or one of its parts) from Storage; None (with the problem noted) if unreadable."""
    try:
        with open_remote_zip(path) as archive:
            return unpack(archive, user_dir, summary, on_bytes, names=names, write_manifest=False)
    except (zipfile.BadZipFile, OSError) as error:
        summary.problems.append(f"{path}: {error}")
    except Exception as error:  # noqa: BLE001 - a Storage error on one archive must not stop the rest
        summary.problems.append(f"{path}: {type(error).__name__}: {error}")
    return None
