"""Fuzzing photo ingestion: ZIP archives with hostile member names and damaged bytes, the
image decoder on arbitrary bytes, and the `upload` endpoint's validation of its multipart form.

ZIPs: ArchiveRefused (whole archive) or images plus skipped entries, every file entry accounted
for once, image names safe base names. Decoder: an image, or PhotoError with a code and a
message naming the file. Upload: 202 with stored paths under the caller's folder, or 4xx JSON
with a message; never an exception.
"""

from __future__ import annotations

import io
import json
import re
import warnings
import zipfile
from typing import Any
from unittest import mock

from flask import Request
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from PIL import Image
from werkzeug.datastructures import FileStorage
from werkzeug.test import EnvironBuilder

from mediajobs import cloud
from mediajobs.exports.archive import MAX_NAME_LENGTH
from mediajobs.jobs.api import CallerInfo
from mediajobs.photos import ingest, upload
from mediajobs.photos.processing import PhotoError, decode

FUZZ = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 24
REFUSALS = {"corrupt-archive", "too-many-entries", "zip-bomb", "encrypted-archive"}
SKIP_REASONS = {"hidden-file", "nested-archive", "not-an-image", "too-large", "corrupt-entry"}
NUL_STAND_IN = "\x01"  # zipfile cuts names at NUL when writing: written as this, then patched to NUL

name_parts = st.one_of(
    st.text(st.characters(exclude_categories=["Cs"]), max_size=12),
    st.sampled_from(["..", ".", "/", "\\", "C:\\", "__MACOSX", ".hidden", "é", "日本", NUL_STAND_IN, "a" * 300]),
)
member_names = st.builds(
    lambda parts, ext: "".join(parts) + ext,
    st.lists(name_parts, min_size=1, max_size=5),
    st.sampled_from([".png", ".JPG", ".heic", ".txt", ".zip", "", "/", ".png/"]),
)


def zip_of(members: list[tuple[str, bytes, int]]) -> bytes:
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # duplicate names are part of the test
        with zipfile.ZipFile(buffer, "w") as archive:
            for name, data, method in members:
                archive.writestr(zipfile.ZipInfo(name), data, compress_type=method)
    data = buffer.getvalue()
    for name, _, _ in members:
        if NUL_STAND_IN in name:
            data = data.replace(name.encode(), name.replace(NUL_STAND_IN, "\x00").encode())
    return data


def check_expansion(data: bytes) -> None:
    try:
        images, skipped = ingest.expand_zip("users/u1/x.zip", data)
    except ingest.ArchiveRefused as refused:
        assert refused.code in REFUSALS and refused.message.startswith("users/u1/x.zip")
        return
    for image in images:
        assert image.name and len(image.name) <= MAX_NAME_LENGTH
        assert not re.search(r"[/\\\x00]", image.name) and not image.name.startswith(".")
        assert len(image.data) <= ingest.MAX_ENTRY_BYTES
    for skip in skipped:
        assert skip.reason in SKIP_REASONS and skip.message.strip()
    entries = [info for info in zipfile.ZipFile(io.BytesIO(data)).infolist() if not info.filename.endswith("/")]
    assert len(images) + len(skipped) == len(entries)  # every file entry accounted for once


@FUZZ
@given(
    st.lists(
        st.tuples(member_names, st.sampled_from([PNG, b"", b"not an image"]), st.sampled_from([zipfile.ZIP_STORED, 8])),
        min_size=1,
        max_size=8,
    )
)
@example([("../../etc/passwd.png", PNG, 0), ("/abs/x.png", PNG, 0), ("C:\\win\\y.png", PNG, 0)])
@example([("a.png", PNG, 0), ("a.png", b"other", 0), ("A.PNG", PNG, 8)])  # duplicates
@example([("dir/", b"", 0), ("dir/.hidden.png", PNG, 0), ("__MACOSX/._a.png", PNG, 0)])
@example([(f"a{NUL_STAND_IN}b.png", PNG, 0), ("é" * 300 + ".png", PNG, 8), ("..png", PNG, 0)])
@example([(f"{NUL_STAND_IN}.png", PNG, 0)])  # read back as "" (IndexError in ZipInfo.is_dir before)
def test_zip_member_names_are_made_safe_and_all_accounted_for(members: list[tuple[str, bytes, int]]) -> None:
    data = zip_of(members)
    check_expansion(data)
    if any(NUL_STAND_IN in name for name, _, _ in members):
        return  # patching NUL in may break the archive: refusing it is then right
    images, _ = ingest.expand_zip("users/u1/x.zip", data)  # names alone never refuse an archive
    by_entry = {image.entry: image.data for image in images}
    for name in by_entry.keys() & {name for name, _, _ in members}:
        assert by_entry[name] in {c for n, c, _ in members if n == name}


