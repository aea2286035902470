"""Fuzzing every job kind's input and options, and the `start_job` / `cancel_job` payloads.

For any JSON-like value a validator either accepts (and what it accepted keeps its documented
invariants and can be written to Firestore as is) or refuses with the documented error:
JobFailed / HttpsError(invalid-argument) carrying a message a person can read.
"""

from __future__ import annotations

import os
import re
from typing import Any
from unittest import mock

import pydantic
import pytest
from firebase_functions import https_fn
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from mediajobs import cloud
from mediajobs.jobs import api
from mediajobs.jobs.kinds import JobFailed, get_kind, known_types
from mediajobs.jobs.models import Job
from mediajobs.jobs.validate import validated
from mediajobs.scenes import kind as scene_kinds
from mediajobs.scenes.models import ASSET_KINDS, DOC_ID
from tests.unit.fuzz_strategies import (
    assert_clear_validation_error,
    assert_storable,
    hostile_text,
    json_values,
    objects_with,
)

FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
Code = https_fn.FunctionsErrorCode

paths = st.one_of(hostile_text, st.builds(lambda s: f"users/u1/{s}", hostile_text))
heights = st.one_of(st.sampled_from([144, 240, 360, 480, 720, 1080, 2160]), st.integers(-(2**40), 2**40))
doc_ids = st.one_of(st.from_regex(DOC_ID, fullmatch=True), hostile_text)

# Per kind: plausible (and implausible) values for each field of its input and options.
FIELDS: dict[str, tuple[dict[str, st.SearchStrategy[Any]], dict[str, st.SearchStrategy[Any]]]] = {
    "selftest": (
        {
            "items": st.integers(-5, 25_000),
            "sleep_ms": st.integers(-5, 70_000),
            "fail_items": st.lists(st.integers(-(2**70), 2**70), max_size=5),
            "reject_items": st.lists(st.integers(-5, 2000), max_size=5),
            "crash_items": st.lists(st.integers(-5, 2000), max_size=5),
        },
        {},
    ),
    "media_export": (
        {"user_ids": st.lists(hostile_text, max_size=6), "resume_from": doc_ids},
        {"concurrency": st.integers(-5, 40), "archive_max_bytes": st.integers(-1, 2**40)},
    ),
    "my_data": ({}, {"archive_max_bytes": st.integers(-1, 2**40)}),
    "photo_batch": (
        {"paths": st.lists(paths, max_size=6)},
        {
            "remove_bg": st.booleans(),
            "crop_face": st.booleans(),
            "model": st.sampled_from(["u2netp", "u2net", "isnet", ""]),
            "output_format": st.sampled_from(["png", "webp", "jpeg", "PNG"]),
            "face_size": st.integers(0, 10_000),
            "face_margin": st.floats(allow_nan=True, allow_infinity=True),
        },
    ),
    "scene_asset": (
        {"project_id": doc_ids, "scene_id": doc_ids, "kind": st.sampled_from([*ASSET_KINDS, "gif", ""])},
        {},
    ),
    "mood_board": ({"project_id": doc_ids, "count": st.integers(-5, 50)}, {}),
    "storyboard_assets": (
        {"project_id": doc_ids, "kinds": st.lists(st.sampled_from([*ASSET_KINDS, "gif"]), max_size=6)},
        {},
    ),
    "video_process": (
        {"path": paths},
        {"renditions": st.lists(heights, max_size=7), "hls": st.booleans(), "thumbnails": st.integers(-5, 40)},
    ),
}


def test_every_registered_kind_is_fuzzed() -> None:
    assert set(FIELDS) == set(known_types())


def _is_storage_path(path: str) -> bool:
    return bool(path) and len(path) <= 1024 and not path.startswith("/") and ".." not in path.split("/")


def assert_kind_invariants(job_type: str, input: Any, options: Any) -> None:
    """What each kind documents about the values it accepts."""
    if job_type == "selftest":
        assert 0 <= input.items <= 20_000 and 0 <= input.sleep_ms <= 120_000 and 0 <= input.label_bytes <= 100_000
    elif job_type == "media_export":
        assert input.user_ids is None or (
            len(input.user_ids) == len(set(input.user_ids)) >= 1
            and all(i and "/" not in i and len(i) <= 1500 for i in input.user_ids)
        )
        assert input.resume_from is None or re.fullmatch(r"[A-Za-z0-9_-]{1,128}", input.resume_from)
        assert 1 <= options.concurrency <= 16
        assert 64 * 2**20 <= options.archive_max_bytes <= 50 * 2**30
    elif job_type == "my_data":
        assert 64 * 2**20 <= options.archive_max_bytes <= 50 * 2**30
    elif job_type == "photo_batch":
        assert 1 <= len(input.paths) <= 200 and len(set(input.paths)) == len(input.paths)
        assert all(_is_storage_path(p) and "\\" not in p for p in input.paths)
        assert options.remove_bg or options.crop_face
        assert 64 <= options.face_size <= 4096 and 0.0 <= options.face_margin <= 2.0
    elif job_type in ("scene_asset", "mood_board"):
        assert re.fullmatch(DOC_ID, input.project_id)
        if job_type == "scene_asset":
            assert re.fullmatch(DOC_ID, input.scene_id) and input.kind in ASSET_KINDS
        else:
            assert 1 <= input.count <= 12
    elif job_type == "storyboard_assets":
        assert re.fullmatch(DOC_ID, input.project_id)
        assert 1 <= len(input.kinds) <= 4 and input.kinds == [k for k in ASSET_KINDS if k in input.kinds]
    elif job_type == "video_process":
        assert _is_storage_path(input.path) and "\\" not in input.path
        assert options.renditions == sorted(set(options.renditions)) and 1 <= len(options.renditions) <= 5
        assert all(144 <= h <= 2160 and h % 2 == 0 for h in options.renditions)
        assert 0 <= options.thumbnails <= 20


