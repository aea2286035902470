"""Captions of a library video: WebVTT files its owner attaches, one per language, played as
HLS subtitle renditions and DASH text adaptation sets.

    videos/{video_id}/stream/captions/{language}.vtt    the file as given (validated, capped)
    videos/{video_id}/stream/captions/{language}.m3u8   its one-segment subtitle playlist

The master playlist (`stream/master.m3u8`) is rewritten from the record's `captions` after each
change: an `#EXT-X-MEDIA:TYPE=SUBTITLES` per language and `SUBTITLES="subs"` on every variant;
so is the DASH manifest (`stream/manifest.mpd`): a `text/vtt` adaptation set per language.
The pure parts (validation, playlists) know nothing of Firebase; `set_caption` is the callable.
"""

from __future__ import annotations

import math
import re
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import pydantic
from firebase_functions import https_fn, logger

from mediajobs import cloud
from mediajobs.jobs.api import Code, caller_of, parse
from mediajobs.validation import StrictModel

MAX_CAPTION_BYTES = 256 * 1024
MAX_LANGUAGES = 20
GROUP = "subs"
_HEADER = re.compile(r"^\ufeff?WEBVTT(?:[ \t][^\n]*)?$")
_TIMING = re.compile(
    r"^(?:(\d{2,}):)?([0-5]\d):([0-5]\d)\.(\d{3})[ \t]+-->[ \t]+(?:(\d{2,}):)?([0-5]\d):([0-5]\d)\.(\d{3})(?:[ \t].*)?$"
)
_TEXT_SETS = re.compile(r'    <AdaptationSet [^>]*contentType="text".*?</AdaptationSet>\n', re.DOTALL)
LANGUAGE = r"^[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$"


class CaptionError(ValueError):
    """The file is not WebVTT a player accepts; the message says where."""


class SetCaption(StrictModel):
    video_id: str = pydantic.Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_-]+$")
    language: str = pydantic.Field(min_length=2, max_length=35, pattern=LANGUAGE, description="BCP 47, e.g. en, pt-BR")
    label: str | None = pydantic.Field(default=None, min_length=1, max_length=100, description="Default: the language")
    vtt: str | None = pydantic.Field(
        default=None, description="The WebVTT text (at most 256 KiB as UTF-8); null removes the language's captions."
    )


def _seconds(groups: tuple[str | None, ...]) -> float:
    hours, minutes, secs, millis = groups
    return int(hours or 0) * 3600 + int(minutes or 0) * 60 + int(secs or 0) + int(millis or 0) / 1000


def validate_vtt(text: str) -> int:
    """Checks a WebVTT file (header, every cue timing line, start <= end); the number of cues."""
    if len(text.encode("utf-8")) > MAX_CAPTION_BYTES:
        raise CaptionError(f"The captions are over {MAX_CAPTION_BYTES // 1024} KiB.")
    if "\x00" in text:
        raise CaptionError("The captions contain NUL characters.")
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if not _HEADER.match(lines[0]):
        raise CaptionError("Not WebVTT: the file must start with the line WEBVTT.")
    cues = 0
    for number, line in enumerate(lines[1:], start=2):
        if "-->" not in line:
            continue
        match = _TIMING.match(line.strip())
        if match is None:
            raise CaptionError(f"Line {number}: a cue timing must read like 00:01.000 --> 00:04.000.")
        start, end = _seconds(match.groups()[:4]), _seconds(match.groups()[4:])
        if end < start:
            raise CaptionError(f"Line {number}: the cue ends before it starts.")
        cues += 1
    if cues == 0:
        raise CaptionError("The captions have no cue (no line like 00:01.000 --> 00:04.000).")
    return cues


def subtitle_playlist(language: str, duration_seconds: float) -> str:
    """An HLS media playlist of one WebVTT segment: the whole file."""
    duration = max(duration_seconds, 0.001)
    return "\n".join([
        "#EXTM3U", "#EXT-X-VERSION:3", f"#EXT-X-TARGETDURATION:{math.ceil(duration)}", "#EXT-X-MEDIA-SEQUENCE:0",
        "#EXT-X-PLAYLIST-TYPE:VOD", f"#EXTINF:{duration:.3f},", f"{language}.vtt", "#EXT-X-ENDLIST",
    ]) + "\n"  # fmt: skip


def with_subtitles(master: str, captions: dict[str, dict[str, Any]]) -> str:
    """The master playlist with exactly these subtitle renditions (any earlier ones dropped)."""
    lines = [line for line in master.splitlines() if line and "TYPE=SUBTITLES" not in line]
    lines = [re.sub(r',SUBTITLES="[^"]*"', "", line) for line in lines]
    media = [
        f'#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="{GROUP}",NAME="{_quoted(str(c.get("label") or lang))}",'
        f'LANGUAGE="{lang}",DEFAULT=NO,AUTOSELECT=YES,URI="captions/{lang}.m3u8"'
        for lang, c in sorted(captions.items())
    ]
    out: list[str] = []
    for line in lines:
        if line.startswith("#EXT-X-STREAM-INF:") and media:
            if not any(o.startswith("#EXT-X-MEDIA:TYPE=SUBTITLES") for o in out):
                out.extend(media)
            out.append(f'{line},SUBTITLES="{GROUP}"')
            continue
        out.append(line)
    return "\n".join(out) + "\n"


