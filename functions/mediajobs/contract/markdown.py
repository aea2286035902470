"""Markdown tables of a model's fields, read from its JSON Schema (the one the schemas publish).

    field | type | required / default | what

A field whose type is another model names it (`ErrorInfo`), and that model gets a table of its
own below, once. Types read like the contract's prose: `"a" | "b"`, `[string]`, `timestamp`.
"""

from __future__ import annotations

import json
from typing import Any

import pydantic

Schema = dict[str, Any]


def cell(text: str) -> str:
    """Text that fits in one table cell: one line, pipes escaped."""
    return " ".join(text.split()).replace("|", "\\|")


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def type_of(schema: Schema, defs: Schema, seen: list[str]) -> str:
    """A compact type; every referenced model's name is appended to `seen` (for its own table)."""
    if "$ref" in schema:
        name = _ref_name(schema["$ref"])
        target = defs.get(name, {})
        if "enum" in target or target.get("type") not in (None, "object"):
            return type_of(target, defs, seen)
        if name not in seen:
            seen.append(name)
        return f"`{name}`"
    if "const" in schema:
        return f"`{json.dumps(schema['const'])}`"
    if "enum" in schema:
        return " | ".join(f"`{json.dumps(v)}`" for v in schema["enum"])
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return " | ".join(dict.fromkeys(type_of(s, defs, seen) for s in schema[key]))
    kind = schema.get("type")
    if isinstance(kind, list):
        return " | ".join(type_of({**schema, "type": k}, defs, seen) for k in kind)
    if kind == "array":
        items = schema.get("items")
        return f"[{type_of(items, defs, seen)}]" if isinstance(items, dict) else "[any]"
    if kind == "object":
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict) and extra:
            return f"{{string: {type_of(extra, defs, seen)}}}"
        return "object"
    if kind == "string" and schema.get("format") == "date-time":
        return "timestamp"
    return str(kind) if kind else "any"


def _bounds(schema: Schema) -> str:
    low, high = schema.get("minimum"), schema.get("maximum")
    above, below = schema.get("exclusiveMinimum"), schema.get("exclusiveMaximum")
    if low is not None and high is not None:
        return f"{low}..{high}"
    parts = []
    if low is not None:
        parts.append(f">= {low}")
    if above is not None:
        parts.append(f"> {above}")
    if high is not None:
        parts.append(f"<= {high}")
    if below is not None:
        parts.append(f"< {below}")
    return " ".join(parts)


def limits(schema: Schema) -> str:
    """Constraints in the contract's words: `1..16`, `> 0 <= 120`, `1..200 chars`, `1..5 items`."""
    parts = []
    for key in ("anyOf", "oneOf"):
        for option in schema.get(key, []):
            if (text := limits(option)) and text not in parts:
                parts.append(text)
    if bounds := _bounds(schema):
        parts.append(bounds)
    for low_key, high_key, unit in (("minLength", "maxLength", "chars"), ("minItems", "maxItems", "items")):
        if low_key in schema or high_key in schema:
            parts.append(f"{schema.get(low_key, 0)}..{schema.get(high_key, 'n')} {unit}")
    if "pattern" in schema:
        parts.append(f"pattern `{schema['pattern']}`")
    items = schema.get("items") if schema.get("type") == "array" else None
    if isinstance(items, dict) and (inner := limits(items)):
        parts.append(f"each {inner}")
    return ", ".join(parts)


def _default(field: Schema, required: bool) -> str:
    if required:
        return "required"
    if "default" in field:
        return f"[`{json.dumps(field['default'], separators=(', ', ': '))}`]"
    return "optional"


def fields_rows(schema: Schema, defs: Schema, seen: list[str]) -> list[list[str]]:
    required = set(schema.get("required", []))
    rows = []
    for name, field in schema.get("properties", {}).items():
        kind = type_of(field, defs, seen)
        if extra := limits(field):
            kind = f"{kind} ({extra})"
        rows.append([f"`{name}`", kind, _default(field, name in required), field.get("description", "")])
    return rows


HEADER = ["field", "type", "required / [default]", "what"]


def model_tables(model: type[pydantic.BaseModel], mode: str = "serialization", skip: tuple[str, ...] = ()) -> str:
    """The model's table, then a table for each model it refers to (depth first, once each;
    `skip` names models documented elsewhere, which are only named)."""
    schema = model.model_json_schema(mode=mode)  # type: ignore[arg-type]
    if mode == "serialization":  # a custom serializer hides a model's fields: read them as validated
        validated = model.model_json_schema(mode="validation").get("$defs", {})
        defs = schema.setdefault("$defs", {})
        for name, target in list(defs.items()):
            if not target.get("properties") and validated.get(name, {}).get("properties"):
                defs[name] = validated[name]
        for name, target in validated.items():
            defs.setdefault(name, target)
    return schema_tables(schema, skip)


def schema_tables(schema: Schema, skip: tuple[str, ...] = ()) -> str:
    defs = schema.get("$defs", {})
    seen: list[str] = []
    out = [_summary(schema, defs, seen)]
    done = set(skip)
    while pending := [name for name in seen if name not in done]:
        name = pending[0]
        done.add(name)
        target = defs[name]
        doc = cell(target.get("description", ""))
        out.append(f"`{name}`{': ' + doc if doc else ''}\n\n{_summary(target, defs, seen)}")
    return "\n".join(out)


def _summary(schema: Schema, defs: Schema, seen: list[str]) -> str:
    if schema.get("properties"):
        return table(HEADER, fields_rows(schema, defs, seen))
    if schema.get("type") == "object":
        return "`{}` (no fields)\n"
    return f"{type_of(schema, defs, seen)}\n"


def braces(model: type[pydantic.BaseModel], mode: str = "validation") -> str:
    """`{a, b?, c?}`: a request's or response's fields, optional ones marked."""
    schema = model.model_json_schema(mode=mode)  # type: ignore[arg-type]
    if "properties" not in schema:
        names: dict[str, bool] = {}
        defs = schema.get("$defs", {})
        for variant in schema.get("oneOf", schema.get("anyOf", [])):
            target = defs.get(_ref_name(variant.get("$ref", "")), variant)
            for name in target.get("properties", {}):
                names[name] = names.get(name, True) and name in target.get("required", [])
        return "{" + ", ".join(n if req else f"{n}?" for n, req in names.items()) + "} (one shape per job type)"
    required = set(schema.get("required", []))
    return "{" + ", ".join(n if n in required else f"{n}?" for n in schema["properties"]) + "}"
