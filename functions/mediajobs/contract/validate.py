"""Checks documents against contract/schemas: what the integration tests run on every job,
item, project, scene and mood document they produce (never imported by the functions)."""

from __future__ import annotations

import base64
import datetime as dt
import functools
import json
import pathlib
import re
from typing import Any

import jsonschema

SCHEMAS = pathlib.Path(__file__).resolve().parents[3] / "contract" / "schemas"
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$", re.IGNORECASE)
FORMATS = jsonschema.FormatChecker()


def _rfc3339(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not RFC3339.match(value):
        return False
    try:
        dt.datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


FORMATS.checks("date-time")(_rfc3339)


@functools.cache
def validator(schema_file: str) -> Any:
    schema = json.loads((SCHEMAS / schema_file).read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(schema, format_checker=FORMATS)


def as_json(value: Any) -> Any:
    """A Firestore value in its JSON form: timestamps as RFC 3339, bytes as base64."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, dict):
        return {str(k): as_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [as_json(v) for v in value]
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if hasattr(value, "latitude") and hasattr(value, "longitude"):  # GeoPoint
        return {"latitude": value.latitude, "longitude": value.longitude}
    if hasattr(value, "path") and hasattr(value, "id") and hasattr(value, "parent"):  # DocumentReference
        return str(value.path)
    return value


def schema_for(path: str, data: dict[str, Any]) -> str | None:
    """The schema file for the document at `path` (slash-separated), or None if it has none."""
    parts = path.split("/")
    typed = _typed_job(data) if len(parts) == 2 and parts[0] == "jobs" else None
    if len(parts) == 2 and parts[0] == "jobs":
        return f"job.{typed}.schema.json" if typed else "job.schema.json"
    if len(parts) == 4 and parts[0] == "jobs" and parts[2] == "items":
        return None  # needs the job's type: see item_schema
    if len(parts) == 2 and parts[0] == "projects":
        return "project.schema.json"
    if len(parts) == 4 and parts[0] == "projects" and parts[2] in ("scenes", "moods"):
        return "scene.schema.json" if parts[2] == "scenes" else "mood.schema.json"
    if len(parts) == 2 and parts[0] == "videos":
        return "video.schema.json"
    if len(parts) == 6 and parts[0] == "projects" and parts[2] == "scenes" and parts[4] == "takes":
        return "take.schema.json"
    if len(parts) == 2 and parts[0] == "auto_uploads":
        return "auto_upload.schema.json"
    return None


def _typed_job(data: dict[str, Any]) -> str | None:
    """The job's type when its typed schema applies: a known type, not rejected at start."""
    kinds = json.loads((SCHEMAS / "index.json").read_text(encoding="utf-8"))["documents"]["jobs/{job_id}"]["by_type"]
    error = data.get("error") or {}
    rejected = data.get("status") == "failed" and error.get("code") in ("invalid-argument", "resource-exhausted")
    job_type = data.get("type")
    return job_type if isinstance(job_type, str) and job_type in kinds and not rejected else None


def item_schema(job: dict[str, Any]) -> str:
    typed = _typed_job(job)
    return f"item.{typed}.schema.json" if typed else "item.schema.json"


def problems(schema_file: str, data: dict[str, Any]) -> list[str]:
    """Every way the document breaks its schema, as 'field.path: message'; [] when it holds."""
    found = []
    for error in validator(schema_file).iter_errors(as_json(data)):
        where = ".".join(str(p) for p in error.absolute_path) or "(document)"
        found.append(f"{where}: {error.message[:300]}")
    return found


MAX_ITEMS_PER_JOB = 500  # enough to cover every item shape; keeps the check cheap on load tests


def rejected_at_start(data: dict[str, Any]) -> bool:
    """A job written directly with a bad type, owner, input or options: the engine only set
    its status, error and timestamps, and everything else stays as the writer wrote it."""
    error = data.get("error") or {}
    return data.get("status") == "failed" and error.get("code") in ("invalid-argument", "resource-exhausted")


def documents_since(db: Any, since: dt.datetime) -> list[str]:
    """Checks every job (and up to MAX_ITEMS_PER_JOB of its items and webhook deliveries) and every
    project (with its scenes and moods) created at or after `since`; returns one line per problem."""
    found: list[str] = []

    def check(path: str, schema_file: str, data: dict[str, Any]) -> None:
        found.extend(f"{path} ({schema_file}) {p}" for p in problems(schema_file, data))

    from google.cloud.firestore import FieldFilter

    jobs = db.collection("jobs").where(filter=FieldFilter("created_at", ">=", since))
    for snap in jobs.stream():
        data = snap.to_dict() or {}
        path = f"jobs/{snap.id}"
        if rejected_at_start(data):
            check(path, "job.schema.json", _engine_fields_of_rejected(data))
            continue
        schema_file = schema_for(path, data) or "job.schema.json"
        check(path, schema_file, data)
        for item in snap.reference.collection("items").limit(MAX_ITEMS_PER_JOB).stream():
            check(f"{path}/items/{item.id}", item_schema(data), item.to_dict() or {})
        for delivery in snap.reference.collection("deliveries").limit(MAX_ITEMS_PER_JOB).stream():
            check(f"{path}/deliveries/{delivery.id}", "delivery.schema.json", delivery.to_dict() or {})
    projects = db.collection("projects").where(filter=FieldFilter("created_at", ">=", since))
    for snap in projects.stream():
        path = f"projects/{snap.id}"
        check(path, "project.schema.json", snap.to_dict() or {})
        for name, schema_file in (("scenes", "scene.schema.json"), ("moods", "mood.schema.json")):
            for child in snap.reference.collection(name).stream():
                check(f"{path}/{name}/{child.id}", schema_file, child.to_dict() or {})
                for take in child.reference.collection("takes").stream() if name == "scenes" else ():
                    check(f"{path}/scenes/{child.id}/takes/{take.id}", "take.schema.json", take.to_dict() or {})
    for snap in db.collection("videos").where(filter=FieldFilter("created_at", ">=", since)).stream():
        check(f"videos/{snap.id}", "video.schema.json", snap.to_dict() or {})
    for snap in db.collection("auto_uploads").where(filter=FieldFilter("created_at", ">=", since)).stream():
        check(f"auto_uploads/{snap.id}", "auto_upload.schema.json", snap.to_dict() or {})
    return found


ENGINE_FIELDS_OF_REJECTED = ("status", "error", "created_at", "started_at", "finished_at", "updated_at", "heartbeat_at")


def _engine_fields_of_rejected(data: dict[str, Any]) -> dict[str, Any]:
    """A rejected job as far as the engine wrote it; the writer's own fields are placeholders."""
    placeholders: dict[str, Any] = {
        "type": str(data.get("type")), "owner_uid": str(data.get("owner_uid")), "input": {}, "options": {},
        "progress": {"total": 0, "done": 0, "failed": 0, "percent": 0}, "current": None, "result": None,
        "errors": [], "cancel_requested": False, "updated_at": None,
    }  # fmt: skip
    return {**placeholders, **{k: data[k] for k in ENGINE_FIELDS_OF_REJECTED if k in data}}
