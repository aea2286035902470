"""The video library on the real local stack: videos/{video_id} records and their objects under
videos/{video_id}/, read checks, update_video, delete_video and the scrubbing previews."""

from __future__ import annotations

import io
import itertools
import json
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
import requests
from PIL import Image

from mediajobs import cloud
from mediajobs.cli import client
from tests.integration.test_video import make_video, put, start

ROOT = Path(__file__).resolve().parents[2]
CUE = re.compile(r"^(\d\d):(\d\d):(\d\d)\.(\d{3}) --> (\d\d):(\d\d):(\d\d)\.(\d{3})$")


def record(video_id: str) -> dict[str, Any] | None:
    snapshot = cloud.db().document(f"videos/{video_id}").get()
    return snapshot.to_dict() if snapshot.exists else None


def objects(video_id: str) -> list[str]:
    return sorted(b.name for b in cloud.bucket().list_blobs(prefix=f"videos/{video_id}/"))


def refused(name: str, data: dict[str, Any], who: client.User) -> str:
    with pytest.raises(client.CallableError) as error:
        client.call(name, data, who.id_token)
    return error.value.status


def seconds(match: re.Match[str], first: int) -> float:
    h, m, s, ms = (int(match.group(i)) for i in range(first, first + 4))
    return h * 3600 + m * 60 + s + ms / 1000


def test_no_lifecycle_rule_expires_the_library() -> None:
    rules = json.loads((ROOT / "storage.lifecycle.json").read_text())["rule"]
    prefixes = [p for rule in rules for p in rule["condition"].get("matchesPrefix", [])]
    assert prefixes and not any("videos/".startswith(p) or p.startswith("videos") for p in prefixes), prefixes
    assert all("matchesPrefix" in r["condition"] for r in rules if r["action"]["type"] == "Delete")


def test_a_processed_video_is_a_library_video_its_owner_reads(new_user: Callable[..., client.User]) -> None:
    owner, stranger = new_user(), new_user()
    data = make_video(4)
    source = put(owner, "holiday.mp4", data)
    job = client.call(
        "start_job",
        {"type": "video_process", "input": {"path": source, "title": "Holiday"}, "options": {"renditions": [360, 720]}},
        owner.id_token,
    )
    video_id = str(job["job_id"])
    final, _ = client.watch_job(video_id, timeout=600)
    assert final["status"] == "completed", final

    result = final["result"]
    assert result["video_id"] == video_id
    doc = record(video_id)
    assert doc is not None
    assert (doc["owner_uid"], doc["title"], doc["source"], doc["status"]) == (owner.uid, "Holiday", source, "ready")
    assert doc["public"] is False and doc["job_id"] == video_id and doc["size_bytes"] == len(data)
    assert abs(doc["duration_seconds"] - 4) <= 0.2 and (doc["width"], doc["height"]) == (1280, 720)
    assert [r["height"] for r in doc["renditions"]] == [360, 720] and len(doc["thumbnails"]) == 3
    assert doc["created_at"] <= doc["updated_at"]
    # the job's result keeps its shape, its paths under videos/{video_id}/, like the record's
    preview = doc["preview"]
    paths = [*doc["thumbnails"], doc["poster"], doc["mobile_path"], doc["hls_master_path"], doc["dash_manifest_path"],
             *(r["path"] for r in doc["renditions"]), preview["sprite_path"], preview["vtt_path"]]  # fmt: skip
    assert all(p.startswith(f"videos/{video_id}/") for p in paths), paths
    assert doc["hls_master_path"] == result["hls_master_path"] and doc["renditions"] == result["renditions"]
    stored = objects(video_id)
    assert set(paths) <= set(stored)
    assert any(n.endswith(".m4s") for n in stored)
    assert list(cloud.bucket().list_blobs(prefix=f"jobs/{video_id}/")) == []

    # the owner gets URLs (and a stream); another user is refused until the video is public
    urls = client.call("download_url", {"paths": [doc["mobile_path"], doc["hls_master_path"]]}, owner.id_token)["urls"]
    assert requests.get(urls[doc["mobile_path"]], timeout=30).content[4:8] == b"ftyp"
    master = requests.get(urls[doc["hls_master_path"]], timeout=30)
    assert master.status_code == 200 and "#EXT-X-STREAM-INF" in master.text
    assert refused("download_url", {"paths": [doc["mobile_path"]]}, stranger) == "NOT_FOUND"
    assert refused("update_video", {"video_id": video_id, "public": True}, stranger) == "NOT_FOUND"
    assert refused("update_video", {"video_id": video_id, "title": ""}, owner) == "INVALID_ARGUMENT"
    client.call("update_video", {"video_id": video_id, "public": True, "title": "Summer"}, owner.id_token)
    doc = record(video_id)
    assert doc is not None and (doc["public"], doc["title"]) == (True, "Summer")
    assert client.call("download_url", {"paths": [doc["poster"]]}, stranger.id_token)["urls"][doc["poster"]]

    check_previews(doc, owner)


