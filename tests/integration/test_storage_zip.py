"""results.zip's assembly by compose, on the Storage emulator: many members (a tree of
compose calls), the archive's contents, and no scratch objects left behind."""

from __future__ import annotations

import io
import os
import uuid
import zipfile
import zlib

from mediajobs import platform
from mediajobs.storage_zip import COMPOSE_LIMIT, Member, compose_zip


def test_an_archive_of_more_members_than_one_compose_takes() -> None:
    folder = f"jobs/zip-{uuid.uuid4().hex[:8]}"
    bucket = platform.bucket()
    contents = {f"{index:03d}.png": os.urandom(1000 + index) for index in range(40)}  # 81 sources
    assert 2 * len(contents) + 1 > 2 * COMPOSE_LIMIT  # partial composes, then the last one
    members = []
    for name, data in contents.items():
        bucket.blob(f"{folder}/outputs/{name}").upload_from_string(data)
        members.append(Member(name, f"{folder}/outputs/{name}", len(data), zlib.crc32(data)))

    compose_zip(bucket, members, f"{folder}/results.zip", scratch=f"{folder}/results-parts")

    blob = bucket.get_blob(f"{folder}/results.zip")
    assert blob.content_type == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(blob.download_as_bytes()))
    assert archive.testzip() is None
    assert {name: archive.read(name) for name in archive.namelist()} == contents
    assert archive.namelist() == list(contents)  # in the members' order
    assert not list(bucket.list_blobs(prefix=f"{folder}/results-parts/"))
    assert len(list(bucket.list_blobs(prefix=f"{folder}/outputs/"))) == 40  # the members stay
