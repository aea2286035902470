"""What a client reads of an unexpected failure: a code, a message for people and an incident
id; never the exception's text (bucket names, service accounts, paths), which goes to the log."""

from __future__ import annotations

import json
from typing import Any

from mediajobs.cli import client
from mediajobs.selftest.kind import INTERNAL_DETAIL
from tests.integration.jobs_helpers import items_of, start_selftest


def _assert_private(error: dict[str, Any], code: str) -> None:
    assert error["code"] == code
    incident_id = error["incident_id"]
    assert len(incident_id) == 16 and error["message"].endswith(f"(incident {incident_id})")
    for leak in ("selftest-private-bucket", "svc-selftest", "Error", "asked to fail"):
        assert leak not in error["message"], error


def test_a_finalize_that_raises_shows_an_incident_and_not_the_exception(user: client.User) -> None:
    job_id = start_selftest(user, items=2, fail_finalize=True)

    final, _ = client.watch_job(job_id, timeout=90)

    assert final["status"] == "failed"
    _assert_private(final["error"], "internal")
    assert INTERNAL_DETAIL not in json.dumps(final, default=str)


def test_an_item_still_unreachable_after_its_retries_shows_an_incident_only(user: client.User) -> None:
    job_id = start_selftest(user, items=3, transient_items=[1])

    final, _ = client.watch_job(job_id, timeout=180)

    assert final["status"] == "completed"  # the other items are not held back by the one that failed
    assert final["progress"]["done"] == 2 and final["progress"]["failed"] == 1
    [error] = final["errors"]
    assert error["item"] == "item 1"
    _assert_private(error, "unavailable")
    item = items_of(job_id)["item-00001"]
    assert item["attempts"] == 5
    assert INTERNAL_DETAIL not in json.dumps(item, default=str)
    assert INTERNAL_DETAIL not in json.dumps(final, default=str)