def check_previews(doc: dict[str, Any], owner: client.User) -> None:
    """The sprite is as large as its layout says, and every cue of its WebVTT track names a tile
    inside it, the cues covering the video in order."""
    preview = doc["preview"]
    sprite = Image.open(io.BytesIO(cloud.bucket().blob(preview["sprite_path"]).download_as_bytes()))
    assert sprite.format == "JPEG"
    width, height = sprite.size
    assert (width, height) == (preview["columns"] * preview["tile_width"], preview["rows"] * preview["tile_height"])
    track = cloud.bucket().blob(preview["vtt_path"]).download_as_text()
    lines = track.splitlines()
    assert lines[0] == "WEBVTT"
    cues = []
    for index, line in enumerate(lines):
        if (match := CUE.match(line)) is not None:
            target = lines[index + 1]
            name, xywh = target.split("#xywh=")
            x, y, w, h = (int(v) for v in xywh.split(","))
            assert name == "previews.jpg"
            assert x >= 0 and y >= 0 and w > 0 and h > 0 and x + w <= width and y + h <= height, target
            cues.append((seconds(match, 1), seconds(match, 5)))
    assert len(cues) == preview["count"] >= 4
    assert cues[0][0] == 0 and all(a[1] == b[0] for a, b in itertools.pairwise(cues))
    assert abs(cues[-1][1] - doc["duration_seconds"]) <= 0.01
    # served through `stream`: the cues' relative sprite URL resolves under the same token
    url = client.call("download_url", {"paths": [preview["vtt_path"]]}, owner.id_token)["urls"][preview["vtt_path"]]
    served = requests.get(url, timeout=30)
    assert served.status_code == 200 and served.headers["Content-Type"].startswith("text/vtt")
    image = requests.get(url.rsplit("/", 1)[0] + "/previews.jpg", timeout=30)
    assert image.status_code == 200 and image.content[:2] == b"\xff\xd8"


def test_delete_video_removes_the_record_and_every_object(new_user: Callable[..., client.User]) -> None:
    owner, stranger = new_user(), new_user()
    video_id = start(owner, put(owner, "short.mp4", make_video(2, size="320x240")), renditions=[240], thumbnails=1)
    final, _ = client.watch_job(video_id, timeout=300)
    assert final["status"] == "completed", final
    poster = final["result"]["poster"]
    assert objects(video_id) and record(video_id) is not None

    assert refused("delete_video", {"video_id": video_id}, stranger) == "NOT_FOUND"
    assert client.call("delete_video", {"video_id": video_id}, owner.id_token) == {"video_id": video_id}
    assert record(video_id) is None and objects(video_id) == []
    assert refused("download_url", {"paths": [poster]}, owner) == "NOT_FOUND"
    assert refused("delete_video", {"video_id": video_id}, owner) == "NOT_FOUND"


def test_delete_video_while_processing_cancels_its_job(user: client.User) -> None:
    video_id = start(user, put(user, "long.mp4", make_video(20, size="1280x720")), renditions=[720], thumbnails=0)
    deadline = time.monotonic() + 120
    while (doc := record(video_id)) is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert doc is not None and doc["status"] == "processing"

    client.call("delete_video", {"video_id": video_id}, user.id_token)
    final, _ = client.watch_job(video_id, timeout=600)
    assert final["status"] == "cancelled", final
    assert record(video_id) is None and objects(video_id) == []


