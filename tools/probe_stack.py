"""Reaches every emulator of the local stack through the contract's variables; prints a report.

Run by `./dev exec -- python tools/probe_stack.py` (the stack test does). Exits with --exit.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import uuid

import requests

CONTRACT_VARS = (
    "GCLOUD_PROJECT",
    "FIRESTORE_EMULATOR_HOST",
    "FIREBASE_AUTH_EMULATOR_HOST",
    "STORAGE_EMULATOR_HOST",
    "STORAGE_BUCKET",
    "FUNCTIONS_ORIGIN",
)


def probe() -> dict[str, object]:
    from mediajobs import cloud
    from mediajobs.cli import client

    report: dict[str, object] = {name: os.environ.get(name) for name in CONTRACT_VARS}
    token = uuid.uuid4().hex
    doc = cloud.db().collection("probe").document(token)
    doc.set({"token": token})
    report["firestore"] = (doc.get().to_dict() or {}).get("token") == token
    user = client.sign_up(f"probe-{token[:8]}@example.com")
    report["auth"] = bool(user.id_token)
    blob = cloud.bucket().blob(f"probe/{token}.txt")
    blob.upload_from_string(token, content_type="text/plain")
    report["storage"] = cloud.bucket().blob(f"probe/{token}.txt").download_as_bytes() == token.encode()
    try:
        client.call("cancel_job", {"job_id": "no-such-job"}, user.id_token)
        report["functions"] = False
    except client.CallableError as error:
        report["functions"] = error.status == "PERMISSION_DENIED"
    hosting = requests.get(os.environ["HOSTING_ORIGIN"] + "/", timeout=30)
    report["hosting"] = hosting.status_code == 200
    report["marker"] = os.environ.get("MEDIAJOBS_DEV_RUN")
    return report


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--exit", type=int, default=0)
    args = parser.parse_args()
    print(json.dumps(probe()))
    return int(args.exit)


if __name__ == "__main__":
    sys.exit(main())
