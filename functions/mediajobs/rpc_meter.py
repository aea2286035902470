"""Counts this process's Firestore RPCs and document writes into a file, for benchmarks.

Off unless MEDIAJOBS_RPC_LOG names a file: then every Firestore call appends one line
`<pid> <method> <writes> <reads>` (one small O_APPEND write, so several worker processes can
share the file): the documents a commit writes, and the documents a read returns (as billed: a
document found or missing in a batch get, each document of a query, at least one per query).
`bench` sums the lines to report billed operations per job item.
"""

from __future__ import annotations

import functools
import os
from typing import Any

METHODS = ("commit", "batch_get_documents", "run_query", "run_aggregation_query", "begin_transaction", "rollback")
ENV_VAR = "MEDIAJOBS_RPC_LOG"


@functools.cache
def install() -> bool:
    """Wraps the Firestore client's RPC methods once per process, if the env var asks for it."""
    path = os.environ.get(ENV_VAR)
    if not path:
        return False
    from google.cloud.firestore_v1.services.firestore import client as gapic

    for name in METHODS:
        setattr(gapic.FirestoreClient, name, _metered(path, name, getattr(gapic.FirestoreClient, name)))
    return True


def _metered(path: str, name: str, method: Any) -> Any:
    @functools.wraps(method)
    def call(self: Any, request: Any = None, *args: Any, **kwargs: Any) -> Any:
        if name == "commit":
            writes = request.get("writes") if isinstance(request, dict) else getattr(request, "writes", None)
            _log(path, name, len(writes or []), 0)
            return method(self, request, *args, **kwargs)
        responses = method(self, request, *args, **kwargs)
        if name in ("batch_get_documents", "run_query"):
            return _counting(path, name, responses)
        _log(path, name, 0, 0)
        return responses

    return call


def _counting(path: str, name: str, responses: Any) -> Any:
    """The streamed responses, logged once the caller has read them all (or stopped)."""
    reads = 0
    try:
        for response in responses:
            if name == "batch_get_documents" or response.document.name:
                reads += 1
            yield response
    finally:
        _log(path, name, 0, max(reads, 1) if name == "run_query" else reads)


def _log(path: str, name: str, writes: int, reads: int) -> None:
    line = f"{os.getpid()} {name} {writes} {reads}\n".encode()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)
