"""Streaming writes into Cloud Storage with bounded memory."""

from __future__ import annotations

import io
from typing import Any

UPLOAD_CHUNK = 8 * 1024 * 1024  # also the memory an upload holds: bigger means fewer round trips


class SpillingUpload(io.RawIOBase):
    """A write-only stream into one object: kept in memory while small (then one
    single-request upload), switched to a streaming resumable upload once it outgrows
    its chunk size, so memory stays bounded whatever the total size. The object appears only
    when `finish()` is called; dropping the stream after a failure leaves nothing behind."""

    def __init__(self, blob: Any, content_type: str, if_generation_match: int | None = None) -> None:
        super().__init__()
        self._blob = blob
        self._content_type = content_type
        self._if_generation_match = if_generation_match  # 0: only if no such object exists yet
        self._buffer = io.BytesIO()
        self._stream: Any = None

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        if self._stream is None:
            self._buffer.write(data)
            if self._buffer.tell() > UPLOAD_CHUNK:
                self._stream = self._blob.open(
                    "wb",
                    content_type=self._content_type,
                    chunk_size=UPLOAD_CHUNK,
                    ignore_flush=True,
                    if_generation_match=self._if_generation_match,
                )
                self._stream.write(self._buffer.getvalue())
                self._buffer = io.BytesIO()
        else:
            self._stream.write(data)
        return len(data)

    def finish(self) -> None:
        """Completes the upload; the blob's properties (size, crc32c) are then current."""
        if self._stream is None:
            self._blob.upload_from_string(
                self._buffer.getvalue(), content_type=self._content_type, if_generation_match=self._if_generation_match
            )
        else:
            self._stream.close()
            self._blob.reload()
