"""The one storage-path rule set (mediajobs.storage_paths) and each caller's error over it."""

from __future__ import annotations

import posixpath

import pydantic
import pytest
from firebase_functions import https_fn
from hypothesis import given, settings
from hypothesis import strategies as st

from mediajobs import downloads, storage_paths
from mediajobs.exports.sources import LocationProblem, object_path
from mediajobs.photos.kind import PhotoInput
from mediajobs.scenes.models import MoodImage
from mediajobs.video.models import VideoInput

PLAIN = ["users/u1/a.jpg", "jobs/j/video/stream/master.m3u8", "users/u/a b+(1).jpg", "x", "users/u/ünï.png"]
NOT_PLAIN = [
    "",
    "   ",
    "/users/u/a.jpg",
    "users//a.jpg",
    "users/u/",
    "users/./a.jpg",
    "users/../etc/passwd",
    "..",
    ".",
    "users/u\\..\\a.jpg",
    "users/u/a\nb.jpg",
    "users/u/a\x00.jpg",
    "users/u/a\x7f.jpg",
    "users/u/\ud800.jpg",
    "a" * 1025,
    "é" * 513,  # 1026 bytes
]


@pytest.mark.parametrize("path", PLAIN)
def test_plain_paths_pass_every_caller(path: str) -> None:
    assert storage_paths.path_problem(path) is None
    assert downloads.normalized(path) == path.split("/")
    assert object_path(path, None) == path
    assert MoodImage(path=path).path == path
    assert VideoInput(path=path).path == path
    assert PhotoInput(paths=[path, path]).paths == [path]


@pytest.mark.parametrize("path", NOT_PLAIN)
def test_every_caller_refuses_what_is_not_plain_with_its_own_error(path: str) -> None:
    assert storage_paths.path_problem(path)
    with pytest.raises(https_fn.HttpsError) as refused:
        downloads.normalized(path)
    assert refused.value.code == https_fn.FunctionsErrorCode.INVALID_ARGUMENT
    assert refused.value.message == f"{path!r} is not a plain object path."
    with pytest.raises(LocationProblem) as problem:
        object_path(path, None)
    assert problem.value.code == "invalid-storage-path"
    for build in (lambda: MoodImage(path=path), lambda: VideoInput(path=path), lambda: PhotoInput(paths=[path])):
        with pytest.raises(pydantic.ValidationError):
            build()


def test_callers_keep_their_messages() -> None:
    with pytest.raises(pydantic.ValidationError, match="is not a storage path"):
        MoodImage(path="a//b")
    with pytest.raises(pydantic.ValidationError, match="is not a valid storage path"):
        VideoInput(path="a//b")
    with pytest.raises(pydantic.ValidationError, match="is not a valid storage path"):
        PhotoInput(paths=["ok/a.jpg", "a//b"])
    with pytest.raises(LocationProblem, match="invalid storage path 'a//b'"):
        object_path("gs://main/a//b", "main")


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(["a", "é", "/", ".", "\\", " ", "\n", "\x00"]), max_size=12))
def test_a_plain_path_names_exactly_the_object_it_seems_to(path: str) -> None:
    if storage_paths.is_plain(path):
        assert posixpath.normpath(path) == path and not path.startswith("/")
        assert all(p not in ("", ".", "..") for p in path.split("/"))
        assert "\\" not in path and "\n" not in path and "\x00" not in path
        assert storage_paths.segments(path) == path.split("/")
    else:
        assert storage_paths.segments(path) is None


def test_own_folders() -> None:
    assert storage_paths.owner_prefixes("u1") == ("users/u1/", "uploads/u1/")
    assert storage_paths.owned_by("users/u1/a.jpg", "u1")
    assert storage_paths.owned_by("uploads/u1/job/a.jpg", "u1")
    for path, uid in [
        ("users/u1/a.jpg", "u2"),
        ("users/u1", "u1"),  # the folder, not an object in it
        ("users/u10/a.jpg", "u1"),
        ("jobs/u1/a.jpg", "u1"),
        ("users/u1/../u2/a.jpg", "u1"),
        ("users/a/b/c.jpg", "a/b"),  # a uid with a slash owns no other user's folder
        ("users//a.jpg", ""),
    ]:
        assert not storage_paths.owned_by(path, uid), (path, uid)
    assert storage_paths.owner_of(["uploads", "u1", "j", "a.jpg"]) == "u1"
    assert storage_paths.owner_of(["projects", "p", "a.png"]) is None
