"""results.zip's assembly by compose, on the Storage emulator: many members (a tree of
compose calls), the archive's contents, and no scratch objects left behind."""

from __future__ import annotations

import io
import os
import uuid
import zipfile
import zlib

from mediajobs import cloud
from mediajobs.storage_zip import COMPOSE_LIMIT, Member, compose_zip, prefix_member


def test_an_archive_of_more_members_than_one_compose_takes() -> None:
    folder = f"jobs/zip-{uuid.uuid4().hex[:8]}"
    bucket = cloud.bucket()
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


def test_members_prefixed_ahead_are_used_consumed_and_not_needed_by_a_retry() -> None:
    folder = f"jobs/zip-{uuid.uuid4().hex[:8]}"
    bucket = cloud.bucket()
    when = (2026, 12, 2, 10, 30, 0)
    contents = {f"{index:03d}.webp": os.urandom(2000 + index) for index in range(6)}
    members = []
    for index, (name, data) in enumerate(contents.items()):
        bucket.blob(f"{folder}/outputs/{name}").upload_from_string(data)
        member = Member(name, f"{folder}/outputs/{name}", len(data), zlib.crc32(data))
        if index % 2 == 0:  # as a photo item does; the others as items settled before parts existed
            member = prefix_member(bucket, member, when, f"{folder}/results-parts/members/{name}")
            part = bucket.blob(member.with_header).download_as_bytes()
            assert part.startswith(b"PK\x03\x04") and part.endswith(data)
            assert bucket.get_blob(f"{member.with_header}.header") is None  # its scratch header is gone
        members.append(member)

    compose_zip(bucket, members, f"{folder}/results.zip", scratch=f"{folder}/results-parts", date_time=when)

    archive = zipfile.ZipFile(io.BytesIO(bucket.blob(f"{folder}/results.zip").download_as_bytes()))
    assert archive.testzip() is None
    assert {name: archive.read(name) for name in archive.namelist()} == contents
    assert {info.date_time for info in archive.infolist()} == {when}
    assert not list(bucket.list_blobs(prefix=f"{folder}/results-parts/"))  # the parts went with the scratch

    # A finalize retried once the archive exists leaves it as it is; one that must compose
    # again after the parts were consumed (another destination here) uses the outputs themselves.
    written = bucket.get_blob(f"{folder}/results.zip").generation
    compose_zip(bucket, members, f"{folder}/results.zip", scratch=f"{folder}/results-parts", date_time=when)
    assert bucket.get_blob(f"{folder}/results.zip").generation == written
    compose_zip(bucket, members, f"{folder}/again.zip", scratch=f"{folder}/results-parts", date_time=when)
    again = bucket.blob(f"{folder}/again.zip").download_as_bytes()
    assert again == bucket.blob(f"{folder}/results.zip").download_as_bytes()
    assert not list(bucket.list_blobs(prefix=f"{folder}/results-parts/"))
