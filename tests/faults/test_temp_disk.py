"""The functions' temp disk filling up during video jobs: a clear failure, nothing left behind.

The video workers' TMPDIR is a 4 MB tmpfs (conftest). One video fits but its rendition does
not (ffmpeg hits ENOSPC), one does not even download (our own write hits ENOSPC); both fail
with `no-space`, their temp folders are removed, no partial output is uploaded, and a small
video processed afterwards completes in the freed space.
"""

from __future__ import annotations

import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from mediajobs import cloud
from mediajobs.cli import client
from mediajobs.video.ffmpeg import executable
from tests.faults.conftest import TEMP_DIR, TEMP_DISK_MB
from tests.integration.test_video import make_video, put, start


def noisy_video(seconds: int, size: str, kbps: int) -> bytes:
    """A video of about kbps * seconds bits whose noise re-encodes at the full bitrate."""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "noisy.mp4"
        subprocess.run(
            [executable(), "-hide_banner", "-loglevel", "error", "-y",
             "-f", "lavfi", "-i", f"testsrc=size={size}:rate=15:duration={seconds},noise=alls=60:allf=t",
             "-c:v", "libx264", "-preset", "ultrafast", "-b:v", f"{kbps}k", "-maxrate", f"{kbps}k",
             "-bufsize", f"{2 * kbps}k", "-pix_fmt", "yuv420p", str(out)],
            check=True,
        )  # fmt: skip
        return out.read_bytes()


def temp_contents() -> list[str]:
    return sorted(p.name for p in TEMP_DIR.iterdir())


def uploaded(job_id: str) -> list[str]:
    """What a video job stored: its job folder and its library folder (videos/{id} is the job id)."""
    bucket = cloud.bucket()
    return [b.name for prefix in (f"jobs/{job_id}/", f"videos/{job_id}/") for b in bucket.list_blobs(prefix=prefix)]


def check_no_space(final: dict[str, Any], path: str) -> None:
    """Failed with no-space, named after the video's item (each output is an item of its own,
    so one or more of them, each downloading the video, may have run out of space)."""
    name = path.rsplit("/", 1)[-1]
    assert final["status"] == "failed", final
    assert final["error"]["code"] == "no-space", final["error"]
    message = final["error"]["message"]
    expected = f"Ran out of temporary disk space while processing {name}: "
    assert message.startswith(expected) and f"({TEMP_DISK_MB} MB in {TEMP_DIR}, " in message, message
    assert final["errors"] and all(e["code"] == "no-space" for e in final["errors"]), final["errors"]
    assert final["progress"]["failed"] >= 1


def test_temp_disk_filling_fails_the_video_clearly_and_cleans_up(user: client.User) -> None:
    assert temp_contents() == []
    fits = noisy_video(14, "1280x720", 1000)  # ~1.8 MB: downloads, then its 720p rendition fills the disk
    too_big = noisy_video(12, "640x360", 4000)  # ~6 MB: the download itself fills the disk
    assert len(fits) < TEMP_DISK_MB * 2**20 / 2 < TEMP_DISK_MB * 2**20 < len(too_big)

    started = time.monotonic()
    path = put(user, "fits.mp4", fits)
    during_render = start(user, path, renditions=[720], hls=False)
    final, _ = client.watch_job(during_render, timeout=300)
    check_no_space(final, path)
    assert temp_contents() == [], "the temp folder of the failed video was left behind"
    assert uploaded(during_render) == [], "a partial output was uploaded"

    path = put(user, "too-big.mp4", too_big)
    during_download = start(user, path, renditions=[360])
    final, _ = client.watch_job(during_download, timeout=300)
    check_no_space(final, path)
    assert temp_contents() == []
    assert uploaded(during_download) == []

    # The space is free again: a video that fits is processed as usual.
    small = start(user, put(user, "small.mp4", make_video(2, size="320x240")), renditions=[240], thumbnails=1)
    final, _ = client.watch_job(small, timeout=300)
    assert final["status"] == "completed", final
    assert final["result"]["renditions"][0]["height"] == 240
    assert f"videos/{small}/240p.mp4" in uploaded(small)
    assert temp_contents() == []
    print(f"temp disk faults: {time.monotonic() - started:.1f}s")
