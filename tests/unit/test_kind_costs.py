"""What each kind declares to the engine about money and projects: the paid generations a job
costs (charged to the daily budget when it is created), and the project it touches (deleting
the project cancels it). The engine asks the kind; it never looks at job types."""

from __future__ import annotations

import dataclasses
import datetime as dt
import importlib
from typing import Any
from unittest import mock

import pytest
from firebase_functions import https_fn

from mediajobs import cloud
from mediajobs.jobs import budget, kinds
from mediajobs.jobs.docstore import MemoryStore
from mediajobs.jobs.kinds import ItemCancelled, ItemFailed, JobKind
from mediajobs.jobs.models import Job
from mediajobs.scenes import api as scenes_api
from mediajobs.scenes import project_guard, storyboard
from mediajobs.scenes.kind import MoodBoardInput, MoodBoardJob, NoOptions, SceneAssetInput, SceneAssetJob
from mediajobs.scenes.storyboard import StoryboardAssetsJob, StoryboardInput

PROVIDER_QUEUES = ("sceneitems",)  # the queue of the kinds whose items wait on a generation provider
T0 = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)


@dataclasses.dataclass
class Snapshot:
    id: str
    data: dict[str, Any] | None
    create_time: dt.datetime = T0

    @property
    def exists(self) -> bool:
        return self.data is not None

    def to_dict(self) -> dict[str, Any] | None:
        return self.data


def every_kind() -> list[JobKind]:
    found = [kinds.get_kind(t) for t in kinds.known_types()]
    return [k for k in found if k is not None]


def overrides(kind: JobKind, name: str) -> bool:
    return getattr(type(kind), name) is not getattr(JobKind, name)


@pytest.mark.parametrize("kind", every_kind(), ids=lambda k: k.job_type)
def test_a_kind_that_pays_a_provider_declares_it_and_says_what_a_job_costs(kind: JobKind) -> None:
    module = importlib.import_module(type(kind).__module__)
    reaches_provider = hasattr(module, "get_provider") or any(
        isinstance(v, type) and issubclass(v, JobKind) and v.paid for v in vars(module).values()
    )
    if kind.queue in PROVIDER_QUEUES or reaches_provider:
        assert kind.paid, f"{kind.job_type} runs paid generations: declare `paid = True` and `paid_generations`"
    assert overrides(kind, "paid_generations") == kind.paid, (
        f"{kind.job_type}: paid={kind.paid}, but paid_generations is "
        f"{'' if overrides(kind, 'paid_generations') else 'not '}overridden (the budget asks paid kinds only)"
    )


def test_a_paid_kind_that_forgets_its_cost_fails_loudly() -> None:
    class Forgetful(SceneAssetJob):
        paid_generations = JobKind.paid_generations

    with pytest.raises(NotImplementedError, match="paid_generations"):
        Forgetful().paid_generations(SceneAssetInput(project_id="p", scene_id="s", kind="image"))


def test_what_a_scene_asset_and_a_mood_board_cost() -> None:
    assert SceneAssetJob().paid_generations(SceneAssetInput(project_id="p", scene_id="s", kind="video")) == 1
    assert MoodBoardJob().paid_generations(MoodBoardInput(project_id="p")) == 4
    assert MoodBoardJob().paid_generations(MoodBoardInput(project_id="p", count=7)) == 7
    assert budget.paid_generations("mood_board", {"project_id": "p", "count": 3}) == 3


def test_free_kinds_cost_nothing() -> None:
    assert budget.paid_generations("selftest", {"items": 3}) == 0
    assert budget.paid_generations("no-such-kind", {}) == 0
    assert budget.budget_guard("u1", "selftest", {"items": 3}) is None


SCENES = [
    Snapshot("s1", {"assets": {}}),
    Snapshot("s2", {"assets": {"image_path": "a.png", "video_path": "a.mp4", "thumbnail_path": "t.png"}}),
    Snapshot("s3", {"assets": {f"{kind}_path": f"b.{kind}" for kind in ("composition", "image", "video", "audio")}}),
    Snapshot("s4", {}),
]