def _damaged(data: bytes, flips: list[tuple[int, int]], cut: int) -> bytes:
    damaged = bytearray(data[: max(0, len(data) - cut)])
    for at, value in flips:
        if damaged:
            damaged[at % len(damaged)] = value
    return bytes(damaged)


@FUZZ
@given(
    st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA]),
    st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), max_size=6),
    st.integers(0, 40),
)
@example(zipfile.ZIP_DEFLATED, [(40, 0xFF), (41, 0xFF)], 0)  # a corrupt deflate stream (zlib.error before)
@example(zipfile.ZIP_BZIP2, [(6993, 64)], 0)  # a damaged directory: NotImplementedError from ZipFile() before
def test_damaged_zip_bytes_are_refused_or_skipped_with_reasons(
    method: int, flips: list[tuple[int, int]], cut: int
) -> None:
    content = bytes(range(256)) * 8 + PNG
    data = zip_of([("a.png", content, method), ("b.png", content, method)])
    check_expansion(_damaged(data, flips, cut))


def test_an_unknown_compression_method_skips_the_entry() -> None:
    data = bytearray(zip_of([("a.png", PNG, zipfile.ZIP_STORED)]))
    central = data.find(b"PK\x01\x02")
    data[central + 10 : central + 12] = (99).to_bytes(2, "little")  # NotImplementedError in zipfile before
    images, skipped = ingest.expand_zip("users/u1/x.zip", bytes(data))
    assert not images and [s.reason for s in skipped] == ["corrupt-entry"]


@FUZZ
@given(st.binary(max_size=300))
@example(b"PK\x05\x06" + b"\x00" * 18)  # an empty archive
@example(b"PK\x03\x04")
def test_arbitrary_bytes_as_a_zip(data: bytes) -> None:
    check_expansion(data)


def _image_bytes(fmt: str) -> bytes:
    buffer = io.BytesIO()
    mode = {"JPEG": "RGB", "BMP": "RGB", "GIF": "P", "TIFF": "CMYK", "WEBP": "RGBA", "PNG": "LA"}[fmt]
    Image.new(mode, (37, 23), 90).save(buffer, fmt)
    return buffer.getvalue()


IMAGES = {fmt: _image_bytes(fmt) for fmt in ("PNG", "JPEG", "GIF", "BMP", "TIFF", "WEBP")}
DECODE_CODES = {"empty-file", "unsupported-format", "decompression-bomb", "truncated-image", "corrupt-image"}


def check_decode(data: bytes) -> None:
    try:
        image = decode(data, "photo.x")
    except PhotoError as error:
        assert error.code in DECODE_CODES and error.message.startswith("photo.x ")
        return
    assert image.mode in ("RGB", "RGBA") and image.width > 0 and image.height > 0


@FUZZ
@given(st.binary(max_size=200))
@example(b"")
@example(b"\x89PNG\r\n\x1a\n")
@example(b"\xff\xd8\xff")
@example(b"GIF89a\xff\xff\xff\xff")
def test_decoding_arbitrary_bytes_gives_an_image_or_a_photo_error(data: bytes) -> None:
    check_decode(data)


@FUZZ
@given(
    st.sampled_from(sorted(IMAGES)),
    st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), max_size=4),
    st.integers(0, 200),
)
@example("TIFF", [(72, 2)], 0)  # a tile offset that is not a number: Pillow raises TypeError
def test_decoding_damaged_or_truncated_images_gives_an_image_or_a_photo_error(
    fmt: str, flips: list[tuple[int, int]], cut: int
) -> None:
    check_decode(_damaged(IMAGES[fmt], flips, cut))


