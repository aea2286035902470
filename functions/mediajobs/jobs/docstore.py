"""The engine's records behind one narrow interface: read a document, commit conditional
writes atomically, run a transaction. `FirestoreStore` is the real one; `MemoryStore` keeps the
same semantics (update times, preconditions, optimistic transactions retried on contention) in
memory, so the engine's races are tested in unit tests, without the emulator.

Paths are Firestore document paths ("jobs/j1/items/i1"). Field values may be the sentinels
SERVER_TIME, DELETE and Increment(n); update and merge take dotted field paths ("progress.total").
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
from collections.abc import Callable, Sequence
from typing import Any, Literal, Protocol, TypeVar

T = TypeVar("T")
Mode = Literal["create", "set", "merge", "update"]


class _Sentinel:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


SERVER_TIME: Any = _Sentinel("SERVER_TIME")
DELETE: Any = _Sentinel("DELETE")


@dataclasses.dataclass(frozen=True)
class Increment:
    by: int = 1


class TooLarge(Exception):
    """Firestore refused a write for its size (a document holds at most 1 MiB)."""


MAX_DOCUMENT_BYTES = 1024 * 1024


class Conflict(Exception):
    """A write's precondition failed: the document changed since it was read (or exists on a
    create, or is missing on an update)."""


@dataclasses.dataclass(frozen=True)
class Snapshot:
    path: str
    data: dict[str, Any] | None
    update_time: dt.datetime | None = None

    @property
    def exists(self) -> bool:
        return self.data is not None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.data or {})


@dataclasses.dataclass(frozen=True)
class Write:
    path: str
    fields: dict[str, Any]
    mode: Mode = "update"
    if_unchanged_since: dt.datetime | None = None
    """Lands only if the document's update time is still this (it was not written since)."""


def unless_changed(snapshot: Snapshot, fields: dict[str, Any]) -> Write:
    """Writes `fields` to a document as it was read: an update that lands only if nobody wrote
    it since, or a create that lands only if nobody created it since."""
    if snapshot.exists:
        return Write(snapshot.path, fields, "update", if_unchanged_since=snapshot.update_time)
    return Write(snapshot.path, fields, "create")


Guard = Callable[["DocStore"], Sequence[Write]]
"""Reads what it needs through the store and returns writes to commit with another write (a
kind's guard on a job's creation, the budget's charge); refuses by raising."""


@dataclasses.dataclass(frozen=True)
class Committed:
    """What a committed write reports: the document's new update time, and the value each of
    its Increment fields has after it (so a counter's total needs no read)."""

    update_time: dt.datetime | None
    increments: dict[str, Any] = dataclasses.field(default_factory=dict)


class Transaction(Protocol):
    def get(self, path: str) -> Snapshot: ...

    def write(self, write: Write) -> None: ...


class DocStore(Protocol):
    def get(self, path: str) -> Snapshot: ...

    def get_many(self, paths: Sequence[str]) -> list[Snapshot]:
        """The documents at `paths` (one round trip), in no particular order."""
        ...

    def commit(self, writes: Sequence[Write]) -> list[Committed]:
        """Applies every write or none (Conflict); what each write reports."""
        ...

    def run(self, body: Callable[[Transaction], T]) -> T:
        """Runs `body` in a transaction (retried on contention) and commits what it wrote."""
        ...


# ---- Firestore ------------------------------------------------------------------------------


class FirestoreStore:
    def __init__(self, db: Any) -> None:
        self.db = db

    def get(self, path: str) -> Snapshot:
        snapshot = self.db.document(path).get()
        return _from_firestore(path, snapshot)

    def get_many(self, paths: Sequence[str]) -> list[Snapshot]:
        refs = [self.db.document(path) for path in paths]
        return [_from_firestore(snapshot.reference.path, snapshot) for snapshot in self.db.get_all(refs)]

    def commit(self, writes: Sequence[Write]) -> list[Committed]:
        from google.api_core import exceptions as gexc

        batch = self.db.batch()
        for write in writes:
            _apply_firestore(self.db, batch, write)
        try:
            results = batch.commit()
        except (gexc.FailedPrecondition, gexc.NotFound, gexc.AlreadyExists, gexc.Conflict) as error:
            raise Conflict(str(error)[:300]) from error
        except gexc.InvalidArgument as error:
            raise _too_large(error) from error
        return [_committed(self.db, write, result) for write, result in zip(writes, results, strict=True)]

    def run(self, body: Callable[[Transaction], T]) -> T:
        from google.cloud import firestore as gfs

        db = self.db

        class _Txn:
            def __init__(self, transaction: Any) -> None:
                self.transaction = transaction

            def get(self, path: str) -> Snapshot:
                return _from_firestore(path, db.document(path).get(transaction=self.transaction))

            def write(self, write: Write) -> None:
                _apply_firestore(db, self.transaction, write)

        @gfs.transactional
        def attempt(transaction: Any) -> T:
            return body(_Txn(transaction))

        from google.api_core import exceptions as gexc

        try:
            result: T = attempt(db.transaction())
        except gexc.InvalidArgument as error:
            raise _too_large(error) from error
        return result