@pytest.mark.parametrize(
    ("kinds_asked", "cost"),
    [(None, 4 + 2 + 0 + 4), (["image"], 1 + 0 + 0 + 1), (["audio", "composition"], 2 + 2 + 0 + 2)],
)
def test_a_storyboard_costs_its_scenes_times_the_kinds_they_still_lack(
    kinds_asked: list[str] | None, cost: int
) -> None:
    input: dict[str, Any] = {"project_id": "p1"} if kinds_asked is None else {"project_id": "p1", "kinds": kinds_asked}
    with mock.patch.object(storyboard, "_scenes", return_value=SCENES) as read:
        assert StoryboardAssetsJob().paid_generations(StoryboardInput.model_validate(input)) == cost
        assert budget.paid_generations("storyboard_assets", input) == cost
    assert read.call_args.args == ("p1",)


def test_with_a_budget_of_4_a_storyboard_of_3_scenes_is_refused_and_charges_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DAILY_GENERATIONS_PER_USER", "4")
    three_scenes = [Snapshot(f"s{n}", {"assets": {}}) for n in range(3)]
    docs = MemoryStore()  # today's budget document does not exist yet
    with mock.patch.object(storyboard, "_scenes", return_value=three_scenes):
        charge = budget.budget_guard("u1", "storyboard_assets", {"project_id": "p1"})
        assert charge is not None
        with pytest.raises(https_fn.HttpsError) as raised:
            charge(docs)
    assert raised.value.code == https_fn.FunctionsErrorCode.RESOURCE_EXHAUSTED
    assert "needs 12 paid generation(s) and 4 of today's 4" in raised.value.message
    assert docs.paths() == []  # nothing written


def test_a_storyboard_plans_only_the_scenes_it_was_charged_for() -> None:
    before = [Snapshot("b", {"scene_number": 2}, T0), Snapshot("a", {"scene_number": 1}, T0)]
    later = Snapshot("late", {"scene_number": 3}, T0 + dt.timedelta(seconds=1))
    job = Job(id="j1", type="storyboard_assets", created_at=T0)
    input = StoryboardInput(project_id="p1")
    with mock.patch.object(storyboard, "_scenes", return_value=[*before, later]):
        planned = [spec.id for spec in StoryboardAssetsJob().plan(job, input, NoOptions())]
        untimed = [spec.id for spec in StoryboardAssetsJob().plan(Job(id="j2"), input, NoOptions())]
    assert planned == ["a", "b"]
    assert untimed == ["a", "b", "late"]  # a job written without created_at (a trusted writer)


@pytest.mark.parametrize("kind", every_kind(), ids=lambda k: k.job_type)
def test_the_project_a_job_touches_is_declared_by_its_kind(kind: JobKind) -> None:
    fields = kind.Input.model_fields
    input = kind.Input.model_construct(project_id="p1") if "project_id" in fields else kind.Input.model_construct()
    assert kind.project_of(input) == ("p1" if "project_id" in fields else None)


@pytest.mark.parametrize(
    ("job", "touches"),
    [
        ({"type": "storyboard_assets", "input": {"project_id": "p1"}}, True),
        ({"type": "storyboard_assets", "input": {"project_id": "p1", "kinds": ["video"]}}, True),
        ({"type": "scene_asset", "input": {"project_id": "p1", "scene_id": "s", "kind": "image"}}, True),
        ({"type": "mood_board", "input": {"project_id": "p1", "count": 2}}, True),
        ({"type": "mood_board", "input": {"project_id": "p2", "count": 2}}, False),
        ({"type": "storyboard_assets", "input": {"project_id": "p1", "kinds": ["nope"]}}, False),
        ({"type": "selftest", "input": {"items": 2}}, False),
        ({"type": "no-such-kind", "input": {"project_id": "p1"}}, False),
        ({"input": {"project_id": "p1"}}, False),
    ],
)
def test_delete_project_picks_the_jobs_whose_kind_says_they_touch_it(job: dict[str, Any], touches: bool) -> None:
    assert scenes_api._touches(job, "p1") is touches


@pytest.mark.parametrize(
    ("cancel_requested", "raised"), [(True, ItemCancelled), (False, ItemFailed), (None, ItemFailed)]
)
def test_an_item_failing_while_its_job_is_cancelled_is_cancelled(
    cancel_requested: bool | None, raised: type[Exception]
) -> None:
    job = Snapshot("j1", None if cancel_requested is None else {"cancel_requested": cancel_requested})
    db = mock.Mock()
    db.collection.return_value.document.return_value.get.return_value = job
    with (
        mock.patch.object(cloud, "db", return_value=db),
        pytest.raises(raised),
        project_guard.cancellation_wins("j1"),
    ):
        raise ItemFailed("not-found", "Scene s1 no longer exists.")
    db.collection.assert_called_with("jobs")
