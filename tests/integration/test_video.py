"""Video jobs on the real local stack; outputs checked with PyAV, independently of our ffmpeg."""

from __future__ import annotations

import io
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import av
import pytest
import requests
from PIL import Image

from mediajobs import cloud
from mediajobs.cli import client
from mediajobs.video.ffmpeg import executable
from tests.integration import video_player
from tests.integration.jobs_helpers import assert_every_document_expires


def make_video(seconds: float, size: str = "1280x720", rotate: int = 0, rate: int = 24) -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        plain = Path(folder) / "plain.mp4"
        subprocess.run(
            [executable(), "-hide_banner", "-loglevel", "error", "-y",
             "-f", "lavfi", "-i", f"testsrc=size={size}:rate={rate}:duration={seconds}",
             "-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}",
             "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(plain)],
            check=True,
        )  # fmt: skip
        if not rotate:
            return plain.read_bytes()
        rotated = Path(folder) / "rotated.mp4"
        subprocess.run([executable(), "-hide_banner", "-loglevel", "error", "-y", "-display_rotation", str(rotate),
                        "-i", str(plain), "-c", "copy", str(rotated)], check=True)  # fmt: skip
        return rotated.read_bytes()


def put(user: client.User, name: str, data: bytes) -> str:
    path = f"users/{user.uid}/videos/{uuid.uuid4().hex[:6]}-{name}"
    cloud.bucket().blob(path).upload_from_string(data, content_type="video/mp4")
    return path


def start(user: client.User, path: str, **options: Any) -> str:
    job = client.call(
        "start_job", {"type": "video_process", "input": {"path": path}, "options": options}, user.id_token
    )
    return str(job["job_id"])


def media(path: str) -> Any:
    return av.open(io.BytesIO(cloud.bucket().blob(path).download_as_bytes()))


def first_frame_size(container: Any) -> tuple[int, int]:
    frame = next(container.decode(video=0))
    return frame.width, frame.height


def check_rendition(path: str, height: int, seconds: float) -> tuple[int, int]:
    container = media(path)
    assert container.streams.audio, f"{path} has no audio"
    duration = container.duration / 1_000_000
    assert abs(duration - seconds) <= 0.2, (path, duration)
    width, decoded_height = first_frame_size(container)
    assert decoded_height == height
    return width, decoded_height


def test_a_720p_video_gets_thumbnails_renditions_and_playable_hls(user: client.User) -> None:
    job_id = start(user, put(user, "clip.mp4", make_video(6)))
    final, snapshots = client.watch_job(job_id, timeout=600)

    assert final["status"] == "completed", final
    result = final["result"]
    assert abs(result["duration_seconds"] - 6) <= 0.2
    assert (result["width"], result["height"], result["has_audio"]) == (1280, 720, True)
    for path in [*result["thumbnails"], result["poster"]]:
        image = Image.open(io.BytesIO(cloud.bucket().blob(path).download_as_bytes()))
        image.load()
        assert image.format == "JPEG"
    assert len(result["thumbnails"]) == 3
    assert [r["height"] for r in result["renditions"]] == [360, 720]
    for rendition in result["renditions"]:
        width, _ = check_rendition(rendition["path"], rendition["height"], 6)
        assert width == rendition["width"] and rendition["bitrate"] > 0
    check_mobile(result["mobile_path"], landscape=True)
    master = cloud.bucket().blob(result["hls_master_path"]).download_as_text()
    assert master.count("#EXT-X-STREAM-INF") == 2 and "360p/index.m3u8" in master and "720p/index.m3u8" in master
    assert "://" not in master and "/jobs/" not in master  # relative: resolved against the stream URL
    assert result["dash_manifest_path"].endswith("/stream/manifest.mpd")
    percents = [int((s.get("progress") or {}).get("percent", 0)) for s in snapshots]
    assert percents == sorted(percents)
    assert_every_document_expires(job_id)


def check_mobile(path: str, landscape: bool) -> None:
    """H.264 Main, the short side at most 480, stereo AAC-LC at a phone's bitrate, moov first."""
    data = cloud.bucket().blob(path).download_as_bytes()
    assert data.find(b"moov") < data.find(b"mdat"), "not +faststart"
    with av.open(io.BytesIO(data), mode="r") as container:
        video, audio = container.streams.video[0], container.streams.audio[0]
        assert video.codec_context.name == "h264" and video.codec_context.profile == "Main"
        width, height = first_frame_size(container)
        assert min(width, height) <= 480 and (width > height) == landscape
        assert audio.codec_context.name == "aac" and audio.codec_context.channels == 2
        assert (audio.codec_context.bit_rate or 0) <= 96_000
        assert (container.bit_rate or 0) < 1_200_000


def test_rotation_is_honoured_and_nothing_is_upscaled(user: client.User) -> None:
    rotated = start(
        user, put(user, "portrait.mp4", make_video(3, rotate=90)), renditions=[360], hls=False, thumbnails=1
    )
    small = start(user, put(user, "small.mp4", make_video(3, size="426x240")), renditions=[360, 720], hls=False)

    final, _ = client.watch_job(rotated, timeout=300)
    assert final["status"] == "completed", final
    assert (final["result"]["width"], final["result"]["height"]) == (720, 1280)
    assert final["result"]["rotation"] in (90, 270)
    width, height = check_rendition(final["result"]["renditions"][0]["path"], 360, 3)
    assert width < height  # portrait after rotation
    final, _ = client.watch_job(small, timeout=300)
    assert final["status"] == "completed"
    assert [r["height"] for r in final["result"]["renditions"]] == [240]
    assert final["result"]["warnings"] == [
        "skipped 360p: above the source's 240p",
        "skipped 720p: above the source's 240p",
    ]
    check_rendition(final["result"]["renditions"][0]["path"], 240, 3)


@pytest.mark.parametrize(
    ("name", "data", "code"),
    [
        ("notes.mp4", b"this is a text file, not a video\n" * 20, "not-a-video"),
        ("cut.mp4", None, "corrupt-video"),
        ("long.mp4", None, "too-long"),
        ("huge.mp4", None, "too-large"),
    ],
)
def test_bad_videos_fail_with_clear_errors(user: client.User, name: str, data: bytes | None, code: str) -> None:
    if name == "cut.mp4":
        whole = make_video(2)
        data = whole[: len(whole) // 2]
    if name == "long.mp4":
        data = make_video(61, size="64x64", rate=5)  # the emulator's VIDEO_MAX_SECONDS is 60
    if name == "huge.mp4":
        data = make_video(2) + bytes(64 * 1024 * 1024)  # the emulator's VIDEO_MAX_MB is 64
    assert data is not None
    final, _ = client.watch_job(start(user, put(user, name, data)), timeout=300)

    assert final["status"] == "failed"
    assert final["error"]["code"] == code, final["error"]
    assert name in final["error"]["message"]


def test_cancel_during_transcode_stops_ffmpeg_and_leaves_nothing(user: client.User) -> None:
    job_id = start(user, put(user, "long.mp4", make_video(40, size="1280x720")), renditions=[720], thumbnails=0)
    asked = threading.Event()

    def cancel_when_transcoding(job: dict[str, Any]) -> None:
        if not asked.is_set() and (job.get("progress") or {}).get("percent", 0) >= 5:
            asked.set()
            threading.Thread(target=client.call, args=("cancel_job", {"job_id": job_id}, user.id_token)).start()

    final, _ = client.watch_job(job_id, cancel_when_transcoding, timeout=600)

    assert asked.is_set() and final["status"] == "cancelled"
    assert list(cloud.bucket().list_blobs(prefix=f"videos/{job_id}/")) == []
    time.sleep(1)
    assert not list(Path(tempfile.gettempdir()).glob(f"video-{job_id}-*"))
    ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True, check=True).stdout
    assert f"video-{job_id}-" not in ps


def video_frames(media: dict[str, bytes]) -> int:
    """Decoded video frames in the fetched segments (each fMP4 segment after its folder's init)."""
    frames = 0
    for url, data in media.items():
        folder = url.rsplit("/", 1)[0]
        if url.endswith("init.mp4"):
            continue
        init = media.get(f"{folder}/init.mp4", b"")
        with av.open(io.BytesIO(init + data), mode="r") as container:
            if container.streams.video:
                frames += sum(1 for _ in container.decode(video=0))
    return frames


def frames_played_by_ffmpeg(url: str) -> int:
    """Frames of the first video stream that ffmpeg decodes reading `url` as a player would."""
    run = subprocess.run(
        [executable(), "-hide_banner", "-loglevel", "error", "-nostdin", "-i", url, "-map", "0:v:0",
         "-f", "null", "-", "-progress", "pipe:1"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-2000:]
    frames = [int(line[6:]) for line in run.stdout.splitlines() if line.startswith("frame=")]
    return frames[-1] if frames else 0


def audio_seconds(media: dict[str, bytes]) -> float:
    init = next(data for url, data in media.items() if url.endswith("/audio/init.mp4"))
    body = b"".join(data for url, data in sorted(media.items()) if "/audio/seg_" in url)
    with av.open(io.BytesIO(init + body), mode="r") as container:
        return sum(frame.samples for frame in container.decode(audio=0)) / 48000


def test_a_client_with_only_download_url_plays_the_hls_stream(new_user: Callable[..., client.User]) -> None:
    owner, stranger, admin = new_user(), new_user(), new_user(admin=True)
    final, _ = client.watch_job(start(owner, put(owner, "clip.mp4", make_video(5)), thumbnails=1), timeout=600)
    assert final["status"] == "completed", final
    master_path, mpd_path = final["result"]["hls_master_path"], final["result"]["dash_manifest_path"]

    for path in (master_path, mpd_path):
        with pytest.raises(client.CallableError) as refused:
            client.call("download_url", {"paths": [path]}, stranger.id_token)
        assert refused.value.status == "NOT_FOUND"
    for viewer in (owner, admin):
        urls = client.call("download_url", {"paths": [master_path, mpd_path]}, viewer.id_token)["urls"]
        url = urls[master_path]
        fetched = video_player.play_hls(url)
        assert len(fetched.playlists) == 4  # the master, one playlist per rendition, the audio's
        assert video_frames(fetched.media) >= 2 * 5 * 24  # both renditions, all of 5 s at 24 fps
        assert audio_seconds(fetched.media) >= 4.9
        tracks = video_player.play_dash(urls[mpd_path])
        assert sorted(t.representation_id for t in tracks) == ["360p", "720p", "audio"]
        for track in tracks:
            kind = "video" if track.content_type == "video" else "audio"
            with av.open(io.BytesIO(track.init + b"".join(track.segments)), mode="r") as container:
                decoded = sum(1 for _ in container.decode(**{kind: 0}))
            assert decoded >= (5 * 24 if kind == "video" else 5 * 48000 // 1024 - 1), (track.representation_id, decoded)
        # DASH and HLS name the same segment files: the bytes are stored once
        hls_files = {u.rsplit("/stream/", 1)[1] for u in fetched.media}
        dash_files = {u.rsplit("/stream/", 1)[1] for t in tracks for u in t.urls}
        folder = master_path.rsplit("/", 1)[0]
        stored = {b.name.rsplit("/stream/", 1)[1] for b in cloud.bucket().list_blobs(prefix=folder)}
        assert {n for n in stored if n.endswith((".m4s", ".mp4"))} == hls_files == dash_files
        for stream_url in (url, urls[mpd_path]):  # ffmpeg as a player: its HLS and DASH demuxers
            assert frames_played_by_ffmpeg(stream_url) >= 5 * 24, stream_url
        # the URL names the video's folder only: the token opens nothing else
        token_base = url.split("/videos/", 1)[0]
        outside = f"{token_base}/users/{owner.uid}/videos/x.mp4"
        assert requests.get(outside, timeout=30).status_code == 404
        forged = url.replace(token_base.rsplit("/", 1)[1], "0" * 32)
        assert requests.get(forged, timeout=30).status_code == 404
