"""CMAF packaging, the manifests written over it, the PyAV probe and the item budget, offline."""

from __future__ import annotations

import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import av
import pytest

from mediajobs.video import budget, ffmpeg, packaging
from mediajobs.video.probe import VideoError, probe


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("clip") / "clip.mp4"
    subprocess.run(
        [ffmpeg.executable(), "-hide_banner", "-loglevel", "error", "-y",
         "-f", "lavfi", "-i", "testsrc=size=640x360:rate=25:duration=5",
         "-f", "lavfi", "-i", "sine=frequency=440:duration=5",
         "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(path)],
        check=True,
    )  # fmt: skip
    return path


def run(args: list[str]) -> None:
    ffmpeg.run_with_progress(args, 5.0, lambda fraction: None, lambda: False)


def test_hls_and_dash_describe_the_same_segments(clip: Path, tmp_path: Path) -> None:
    mp4 = tmp_path / "240p.mp4"
    run(ffmpeg.rendition_args(clip, mp4, 240, has_audio=True))
    tracks = []
    for name, args in (("240p", ffmpeg.package_video_args(mp4, tmp_path / "240p")),
                       ("audio", ffmpeg.audio_track_args(clip, tmp_path / "audio"))):  # fmt: skip
        (tmp_path / name).mkdir()
        run(args)
        tracks.append(packaging.read_track(tmp_path / name / "manifest.mpd", name))
    video, audio = tracks
    assert (video.content_type, video.width, video.height, audio.content_type) == ("video", 426, 240, "audio")
    assert video.codecs.startswith("avc1.") and audio.codecs == "mp4a.40.2"

    playlist = packaging.media_playlist(video)
    files = [line for line in playlist.splitlines() if line and not line.startswith("#")]
    on_disk = sorted(p.name for p in (tmp_path / "240p").glob("seg_*.m4s"))
    assert files == on_disk and len(files) == 3  # 2 s segments of 5 s
    durations = [float(line[8:-1]) for line in playlist.splitlines() if line.startswith("#EXTINF:")]
    assert sum(durations) == pytest.approx(5.0, abs=0.05)
    with av.open(str(tmp_path / "240p" / "init.mp4")) as _:
        pass
    joined = (tmp_path / "240p" / "init.mp4").read_bytes() + b"".join(
        (tmp_path / "240p" / f).read_bytes() for f in files
    )
    (tmp_path / "joined.mp4").write_bytes(joined)
    with av.open(str(tmp_path / "joined.mp4")) as container:
        assert sum(1 for _ in container.decode(video=0)) == 125

    master = packaging.master_playlist(tracks)
    assert 'TYPE=AUDIO,GROUP-ID="audio"' in master and 'URI="audio/index.m3u8"' in master
    assert 'RESOLUTION=426x240,CODECS="avc1.' in master and "\n240p/index.m3u8\n" in master

    mpd = ET.fromstring(packaging.dash_manifest(tracks, 5.0))
    ns = "{urn:mpeg:dash:schema:mpd:2011}"
    templates = {r.get("id"): r.find(f"{ns}SegmentTemplate") for r in mpd.iter(f"{ns}Representation")}
    assert templates["240p"].get("media") == "240p/seg_$Number%05d$.m4s"  # type: ignore[union-attr]
    assert templates["audio"].get("initialization") == "audio/init.mp4"  # type: ignore[union-attr]
    assert [packaging.segment_name(video, n) for n, _, _ in video.segments()] == files


def test_the_mobile_encode_is_main_profile_480p_at_most(clip: Path, tmp_path: Path) -> None:
    out = tmp_path / "mobile.mp4"
    run(ffmpeg.mobile_args(clip, out, landscape=True, short_side=360, has_audio=True))
    data = out.read_bytes()
    assert data.find(b"moov") < data.find(b"mdat")
    with av.open(str(out)) as container:
        assert container.streams.video[0].codec_context.profile == "Main"
        assert container.streams.video[0].codec_context.height == 360


def test_probe_refuses_what_is_not_a_whole_video(clip: Path, tmp_path: Path) -> None:
    info = probe(clip, "clip.mp4")
    assert (info.width, info.height, info.has_audio, round(info.duration_seconds)) == (640, 360, True, 5)
    text = tmp_path / "notes.mp4"
    text.write_bytes(b"just some text\n" * 100)
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(clip.read_bytes()[: clip.stat().st_size // 2])
    for path, code in ((text, "not-a-video"), (cut, "corrupt-video")):
        with pytest.raises(VideoError) as raised:
            probe(path, path.name)
        assert raised.value.code == code and path.name in raised.value.message


def test_a_30_minute_1080p_source_fits_the_item_deadline() -> None:
    source_bytes = 4096 * 2**20
    seconds = budget.rendition_seconds(1800, (1920, 1080), (1920, 1080), ffmpeg.preset_for(1080), source_bytes)
    assert budget.fits(seconds) and seconds < 0.7 * budget.ITEM_DEADLINE_SECONDS
    too_much = budget.rendition_seconds(1800, (3840, 2160), (3840, 2160), ffmpeg.preset_for(2160), source_bytes)
    assert not budget.fits(too_much)
