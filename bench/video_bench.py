"""Our 480p rendition through the whole stack against the bare ffmpeg command line on the same
file in the same run (target: the pipeline adds no real cost), with realtime factors."""

from __future__ import annotations

import subprocess
import tempfile
import time
import uuid
from pathlib import Path

from bench.common import PASSES, Row, median_pair
from mediajobs import cloud
from mediajobs.cli import client
from mediajobs.video import ffmpeg


def source_video(folder: Path, seconds: int) -> Path:
    path = folder / "source.mp4"
    subprocess.run(
        [ffmpeg.executable(), "-hide_banner", "-loglevel", "error", "-y",
         "-f", "lavfi", "-i", f"testsrc2=size=1280x720:rate=30:duration={seconds}",
         "-f", "lavfi", "-i", f"sine=frequency=330:duration={seconds}",
         "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(path)],
        check=True,
    )  # fmt: skip
    return path


def _through_the_stack(user: client.User, path: str, options: dict[str, object]) -> float:
    start = time.perf_counter()
    job = client.call("start_job", {"type": "video_process", "input": {"path": path}, "options": options},
                      user.id_token)  # fmt: skip
    final, _ = client.watch_job(job["job_id"], timeout=900)
    assert final["status"] == "completed", final
    return time.perf_counter() - start


def _bare(source: Path, folder: Path) -> float:
    start = time.perf_counter()
    args = ffmpeg.rendition_args(source, folder / "bare.mp4", 480, has_audio=True)
    subprocess.run([ffmpeg.executable(), "-hide_banner", "-loglevel", "error", "-y", *args], check=True)
    return time.perf_counter() - start


def run(quick: bool = False) -> list[Row]:
    seconds = 10 if quick else 60  # fixed per-job costs (dispatch, download, upload) weigh less
    user = client.sign_up(f"bench-{uuid.uuid4().hex[:8]}@example.com")
    with tempfile.TemporaryDirectory() as folder:
        source = source_video(Path(folder), seconds)
        path = f"users/{user.uid}/bench/source.mp4"
        cloud.bucket().blob(path).upload_from_filename(str(source), content_type="video/mp4")
        # One rendition and nothing else that competes for the cores (the poster takes 0.2 s; the
        # scrubbing sprite, on by default since 2026-12-03, decodes the whole video once more).
        options = {"renditions": [480], "hls": False, "dash": False, "thumbnails": 0, "mobile": False,
                   "previews": False}  # fmt: skip
        warm = client.call("start_job", {"type": "video_process", "input": {"path": path}, "options": options},
                           user.id_token)  # fmt: skip
        client.watch_job(warm["job_id"], timeout=900)  # cold worker start is not transcode speed
        passes = 1 if quick else PASSES
        pairs = [(_through_the_stack(user, path, options), _bare(source, Path(folder))) for _ in range(passes)]
        print(f"video pairs (job s, bare s): {[(round(a, 2), round(b, 2)) for a, b in pairs]}")
        ours, baseline = median_pair(pairs)
    return [
        Row(f"video 480p rendition of {seconds}s 720p, job vs bare ffmpeg", baseline / ours, "x", 1.0,
            "bare ffmpeg = 1", ">= 0.9"),
        Row("  realtime factor: job / bare ffmpeg", seconds / ours, "x rt", seconds / baseline, "x rt bare"),
    ]  # fmt: skip


def cpu_costs(seconds: int = 20) -> dict[str, float]:
    """CPU-seconds per second of video for each kind of video item on a 1080p30 source with
    noise (so x264 works as on camera footage); used by docs/SCALING.md and video/budget.py.
    CPU time, not wall time, so that a busy machine changes it less."""
    import resource

    from mediajobs.video import packaging

    costs: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        source = folder / "source.mp4"
        subprocess.run(
            [ffmpeg.executable(), "-hide_banner", "-loglevel", "error", "-y",
             "-f", "lavfi", "-i", f"testsrc2=size=1920x1080:rate=30:duration={seconds},noise=alls=6:allf=t",
             "-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}",
             "-c:v", "libx264", "-preset", "veryfast", "-b:v", "16M", "-maxrate", "16M", "-bufsize", "32M",
             "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(source)],
            check=True,
        )  # fmt: skip
        (folder / "seg").mkdir()
        jobs = {
            "decode 1080p only": ["-i", str(source), "-f", "null", "-"],
            **{f"{h}p rendition ({ffmpeg.preset_for(h)})": ffmpeg.rendition_args(source, folder / f"{h}.mp4", h, True)
               for h in (1080, 720, 480, 360)},
            "mobile 480p (Main)": ffmpeg.mobile_args(source, folder / "mobile.mp4", True, 480, True),
            "audio track": ffmpeg.audio_track_args(source, folder / "seg"),
        }  # fmt: skip
        for label, args in jobs.items():
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            subprocess.run([ffmpeg.executable(), "-hide_banner", "-loglevel", "error", "-y", *args], check=True)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
            costs[label] = round(cpu / seconds, 3)
        assert packaging.INIT_NAME in {p.name for p in (folder / "seg").iterdir()}
    return costs


if __name__ == "__main__":  # python -m bench.video_bench: the CPU costs behind docs/SCALING.md
    for label, cost in cpu_costs().items():
        print(f"{label:28} {cost:6.3f} CPU-s per second of video")
