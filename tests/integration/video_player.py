"""What a player does with a playlist URL, and nothing more: fetch it, resolve every URI inside
against the URL it came from (RFC 3986, `urljoin`), follow redirects, fetch those too.

No credentials, no Storage access: if a URI does not resolve to something fetchable, this fails
the way hls.js or dash.js would."""

from __future__ import annotations

import dataclasses
import re
import urllib.parse
import xml.etree.ElementTree as ET

import requests

TIMEOUT = 30
_URI_ATTRIBUTE = re.compile(r'URI="([^"]+)"')
_MPD = "{urn:mpeg:dash:schema:mpd:2011}"


@dataclasses.dataclass
class Fetched:
    playlists: dict[str, str] = dataclasses.field(default_factory=dict)  # url -> text
    media: dict[str, bytes] = dataclasses.field(default_factory=dict)  # url -> bytes


def get(url: str) -> requests.Response:
    reply = requests.get(url, timeout=TIMEOUT, allow_redirects=True)
    assert reply.status_code == 200, (url, reply.status_code, reply.text[:200])
    return reply


def hls_uris(playlist: str) -> list[str]:
    uris = []
    for raw in playlist.splitlines():
        line = raw.strip()
        if line.startswith("#"):
            uris.extend(_URI_ATTRIBUTE.findall(line))
        elif line:
            uris.append(line)
    return uris


def play_hls(master_url: str) -> Fetched:
    """Fetches the master, every variant and rendition playlist, and every segment they list."""
    fetched = Fetched()
    pending = [master_url]
    while pending:
        url = pending.pop(0)
        reply = get(url)
        text = reply.text
        assert text.startswith("#EXTM3U"), (url, text[:100])
        fetched.playlists[url] = text
        for uri in hls_uris(text):
            target = urllib.parse.urljoin(url, uri)
            if urllib.parse.urlsplit(target).path.endswith(".m3u8"):
                if target not in fetched.playlists and target not in pending:
                    pending.append(target)
            elif target not in fetched.media:
                fetched.media[target] = get(target).content
    return fetched


@dataclasses.dataclass
class DashTrack:
    representation_id: str
    content_type: str
    init: bytes
    segments: list[bytes]
    urls: list[str]  # the init segment's, then the media segments'


def play_dash(mpd_url: str) -> list[DashTrack]:
    """Every representation's initialization and media segments, as SegmentTemplate and
    SegmentTimeline (or duration) say, resolved against the MPD URL (and any BaseURL)."""
    text = get(mpd_url).text
    root = ET.fromstring(text)
    tracks = []
    total = _seconds(root.get("mediaPresentationDuration", "PT0S"))
    for adaptation in root.iter(f"{_MPD}AdaptationSet"):
        set_template = adaptation.find(f"{_MPD}SegmentTemplate")
        for representation in adaptation.iter(f"{_MPD}Representation"):
            template = representation.find(f"{_MPD}SegmentTemplate")
            template = template if template is not None else set_template
            assert template is not None, "no SegmentTemplate"
            rep_id = representation.get("id", "")
            base = urllib.parse.urljoin(mpd_url, _base_url(root, adaptation, representation))
            init_uri = _fill(template.get("initialization", ""), rep_id, None, None)
            urls = [urllib.parse.urljoin(base, init_uri)]
            init = get(urls[0]).content
            segments = []
            for number, time in _numbers(template, total):
                urls.append(urllib.parse.urljoin(base, _fill(template.get("media", ""), rep_id, number, time)))
                segments.append(get(urls[-1]).content)
            content_type = adaptation.get("contentType") or (representation.get("mimeType") or "").split("/")[0]
            tracks.append(DashTrack(rep_id, content_type, init, segments, urls))
    return tracks


def _base_url(*elements: ET.Element) -> str:
    base = ""
    for element in elements:
        found = element.find(f"{_MPD}BaseURL")
        if found is not None and found.text:
            base = urllib.parse.urljoin(base, found.text.strip())
    return base


def _numbers(template: ET.Element, total: float) -> list[tuple[int, int]]:
    number = int(template.get("startNumber", "1"))
    timeline = template.find(f"{_MPD}SegmentTimeline")
    out = []
    if timeline is not None:
        time = 0
        for s in timeline.iter(f"{_MPD}S"):
            time = int(s.get("t", time))
            for _ in range(int(s.get("r", "0")) + 1):
                out.append((number, time))
                number += 1
                time += int(s.get("d", "0"))
        return out
    duration = int(template.get("duration", "0")) / int(template.get("timescale", "1"))
    count = int(-(-total // duration))
    return [(number + i, 0) for i in range(count)]


def _fill(pattern: str, rep_id: str, number: int | None, time: int | None) -> str:
    def replace(match: re.Match[str]) -> str:
        name, fmt = match.group(1), match.group(2)
        value: object = {"RepresentationID": rep_id, "Number": number, "Time": time}.get(name, "$")
        if name == "" or value is None:
            return "$"
        return (("%" + fmt[1:]) % value) if fmt else str(value)

    return re.sub(r"\$(\w*)(%0\d+d)?\$", replace, pattern)


def _seconds(duration: str) -> float:
    match = re.fullmatch(r"PT(?:(\d+)H)?(?:(\d+)M)?(?:([\d.]+)S)?", duration)
    assert match, duration
    hours, minutes, seconds = match.groups()
    return int(hours or 0) * 3600 + int(minutes or 0) * 60 + float(seconds or 0)