def _too_large(error: Exception) -> Exception:
    """TooLarge for a refusal of size; any other invalid argument stays what it is."""
    text = str(error)
    return TooLarge(text[:300]) if "size" in text or "too large" in text.lower() or "too big" in text.lower() else error


def _committed(db: Any, write: Write, result: Any) -> Committed:
    """Firestore reports a write's transforms in the order of their field paths (sorted)."""
    from google.cloud.firestore_v1 import _helpers

    transforms = sorted(
        (tuple(key.split(".")), value)
        for key, value in _flat(write.fields).items()
        if value is SERVER_TIME or isinstance(value, Increment)
    )
    values = list(getattr(result, "transform_results", None) or [])
    increments = {}
    if len(values) == len(transforms):
        for (path, value), reported in zip(transforms, values, strict=True):
            if isinstance(value, Increment):
                increments[".".join(path)] = _helpers.decode_value(reported, db)
    return Committed(getattr(result, "update_time", None), increments)


def _flat(fields: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested maps as dotted field paths (transforms sit at the leaves)."""
    flat: dict[str, Any] = {}
    for key, value in fields.items():
        if isinstance(value, dict):
            flat.update(_flat(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _from_firestore(path: str, snapshot: Any) -> Snapshot:
    return Snapshot(path, snapshot.to_dict() if snapshot.exists else None, snapshot.update_time)


def _firestore_value(value: Any) -> Any:
    from google.cloud import firestore as gfs

    if value is SERVER_TIME:
        return gfs.SERVER_TIMESTAMP
    if value is DELETE:
        return gfs.DELETE_FIELD
    if isinstance(value, Increment):
        return gfs.Increment(value.by)
    if isinstance(value, dict):
        return {key: _firestore_value(item) for key, item in value.items()}
    return value


def _apply_firestore(db: Any, writer: Any, write: Write) -> None:
    ref = db.document(write.path)
    fields = {key: _firestore_value(value) for key, value in write.fields.items()}
    option = db.write_option(last_update_time=write.if_unchanged_since) if write.if_unchanged_since else None
    if write.mode == "create":
        writer.create(ref, fields)
    elif write.mode == "update":
        writer.update(ref, fields, **({"option": option} if option else {}))
    else:
        if option is not None:
            raise ValueError("Firestore takes a last-update-time precondition on updates only")
        writer.set(ref, _nested(fields) if write.mode == "merge" else fields, merge=write.mode == "merge")


def _nested(fields: dict[str, Any]) -> dict[str, Any]:
    """Dotted keys as nested maps: a merge takes field paths only as nested maps."""
    nested: dict[str, Any] = {}
    for key, value in fields.items():
        *parents, leaf = key.split(".")
        node = nested
        for parent in parents:
            node = node.setdefault(parent, {})
        node[leaf] = value
    return nested


# ---- In memory ------------------------------------------------------------------------------


class MemoryStore:
    """Firestore's document semantics in one process: every commit gets a new, strictly later
    update time; preconditions compare it; a transaction that read a document someone wrote
    before it committed is retried (as Firestore's optimistic client transactions are)."""

    MAX_ATTEMPTS = 5

    def __init__(self, clock: Callable[[], dt.datetime] | None = None) -> None:
        self._docs: dict[str, tuple[dict[str, Any], dt.datetime]] = {}
        self._lock = threading.RLock()
        self._clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self._last = dt.datetime.min.replace(tzinfo=dt.UTC)
        self.commits = 0
        self.reads = 0

    def get(self, path: str) -> Snapshot:
        with self._lock:
            self.reads += 1
            found = self._docs.get(path)
            if found is None:
                return Snapshot(path, None, None)
            data, updated = found
            return Snapshot(path, _copy(data), updated)

    def get_many(self, paths: Sequence[str]) -> list[Snapshot]:
        return [self.get(path) for path in paths]

    def paths(self, prefix: str = "") -> list[str]:
        with self._lock:
            return sorted(path for path in self._docs if path.startswith(prefix))

    def commit(self, writes: Sequence[Write]) -> list[Committed]:
        with self._lock:
            return self._commit(writes)

    def run(self, body: Callable[[Transaction], T]) -> T:
        for _ in range(self.MAX_ATTEMPTS):
            txn = _MemoryTxn(self)
            result = body(txn)
            with self._lock:
                if all(self._version(path) == seen for path, seen in txn.reads.items()):
                    self._commit(txn.writes)
                    return result
        raise Conflict("transaction contended too often")

    def _version(self, path: str) -> dt.datetime | None:
        found = self._docs.get(path)
        return found[1] if found else None

    def _tick(self) -> dt.datetime:
        at = max(self._clock(), self._last + dt.timedelta(microseconds=1))
        self._last = at
        return at

    def _commit(self, writes: Sequence[Write]) -> list[Committed]:
        for write in writes:
            current = self._docs.get(write.path)
            if write.mode == "create" and current is not None:
                raise Conflict(f"{write.path} exists")
            if write.mode == "update" and current is None:
                raise Conflict(f"{write.path} does not exist")
            if write.if_unchanged_since is not None and (current is None or current[1] != write.if_unchanged_since):
                raise Conflict(f"{write.path} changed since it was read")
        self.commits += 1
        at = self._tick()
        results: list[Committed] = []
        staged: dict[str, dict[str, Any]] = {}  # several writes to one document build on each other
        for write in writes:
            current = (staged[write.path], at) if write.path in staged else self._docs.get(write.path)
            base = {} if write.mode in ("create", "set") or current is None else _copy(current[0])
            fields = _nested(write.fields) if write.mode == "merge" else write.fields
            for key, value in fields.items():
                if write.mode == "merge":
                    _merge(base, key, value, at)
                else:
                    _put(base, key.split(".") if write.mode == "update" else [key], value, at)
            if len(repr(base).encode()) > MAX_DOCUMENT_BYTES:
                raise TooLarge(f"{write.path} would be over 1 MiB")
            staged[write.path] = base
            increments = {
                key: _at(base, key.split("."))
                for key, value in _flat(write.fields).items()
                if isinstance(value, Increment)
            }
            results.append(Committed(at, increments))
        for path, base in staged.items():
            self._docs[path] = (base, at)
        return results


class _MemoryTxn:
    def __init__(self, store: MemoryStore) -> None:
        self.store = store
        self.reads: dict[str, dt.datetime | None] = {}
        self.writes: list[Write] = []

    def get(self, path: str) -> Snapshot:
        snapshot = self.store.get(path)
        self.reads.setdefault(path, snapshot.update_time)
        return snapshot

    def write(self, write: Write) -> None:
        self.writes.append(write)


def _copy(data: dict[str, Any]) -> dict[str, Any]:
    return {key: _copy(value) if isinstance(value, dict) else list(value) if isinstance(value, list) else value
            for key, value in data.items()}  # fmt: skip


def _at(data: dict[str, Any], keys: list[str]) -> Any:
    node: Any = data
    for key in keys:
        node = node.get(key) if isinstance(node, dict) else None
    return node


def _merge(data: dict[str, Any], key: str, value: Any, at: dt.datetime) -> None:
    """A merge: maps merge into maps, field by field; anything else is put."""
    if isinstance(value, dict) and isinstance(data.get(key), dict):
        for child_key, child in value.items():
            _merge(data[key], child_key, child, at)
    else:
        _put(data, [key], value, at)


def _put(data: dict[str, Any], keys: list[str], value: Any, at: dt.datetime) -> None:
    *parents, leaf = keys
    node = data
    for key in parents:
        child = node.get(key)
        if not isinstance(child, dict):
            child = node[key] = {}
        node = child
    if value is DELETE:
        node.pop(leaf, None)
    elif value is SERVER_TIME:
        node[leaf] = at
    elif isinstance(value, Increment):
        previous = node.get(leaf)
        node[leaf] = (previous if isinstance(previous, int) else 0) + value.by
    elif isinstance(value, dict):
        node[leaf] = {}
        for key, item in value.items():
            _put(node[leaf], [key], item, at)
    else:
        node[leaf] = value
