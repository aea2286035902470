"""The scene mirror on the engine's document store: a read and a conditional write, read again
when another writer moved the scene on in between."""

from __future__ import annotations

import datetime as dt
from typing import Any

from mediajobs.jobs import store
from mediajobs.jobs.docstore import MemoryStore, Snapshot, Write
from mediajobs.scenes.mirror import mirror_job_to_scene

SCENE = "projects/p1/scenes/s1"
T0 = dt.datetime(2026, 12, 4, 3, 0, tzinfo=dt.UTC)


def job(status: str, updated: dt.datetime, percent: int = 0) -> dict[str, Any]:
    return {
        "type": "scene_asset",
        "status": status,
        "updated_at": updated,
        "progress": {"percent": percent},
        "input": {"project_id": "p1", "scene_id": "s1", "kind": "image"},
    }


class WriterInBetween(MemoryStore):
    """Another writer (a take being recorded) writes the scene right after the mirror's first read."""

    def __init__(self) -> None:
        super().__init__()
        self.interrupted = False

    def get(self, path: str) -> Snapshot:
        snapshot = super().get(path)
        if path == SCENE and not self.interrupted:
            self.interrupted = True
            self.commit([Write(SCENE, {"takes_count": 1})])
        return snapshot


def scene_with(docs: MemoryStore, active: dict[str, Any]) -> None:
    docs.commit([Write(SCENE, {"title": "S", "active_job": active}, "create")])


def test_the_mirror_shows_the_job_and_survives_a_writer_in_between() -> None:
    docs = WriterInBetween()
    scene_with(docs, {"job_id": "j1", "status": "queued"})
    with store.using(docs):
        assert mirror_job_to_scene("j1", job("processing", T0, 40))
    assert docs.interrupted
    scene = docs.get(SCENE).to_dict()
    assert scene["takes_count"] == 1  # the other writer's field is kept
    assert scene["active_job"]["status"] == "processing" and scene["active_job"]["progress"] == 40
    assert scene["active_job"]["job_updated_at"] == T0
    assert docs.commits == 3  # the scene, the writer in between, the mirror's second attempt


def test_stale_duplicate_and_superseded_jobs_leave_the_scene_alone() -> None:
    docs = MemoryStore()
    scene_with(docs, {"job_id": "j1", "status": "processing", "job_updated_at": T0})
    with store.using(docs):
        assert not mirror_job_to_scene("j1", job("processing", T0 - dt.timedelta(seconds=1)))  # stale
        assert not mirror_job_to_scene("j1", job("processing", T0))  # duplicate
        assert not mirror_job_to_scene("j0", job("completed", T0 + dt.timedelta(seconds=5)))  # an older job
        assert not mirror_job_to_scene("j1", {**job("completed", T0), "type": "photo"})
        assert docs.get(SCENE).to_dict()["active_job"]["status"] == "processing"
        assert mirror_job_to_scene("j1", {**job("failed", T0 + dt.timedelta(seconds=1)), "error": {"message": "no"}})
    active = docs.get(SCENE).to_dict()["active_job"]
    assert active["status"] == "failed" and active["error_message"] == "no"
    assert docs.commits == 2
