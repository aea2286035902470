"""contract/schemas and contract/types are what the code generates (run `make contract`)."""

from __future__ import annotations

import json
import pathlib
from typing import Any

import jsonschema
import pytest

from mediajobs.contract import generate, validate

ROOT = pathlib.Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "contract" / "schemas"
HINT = "the contract changed: run `make contract` and commit contract/"


def test_schemas_are_what_the_code_generates() -> None:
    expected = generate.render()
    on_disk = {p.name: p.read_text(encoding="utf-8") for p in SCHEMAS.glob("*.json")}
    assert sorted(on_disk) == sorted(expected), HINT
    stale = [name for name, text in expected.items() if on_disk[name] != text]
    assert not stale, f"{HINT} (differs: {stale})"


def test_types_are_what_json2ts_generates_from_the_schemas() -> None:
    if not (ROOT / "node_modules/.bin/json2ts").exists():
        pytest.skip("node_modules/.bin/json2ts is not installed (scripts/setup installs it)")
    bundle = (SCHEMAS / "contract.schema.json").read_text(encoding="utf-8")
    expected = generate.render_types(ROOT, bundle)
    assert (ROOT / generate.TYPES_FILE).read_text(encoding="utf-8") == expected, HINT


def test_every_schema_is_valid_json_schema_2020_12() -> None:
    for path in SCHEMAS.glob("*.schema.json"):
        schema = json.loads(path.read_text(encoding="utf-8"))
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema", path.name
        jsonschema.Draft202012Validator.check_schema(schema)


def _validator(name: str) -> Any:
    return validate.validator(name)


COMPLETED_VIDEO_JOB: dict[str, Any] = {
    "type": "video_process",
    "owner_uid": "u1",
    "status": "completed",
    "progress": {"total": 1, "done": 1, "failed": 0, "percent": 100},
    "current": None,
    "input": {"path": "users/u1/a.mp4"},
    "options": {"renditions": [360], "hls": True, "thumbnails": 1},
    "result": {},
    "error": None,
    "errors": [],
    "cancel_requested": False,
    "created_at": "2026-12-02T10:00:00Z",
    "updated_at": "2026-12-02T10:00:05.123456Z",
    "started_at": "2026-12-02T10:00:00.5Z",
    "finished_at": "2026-12-02T10:00:05.123456Z",
    "heartbeat_at": "2026-12-02T10:00:05.123456Z",
}


def test_a_job_document_validates_and_drift_is_caught() -> None:
    validator = _validator("job.video_process.schema.json")
    assert not list(validator.iter_errors(COMPLETED_VIDEO_JOB))
    assert list(validator.iter_errors({**COMPLETED_VIDEO_JOB, "surprise": 1})), "unknown fields are drift"
    assert list(validator.iter_errors({**COMPLETED_VIDEO_JOB, "created_at": "yesterday"})), "timestamps are RFC 3339"
    started = {k: v for k, v in COMPLETED_VIDEO_JOB.items() if k != "progress"}
    assert list(validator.iter_errors(started)), "a started job has every field"
    queued = {k: COMPLETED_VIDEO_JOB[k] for k in ("type", "owner_uid", "input", "options")}
    assert not list(validator.iter_errors({**queued, "status": "queued"})), "a trusted writer's minimal job"
    bad_result = {**COMPLETED_VIDEO_JOB, "result": {"duration_seconds": 1.0}}
    assert list(validator.iter_errors(bad_result)), "a result is complete or {}"


def test_start_job_request_is_typed_per_job_type() -> None:
    validator = _validator("callable.start_job.request.schema.json")
    assert not list(validator.iter_errors({"type": "photo_batch", "input": {"paths": ["users/u/a.png"]}}))
    assert list(validator.iter_errors({"type": "photo_batch", "input": {}})), "photo_batch needs paths"
    assert list(validator.iter_errors({"type": "nope", "input": {}}))


def test_firestore_values_are_checked_in_their_json_form() -> None:
    import datetime as dt

    created = dt.datetime(2026, 12, 2, 10, 0, 0, 123456, tzinfo=dt.UTC)
    mood = {
        "name": "Golden Hour",
        "description": "warm",
        "visual_style": "film",
        "color_palette": ["#aabbcc"],
        "mood_keywords": ["golden"],
        "image_paths": ["projects/p/moods/m/x.png"],
        "created_at": created,
    }
    assert validate.as_json(created) == "2026-12-02T10:00:00.123456Z"
    assert validate.problems("mood.schema.json", mood) == []
    assert validate.problems("mood.schema.json", {**mood, "created_at": "2026-12-02"}) == [
        "created_at: '2026-12-02' is not a 'date-time'"
    ]
    assert validate.schema_for("jobs/j1", {"type": "photo_batch", "status": "queued"}) == "job.photo_batch.schema.json"
    rejected = {"type": "photo_batch", "status": "failed", "error": {"code": "invalid-argument", "message": "x"}}
    assert validate.schema_for("jobs/j1", rejected) == "job.schema.json"
    assert validate.item_schema({"type": "selftest", "status": "processing"}) == "item.selftest.schema.json"
