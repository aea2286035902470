"""Short-lived URLs of Storage objects, for whoever already checked that the caller may read them
(`download_url`, the `stream` function).

In production the URL is a V4 signed URL (signed through IAM signBlob with the function's
service account, so no key file is needed); against the local stack it is the Storage
emulator's media URL (fake-gcs-server checks no signature and allows any origin).
"""

from __future__ import annotations

import datetime as dt
import os
import posixpath
import urllib.parse
from typing import Any

URL_LIFETIME = dt.timedelta(minutes=30)


def url_for(blob: Any, lifetime: dt.timedelta = URL_LIFETIME, disposition: str | None = "attachment") -> str:
    """A URL of the object. Deployed: V4 signed, with `response-content-disposition` (and for
    inline, `response-content-type` pinned to the stored type). The Storage emulator ignores
    response-* parameters but serves an object's stored Content-Disposition: locally the object's
    metadata is set to the same disposition instead (the emulator's equivalent)."""
    emulator = os.environ.get("STORAGE_EMULATOR_HOST")
    if emulator:
        if disposition is not None:
            wanted = _disposition_header(blob, disposition)
            if blob.content_disposition != wanted:
                blob.content_disposition = wanted
                blob.patch()
        host = emulator if "://" in emulator else f"http://{emulator}"
        name = urllib.parse.quote(blob.name, safe="")
        return f"{host}/download/storage/v1/b/{blob.bucket.name}/o/{name}?alt=media"
    return _signed_url(blob, lifetime, disposition)


def _disposition_header(blob: Any, disposition: str) -> str:
    filename = posixpath.basename(blob.name).replace('"', "").replace("\\", "")
    filename = "".join(c if 32 <= ord(c) < 127 else "_" for c in filename)
    quoted = urllib.parse.quote(posixpath.basename(blob.name), safe="")
    return f"{disposition}; filename=\"{filename}\"; filename*=UTF-8''{quoted}"


_credentials: Any = None


def _signed_url(blob: Any, lifetime: dt.timedelta, disposition: str | None) -> str:
    """V4 signed GET through IAM signBlob: the runtime's credentials carry no private key."""
    import google.auth
    import google.auth.transport.requests

    global _credentials
    if _credentials is None:
        _credentials, _ = google.auth.default(scopes=["https://www.googleapis.com/auth/cloud-platform"])
    credentials = _credentials
    if not credentials.valid:  # refreshed once per token lifetime, not per URL
        credentials.refresh(google.auth.transport.requests.Request())
    inline_type = blob.content_type if disposition == "inline" else None
    return str(
        blob.generate_signed_url(
            version="v4",
            expiration=lifetime,
            method="GET",
            # Set on the runtime's (metadata server) credentials once refreshed.
            service_account_email=getattr(credentials, "service_account_email", None),
            access_token=credentials.token,
            response_disposition=_disposition_header(blob, disposition) if disposition else None,
            response_type=inline_type,
        )
    )