@FUZZ
@given(st.binary(max_size=40))
def test_sniff_names_a_type_only_from_its_magic_bytes(data: bytes) -> None:
    content_type = upload.sniff(data)
    matching = [t for offset, magic, t in upload.SIGNATURES if data[offset : offset + len(magic)] == magic]
    assert content_type == (matching[0] if matching else None)


class FakeBucket:
    def __init__(self) -> None:
        self.stored: dict[str, bytes] = {}

    def blob(self, path: str) -> Any:
        bucket = self

        class Blob:
            content_disposition: str | None = None

            def upload_from_string(
                self, data: bytes, content_type: str, if_generation_match: int | None = None
            ) -> None:
                assert self.content_disposition == "attachment"
                bucket.stored[path] = data

            def delete(self) -> None:
                del bucket.stored[path]

        return Blob()


upload_files = st.lists(
    st.tuples(
        st.one_of(
            st.text(st.characters(exclude_categories=["Cs"]), max_size=20),
            st.sampled_from(["../../x.png", "C:\\a\\b.jpg", ".htaccess", "a/b/c.zip", "x" * 500]),
        ),
        st.sampled_from([PNG, b"PK\x03\x04rest", b"GIF89a", b"hello", b""]),
    ),
    max_size=4,
)
options_text = st.one_of(
    st.none(),
    st.builds(json.dumps, st.dictionaries(st.sampled_from(["remove_bg", "crop_face", "model", "x"]), st.booleans())),
    st.text(max_size=30),
    st.sampled_from(['{"remove_bg": false}', '{"face_size": 1e400}', '{"model": "\\ud800"}', "[]", "[" * 10_000]),
)


@FUZZ
@given(upload_files, options_text)
@example([("a.png", PNG)], "[" * 10_000)  # RecursionError in json.loads before
@example([("a.png", PNG)], '{"model": "\\ud800"}')
@example([("../../../etc/passwd", PNG), ("", PNG), ("", PNG)], None)
def test_upload_answers_202_or_a_clear_4xx(files: list[tuple[str, bytes]], options: str | None) -> None:
    form: dict[str, Any] = {"file": [FileStorage(io.BytesIO(d), filename=n) for n, d in files]}
    if options is not None:
        form["options"] = options
    request = Request(EnvironBuilder(method="POST", data=form).get_environ())
    bucket = FakeBucket()
    started: list[dict[str, Any]] = []

    def create_job(
        caller: CallerInfo, job_type: str, input: dict[str, Any], options: dict[str, Any], job_id: str
    ) -> str:
        started.append(input)
        return job_id

    with (
        mock.patch.object(upload, "_caller", return_value=CallerInfo(uid="u1", is_admin=False)),
        mock.patch.object(cloud, "bucket", return_value=bucket),
        mock.patch.object(upload, "reserve_job_slot", return_value="job-1") as reserved,
        mock.patch.object(upload, "release_job_slot") as released,
        mock.patch.object(upload, "create_job", side_effect=create_job),
    ):
        try:
            response = upload.handle_upload(request)
        finally:
            request.close()  # the form's spooled files
    body = json.loads(response.get_data(as_text=True))
    if response.status_code == 202:
        assert body == {"job_id": "job-1"} and started == [{"paths": list(bucket.stored)}]
        assert reserved.call_count == 1 and released.call_count == 0
        for path in bucket.stored:
            assert path.startswith("uploads/u1/job-1/") and path.count("/") == 3
            name = path.rsplit("/", 1)[1]
            assert ".." not in path.split("/") and "\\" not in name and len(name) <= 4 + MAX_NAME_LENGTH
    else:
        assert response.status_code in (400, 413) and body["error"]["status"] == "invalid-argument"
        assert body["error"]["message"].strip() and not bucket.stored and not started
        assert released.call_count == reserved.call_count  # a slot reserved for a refused upload is given back
