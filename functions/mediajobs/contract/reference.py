"""The reference sections of contract/CONTRACT.md, generated from the models and the code.

Each section sits between two marker lines in the document:

    <!-- BEGIN GENERATED: name (make contract; do not edit) -->
    ...
    <!-- END GENERATED: name -->

`make contract` rewrites what is between them; tests/unit/test_contract_reference.py fails when
a section is stale. Everything is read from registries, so a new job type (documents.job_types),
callable (interfaces.callables), deployed function (functions/main.py) or error code
(mediajobs/error_codes.py) lands in the tables without editing them.
"""

from __future__ import annotations

import ast
import json
import pathlib
import re
import typing
from collections.abc import Callable

from mediajobs import error_codes
from mediajobs.contract import common, documents, generate, interfaces
from mediajobs.contract.examples import EXAMPLES
from mediajobs.contract.markdown import braces, cell, model_tables, table
from mediajobs.error_codes import Scope
from mediajobs.jobs.notify.models import NotifySettings

MAIN = pathlib.Path(__file__).resolve().parents[2] / "main.py"
CONTRACT_MD = pathlib.PurePosixPath("contract/CONTRACT.md")
BEGIN = "<!-- BEGIN GENERATED: {name} (make contract; do not edit) -->"
END = "<!-- END GENERATED: {name} -->"
MARKER = re.compile(r"<!-- BEGIN GENERATED: ([a-z0-9-]+) .*?-->\n(.*?)<!-- END GENERATED: \1 -->", re.S)
EVERY_CALLABLE = ("unauthenticated", "invalid-argument", "internal")


def _values(literal: object) -> list[str]:
    return [str(v) for v in typing.get_args(literal)]


def job_types_table() -> str:
    rows = []
    for kind in documents.job_types():
        outputs = ", ".join(f"`{p}`" for p in kind.outputs) or "none"
        rows.append([f"`{kind.name}`", kind.who, kind.items, outputs])
    return table(["type", "who starts it", "one item per", "outputs (Storage)"], rows)


def job_type_details() -> str:
    """Per type: input, options, item result, job result (defaults in brackets)."""
    out = []
    for kind in documents.job_types():
        out.append(f"#### `{kind.name}`\n")
        for title, model, mode in (
            ("`input`", kind.input, "validation"),
            ("`options`", kind.options, "validation"),
            ("item `result` (when done)", kind.item_result, "serialization"),
            ("job `result` (when it ends; `{}` when there is nothing)", kind.result, "serialization"),
        ):
            out.append(f"{title}:\n\n{model_tables(model, mode)}")
    return "\n".join(out)


def job_document() -> str:
    types = ", ".join(f"`{k.name}`" for k in documents.job_types())
    statuses = " | ".join(f"`{s}`" for s in _values(common.JobStatus))
    return (
        f"`type` is one of {types}; `status` one of {statuses}.\n\n"
        + model_tables(documents.AnyJob, skip=("Progress",))
        + "\n`Progress`:\n\n"
        + model_tables(common.Progress)
    )


def item_document() -> str:
    statuses = " | ".join(f"`{s}`" for s in _values(common.ItemStatus))
    return f"`status` one of {statuses}.\n\n" + model_tables(documents.AnyItem)


def _documents(covered: Callable[[str], bool]) -> str:
    """Tables of the documents the schemas' index lists (generate.index) whose path `covered`
    accepts: a document added to the index lands here without editing this module."""
    models = generate.catalogue()
    out = []
    for path, schema in generate.index(models)["documents"].items():
        if not isinstance(schema, str) or not covered(path):
            continue
        model, mode = models[schema.removesuffix(".schema.json")]
        out.append(f"`{path}` (`{model.__name__}`, `{schema}`):\n\n{model_tables(model, mode)}")
    return "\n".join(out) or "None.\n"


def _elsewhere(path: str) -> bool:
    """Documents with a section of their own (jobs and items, deliveries under webhooks)."""
    return path.startswith(("jobs/", "projects/", "videos/"))


def creative_documents() -> str:
    return _documents(lambda path: path.startswith("projects/"))


def video_document() -> str:
    return _documents(lambda path: path.startswith("videos/"))


def other_documents() -> str:
    return _documents(lambda path: not _elsewhere(path))


def callables_table() -> str:
    rows = []
    catalogue = error_codes.codes(Scope.CALLABLE)
    for call in interfaces.callables(documents.job_types()):
        errors = "; ".join(f"`{code}` ({when})" for code, when in call.errors if code in catalogue)
        rows.append([f"`{call.name}`", braces(call.request), braces(call.response, "serialization"), errors])
    return table(["name", "request", "response", "errors besides " + ", ".join(f"`{c}`" for c in EVERY_CALLABLE)], rows)


