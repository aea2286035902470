"""The engine's pure decisions, without a stack: final status, progress throttle, lease expiry,
plan hand-over, and the byte budgets that keep every job document far under 1 MiB."""

from __future__ import annotations

import datetime as dt

from mediajobs.jobs.finish import final_status
from mediajobs.jobs.leases import lease_held
from mediajobs.jobs.models import (
    MAX_ERRORS_BYTES,
    MAX_ERRORS_ON_JOB,
    MAX_LABEL_BYTES,
    MAX_MESSAGE_BYTES,
    ErrorInfo,
    ItemErrorInfo,
    JobStatus,
    bounded_errors,
    clip,
    json_bytes,
)
from mediajobs.jobs.plan import hand_over_due
from mediajobs.jobs.progress import PROGRESS_INTERVAL, heartbeat_due
from mediajobs.jobs.store import paged

AT = dt.datetime(2026, 12, 2, 12, 0, tzinfo=dt.UTC)
BROKEN = ErrorInfo(code="all-items-failed", message="Every item failed; see errors.")
STALLED = ErrorInfo(code="deadline-exceeded", message="No progress.")


def test_final_status_prefers_stalled_then_cancelled_then_the_kinds_verdict() -> None:
    def status(**changes: object) -> tuple[JobStatus, ErrorInfo | None]:
        facts: dict[str, object] = {
            "stalled": None,
            "cancelled": 0,
            "cancel_requested": False,
            "total": 3,
            "kind_error": None,
        }
        facts.update(changes)
        return final_status(**facts)  # type: ignore[arg-type]

    assert status() == (JobStatus.COMPLETED, None)
    assert status(kind_error=BROKEN) == (JobStatus.FAILED, BROKEN)
    assert status(cancelled=1, kind_error=BROKEN) == (JobStatus.CANCELLED, None)
    assert status(cancel_requested=True) == (JobStatus.COMPLETED, None)  # every item had run
    assert status(cancel_requested=True, total=0) == (JobStatus.CANCELLED, None)
    assert status(stalled=STALLED, cancelled=2) == (JobStatus.FAILED, STALLED)


def test_progress_is_written_at_most_once_an_interval_except_when_forced_or_first() -> None:
    just_now = AT - PROGRESS_INTERVAL / 2
    assert not heartbeat_due(just_now, AT)
    assert heartbeat_due(AT - PROGRESS_INTERVAL, AT)
    assert heartbeat_due(None, AT)
    assert heartbeat_due(just_now, AT, force=True)
    assert heartbeat_due(just_now, AT, first_current=True)
    assert heartbeat_due(just_now, AT, first_result=True)


def test_a_lease_holds_until_its_time_and_a_missing_lease_holds_nothing() -> None:
    assert lease_held(AT + dt.timedelta(seconds=1), AT)
    assert not lease_held(AT, AT)
    assert not lease_held(AT - dt.timedelta(seconds=1), AT)
    assert not lease_held(None, AT)


def test_a_plan_hands_over_once_its_budget_is_spent() -> None:
    budget = dt.timedelta(minutes=25)
    assert not hand_over_due(budget.total_seconds(), budget)
    assert hand_over_due(budget.total_seconds() + 0.1, budget)


def test_clip_cuts_on_a_character_boundary_and_marks_the_cut() -> None:
    assert clip("short", 10) == "short"
    cut = clip("é" * 100, 21)  # two bytes a character
    assert len(cut.encode()) <= 21 and cut.endswith("\u2026") and cut.startswith("é" * 9)
    assert clip("x" * 5, 0) == "\u2026"


def test_error_strings_are_cut_to_their_budget_where_they_are_built() -> None:
    error = ItemErrorInfo(item="n" * 60_000, code="c" * 500, message="m" * 200_000)
    assert len(error.item.encode()) <= MAX_LABEL_BYTES
    assert len(error.message.encode()) <= MAX_MESSAGE_BYTES
    assert len(ErrorInfo(code="x", message="\U0001f600" * 10_000).message.encode()) <= MAX_MESSAGE_BYTES


def test_the_jobs_errors_are_bounded_in_count_and_in_bytes() -> None:
    small = [ItemErrorInfo(item=f"i{n}", code="bad", message="no") for n in range(200)]
    assert len(bounded_errors(small)) == MAX_ERRORS_ON_JOB
    hostile = [ItemErrorInfo(item="n" * 60_000, code="bad", message="m" * 60_000) for _ in range(40)]
    assert json_bytes([e.model_dump() for e in bounded_errors(hostile)]) <= MAX_ERRORS_BYTES
    kept = bounded_errors(hostile, max_bytes=10_000)
    assert 0 < len(kept) < 40
    assert json_bytes([e.model_dump() for e in kept]) <= 10_000


class _CountingQuery:
    """A query over `names` that counts its requests, as Firestore bills them."""

    def __init__(self, names: list[str], requests: list[int], after: str | None = None, size: int = 0) -> None:
        self.names, self.requests, self.after, self.size = names, requests, after, size

    def order_by(self, field: str) -> _CountingQuery:
        return self

    def start_after(self, last: str) -> _CountingQuery:
        return _CountingQuery(self.names, self.requests, last, self.size)

    def limit(self, size: int) -> _CountingQuery:
        return _CountingQuery(self.names, self.requests, self.after, size)

    def get(self) -> list[str]:
        self.requests.append(1)
        rest = [n for n in self.names if self.after is None or n > self.after]
        return rest[: self.size]


def test_paging_reads_every_document_and_stops_at_a_short_page() -> None:
    requests: list[int] = []
    names = [f"item-{n:03d}" for n in range(7)]

    assert list(paged(_CountingQuery(names, requests), page_size=3)) == names
    assert len(requests) == 3  # 3 + 3 + 1: the short page says nothing follows

    requests.clear()
    assert list(paged(_CountingQuery(names[:1], requests), page_size=500)) == names[:1]
    assert len(requests) == 1  # a one-item job's items: one query, not two

    requests.clear()
    assert list(paged(_CountingQuery(names[:6], requests), page_size=3)) == names[:6]
    assert len(requests) == 3  # a full last page needs one more query to see the end
