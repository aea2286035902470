"""HLS playlists and a DASH manifest over the same CMAF (fragmented MP4) segments.

Each track is packaged alone by ffmpeg's DASH muxer (an init segment and numbered media
segments); `read_track` keeps what its manifest says (codecs, bandwidth, the exact segment
timeline). The job's manifests are written once every track exists: an HLS media playlist per
track, an HLS master (video variants plus an audio group), and one MPD with a video and an audio
adaptation set. Every URI is relative to the manifest, so the `stream` function serves them.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from pathlib import Path
from xml.sax.saxutils import quoteattr

from mediajobs.video.models import Span, Track

_NS = "{urn:mpeg:dash:schema:mpd:2011}"
INIT_NAME = "init.mp4"
MEDIA_TEMPLATE = "seg_$Number%05d$.m4s"


def read_track(manifest: Path, name: str) -> Track:
    """The single representation of an ffmpeg-written MPD as a Track named `name`."""
    root = ET.parse(manifest).getroot()
    adaptation = next(root.iter(f"{_NS}AdaptationSet"))
    representation = next(adaptation.iter(f"{_NS}Representation"))
    template = representation.find(f"{_NS}SegmentTemplate")
    if template is None:
        template = adaptation.find(f"{_NS}SegmentTemplate")
    assert template is not None, f"{manifest} has no SegmentTemplate"
    timeline = []
    for s in template.iter(f"{_NS}S"):
        timeline.append(Span(t=int(s.get("t", "-1")), d=int(s.get("d", "0")), r=int(s.get("r", "0"))))
    content_type = adaptation.get("contentType") or (representation.get("mimeType") or "video/").split("/")[0]
    channels = representation.find(f"{_NS}AudioChannelConfiguration")
    return Track(
        name=name,
        content_type="audio" if content_type == "audio" else "video",
        codecs=representation.get("codecs", ""),
        bandwidth=int(representation.get("bandwidth", "0")),
        width=_int(representation.get("width")),
        height=_int(representation.get("height")),
        frame_rate=adaptation.get("frameRate") or representation.get("frameRate"),
        sample_rate=_int(representation.get("audioSamplingRate")),
        channels=_int(channels.get("value")) if channels is not None else None,
        timescale=int(template.get("timescale", "1")),
        timeline=timeline,
        init=template.get("initialization", INIT_NAME),
        media=template.get("media", MEDIA_TEMPLATE),
        start_number=int(template.get("startNumber", "1")),
    )


def _int(value: str | None) -> int | None:
    return int(value) if value else None


def segment_name(track: Track, number: int) -> str:
    """The file of segment `number` ($Number%05d$ style templates, as we ask ffmpeg for)."""
    head, rest = track.media.split("$Number", 1)
    spec, tail = rest.split("$", 1)
    return head + (("%" + spec[1:]) % number if spec.startswith("%") else str(number)) + tail


def media_playlist(track: Track) -> str:
    """The track's HLS media playlist (fMP4: EXT-X-MAP to the init segment), VOD."""
    segments = track.segments()
    longest = max((d for _, _, d in segments), default=track.timescale) / track.timescale
    lines = [
        "#EXTM3U",
        "#EXT-X-VERSION:7",
        f"#EXT-X-TARGETDURATION:{math.ceil(longest)}",
        "#EXT-X-PLAYLIST-TYPE:VOD",
        f"#EXT-X-MEDIA-SEQUENCE:{track.start_number}",
        "#EXT-X-INDEPENDENT-SEGMENTS",
        f'#EXT-X-MAP:URI="{track.init}"',
    ]
    for number, _, duration in segments:
        lines.append(f"#EXTINF:{duration / track.timescale:.6f},")
        lines.append(segment_name(track, number))
    lines.append("#EXT-X-ENDLIST")
    return "\n".join(lines) + "\n"


