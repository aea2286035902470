"""The bucket the upload trigger watches: the project's default bucket.

firebase-tools hands discovery (deploy and emulator alike) FIREBASE_CONFIG with `storageBucket`,
which is what the SDK would use by itself; only an import of main.py outside firebase-tools (unit
tests, tools) has none, and then the project's conventional default bucket is named.
"""

from __future__ import annotations

import json
import os


def watched_bucket() -> str:
    try:
        configured = json.loads(os.environ.get("FIREBASE_CONFIG") or "{}").get("storageBucket")
    except ValueError:
        configured = None
    if configured:
        return str(configured)
    if named := os.environ.get("STORAGE_BUCKET"):
        return named
    project = os.environ.get("GCLOUD_PROJECT") or os.environ.get("GOOGLE_CLOUD_PROJECT") or "unconfigured"
    return f"{project}.appspot.com"
