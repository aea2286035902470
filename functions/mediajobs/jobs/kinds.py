"""What a job kind provides to the engine, and the registry of kinds.

A kind validates its input and options, splits a job into items (`plan`), does one item
(`process_item`) and sums up (`finalize`). Kinds are imported only when a job of theirs runs,
so that heavy libraries never load at cold start.
"""

from __future__ import annotations

import abc
import dataclasses
import importlib
from collections.abc import Callable, Iterable, Iterator
from typing import Any, ClassVar, Protocol

from mediajobs.errors import CodedError
from mediajobs.jobs.docstore import Guard
from mediajobs.jobs.models import ErrorInfo, ItemStatus, Job
from mediajobs.validation import StrictModel


class ItemFailed(CodedError):
    """This item cannot be done; it fails alone with a code and a message for people."""


class ItemCancelled(Exception):
    """The item stopped because the job was cancelled (its remote work was cancelled too)."""


class TransientError(Exception):
    """Something outside us failed for now (Storage, a provider): the item is tried again."""


class JobFailed(CodedError):
    """The job as a whole cannot go on (raised from plan or finalize)."""


@dataclasses.dataclass(frozen=True)
class ItemSpec:
    id: str  # a Firestore document id, unique within the job
    label: str  # what clients see in `current` and errors
    payload: dict[str, Any] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class Item:
    id: str
    label: str
    payload: dict[str, Any]
    attempt: int
    checkpoint: dict[str, Any] = dataclasses.field(default_factory=dict)
    """What an earlier attempt saved with `ItemContext.save_checkpoint` (e.g. a prediction id)."""


@dataclasses.dataclass(frozen=True)
class ItemRecord:
    """A settled item as finalize sees it."""

    id: str
    label: str
    status: ItemStatus
    result: dict[str, Any] | None
    error: ErrorInfo | None


@dataclasses.dataclass(frozen=True)
class Summary:
    total: int
    done: int
    failed: int
    cancelled: int
    items: Callable[[], Iterator[ItemRecord]]


@dataclasses.dataclass(frozen=True)
class Outcome:
    result: dict[str, Any]
    error: ErrorInfo | None = None


class ItemContext(Protocol):
    job: Job

    def cancelled(self) -> bool:
        """True once cancellation was asked for (cheap: re-reads the job at most every few s)."""
        ...

    def heartbeat(self, fraction: float | None = None, current: str | None = None) -> None:
        """Tells the engine this item is alive, and how far along it is (0..1) and what it is
        doing (`current`, e.g. "12.0 MB of 40.0 MB"): both shown on the item's document."""
        ...

    def save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        """Keeps `checkpoint` on the item, for a later attempt to resume from (`Item.checkpoint`)."""
        ...


class Caller(Protocol):
    @property
    def uid(self) -> str: ...

    @property
    def is_admin(self) -> bool: ...


class JobKind(abc.ABC):
    job_type: ClassVar[str]
    Input: ClassVar[type[StrictModel]]
    Options: ClassVar[type[StrictModel]]
    admin_only: ClassVar[bool] = False
    queue: ClassVar[str] = "jobitems"  # the task queue running its items: a row of jobs/queues.py
    chunk_size: ClassVar[int] = 1  # items per task
    items_in_flight: ClassVar[int] = 1  # items of a chunk run at once (see jobs.items.run_items)
    paid: ClassVar[bool] = False
    """True for a kind whose items pay a generation provider: it must then say what a job costs
    (`paid_generations`), which is charged to the owner's daily budget when the job is created."""

    def denial(self, caller: Caller) -> str | None:
        """Why this caller may not start a job of this kind, or None."""
        if self.admin_only and not caller.is_admin:
            return f"Only administrators can start '{self.job_type}' jobs."
        return None

    def input_denial(self, caller: Caller, input: Any, options: Any) -> str | None:
        """Why this caller may not run this job on this input (e.g. someone else's files), or None."""
        return None

    def plans_quickly(self, input: Any) -> bool:
        """True when planning this input takes a few requests at most, so the start trigger
        plans it itself and the first item starts one task hop sooner. Anything that may list
        a collection or read archives is planned by the plan task (False, the default)."""
        return False

    def paid_generations(self, input: Any) -> int:
        """How many paid provider generations a job on this (validated) input will make at most:
        charged to the owner's daily budget in the batch that creates the job (jobs/budget.py),
        which is refused when they do not fit. Free kinds cost 0; a paid kind must say."""
        if self.paid:
            raise NotImplementedError(f"{type(self).__name__} is paid: it must override paid_generations")
        return 0

    def project_of(self, input: Any) -> str | None:
        """The project (`projects/{id}`) a job on this (validated) input reads or writes, or None:
        deleting that project cancels the job, whatever its kind."""
        return None

    def creation_guard(self, job_id: str, input: dict[str, Any]) -> Guard | None:
        """A guard for the commit that creates job `job_id` (its validated `input` as stored): it
        may refuse (raise an HttpsError) or return conditional writes (see jobs.slots.admit)."""
        return None

    def on_job_change(self, job_id: str, job: dict[str, Any]) -> None:  # noqa: B027 - optional hook
        """Called in the worker after the engine wrote the job's status or progress (mirrors)."""

    @abc.abstractmethod
    def plan(self, job: Job, input: Any, options: Any) -> Iterable[ItemSpec]: ...

    @abc.abstractmethod
    def process_item(self, ctx: ItemContext, item: Item, input: Any, options: Any) -> dict[str, Any]: ...

    def finalize(self, job: Job, summary: Summary) -> Outcome:
        result = {"succeeded": summary.done, "failed": summary.failed}
        if summary.total > 0 and summary.done == 0 and summary.failed > 0:
            return Outcome(result, ErrorInfo(code="all-items-failed", message="Every item failed; see errors."))
        return Outcome(result)


# type -> "module:ClassName"; imported on first use.
REGISTRY: dict[str, str] = {
    "selftest": "mediajobs.selftest.kind:SelftestJob",
    "media_export": "mediajobs.exports.kind:MediaExportJob",
    "my_data": "mediajobs.exports.my_data:MyDataJob",
    "photo_batch": "mediajobs.photos.kind:PhotoBatchJob",
    "scene_asset": "mediajobs.scenes.kind:SceneAssetJob",
    "mood_board": "mediajobs.scenes.kind:MoodBoardJob",
    "storyboard_assets": "mediajobs.scenes.storyboard:StoryboardAssetsJob",
    "video_process": "mediajobs.video.kind:VideoProcessJob",
}


def known_types() -> list[str]:
    return sorted(REGISTRY)


def get_kind(job_type: str) -> JobKind | None:
    target = REGISTRY.get(job_type)
    if target is None:
        return None
    module_name, class_name = target.split(":")
    kind_class = getattr(importlib.import_module(module_name), class_name)
    kind: JobKind = kind_class()
    return kind


def kind_of(job: Job) -> JobKind:
    """The job's kind; JobFailed for a type nobody registered."""
    kind = get_kind(job.type)
    if kind is None:
        raise JobFailed("invalid-argument", f"Unknown job type {job.type!r}.")
    return kind
