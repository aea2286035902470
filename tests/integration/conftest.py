"""Integration tests: after each test, its documents must match contract/schemas.

Every job (with its items) and project (with its scenes and moods) created during the test
is read back and validated against its JSON Schema, timestamps in their RFC 3339 form; a
mismatch fails the test with the document's path and the field. Documents a test writes by
hand to simulate engine state have no fresh `created_at` and are not checked. A test that
writes malformed product documents on purpose can opt out with `@pytest.mark.contract_exempt`.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Iterator

import pytest

MARGIN = dt.timedelta(seconds=2)  # server timestamps vs this process's clock
LONGEST_BUDGET_TEST = dt.timedelta(minutes=5)  # test_spend's storyboard makes 12 assets


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "contract_exempt: do not validate this test's documents against contract/")


@pytest.fixture(autouse=True)
def documents_match_the_contract(request: pytest.FixtureRequest) -> Iterator[None]:
    if not os.environ.get("FIRESTORE_EMULATOR_HOST") or request.node.get_closest_marker("contract_exempt"):
        yield
        return
    since = dt.datetime.now(dt.UTC) - MARGIN
    yield
    from mediajobs import cloud
    from mediajobs.contract import validate

    problems = validate.documents_since(cloud.db(), since)
    if problems:
        shown = "\n  ".join(problems[:20])
        more = f"\n  ... and {len(problems) - 20} more" if len(problems) > 20 else ""
        pytest.fail(
            f"{len(problems)} document(s) do not match contract/schemas (fix the code, or the models in "
            f"functions/mediajobs/contract/ and run `make contract`):\n  {shown}{more}",
            pytrace=False,
        )


@pytest.fixture
def one_budget_day() -> None:
    """For tests of the daily generation budget, which is per UTC day: a test running across
    midnight meets a fresh budget halfway (CI of c5df564 did: its 'one more asset' was charged
    to the new day). Such a test starts after midnight instead."""
    current = dt.datetime.now(dt.UTC)
    midnight = dt.datetime.combine(current.date() + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
    if midnight - current < LONGEST_BUDGET_TEST:
        time.sleep((midnight - current).total_seconds() + 1)