TRIGGERS = {
    "on_call": "callable (clients)",
    "on_request": "HTTP",
    "on_task_dispatched": "task queue (internal)",
    "on_document_created": "Firestore trigger (internal)",
    "on_schedule": "scheduled (internal)",
    "on_custom_event_published": "Eventarc subscriber (internal)",
}


def deployed_functions(main: pathlib.Path = MAIN) -> list[tuple[str, str, str]]:
    """(name, trigger, first docstring line) of every function main.py declares."""
    found = []
    for node in ast.parse(main.read_text(encoding="utf-8")).body:
        if not isinstance(node, ast.FunctionDef):
            continue
        for decorator in node.decorator_list:
            target = decorator.func if isinstance(decorator, ast.Call) else decorator
            name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
            if name in TRIGGERS:
                doc = (ast.get_docstring(node) or "").split("\n", 1)[0]
                found.append((node.name, TRIGGERS[name], doc))
                break
    return found


def functions_table() -> str:
    rows = [
        [f"`{name}`", trigger, doc or ("see Callables" if trigger == TRIGGERS["on_call"] else "")]
        for name, trigger, doc in deployed_functions()
    ]
    return table(["function", "trigger", "what"], rows)


def errors_table(scope: Scope) -> str:
    rows = []
    for entry in error_codes.in_scope(scope):
        retry = "yes" if entry.retryable else "no"
        rows.append([f"`{entry.code}`", entry.kinds or "any", entry.when, retry, entry.action])
    return table(["code", "where", "when", "retry helps", "what a client should do"], rows)


def events_section() -> str:
    ends = _values(interfaces.JobEndedEvent.model_fields["status"].annotation)
    types = ", ".join(f"`mediajobs.job.v1.{s}`" for s in ends)
    return f"types: {types}\n\n`data`:\n\n" + model_tables(interfaces.JobEndedEvent)


def webhooks_section() -> str:
    return (
        "`notify` (of `start_job`, `generate_scene_asset`, `generate_storyboard`, `POST /upload`):\n\n"
        + model_tables(NotifySettings, "validation")
        + "\nBody of a delivery (`WebhookBody`):\n\n"
        + model_tables(interfaces.WebhookBody, skip=("Progress",))
        + "\n`jobs/{job_id}/deliveries/{n}` (`WebhookDelivery`):\n\n"
        + model_tables(documents.WebhookDelivery)
    )


def examples_section() -> str:
    """Every callable's example, in the order the test runs them."""
    rows = []
    for example in EXAMPLES:
        answer = f"error `{example.error}`" if example.error else f"`{json.dumps(example.response)}`"
        if example.wait:
            answer += f"; then `{example.wait}` ends `{example.final_status}`"
        rows.append([f"`{example.callable}`", example.title, f"`{json.dumps(example.request)}`", answer])
    return table(["callable", "example", "request", "answer"], rows)


SECTIONS: dict[str, Callable[[], str]] = {
    "job-types": job_types_table,
    "job-document": job_document,
    "item-document": item_document,
    "job-type-details": job_type_details,
    "creative-documents": creative_documents,
    "video-document": video_document,
    "other-documents": other_documents,
    "callables": callables_table,
    "functions": functions_table,
    "errors-callable": lambda: errors_table(Scope.CALLABLE),
    "errors-job": lambda: errors_table(Scope.JOB),
    "errors-item": lambda: errors_table(Scope.ITEM),
    "errors-file": lambda: errors_table(Scope.FILE),
    "errors-skip": lambda: errors_table(Scope.SKIP),
    "warnings": lambda: errors_table(Scope.WARNING),
    "events": events_section,
    "webhooks": webhooks_section,
    "examples": examples_section,
}


def sections() -> dict[str, str]:
    return {name: render() for name, render in SECTIONS.items()}


def apply(text: str, generated: dict[str, str]) -> str:
    """`text` with every generated section replaced; ValueError if a section has no markers
    (or the document has markers of a section that no longer exists)."""
    present = [m.group(1) for m in MARKER.finditer(text)]
    missing = [name for name in generated if name not in present]
    unknown = [name for name in present if name not in generated]
    if missing or unknown:
        raise ValueError(f"CONTRACT.md markers: missing {missing}, unknown {unknown}")

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        return f"{BEGIN.format(name=name)}\n{generated[name].rstrip()}\n{END.format(name=name)}"

    return MARKER.sub(replace, text)


def write(root: pathlib.Path) -> str:
    """Rewrites the generated sections of root/contract/CONTRACT.md; returns its path."""
    path = root / CONTRACT_MD
    path.write_text(apply(path.read_text(encoding="utf-8"), sections()), encoding="utf-8")
    return str(CONTRACT_MD)


__all__ = ["CONTRACT_MD", "apply", "cell", "sections", "write"]