def master_playlist(tracks: list[Track]) -> str:
    """Video variants (with the audio group when there is audio); URIs relative to stream/."""
    audio = [t for t in tracks if t.content_type == "audio"]
    lines = ["#EXTM3U", "#EXT-X-VERSION:7", "#EXT-X-INDEPENDENT-SEGMENTS"]
    for track in audio:
        lines.append(
            f'#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",NAME="{track.name}",DEFAULT=YES,AUTOSELECT=YES,'
            f'CHANNELS="{track.channels or 2}",URI="{track.name}/index.m3u8"'
        )
    videos = sorted((t for t in tracks if t.content_type == "video"), key=lambda t: t.height or 0)
    for track in videos:
        bandwidth = track.bandwidth + sum(a.bandwidth for a in audio[:1])
        codecs = ",".join([track.codecs, *(a.codecs for a in audio[:1])])
        attributes = f'BANDWIDTH={bandwidth},RESOLUTION={track.width}x{track.height},CODECS="{codecs}"'
        if track.frame_rate:
            attributes += f",FRAME-RATE={_rate(track.frame_rate):.3f}"
        if audio:
            attributes += ',AUDIO="audio"'
        lines.append(f"#EXT-X-STREAM-INF:{attributes}")
        lines.append(f"{track.name}/index.m3u8")
    return "\n".join(lines) + "\n"


def _rate(value: str) -> float:
    top, _, bottom = value.partition("/")
    return float(top) / float(bottom or 1)


def dash_manifest(tracks: list[Track], duration_seconds: float) -> str:
    """A static (VOD) MPD, live profile, one adaptation set per content type."""
    longest = max((d / t.timescale for t in tracks for _, _, d in t.segments()), default=2.0)
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" profiles="urn:mpeg:dash:profile:isoff-live:2011" '
        f'type="static" mediaPresentationDuration="{_iso(duration_seconds)}" '
        f'maxSegmentDuration="{_iso(longest)}" minBufferTime="{_iso(min(4.0, 2 * longest))}">',
        '  <Period id="0" start="PT0S">',
    ]
    for index, kind in enumerate(("video", "audio")):
        members = sorted((t for t in tracks if t.content_type == kind), key=lambda t: t.bandwidth)
        if not members:
            continue
        mime = f"{kind}/mp4"
        parts.append(
            f'    <AdaptationSet id="{index}" contentType="{kind}" mimeType="{mime}" segmentAlignment="true" '
            'startWithSAP="1">'
        )
        for track in members:
            attributes = f'id={quoteattr(track.name)} codecs={quoteattr(track.codecs)} bandwidth="{track.bandwidth}"'
            if kind == "video":
                attributes += f' width="{track.width}" height="{track.height}"'
                if track.frame_rate:
                    attributes += f" frameRate={quoteattr(track.frame_rate)}"
            elif track.sample_rate:
                attributes += f' audioSamplingRate="{track.sample_rate}"'
            parts.append(f"      <Representation {attributes}>")
            if kind == "audio":
                parts.append(
                    '        <AudioChannelConfiguration schemeIdUri="urn:mpeg:dash:23003:3:'
                    f'audio_channel_configuration:2011" value="{track.channels or 2}"/>'
                )
            parts.append(
                f'        <SegmentTemplate timescale="{track.timescale}" '
                f"initialization={quoteattr(f'{track.name}/{track.init}')} "
                f'media={quoteattr(f"{track.name}/{track.media}")} startNumber="{track.start_number}">'
            )
            parts.append("          <SegmentTimeline>")
            for span in track.timeline:
                t = f' t="{span.t}"' if span.t >= 0 else ""
                r = f' r="{span.r}"' if span.r else ""
                parts.append(f'            <S{t} d="{span.d}"{r}/>')
            parts.append("          </SegmentTimeline>")
            parts.append("        </SegmentTemplate>")
            parts.append("      </Representation>")
        parts.append("    </AdaptationSet>")
    parts += ["  </Period>", "</MPD>"]
    return "\n".join(parts) + "\n"


def _iso(seconds: float) -> str:
    return f"PT{seconds:.3f}S"
