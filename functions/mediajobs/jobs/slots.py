"""A user's job slots (job_slots/{uid}, functions only): how many jobs they may have active.

Optimistic and exact: the slots document and the job's own writes (its creation, its budget
charge, its kind's guard) are committed together, conditional on the slots document being
unchanged since it was read, so racing starts of one user are serialised without holding locks
(which, on the emulator as on Firestore, make bursts of transactions on one document abort);
the losers read again. The decisions are admission.admit_slot and admission.release_slot.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Callable

from firebase_functions import https_fn

from mediajobs import config
from mediajobs.jobs import admission, store
from mediajobs.jobs.docstore import Conflict, DocStore, Guard, unless_changed
from mediajobs.jobs.models import JobSlots

COLLECTION = "job_slots"
ATTEMPTS = 20  # a burst of one user's starts contends on their slots document
RESERVATION = dt.timedelta(minutes=10)  # a reserved slot (an upload storing its files) holds this long at most
Code = https_fn.FunctionsErrorCode


def slots_path(uid: str) -> str:
    return f"{COLLECTION}/{uid}"


def _pause() -> None:
    time.sleep(random.uniform(0.02, 0.2))  # another start of this user won the race: look again


def admit(
    docs: DocStore,
    uid: str,
    job_id: str,
    *,
    reserve: bool = False,
    also: Guard | None = None,
    pause: Callable[[], None] = _pause,
) -> None:
    """Takes one of `uid`'s slots for `job_id` and commits `also`'s writes with it (both or
    neither); resource-exhausted at the cap (MAX_ACTIVE_JOBS_PER_USER). `reserve`: the job does
    not exist yet, its id holds the slot for RESERVATION (a job created with it keeps it)."""
    path = slots_path(uid)
    limit = config.MAX_ACTIVE_JOBS_PER_USER.value
    for _ in range(ATTEMPTS):
        snapshot = docs.get(path)
        slots = JobSlots.model_validate(snapshot.data or {})
        at = store.now()
        try:
            fields = admission.admit_slot(
                slots,
                _statuses(docs, slots.active),
                job_id,
                limit=limit,
                at=at,
                reserve_until=at + RESERVATION if reserve else None,
            )
        except admission.SlotsFull as full:
            raise https_fn.HttpsError(Code.RESOURCE_EXHAUSTED, str(full)) from None
        writes = [*(also(docs) if also is not None else ()), unless_changed(snapshot, fields)]
        try:
            docs.commit(writes)
            return
        except Conflict:
            pause()
    raise https_fn.HttpsError(Code.ABORTED, "Too many jobs are being started at once; try again in a moment.")


def release(docs: DocStore, uid: str, job_id: str, *, pause: Callable[[], None] = _pause) -> None:
    """Gives a reserved slot back (the upload that reserved it was refused)."""
    path = slots_path(uid)
    for _ in range(ATTEMPTS):
        snapshot = docs.get(path)
        fields = admission.release_slot(JobSlots.model_validate(snapshot.data or {}), job_id)
        if fields is None:
            return
        try:
            docs.commit([unless_changed(snapshot, fields)])
            return
        except Conflict:
            pause()
    raise https_fn.HttpsError(Code.ABORTED, "The job slot could not be released for contention; try again.")


def _statuses(docs: DocStore, job_ids: list[str]) -> dict[str, str | None]:
    """The status of each job as read (None: no job document; "": a status of another shape).
    Plain reads: locking jobs the engine is writing would make starts and running jobs abort
    each other; still exact, since an ended job never becomes active again and one that ends
    after this read only makes the check stricter."""
    if not job_ids:
        return {}
    statuses: dict[str, str | None] = dict.fromkeys(job_ids)
    for snapshot in docs.get_many([store.job_path(job_id) for job_id in job_ids]):
        if snapshot.data is not None:
            status = snapshot.data.get("status")
            statuses[snapshot.path.rsplit("/", 1)[-1]] = status if isinstance(status, str) else ""
    return statuses
