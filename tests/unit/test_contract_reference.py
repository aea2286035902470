"""contract/CONTRACT.md's reference tables are what the code generates (`make contract`), and
each mismatch once found between the prose and the code stays gone."""

from __future__ import annotations

import pathlib
import re
import typing

import pytest

from mediajobs import error_codes
from mediajobs.contract import documents, interfaces, reference
from mediajobs.error_codes import Scope
from mediajobs.photos.models_catalogue import ModelName

ROOT = pathlib.Path(__file__).resolve().parents[2]
CONTRACT = ROOT / "contract" / "CONTRACT.md"
HINT = "CONTRACT.md's generated sections are stale: run `make contract` and commit contract/"


@pytest.fixture(scope="module")
def generated() -> dict[str, str]:
    return reference.sections()


@pytest.fixture(scope="module")
def contract_md() -> str:
    return CONTRACT.read_text(encoding="utf-8")


def test_generated_sections_are_current(contract_md: str, generated: dict[str, str]) -> None:
    stale = [
        name
        for name, text in generated.items()
        if reference.apply(contract_md, {**{n: _section(contract_md, n) for n in generated}, name: text}) != contract_md
    ]
    assert not stale, f"{HINT} (stale: {stale})"


def _section(text: str, name: str) -> str:
    match = re.search(rf"<!-- BEGIN GENERATED: {name} .*?-->\n(.*?)<!-- END GENERATED: {name} -->", text, re.S)
    assert match, f"CONTRACT.md has no markers for the section {name!r}"
    return match.group(1)


def test_apply_refuses_missing_and_unknown_markers() -> None:
    with pytest.raises(ValueError, match="missing"):
        reference.apply("no markers", {"job-types": "x"})
    text = "<!-- BEGIN GENERATED: gone (make contract; do not edit) -->\nold\n<!-- END GENERATED: gone -->\n"
    with pytest.raises(ValueError, match="unknown"):
        reference.apply(text, {})
    replaced = reference.apply(text.replace("gone", "job-types"), {"job-types": "new"})
    assert "new" in replaced and "old" not in replaced


def _row(table: str, first_cell: str) -> str:
    rows = [line for line in table.splitlines() if line.startswith(f"| {first_cell} |")]
    assert rows, f"no row {first_cell} in:\n{table[:500]}"
    return rows[0]


def _type_details(generated: dict[str, str], kind: str) -> str:
    text = generated["job-type-details"]
    start = text.index(f"#### `{kind}`")
    end = text.find("#### `", start + 1)
    return text[start : end if end > 0 else None]


def test_every_job_type_is_listed(generated: dict[str, str]) -> None:
    for kind in documents.job_types():
        assert f"`{kind.name}`" in generated["job-types"]
        assert f"`{kind.name}`" in generated["job-document"]
        assert f"#### `{kind.name}`" in generated["job-type-details"]
    assert "`storyboard_assets`" in generated["job-document"]


def test_active_job_lists_storyboard(generated: dict[str, str]) -> None:
    active = generated["creative-documents"].split("`ActiveJob`", 1)[1]
    assert _row(active, "`storyboard`")


def test_video_options_paths_result_and_items(generated: dict[str, str]) -> None:
    video = _type_details(generated, "video_process")
    options = video.split("`options`:", 1)[1].split("item `result`", 1)[0]
    for option in ("renditions", "hls", "dash", "thumbnails", "mobile", "previews"):
        assert _row(options, f"`{option}`")
    assert "`dash_manifest_path`" in video.split("job `result`", 1)[1]
    item_result = video.split("item `result`", 1)[1].split("job `result`", 1)[0]
    assert _row(item_result, "`rendition`"), "video items are shaped VideoItemResult"
    row = _row(generated["job-types"], "`video_process`")
    assert "stream/master.m3u8" in row and "stream/manifest.mpd" in row and "VideoItemResult" in row


def test_no_stale_paths_in_the_prose(contract_md: str) -> None:
    assert "hls/master.m3u8" not in contract_md
    assert "one `video` item" not in contract_md


def test_photo_models_are_every_model_the_schema_accepts(generated: dict[str, str]) -> None:
    row = _row(_type_details(generated, "photo_batch"), "`model`")
    for name in typing.get_args(ModelName):
        assert f'`"{name}"`' in row
    assert "PHOTO_DEFAULT_MODEL" in row


def test_model_not_installed_is_failed_precondition(generated: dict[str, str]) -> None:
    row = _row(generated["callables"], "`start_job`")
    precondition = row.split("`failed-precondition`", 1)[1].split("; `", 1)[0]
    assert "`model` not installed" in precondition
    assert "model" not in row.split("`permission-denied`", 1)[1].split("`failed-precondition`", 1)[0]


def test_export_item_label_and_file_errors(generated: dict[str, str]) -> None:
    assert "the user id when `user_ids` are given" in _row(generated["job-types"], "`media_export`")
    for code in ("unsupported-url", "foreign-bucket", "invalid-storage-path", "object-missing"):
        assert _row(generated["errors-file"], f"`{code}`")


def test_stream_function_and_grants_are_documented(generated: dict[str, str], contract_md: str) -> None:
    assert _row(generated["functions"], "`stream`")
    assert "stream_grants/{token}" in contract_md


def test_expires_in_is_the_shortest_lifetime(contract_md: str) -> None:
    description = interfaces.DownloadUrlResponse.model_fields["expires_in"].description or ""
    assert "shortest lifetime" in description
    assert "valid 6 hours" in contract_md and "`expires_in` is the shortest lifetime" in contract_md


def test_every_deployed_callable_has_a_schema_and_every_callable_is_deployed(generated: dict[str, str]) -> None:
    deployed = {name for name, trigger, _ in reference.deployed_functions() if trigger == reference.TRIGGERS["on_call"]}
    modelled = {call.name for call in interfaces.callables(documents.job_types())}
    assert deployed == modelled, f"callables without models: {deployed - modelled}; not deployed: {modelled - deployed}"
    for name in modelled:
        assert _row(generated["callables"], f"`{name}`")


def test_callable_errors_are_in_the_catalogue() -> None:
    allowed = error_codes.codes(Scope.CALLABLE)
    for call in interfaces.callables(documents.job_types()):
        bad = [code for code, _ in call.errors if code not in allowed]
        assert not bad, f"{call.name}: {bad} are not callable codes of mediajobs/error_codes.py"


def test_every_catalogued_code_is_in_the_contract(generated: dict[str, str]) -> None:
    for entry in error_codes.CATALOGUE:
        section = {Scope.WARNING: "warnings", Scope.SKIP: "errors-skip"}.get(entry.scope, f"errors-{entry.scope}")
        assert _row(generated[section], f"`{entry.code}`")


def test_every_document_of_the_index_has_its_fields_in_the_contract(generated: dict[str, str]) -> None:
    from mediajobs.contract import generate

    every = "\n".join(generated.values())
    for path, schema in generate.index(generate.catalogue())["documents"].items():
        name = schema if isinstance(schema, str) else schema["any"]
        assert f"`{path}`" in every or name.startswith(("job.", "item.", "delivery.")), path