def test_a_video_that_fails_is_recorded_as_failed(user: client.User) -> None:
    video_id = start(user, put(user, "notes.mp4", b"not a video at all\n" * 50))
    final, _ = client.watch_job(video_id, timeout=300)
    assert final["status"] == "failed"
    doc = record(video_id)
    assert doc is not None and doc["status"] == "failed" and doc["error"]["code"] == "not-a-video"
    assert objects(video_id) == []


VTT = "WEBVTT\n\n00:00.000 --> 00:01.000\nHello\n\n00:01.000 --> 00:02.000\nWorld\n"


def test_captions_are_hls_subtitles_of_a_library_video(new_user: Callable[..., client.User]) -> None:
    owner, stranger = new_user(), new_user()
    video_id = start(owner, put(owner, "talk.mp4", make_video(2, size="320x240")), renditions=[240], thumbnails=0)
    final, _ = client.watch_job(video_id, timeout=300)
    assert final["status"] == "completed", final
    master_path = final["result"]["hls_master_path"]

    for bad in ("hello", "WEBVTT\n\n00:03.000 --> 00:02.000\nx\n", "WEBVTT\n\nno cues\n", "WEBVTT\n" + "x" * 300_000):
        assert refused("set_caption", {"video_id": video_id, "language": "en", "vtt": bad}, owner) == "INVALID_ARGUMENT"
    assert refused("set_caption", {"video_id": video_id, "language": "en", "vtt": VTT}, stranger) == "NOT_FOUND"
    for language, label in (("en", "English"), ("pt-BR", "Português")):
        client.call("set_caption", {"video_id": video_id, "language": language, "label": label, "vtt": VTT},
                    owner.id_token)  # fmt: skip
    doc = record(video_id)
    assert doc is not None and set(doc["captions"]) == {"en", "pt-BR"}
    assert doc["captions"]["en"] == {"path": f"videos/{video_id}/stream/captions/en.vtt", "label": "English"}
    assert cloud.bucket().blob(doc["captions"]["en"]["path"]).download_as_text() == VTT

    # a player given the master finds both subtitle renditions and their WebVTT through `stream`
    url = client.call("download_url", {"paths": [master_path]}, owner.id_token)["urls"][master_path]
    master = requests.get(url, timeout=30).text
    subtitles = [line for line in master.splitlines() if "TYPE=SUBTITLES" in line]
    assert len(subtitles) == 2 and 'LANGUAGE="pt-BR"' in master and 'NAME="English"' in master
    assert all('SUBTITLES="subs"' in line for line in master.splitlines() if line.startswith("#EXT-X-STREAM-INF"))
    base = url.rsplit("/", 1)[0]
    playlist = requests.get(f"{base}/captions/en.m3u8", timeout=30).text
    assert playlist.startswith("#EXTM3U") and "en.vtt" in playlist and "#EXT-X-ENDLIST" in playlist
    served = requests.get(f"{base}/captions/en.vtt", timeout=30)
    assert served.headers["Content-Type"].startswith("text/vtt") and served.text == VTT
    mpd_path = final["result"]["dash_manifest_path"]
    assert text_tracks(mpd_path) == {"en": "captions/en.vtt", "pt-BR": "captions/pt-BR.vtt"}

    client.call("set_caption", {"video_id": video_id, "language": "en", "vtt": None}, owner.id_token)
    doc = record(video_id)
    assert doc is not None and set(doc["captions"]) == {"pt-BR"}
    master = cloud.bucket().blob(master_path).download_as_text()
    assert master.count("TYPE=SUBTITLES") == 1 and 'LANGUAGE="en"' not in master
    assert not cloud.bucket().blob(f"videos/{video_id}/stream/captions/en.vtt").exists()
    assert text_tracks(mpd_path) == {"pt-BR": "captions/pt-BR.vtt"}


def text_tracks(mpd_path: str) -> dict[str, str]:
    """language -> BaseURL of the manifest's WebVTT adaptation sets (the manifest must parse)."""
    ns = {"d": "urn:mpeg:dash:schema:mpd:2011"}
    root = ElementTree.fromstring(cloud.bucket().blob(mpd_path).download_as_bytes())
    sets = root.findall("d:Period/d:AdaptationSet[@mimeType='text/vtt']", ns)
    return {str(s.get("lang")): str(s.findtext("d:Representation/d:BaseURL", namespaces=ns)) for s in sets}
