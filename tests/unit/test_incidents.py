"""Callables answer unexpected failures with `internal` and an incident id, never the text."""

from __future__ import annotations

import json
from typing import Any

import pytest
from firebase_functions import https_fn

from mediajobs import incidents


def request(data: Any = None) -> https_fn.CallableRequest[Any]:
    return https_fn.CallableRequest(raw_request=None, data=data, auth=None)  # type: ignore[arg-type]


def test_an_unexpected_error_becomes_internal_with_an_incident_id_that_the_log_holds(
    capsys: pytest.CaptureFixture[str],
) -> None:
    @incidents.guarded
    def leaky(req: https_fn.CallableRequest[Any]) -> dict[str, str]:
        raise KeyError("secret-bucket/users/someone-else/passport.jpg")

    with pytest.raises(https_fn.HttpsError) as raised:
        leaky(request())
    error = raised.value
    assert error.code == https_fn.FunctionsErrorCode.INTERNAL
    assert "passport" not in error.message and "KeyError" not in error.message
    assert isinstance(error.details, dict)
    incident_id = error.details["incident_id"]
    assert f"incident {incident_id}" in error.message
    logged = capsys.readouterr()
    entries = [json.loads(line) for line in (logged.out + logged.err).splitlines() if line.startswith("{")]
    entry = next(e for e in entries if e.get("incident_id") == incident_id)
    assert entry["severity"] == "ERROR"
    assert "passport.jpg" in entry["error"] and "Traceback" in entry["traceback"]
    assert entry["function"] == "leaky"


def test_expected_errors_and_results_pass_through() -> None:
    @incidents.guarded
    def refuses(req: https_fn.CallableRequest[Any]) -> dict[str, str]:
        raise https_fn.HttpsError(https_fn.FunctionsErrorCode.NOT_FOUND, "Project p does not exist or is not yours.")

    @incidents.guarded
    def answers(req: https_fn.CallableRequest[Any]) -> dict[str, str]:
        return {"job_id": str(req.data)}

    with pytest.raises(https_fn.HttpsError) as raised:
        refuses(request())
    assert raised.value.code == https_fn.FunctionsErrorCode.NOT_FOUND
    assert raised.value.message == "Project p does not exist or is not yours."
    assert answers(request("j1")) == {"job_id": "j1"}
    assert answers.__name__ == "answers"  # the function keeps its deployed name


def test_every_callable_in_main_is_guarded() -> None:
    import main

    callables = [
        name
        for name, value in vars(main).items()
        if callable(value) and (getattr(value, "__firebase_endpoint__", None) or None) is not None
        and getattr(value.__firebase_endpoint__, "callableTrigger", None) is not None
    ]  # fmt: skip
    assert "start_job" in callables and "download_url" in callables
    unguarded = [name for name in callables if not getattr(vars(main)[name], incidents.GUARD_MARK, False)]
    assert not unguarded, f"callables without incidents.guarded: {unguarded}"


def test_an_item_incident_is_logged_and_only_its_id_is_shown(capsys: pytest.CaptureFixture[str]) -> None:
    try:
        raise ValueError("token=abc123")
    except ValueError as error:
        message = incidents.item_incident("job-1", "item-1", error)
    assert "abc123" not in message and "ValueError" not in message
    incident_id = message.split("incident ")[1].split(")")[0]
    logged = capsys.readouterr()
    entry = next(json.loads(line) for line in (logged.out + logged.err).splitlines() if incident_id in line)
    assert entry["job_id"] == "job-1" and "abc123" in entry["error"] and "Traceback" in entry["traceback"]
