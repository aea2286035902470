"""Every callable has an example in the contract (mediajobs/contract/examples.py), and every
example's request and answer match the callable's schemas (the integration test runs them)."""

from __future__ import annotations

from mediajobs import error_codes
from mediajobs.contract import documents, interfaces, validate
from mediajobs.contract.examples import EXAMPLES, substitute
from mediajobs.error_codes import Scope

DUMMY = {name: f"id-{name}" for name in ("uid",)}


def _names() -> dict[str, str]:
    names = dict(DUMMY)
    for example in EXAMPLES:
        names.update({saved: f"id{len(names)}" for saved in example.saves.values()})
    return names


def test_every_callable_has_an_example() -> None:
    callables = {call.name for call in interfaces.callables(documents.job_types())}
    missing = callables - {example.callable for example in EXAMPLES}
    assert not missing, f"add an example of {sorted(missing)} to functions/mediajobs/contract/examples.py"


def test_every_example_request_and_answer_match_the_schemas() -> None:
    names = _names()
    for example in EXAMPLES:
        request = validate.validator(f"callable.{example.callable}.request.schema.json")
        errors = [e.message for e in request.iter_errors(substitute(example.request, names))]
        assert not errors, f"{example.callable} ({example.title}): {errors}"
        if example.error is not None:
            assert example.error in error_codes.codes(Scope.CALLABLE), example
            assert example.response is None, example
            continue
        response = validate.validator(f"callable.{example.callable}.response.schema.json")
        errors = [e.message for e in response.iter_errors(substitute(example.response, names))]
        assert not errors, f"{example.callable} ({example.title}) answer: {errors}"


def test_every_placeholder_is_saved_before_it_is_used() -> None:
    known = set(DUMMY)
    for example in EXAMPLES:
        used = set(_placeholders(example.request)) | set(_placeholders(example.response or {}))
        response_saves = {f for f in example.saves.values()}
        assert used <= known | response_saves, f"{example.callable}: {used - known}"
        known |= response_saves
        assert example.wait is None or example.wait in known


def _placeholders(value: object) -> list[str]:
    import re

    return re.findall(r"\{([a-z_]+)\}", str(value))