def check_validated(job_type: str, input: Any, options: Any) -> None:
    kind = get_kind(job_type)
    assert kind is not None
    try:
        valid_input, valid_options = validated(kind, Job(id="fuzz", type=job_type, input=input, options=options))
    except JobFailed as failure:
        assert failure.code in ("invalid-argument", "resource-exhausted")  # the latter: lists over a cap
        assert failure.message.strip() and failure.message.startswith(("input", "options"))
        return
    assert_kind_invariants(job_type, valid_input, valid_options)
    stored_input = valid_input.model_dump(mode="json", exclude_none=True)
    stored_options = valid_options.model_dump(mode="json")
    assert_storable({"input": stored_input, "options": stored_options})
    # What start_job stores validates again to the same thing (the engine re-validates it).
    assert kind.Input.model_validate(stored_input) == valid_input
    assert kind.Options.model_validate(stored_options) == valid_options


def kind_inputs(job_type: str) -> st.SearchStrategy[tuple[str, Any, Any]]:
    input_fields, option_fields = FIELDS[job_type]
    return st.tuples(st.just(job_type), objects_with(input_fields), objects_with(option_fields))


any_kind_inputs = st.one_of(*(kind_inputs(t) for t in sorted(FIELDS)))


@FUZZ
@given(any_kind_inputs)
@example(("photo_batch", {"paths": ["users/u1/\ud800.png"]}, {}))  # a lone surrogate cannot be stored
@example(("selftest", {"fail_items": [2**70]}, {}))  # beyond Firestore's int64
@example(("video_process", {"path": "users/u1/v.mp4"}, {"renditions": [2160, 144, 144]}))
def test_kind_validation_accepts_valid_values_or_explains(case: tuple[str, Any, Any]) -> None:
    job_type, input, options = case
    check_validated(job_type, input, options)


class _Accepted(Exception):
    """prepare_job got past validation and permissions to its first use of Firestore."""


@FUZZ
@given(
    st.one_of(any_kind_inputs, st.tuples(hostile_text, json_values, json_values)),
    st.booleans(),
)
@example(("no-such-kind", {}, {}), False)
@example(("media_export", {}, {}), False)  # admin only
@example(("scene_asset", {"project_id": "p", "scene_id": "s", "kind": "image", "x": "\ud800"}, {}), True)
def test_start_job_validation_answers_invalid_argument_or_permission_denied(
    case: tuple[Any, Any, Any], admin: bool
) -> None:
    job_type, input, options = case
    data = {"type": job_type, "input": input, "options": options}
    try:
        request = api.parse(api.StartJobRequest, data)
    except https_fn.HttpsError as error:
        assert error.code == Code.INVALID_ARGUMENT and error.message.strip()
        return
    caller = api.CallerInfo(uid="u1", is_admin=admin)
    with (
        mock.patch.dict(os.environ, {"SELFTEST_JOBS_ENABLED": "true"}),
        mock.patch.object(cloud, "db", side_effect=_Accepted),
        mock.patch.object(scene_kinds, "_owns", return_value=None),
    ):
        try:
            api.prepare_job(caller, request.type, request.input, request.options)
        except https_fn.HttpsError as error:
            assert error.code in (Code.INVALID_ARGUMENT, Code.RESOURCE_EXHAUSTED, Code.PERMISSION_DENIED)
            assert error.message.strip()
            return
        except _Accepted:
            pass
    assert request.type in known_types()
    check_validated(request.type, request.input, request.options)


@FUZZ
@given(objects_with({"job_id": doc_ids}))
@example({"job_id": "a" * 129})
@example({"job_id": "../jobs"})
def test_cancel_job_payload_is_a_job_id_or_invalid_argument(data: Any) -> None:
    try:
        request = api.parse(api.CancelJobRequest, data)
    except https_fn.HttpsError as error:
        assert error.code == Code.INVALID_ARGUMENT and error.message.strip()
        return
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,128}", request.job_id)


@FUZZ
@given(st.dictionaries(hostile_text, json_values, max_size=6), hostile_text)
def test_job_documents_load_or_explain(document: dict[str, Any], job_id: str) -> None:
    """Job.from_document reads what any writer left: a Job, or a ValidationError that says why."""
    try:
        job = Job.from_document(job_id, document)
    except pydantic.ValidationError as error:
        assert_clear_validation_error(error)
        return
    assert job.id == job_id and isinstance(job.input, dict) and isinstance(job.options, dict)


def test_a_validation_message_names_the_field() -> None:
    with pytest.raises(JobFailed) as raised:
        check_validated_raising("video_process", {"path": "/etc/passwd"}, {})
    assert raised.value.message.startswith("input.path:")


def check_validated_raising(job_type: str, input: Any, options: Any) -> None:
    kind = get_kind(job_type)
    assert kind is not None
    validated(kind, Job(id="x", type=job_type, input=input, options=options))
