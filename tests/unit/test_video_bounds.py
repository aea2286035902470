"""Every ffmpeg run of a video item reads at most the duration the plan probed (issue #25, 3).

The owner can replace an upload after planning; whatever the file then holds, ffmpeg must not
work longer than the probe (and so the time estimate) said. Offline: the bundled ffmpeg on a
small clip, no Storage.
"""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import av
import pytest

from mediajobs.jobs.kinds import Item
from mediajobs.jobs.models import Job
from mediajobs.video import ffmpeg, kind
from mediajobs.video.models import Track, VideoOptions
from mediajobs.video.probe import Probe, probe

CLIP_SECONDS = 5
PROBED_SECONDS = 2.0  # what the plan saw: the clip stands for a longer file swapped in later


def input_bounds(args: list[str]) -> list[float | None]:
    """For each `-i` of an ffmpeg argument list, the `-t` among its input options (or None)."""
    bounds: list[float | None] = []
    options_start = 0
    for index, arg in enumerate(args):
        if arg == "-i" and (index == 0 or args[index - 1] != "-i"):
            options = args[options_start:index]
            bound = None
            for at, option in enumerate(options[:-1]):
                if option == "-t":
                    bound = float(options[at + 1])
            bounds.append(bound)
            options_start = index + 2
    return bounds


def small_margin_over(seconds: float) -> float:
    """The most a bound may add to the probed duration and still be a bound."""
    return seconds * 1.02 + 1.5


def bounded(bound: float | None, seconds: float) -> bool:
    return bound is not None and seconds < bound <= small_margin_over(seconds)


BUILDERS: dict[str, Callable[[], list[str]]] = {
    "thumbnail": lambda: ffmpeg.thumbnail_args(Path("s"), 0.0, Path("t.jpg"), max_seconds=10.0),
    "poster": lambda: ffmpeg.thumbnail_args(Path("s"), 0.0, Path("p.jpg"), width=320, max_seconds=10.0),
    "rendition": lambda: ffmpeg.rendition_args(Path("s"), Path("720p.mp4"), 720, True, max_seconds=10.0),
    "rendition, no audio": lambda: ffmpeg.rendition_args(Path("s"), Path("360p.mp4"), 360, False, max_seconds=10.0),
    "mobile": lambda: ffmpeg.mobile_args(Path("s"), Path("m.mp4"), True, 480, True, max_seconds=10.0),
    "HLS/DASH video track": lambda: ffmpeg.package_video_args(Path("720p.mp4"), Path("stream"), max_seconds=10.0),
    "HLS/DASH audio track": lambda: ffmpeg.audio_track_args(Path("s"), Path("stream"), max_seconds=10.0),
}


@pytest.mark.parametrize("name", list(BUILDERS))
def test_every_argument_list_bounds_its_input_by_the_probed_duration(name: str) -> None:
    args = BUILDERS[name]()
    bounds = input_bounds(args)
    assert len(bounds) == 1 and bounded(bounds[0], 10.0), (name, args)
    assert args.index("-t") < args.index("-i")  # an input option: it limits what is read


def test_a_thumbnail_reads_from_its_seek_point_to_the_probed_end() -> None:
    args = ffmpeg.thumbnail_args(Path("s"), 8.0, Path("t.jpg"), max_seconds=10.0)
    assert bounded(input_bounds(args)[0], 2.0)
    assert args.index("-ss") < args.index("-t") < args.index("-i")


def test_the_margin_is_small_at_every_duration() -> None:
    for seconds in (0.5, 10.0, 600.0, 7200.0):
        assert bounded(float(ffmpeg.input_bound(seconds)[1]), seconds)
    assert ffmpeg.input_bound(None) == []


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("clip") / "clip.mp4"
    subprocess.run(
        [ffmpeg.executable(), "-hide_banner", "-loglevel", "error", "-y",
         "-f", "lavfi", "-i", f"testsrc=size=320x240:rate=25:duration={CLIP_SECONDS}",
         "-f", "lavfi", "-i", f"sine=frequency=440:duration={CLIP_SECONDS}",
         "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(path)],
        check=True,
    )  # fmt: skip
    return path


class Context:
    def __init__(self) -> None:
        self.job = Job(id="bounds")

    def cancelled(self) -> bool:
        return False

    def heartbeat(self, fraction: float | None = None, current: str | None = None) -> None:
        pass

    def save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        pass


@pytest.fixture
def commands(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[list[str]]]:
    """Every ffmpeg command the code under test starts (run, or Popen with progress)."""
    seen: list[list[str]] = []
    real_run, real_popen = subprocess.run, subprocess.Popen

    def run(command: list[str], *args: Any, **kwargs: Any) -> Any:
        seen.append(list(command))
        return real_run(command, *args, **kwargs)

    def popen(command: list[str], *args: Any, **kwargs: Any) -> Any:
        seen.append(list(command))
        return real_popen(command, *args, **kwargs)

    monkeypatch.setattr(subprocess, "run", run)
    monkeypatch.setattr(subprocess, "Popen", popen)
    monkeypatch.setattr(kind._Work, "upload", lambda self: None)  # no Storage here
    yield seen


def run_task(task: str, clip: Path, folder: Path, info: Probe, **payload: Any) -> dict[str, Any]:
    source = folder / "source"
    shutil.copyfile(clip, source)
    out = folder / "out"
    out.mkdir()
    work = kind._Work(Context(), info, source, out, "jobs/bounds/video")
    item = Item(id=task, label=task, payload={"task": task, **payload}, attempt=1)
    options = VideoOptions(renditions=[240], thumbnails=2)
    return kind.TASKS[task](work, item, options)


def seconds_of(path: Path) -> float:
    with av.open(str(path)) as container:
        return float(container.duration or 0) / 1_000_000


@pytest.mark.parametrize(("task", "payload"), [("thumbnails", {}), ("rendition", {"height": 240}), ("audio", {}),
                                               ("mobile", {})])  # fmt: skip
def test_each_item_runs_ffmpeg_only_within_the_probed_duration(
    task: str, payload: dict[str, Any], clip: Path, tmp_path: Path, commands: list[list[str]]
) -> None:
    info = dataclasses.replace(probe(clip, clip.name), duration_seconds=PROBED_SECONDS)
    result = run_task(task, clip, tmp_path, info, **payload)

    ffmpeg_runs = [c for c in commands if c and c[0] == ffmpeg.executable()]
    assert ffmpeg_runs, "the item ran no ffmpeg"
    for command in ffmpeg_runs:
        bounds = input_bounds(command)
        assert bounds and all(b is not None and 0 < b <= small_margin_over(PROBED_SECONDS) for b in bounds), command
    outputs = [p for p in (tmp_path / "out").rglob("*.mp4") if p.name != "init.mp4"]
    assert bool(outputs) == (task in ("rendition", "mobile"))
    for output in outputs:
        assert seconds_of(output) <= small_margin_over(PROBED_SECONDS) + 0.1, output  # not the clip's 5 s
    if result.get("track"):
        track = Track.model_validate(result["track"])
        streamed = sum(duration for _, _, duration in track.segments()) / track.timescale
        assert streamed <= small_margin_over(PROBED_SECONDS) + 0.1, track
