"""A new client developer can implement against contract/ alone: tests/contract_client/client.ts,
typed by contract/types only, compiled with the pinned tsc and run with node against the stack,
signs in, starts a photo job, watches it to `completed` and downloads an output."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
from pathlib import Path

from PIL import Image

from mediajobs import cloud

ROOT = Path(__file__).resolve().parents[2]
CLIENT = ROOT / "tests" / "contract_client"


def test_the_client_imports_nothing_but_the_contract() -> None:
    source = (CLIENT / "client.ts").read_text(encoding="utf-8")
    imports = re.findall(r'^import .*? from "([^"]+)";', source, re.M | re.S)
    assert imports == ["node:fs", "../../contract/types/mediajobs"], imports
    code = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith("//"))
    assert "web/" not in code and "firebase/" not in code


def test_a_client_built_from_the_contract_alone_runs_a_photo_job(tmp_path: Path) -> None:
    compiled = subprocess.run(
        [str(ROOT / "node_modules/.bin/tsc"), "-p", str(CLIENT / "tsconfig.json"), "--outDir", str(tmp_path)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr
    image = tmp_path / "input.png"
    Image.new("RGB", (800, 600), (200, 40, 90)).save(image)

    ran = subprocess.run(
        ["node", str(tmp_path / "client.js"), str(image)],
        capture_output=True, text=True, timeout=400, check=False, env=os.environ.copy(),
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr[-3000:]
    seen = json.loads(ran.stdout.strip().splitlines()[-1])

    assert seen["statuses"][-1] == "completed" and seen["statuses"][0] in ("queued", "processing"), seen
    assert seen["http_status"] == 200 and seen["expires_in"] > 0
    assert seen["png"] == {"width": 512, "height": 384}, "scaled down to the 512 preset, as a PNG"
    assert seen["item_status"] == "done" and seen["item_result_width"] == 512
    stored = cloud.bucket().blob(seen["output"]).download_as_bytes()
    assert len(stored) == seen["bytes"] > 1000
    assert Image.open(io.BytesIO(stored)).size == (512, 384)
    job = cloud.db().document(f"jobs/{seen['job_id']}").get().to_dict() or {}
    assert job["owner_uid"] == seen["uid"] and seen["output"] in job["result"]["outputs"]
