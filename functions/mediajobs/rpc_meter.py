"""Counts this process's Firestore RPCs and document writes into a file, for benchmarks.

Off unless MEDIAJOBS_RPC_LOG names a file: then every Firestore call appends one line
`<pid> <method> <writes>` (one small O_APPEND write, so several worker processes can share
the file). `bench` sums the lines to report writes per job item.
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
        writes = request.get("writes") if isinstance(request, dict) else getattr(request, "writes", None)
        line = f"{os.getpid()} {name} {len(writes or []) if name == 'commit' else 0}\n".encode()
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line)
        finally:
            os.close(fd)
        return method(self, request, *args, **kwargs)

    return call
