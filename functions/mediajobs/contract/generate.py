"""Writes contract/schemas/*.schema.json (JSON Schema 2020-12) from the contract's models
(`make contract` also rewrites CONTRACT.md's reference sections: contract/reference.py).

    python -m mediajobs.contract [--check] [ROOT]     (make contract: also the TypeScript types)

Documents are described in their serialized (JSON) form, requests in the form the functions
accept. `contract.schema.json` bundles every model under `$defs` for json2ts.
"""

from __future__ import annotations

import json
import pathlib
import subprocess
from typing import Any, Literal

import pydantic
from pydantic.json_schema import models_json_schema

from mediajobs.contract import documents, interfaces, owned_documents
from mediajobs.contract.common import Shape

DIALECT = "https://json-schema.org/draft/2020-12/schema"
Mode = Literal["validation", "serialization"]
SCHEMAS_DIR = pathlib.PurePosixPath("contract/schemas")


def catalogue() -> dict[str, tuple[type[pydantic.BaseModel], Mode]]:
    """File stem -> (model, mode), for every schema the contract publishes."""
    kinds = documents.job_types()
    entries: dict[str, tuple[type[pydantic.BaseModel], Mode]] = {
        "job": (documents.AnyJob, "serialization"),
        "item": (documents.AnyItem, "serialization"),
    }
    for kind in kinds:
        entries[f"job.{kind.name}"] = (documents.job_model(kind), "serialization")
        entries[f"item.{kind.name}"] = (documents.item_model(kind), "serialization")
    entries["project"] = (owned_documents.Project, "serialization")
    entries["scene"] = (owned_documents.Scene, "serialization")
    entries["mood"] = (owned_documents.Mood, "serialization")
    entries["take"] = (owned_documents.Take, "serialization")
    entries["video"] = (owned_documents.Video, "serialization")
    entries["auto_upload"] = (owned_documents.AutoUpload, "serialization")
    for call in interfaces.callables(kinds):
        entries[f"callable.{call.name}.request"] = (call.request, "validation")
        entries[f"callable.{call.name}.response"] = (call.response, "serialization")
    entries["callable.internal.details"] = (interfaces.IncidentDetails, "serialization")
    entries["http.upload.response"] = (interfaces.JobIdResponse, "serialization")
    entries["http.error"] = (interfaces.HttpError, "serialization")
    entries["event.job_ended"] = (interfaces.JobEndedEvent, "serialization")
    entries["event.job_started"] = (interfaces.JobStartedEvent, "serialization")
    entries["delivery"] = (documents.WebhookDelivery, "serialization")
    entries["device"] = (documents.Device, "serialization")
    entries["settings.notifications"] = (documents.NotificationSettingsDocument, "serialization")
    entries["webhook.body"] = (interfaces.WebhookBody, "serialization")
    return entries


def schema_of(model: type[pydantic.BaseModel], mode: Mode) -> dict[str, Any]:
    schema = untitled_fields(model.model_json_schema(mode=mode))
    return {"$schema": DIALECT, **schema}


