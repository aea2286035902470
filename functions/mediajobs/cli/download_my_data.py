"""Unpacks a `my_data` export onto a local disk: every file at its Storage path under DIR
(`users/{uid}/...`, `jobs/{job_id}/...`, `projects/...`, `videos/...`), the parts joined,
`my_data.json` and one `manifest.json` beside them. Resumable and safe like the media export's
download (`cli/download.py`): files already there with their sha256 are skipped, and every
path segment is made safe, so nothing is written outside DIR."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

from mediajobs.cli.download import (
    DownloadSummary,
    joined_manifest,
    open_remote_zip,
    part_paths,
    unpack,
    write_manifest_file,
)
from mediajobs.names import UniqueNames

INDEX_NAME = "my_data.json"


def download_my_data(job: dict[str, Any], dest: Path, show_progress: bool = True) -> DownloadSummary:
    from tqdm import tqdm

    result = job.get("result") or {}
    summary = DownloadSummary()
    if not result.get("path"):
        summary.problems.append("the data export has no archive (did it complete?)")
        return summary
    dest.mkdir(parents=True, exist_ok=True)
    names = UniqueNames()
    names.reserve(INDEX_NAME)
    manifests: list[dict[str, Any]] = []
    with tqdm(total=int(result.get("bytes") or 0), unit="B", unit_scale=True, desc="download",
              disable=not show_progress) as bar:  # fmt: skip
        for path in part_paths(result):
            try:
                with open_remote_zip(path) as archive:
                    if INDEX_NAME in archive.namelist():
                        (dest / INDEX_NAME).write_bytes(archive.read(INDEX_NAME))
                    manifest = unpack(archive, dest, summary, bar.update, names=names, write_manifest=False,
                                      any_folder=True)  # fmt: skip
            except (zipfile.BadZipFile, OSError) as error:
                summary.problems.append(f"{path}: {error}")
                return summary
            if manifest is None:
                return summary
            manifests.append(manifest)
    write_manifest_file(dest, joined_manifest(manifests))
    summary.archives = 1
    return summary
