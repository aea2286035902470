"""Fuzzing the names of media exports: file names inside the per-user archives, archive names,
and the user / file documents (from an older client) the export reads.

Names in an archive are unique (case-insensitively), safe relative paths in `images/` or
`voices/` that never escape, hide or exceed what file systems hold; documents give files, or
per-file errors and per-user problems with a message, never an exception.
"""

from __future__ import annotations

import io
import json
import posixpath
import re
import zipfile
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from mediajobs.exports.archive import (
    MAX_NAME_BYTES,
    MAX_NAME_LENGTH,
    FileProblem,
    SourceFile,
    UniqueNames,
    safe_email,
    safe_filename,
    write_archive,
)
from mediajobs.exports.sources import UserProblem, email_of, source_file, valid_document_id, wanted_ids
from tests.unit.fuzz_strategies import hostile_text, json_values, objects_with

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

file_names = st.one_of(
    hostile_text,
    st.text(max_size=300),
    st.sampled_from(["../../etc/passwd", "C:\\x\\photo.jpg", ".hidden", "a/", "manifest.json", "MANIFEST.JSON"]),
    st.builds(lambda s, n: s * n, st.sampled_from(["日", "é", "a", "😀"]), st.integers(100, 400)),
)


def assert_safe_name(name: str) -> None:
    assert name and name not in {".", ".."} and not name.startswith((".", " "))
    assert not re.search(r"[/\\\x00-\x1f\x7f]", name)
    assert len(name) <= MAX_NAME_LENGTH and len(name.encode("utf-8")) <= MAX_NAME_BYTES


@FUZZ
@given(st.one_of(file_names, json_values), file_names)
@example("日" * 120, "id-1")  # 360 bytes: more than the 255 a file system holds (char-only limit before)
@example("😀" * 60 + "." + "😀" * 15, "id-1")
@example(None, "..")
@example("photo." + "x" * 200, "id")
def test_safe_filenames_are_safe_bounded_and_stable(name: Any, fallback: str) -> None:
    safe = safe_filename(name, fallback=fallback)
    assert_safe_name(safe)
    assert safe_filename(safe, fallback=fallback) == safe


@FUZZ
@given(st.lists(st.tuples(st.sampled_from(["images", "voices"]), file_names), max_size=30))
@example([("images", "a.jpg")] * 12 + [("images", "A.JPG"), ("images", "a (2).jpg")])
@example([("images", "日" * 120 + ".jpg")] * 3)
def test_claimed_archive_names_are_unique_safe_paths(claims: list[tuple[str, str]]) -> None:
    names = UniqueNames()
    claimed = [names.claim(folder, safe_filename(name, fallback="f")) for folder, name in claims]
    assert len({c.lower() for c in claimed} | {"manifest.json"}) == len(claimed) + 1
    for (folder, _), path in zip(claims, claimed, strict=True):
        assert posixpath.normpath(path) == path and not posixpath.isabs(path)
        assert path.split("/")[0] == folder and path.count("/") == 1
        base = path.split("/")[1]
        assert base and not base.startswith(".") and len(base.encode()) <= 255


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(file_names, st.sampled_from(["images", "voices"]), st.sampled_from([b"x", b"", None, b"y" * 100])),
        max_size=8,
    ),
    st.integers(1, 3),
)
@example([("../x", "images", b"1"), ("x", "images", b"2"), ("X", "images", b"3"), ("manifest.json", "voices", b"4")], 1)
def test_archives_hold_each_readable_file_once_under_a_safe_unique_name(
    files: list[tuple[str, str, bytes | None]], concurrency: int
) -> None:
    sources = [SourceFile(f"id{i}", kind, f"p/{i}", name, "x/y", 100) for i, (name, kind, _) in enumerate(files)]
    contents = {f"id{i}": data for i, (_, _, data) in enumerate(files)}

    def opener(source: SourceFile) -> io.BytesIO:
        data = contents[source.id]
        if data is None:
            raise FileProblem("object-missing", f"{source.source_path} is not in Storage.")
        return io.BytesIO(data)

    out = io.BytesIO()
    archived, errors = write_archive(out, sources, opener, {"user_id": "u"}, concurrency=concurrency)
    archive = zipfile.ZipFile(io.BytesIO(out.getvalue()))
    names = archive.namelist()
    assert len({n.lower() for n in names}) == len(names) and names.count("manifest.json") == 1
    assert sorted(n for n in names if n != "manifest.json") == sorted(f.archive_name for f in archived)
    assert len(archived) + len(errors) == len(sources)
    assert all(e.code in {"object-missing", "empty-file"} and e.message for e in errors)
    for entry in archived:
        folder, base = entry.archive_name.split("/")
        assert folder == entry.kind and not base.startswith(".") and ".." not in entry.archive_name.split("/")
        assert archive.read(entry.archive_name) == contents[entry.id]
    assert len(json.loads(archive.read("manifest.json"))["files"]) == len(archived)


@FUZZ
@given(st.one_of(hostile_text, st.emails(), st.text(max_size=400)))
@example("../../evil@x.io")
@example("." * 200 + "@x")
def test_archive_names_from_emails_are_plain_file_names(email: str) -> None:
    safe = safe_email(email)
    assert re.fullmatch(r"[a-z0-9@._+-]{1,120}", safe) and safe not in {".", ".."}
    assert not safe.startswith((".", "_"))


id_lists = st.one_of(st.lists(st.one_of(hostile_text, json_values), max_size=8), json_values)


@FUZZ
@given(hostile_text, objects_with({"imageIds": id_lists, "voiceIds": id_lists, "email": st.emails() | hostile_text}))
@example("u", {"imageIds": [".", "..", "__name__", "ok", "ok", "a/b", "é" * 600]})
def test_user_documents_give_ids_or_recorded_errors(user_id: str, document: dict[str, Any]) -> None:
    wanted, errors = wanted_ids(user_id, document)
    assert set(wanted) == {"images", "voices"}
    for ids in wanted.values():
        assert len(ids) == len(set(ids)) and all(valid_document_id(i) for i in ids)
    assert all(e.code and e.message.strip() for e in errors)
    try:
        email = email_of(user_id, document)
    except UserProblem as problem:
        assert problem.code == "missing-email" and problem.message.strip()
    else:
        assert "@" in email and len(email) <= 320


@FUZZ
@given(
    st.sampled_from(["images", "voices"]),
    hostile_text,
    st.one_of(
        st.none(),
        objects_with(
            {
                "storage_path": st.one_of(hostile_text, st.builds(lambda s: f"users/u/{s}", hostile_text)),
                "filename": st.one_of(file_names, json_values),
                "content_type": json_values,
                "size": st.one_of(st.integers(-5, 2**40), json_values),
            }
        ),
    ),
)
def test_file_documents_give_a_source_or_a_file_error(kind: str, file_id: str, meta: dict[str, Any] | None) -> None:
    checked = source_file(kind, file_id, meta)
    if isinstance(checked, SourceFile):
        path = checked.source_path
        assert path.strip() and not path.startswith("/") and ".." not in path.split("/") and len(path) <= 1024
        assert checked.expected_size is None or checked.expected_size >= 0
        assert isinstance(checked.filename, str) and isinstance(checked.content_type, str)
    else:
        assert checked.code in {"metadata-not-found", "invalid-storage-path", "foreign-bucket", "unsupported-url"}
        assert checked.message.strip()