def with_text_tracks(mpd: str, captions: dict[str, dict[str, Any]]) -> str:
    """The DASH manifest with exactly these captions, each a text adaptation set whose one
    representation is the whole WebVTT file (BaseURL relative to stream/)."""
    kept = _TEXT_SETS.sub("", mpd)
    sets = "".join(
        f'    <AdaptationSet id="{100 + index}" contentType="text" mimeType="text/vtt" lang={quoteattr(lang)}>\n'
        f"      <Label>{escape(str(c.get('label') or lang))}</Label>\n"
        f'      <Role schemeIdUri="urn:mpeg:dash:role:2011" value="subtitle"/>\n'
        f'      <Representation id={quoteattr("text-" + lang)} bandwidth="256">\n'
        f"        <BaseURL>{escape(f'captions/{lang}.vtt')}</BaseURL>\n"
        "      </Representation>\n"
        "    </AdaptationSet>\n"
        for index, (lang, c) in enumerate(sorted(captions.items()))
    )
    return rep_once(kept, "  </Period>", sets + "  </Period>")


def rep_once(text: str, anchor: str, replacement: str) -> str:
    at = text.rindex(anchor)
    return text[:at] + replacement + text[at + len(anchor) :]


def _quoted(value: str) -> str:
    return value.replace('"', "'").replace("\n", " ")


# ---------------------------------------------------------------- the callable


def set_caption(req: https_fn.CallableRequest[Any]) -> dict[str, str]:
    """{video_id, language, label?, vtt} adds or replaces a language's captions; vtt null removes them."""
    from mediajobs.video import library

    caller = caller_of(req)
    request = parse(SetCaption, req.data)
    data = library.owned(request.video_id, caller)
    if data.get("status") != library.VideoStatus.READY or not data.get("hls_master_path"):
        raise https_fn.HttpsError(Code.FAILED_PRECONDITION, "Captions go on a ready video with an HLS stream.")
    folder = f"{library.prefix(request.video_id)}stream/captions"
    bucket = cloud.bucket()
    captions = dict(data.get("captions") or {})
    entry: dict[str, Any] | None = None
    if request.vtt is None:
        for suffix in (".vtt", ".m3u8"):
            blob = bucket.blob(f"{folder}/{request.language}{suffix}")
            if blob.exists():
                blob.delete()
    else:
        try:
            validate_vtt(request.vtt)
        except CaptionError as error:
            raise https_fn.HttpsError(Code.INVALID_ARGUMENT, str(error)) from None
        if request.language not in captions and len(captions) >= MAX_LANGUAGES:
            raise https_fn.HttpsError(Code.INVALID_ARGUMENT, f"At most {MAX_LANGUAGES} caption languages.")
        path = f"{folder}/{request.language}.vtt"
        bucket.blob(path).upload_from_string(request.vtt.encode("utf-8"), content_type="text/vtt")
        playlist = subtitle_playlist(request.language, float(data.get("duration_seconds") or 0))
        bucket.blob(f"{folder}/{request.language}.m3u8").upload_from_string(
            playlist, content_type="application/vnd.apple.mpegurl"
        )
        entry = {"path": path, "label": request.label or request.language}
    dash_path = str(data["dash_manifest_path"]) if data.get("dash_manifest_path") else None
    _record_and_write_master(request.video_id, str(data["hls_master_path"]), dash_path, request.language, entry)
    logger.info("captions set", video_id=request.video_id, language=request.language, removed=entry is None)
    return {"video_id": request.video_id}


def _record_and_write_master(
    video_id: str, master_path: str, dash_path: str | None, language: str, entry: dict[str, Any] | None
) -> None:
    """Records this language alone (another language set meanwhile is kept), then rewrites the
    HLS master and the DASH manifest from every language the record holds."""
    from google.cloud import firestore as gfs
    from google.cloud.firestore_v1.field_path import FieldPath

    from mediajobs.video import library

    field = FieldPath("captions", language).to_api_repr()
    if not library.update_existing(video_id, {field: entry if entry is not None else gfs.DELETE_FIELD}):
        raise https_fn.HttpsError(Code.NOT_FOUND, f"Video {video_id} does not exist or is not yours.")
    captions = (library.video_ref(video_id).get().to_dict() or {}).get("captions") or {}
    blob = cloud.bucket().blob(master_path)
    master = with_subtitles(blob.download_as_text(), dict(captions))
    blob.upload_from_string(master, content_type="application/vnd.apple.mpegurl")
    if dash_path:
        mpd = cloud.bucket().blob(dash_path)
        mpd.upload_from_string(
            with_text_tracks(mpd.download_as_text(), dict(captions)), content_type="application/dash+xml"
        )
