"""The video step of `python -m mediajobs.cli demo`: a clip in, every output, and where to watch it."""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mediajobs import cloud
from mediajobs.cli import client

SECONDS = 12


def demo_video(user: client.User, watch: Callable[[str], dict[str, Any]]) -> bool:
    """Uploads a 720p clip with sound, runs video_process, prints its outputs and stream URLs."""
    from mediajobs.video.ffmpeg import executable

    with tempfile.TemporaryDirectory() as folder:
        clip = Path(folder) / "demo.mp4"
        subprocess.run(
            [executable(), "-hide_banner", "-loglevel", "error", "-y",
             "-f", "lavfi", "-i", f"testsrc2=size=1280x720:rate=30:duration={SECONDS}",
             "-f", "lavfi", "-i", f"sine=frequency=330:duration={SECONDS}",
             "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(clip)],
            check=True,
        )  # fmt: skip
        path = f"users/{user.uid}/videos/demo.mp4"
        cloud.bucket().blob(path).upload_from_filename(str(clip), content_type="video/mp4")
    job = client.call("start_job", {"type": "video_process", "input": {"path": path}}, user.id_token)
    final = watch(job["job_id"])
    print(f"  status: {final['status']}")
    if final["status"] != "completed":
        print(f"  error: {final.get('error')}; item errors: {final.get('errors')}")
        return False
    result = final["result"]
    for rendition in result["renditions"]:
        print(f"  {rendition['path']}: {rendition['width']}x{rendition['height']}, {rendition['bitrate']:,} b/s")
    print(f"  {result['mobile_path']} (phones), thumbnails: {len(result['thumbnails'])} + poster")
    streams = [p for p in (result["hls_master_path"], result["dash_manifest_path"]) if p]
    urls = client.call("download_url", {"paths": streams}, user.id_token)["urls"]
    print("  watch it (any HLS or DASH player, e.g. `ffplay URL`, VLC, Safari for HLS):")
    for stream_path in streams:
        print(f"    {urls[stream_path]}")
    origin = os.environ.get("HOSTING_ORIGIN")
    if origin:
        print(f"  or on the dashboard's Video page: {origin}/#/video/{job['job_id']}")
    return True