def untitled_fields(schema: Any) -> Any:
    """Drops the titles Pydantic gives each field ("Owner Uid"): they say nothing the name does
    not, and json2ts would turn each into a type alias. Models keep theirs."""
    if isinstance(schema, list):
        return [untitled_fields(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: untitled_fields(v) for k, v in schema.items()}
    if isinstance(out.get("properties"), dict):
        out["properties"] = {
            name: {k: v for k, v in field.items() if k != "title"} if isinstance(field, dict) else field
            for name, field in out["properties"].items()
        }
    return out


def bundle(entries: dict[str, tuple[type[pydantic.BaseModel], Mode]]) -> dict[str, Any]:
    """One schema whose properties name every published model, for one deduplicated .d.ts."""
    keys, top = models_json_schema([(model, mode) for model, mode in entries.values()], title="MediajobsContract")
    properties = {stem: keys[(model, mode)] for stem, (model, mode) in entries.items()}
    typed_jobs = [keys[entries[stem]] for stem in entries if stem.startswith("job.")]
    top["$defs"]["TypedJob"] = {
        "title": "TypedJob",
        "description": "jobs/{job_id} of a known type, told apart by `type`.",
        "oneOf": typed_jobs,
    }
    properties["job.typed"] = {"$ref": "#/$defs/TypedJob"}
    return {
        "$schema": DIALECT,
        "title": "MediajobsContract",
        "description": "Every model of the contract; the per-document schemas are the files beside this one.",
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
        **bare_refs(untitled_fields(top)),
    }


def bare_refs(schema: Any) -> Any:
    """For json2ts: a field that is a `$ref` plus a default or description becomes just the
    `$ref` (json2ts would declare it again as a new type, `ExportInput1`)."""
    if isinstance(schema, list):
        return [bare_refs(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    if "$ref" in schema:
        return {"$ref": schema["$ref"]}
    # Array lengths stay in the per-document schemas: json2ts would make minItems a tuple type.
    return {k: bare_refs(v) for k, v in schema.items() if k not in ("minItems", "maxItems")}


def index(entries: dict[str, tuple[type[pydantic.BaseModel], Mode]]) -> dict[str, Any]:
    kinds = [kind.name for kind in documents.job_types()]
    return {
        "documents": {
            "jobs/{job_id}": {"any": "job.schema.json", "by_type": {k: f"job.{k}.schema.json" for k in kinds}},
            "jobs/{job_id}/items/{item_id}": {
                "any": "item.schema.json",
                "by_type": {k: f"item.{k}.schema.json" for k in kinds},
            },
            "projects/{project_id}": "project.schema.json",
            "projects/{project_id}/scenes/{scene_id}": "scene.schema.json",
            "projects/{project_id}/moods/{mood_id}": "mood.schema.json",
            "projects/{project_id}/scenes/{scene_id}/takes/{take_id}": "take.schema.json",
            "videos/{video_id}": "video.schema.json",
            "auto_uploads/{key}": "auto_upload.schema.json",
            "jobs/{job_id}/deliveries/{n}": "delivery.schema.json",
            "users/{uid}/devices/{token}": "device.schema.json",
            "users/{uid}/settings/notifications": "settings.notifications.schema.json",
        },
        "callables": {
            stem.split(".")[1]: {
                "request": f"{stem}.schema.json",
                "response": f"{stem.removesuffix('.request')}.response.schema.json",
            }
            for stem in entries
            if stem.startswith("callable.") and stem.endswith(".request")
        },
        "callable_internal_error_details": "callable.internal.details.schema.json",
        "http": {"upload": {"response": "http.upload.response.schema.json", "error": "http.error.schema.json"}},
        "events": {
            "mediajobs.job.v1.started": "event.job_started.schema.json",
            "mediajobs.job.v1.{completed,failed,cancelled}": "event.job_ended.schema.json",
        },
        "webhooks": {"body": "webhook.body.schema.json"},
    }


def dumps(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def render() -> dict[str, str]:
    """contract/schemas file name -> its text."""
    entries = catalogue()
    files = {f"{stem}.schema.json": dumps(schema_of(model, mode)) for stem, (model, mode) in entries.items()}
    files["contract.schema.json"] = dumps(bundle(entries))
    files["index.json"] = dumps(index(entries))
    return files


TYPES_FILE = pathlib.PurePosixPath("contract/types/mediajobs.d.ts")
TYPES_BANNER = (
    "/* Generated by `make contract` (python -m mediajobs.contract) from\n"
    " * contract/schemas/contract.schema.json with json2ts. Do not edit. */"
)


def render_types(root: pathlib.Path, bundle_text: str) -> str:
    """contract/types/mediajobs.d.ts for the bundle, by node_modules/.bin/json2ts."""
    root = root.resolve()
    json2ts = root / "node_modules/.bin/json2ts"
    run = subprocess.run(
        [str(json2ts), "--unknownAny", "--bannerComment", TYPES_BANNER, "--cwd", str(root / SCHEMAS_DIR)],
        input=bundle_text, capture_output=True, text=True, check=False, cwd=root,
    )  # fmt: skip
    if run.returncode != 0:
        raise RuntimeError(f"json2ts failed: {run.stderr.strip()[-2000:]}")
    return run.stdout


def write(root: pathlib.Path) -> list[str]:
    """Writes the schemas under root/contract/schemas (removing stale ones); returns the names."""
    folder = root / SCHEMAS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    files = render()
    for stale in folder.glob("*.json"):
        if stale.name not in files:
            stale.unlink()
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    types = root / TYPES_FILE
    types.parent.mkdir(parents=True, exist_ok=True)
    types.write_text(render_types(root, files["contract.schema.json"]), encoding="utf-8")
    return [*sorted(files), str(TYPES_FILE)]


__all__ = ["Shape", "catalogue", "render", "write"]
