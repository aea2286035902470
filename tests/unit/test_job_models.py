"""Pure logic of the job engine: models, validation messages, percent, batching."""

from __future__ import annotations

import pydantic
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mediajobs.jobs.kinds import JobFailed, get_kind, known_types
from mediajobs.jobs.models import Job, new_job_document, percent_of
from mediajobs.jobs.plan import batched
from mediajobs.jobs.validate import validated
from mediajobs.selftest.kind import SelftestInput
from mediajobs.validation import describe


def test_percent_is_a_floor_and_capped() -> None:
    assert percent_of(0, 0) == 0
    assert percent_of(1, 3) == 33
    assert percent_of(2, 3) == 66
    assert percent_of(3, 3) == 100
    assert percent_of(5, 3) == 100


@given(st.integers(0, 10_000), st.integers(1, 10_000))
def test_percent_grows_with_settled_items(settled: int, total: int) -> None:
    assert percent_of(settled, total) <= percent_of(settled + 1, total)
    assert 0 <= percent_of(settled, total) <= 100


@given(st.lists(st.integers(), max_size=60), st.integers(1, 7))
def test_batched_keeps_order_and_sizes(values: list[int], size: int) -> None:
    chunks = list(batched(values, size))
    assert [v for chunk in chunks for v in chunk] == values
    assert all(1 <= len(chunk) <= size for chunk in chunks)


def test_job_documents_from_old_writers_still_load() -> None:
    job = Job.from_document("j1", {"type": "selftest", "status": "queued", "input": None, "extra": 1})
    assert job.input == {} and job.options == {} and job.progress.total == 0 and not job.terminal


def test_new_job_document_has_every_contract_field() -> None:
    doc = new_job_document(job_type="selftest", owner_uid="u", input={}, options={})
    assert set(doc) >= {
        "type",
        "owner_uid",
        "status",
        "progress",
        "current",
        "input",
        "options",
        "result",
        "error",
        "errors",
        "cancel_requested",
        "started_at",
        "finished_at",
        "heartbeat_at",
    }
    assert doc["status"] == "queued" and doc["progress"] == {"total": 0, "done": 0, "failed": 0, "percent": 0}


def test_validation_messages_name_the_field_and_the_problem() -> None:
    with pytest.raises(pydantic.ValidationError) as raised:
        SelftestInput.model_validate({"items": 50_000, "colour": "red"})
    message = describe(raised.value, "input")
    assert "input.items: Input should be less than or equal to 20000" in message
    assert "input.colour: unknown field" in message


def test_validated_raises_job_failed_with_the_message() -> None:
    kind = get_kind("selftest")
    assert kind is not None
    with pytest.raises(JobFailed) as raised:
        validated(kind, Job(id="x", input={"items": "many"}))
    assert raised.value.code == "invalid-argument"
    assert raised.value.message.startswith("input.items:")


def test_registry_knows_its_kinds_and_nothing_else() -> None:
    assert "selftest" in known_types()
    assert get_kind("no-such-kind") is None


@given(st.dictionaries(st.text(max_size=8), st.one_of(st.integers(), st.text(max_size=5), st.none()), max_size=4))
def test_selftest_input_validation_never_crashes(data: dict[str, object]) -> None:
    try:
        SelftestInput.model_validate(data)
    except pydantic.ValidationError as error:
        assert describe(error)


def test_an_oversized_result_keeps_its_small_fields_and_says_it_was_cut() -> None:
    from mediajobs.jobs.models import MAX_RESULT_BYTES, compact_result, json_bytes

    result = {
        "archive_path": "jobs/j1/results.zip",
        "succeeded": 36,
        "outputs": [{"input": "x" * 4000, "output_path": "jobs/j1/outputs/a.png"}] * 80,
    }
    assert json_bytes(result) > MAX_RESULT_BYTES
    compact = compact_result(result)
    assert compact["archive_path"] == "jobs/j1/results.zip" and compact["succeeded"] == 36
    assert "outputs" not in compact and compact["truncated"] is True and compact["bytes"] == json_bytes(result)
    assert json_bytes(compact) < 4096
