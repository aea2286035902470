"""The pure archive writer: safe names, collisions, streaming to non-seekable outputs."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mediajobs.exports.archive import (
    FileError,
    FileProblem,
    SourceFile,
    UniqueNames,
    safe_email,
    safe_filename,
    write_archive,
)
from mediajobs.exports.sources import UserProblem, email_of, source_file, wanted_ids


class NonSeekable(io.RawIOBase):
    """Like an upload stream: write-only, no seek, no tell."""

    def __init__(self) -> None:
        self.buffer = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        self.buffer.extend(data)
        return len(data)


@given(st.text(max_size=300))
def test_safe_filenames_never_escape_or_hide(name: str) -> None:
    safe = safe_filename(name, fallback="id-1")
    assert safe and "/" not in safe and "\\" not in safe
    assert not safe.startswith(".") and safe not in {".", ".."}
    assert len(safe) <= 120


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\x\\photo.jpg", "photo.jpg"),
        ("", "id-1"),
        ("...", "id-1"),
        (".hidden.wav", "hidden.wav"),
        ("a b (1).jpg", "a b (1).jpg"),
        ("évian.jpg", "évian.jpg"),
    ],
)
def test_safe_filename_examples(name: str, expected: str) -> None:
    assert safe_filename(name, fallback="id-1") == expected


def test_safe_email() -> None:
    assert safe_email(" Ann.Lee+x@Example.COM ") == "ann.lee+x@example.com"
    assert safe_email("../../evil@x.io") == "evil@x.io"
    assert safe_email("///") == "unknown"


def test_unique_names_number_collisions_case_insensitively() -> None:
    names = UniqueNames()
    assert [names.claim("images", n) for n in ["a.jpg", "A.jpg", "a.jpg", "b"]] == [
        "images/a.jpg",
        "images/A (2).jpg",
        "images/a (3).jpg",
        "images/b",
    ]
    assert names.claim("", "manifest.json") != "manifest.json"


def files_and_opener(contents: dict[str, bytes | None]) -> tuple[list[SourceFile], object]:
    sources = [
        SourceFile(i, "images", f"p/{i}", f"{i}.bin", "x/y", len(d) if d is not None else 5)
        for i, d in contents.items()
    ]

    def opener(source: SourceFile) -> io.BytesIO:
        data = contents[source.id]
        if data is None:
            raise FileProblem("object-missing", f"{source.source_path} is not in Storage.")
        return io.BytesIO(data)

    return sources, opener


def test_write_archive_to_a_non_seekable_stream_keeps_every_byte() -> None:
    big = bytes(range(256)) * 50_000  # 12.8 MB: streamed rather than prefetched
    contents: dict[str, bytes | None] = {"a": b"alpha", "b": big, "gone": None, "empty": b"", "c": b"gamma" * 1000}
    sources, opener = files_and_opener(contents)
    out = NonSeekable()

    archived, errors = write_archive(out, sources, opener, {"user_id": "u"}, concurrency=3)  # type: ignore[arg-type]

    archive = zipfile.ZipFile(io.BytesIO(bytes(out.buffer)))
    assert archive.testzip() is None
    assert {f.id for f in archived} == {"a", "b", "c"}
    for entry in archived:
        assert archive.read(entry.archive_name) == contents[entry.id]
        assert entry.sha256 == hashlib.sha256(contents[entry.id] or b"").hexdigest()
    assert {(e.id, e.code) for e in errors} == {("gone", "object-missing"), ("empty", "empty-file")}
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["user_id"] == "u" and len(manifest["files"]) == 3 and len(manifest["errors"]) == 2
    assert sorted(archive.namelist()) == ["images/a.bin", "images/b.bin", "images/c.bin", "manifest.json"]


def test_wanted_ids_records_every_oddity() -> None:
    wanted, errors = wanted_ids("u1", {"imageIds": "x,y", "voiceIds": ["v1", "v1", 7, "", "a/b", "v2"]})
    assert wanted == {"images": [], "voices": ["v1", "v2"]}
    assert [e.code for e in errors] == ["invalid-id-list", "duplicate-id", "invalid-id", "invalid-id", "invalid-id"]


def test_user_without_document_or_email_is_a_user_problem() -> None:
    with pytest.raises(UserProblem, match="does not exist"):
        email_of("u", None)
    with pytest.raises(UserProblem) as raised:
        email_of("u", {"email": 42})
    assert raised.value.code == "missing-email"
    assert email_of("u", {"email": " a@b.c "}) == "a@b.c"


def test_source_file_checks_the_metadata() -> None:
    assert source_file("images", "i", None).code == "metadata-not-found"  # type: ignore[union-attr]
    for path in ["", "/abs", "a/../b", None, 5]:
        assert source_file("images", "i", {"storage_path": path}).code == "invalid-storage-path"  # type: ignore[union-attr]
    ok = source_file("voices", "v", {"storage_path": "a/b.wav", "size": True})
    assert isinstance(ok, SourceFile) and ok.filename == "b.wav" and ok.expected_size is None


def test_camel_case_metadata_is_read_like_snake_case() -> None:
    camel = source_file(
        "images", "i", {"storagePath": "u/a.jpg", "fileName": "Beach.jpg", "contentType": "image/jpeg", "size": 3}
    )
    snake = source_file(
        "images", "i", {"storage_path": "u/a.jpg", "file_name": "Beach.jpg", "content_type": "image/jpeg", "size": 3}
    )
    assert camel == snake
    assert isinstance(camel, SourceFile)
    assert (camel.source_path, camel.filename, camel.content_type, camel.expected_size) == (
        "u/a.jpg",
        "Beach.jpg",
        "image/jpeg",
        3,
    )


@pytest.mark.parametrize(
    ("location", "expected"),
    [
        ("users/u/a b.jpg", "users/u/a b.jpg"),
        ("gs://main-bucket/users/u/a.jpg", "users/u/a.jpg"),
        (
            "https://firebasestorage.googleapis.com/v0/b/main-bucket/o/users%2Fu%2Fa%20b%2B.jpg?alt=media&token=t-1",
            "users/u/a b+.jpg",
        ),
        ("http://127.0.0.1:9199/v0/b/main-bucket/o/users%2Fu%2Fa.jpg?alt=media", "users/u/a.jpg"),
    ],
)
def test_paths_gs_urls_and_download_urls_of_the_default_bucket_are_read(location: str, expected: str) -> None:
    checked = source_file("images", "i", {"downloadURL": location}, "main-bucket", ("127.0.0.1:9199",))
    assert isinstance(checked, SourceFile) and checked.source_path == expected


@pytest.mark.parametrize(
    ("location", "code"),
    [
        ("gs://other-bucket/users/u/a.jpg", "foreign-bucket"),
        ("https://firebasestorage.googleapis.com/v0/b/other/o/a.jpg?alt=media", "foreign-bucket"),
        ("https://example.com/v0/b/main-bucket/o/a.jpg", "unsupported-url"),
        ("http://127.0.0.1:9199/v0/b/main-bucket/o/a.jpg", "unsupported-url"),  # no emulator host given
        ("https://firebasestorage.googleapis.com/v0/b/main-bucket/o/..%2Fetc%2Fpasswd", "invalid-storage-path"),
        ("gs://main-bucket/", "invalid-storage-path"),
    ],
)
def test_other_buckets_and_hosts_are_file_errors(location: str, code: str) -> None:
    checked = source_file("images", "i", {"storage_path": location}, "main-bucket")
    assert not isinstance(checked, SourceFile) and checked.code == code, checked


def test_a_size_that_differs_from_the_metadata_is_a_manifest_warning() -> None:
    contents: dict[str, bytes | None] = {"a": b"alpha", "b": b"beta"}
    sources, opener = files_and_opener(contents)
    sources[1] = SourceFile("b", "images", "p/b", "b.bin", "x/y", 999)
    out = NonSeekable()
    collected: list[FileError] = []

    archived, errors = write_archive(out, sources, opener, {}, warnings=collected)  # type: ignore[arg-type]

    manifest = json.loads(zipfile.ZipFile(io.BytesIO(bytes(out.buffer))).read("manifest.json"))
    assert [f.id for f in archived] == ["a", "b"] and not errors
    assert [(w["id"], w["code"]) for w in manifest["warnings"]] == [("b", "size-mismatch")]
    assert "4 bytes" in manifest["warnings"][0]["message"] and "999" in manifest["warnings"][0]["message"]
    assert [w.code for w in collected] == ["size-mismatch"]
