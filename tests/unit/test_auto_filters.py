"""Processing on upload, the pure parts: every preset is valid photo_batch options, and the
filters take images under users/{uid}/auto/{preset}/ and nothing else (outputs above all)."""

from __future__ import annotations

import datetime as dt

import pytest

from mediajobs.photos.auto import filters
from mediajobs.photos.auto.presets import PRESETS
from mediajobs.photos.options import PhotoOptions
from tools import storage_events


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_is_valid_photo_options(name: str) -> None:
    options = PhotoOptions.model_validate(PRESETS[name].options)
    assert options.extension in ("png", "jpg", "webp")


def test_an_image_under_a_preset_folder_is_taken() -> None:
    found = filters.takes("users/u1/auto/web-512/shots/a.png", "image/png", 10, None)
    assert found == filters.Upload(uid="u1", preset="web-512", relative="shots/a.png")
    assert filters.output_path(found, "jpg") == "users/u1/auto-out/web-512/shots/a.jpg"


@pytest.mark.parametrize(
    ("name", "content_type", "size", "metadata", "reason"),
    [
        ("users/u1/auto-out/web-512/a.jpg", "image/jpeg", 10, None, "own-output"),
        ("users/u1/auto/web-512/a.png", "image/png", 10, {filters.OUTPUT_MARKER: "true"}, "own-output"),
        ("jobs/j1/outputs/a.png", "image/png", 10, None, "not-watched"),
        ("users/u1/photos/a.png", "image/png", 10, None, "not-watched"),
        ("users/u1/auto/a.png", "image/png", 10, None, "not-watched"),  # no preset folder
        ("users/u1/auto/nope/a.png", "image/png", 10, None, "unknown-preset"),
        ("users/u1/auto/web-512/.hidden.png", "image/png", 10, None, "hidden-file"),
        ("users/u1/auto/web-512/a.gif", "image/gif", 10, None, "not-an-image"),
        ("users/u1/auto/web-512/a.svg", "image/svg+xml", 10, None, "not-an-image"),
        ("users/u1/auto/web-512/a.png", None, 10, None, "not-an-image"),
        ("users/u1/auto/web-512/a.png", "image/png", 0, None, "empty"),
        ("users/u1/auto/web-512/a.png", "image/png", filters.MAX_BYTES + 1, None, "too-large"),
        ("users/u1/auto/web-512/../x.png", "image/png", 10, None, "not-plain"),
    ],
)
def test_everything_else_is_left_alone_with_its_reason(
    name: str, content_type: str | None, size: int, metadata: dict[str, str] | None, reason: str
) -> None:
    found = filters.takes(name, content_type, size, metadata)
    assert isinstance(found, filters.Skip) and found.reason == reason, found


def test_the_relay_turns_a_pubsub_publish_into_the_storage_cloud_event() -> None:
    data = b'{"kind":"storage#object","name":"users/u/auto/web-512/a.png","bucket":"b","generation":7,"size":"3"}'
    attributes = {"eventType": "OBJECT_FINALIZE", "objectGeneration": "7", "bucketId": "b"}

    def field(number: int, payload: bytes) -> bytes:
        size, length = len(payload), b""
        while size >= 0x80:
            length, size = length + bytes([size & 0x7F | 0x80]), size >> 7
        return bytes([number << 3 | 2]) + length + bytes([size]) + payload

    entries = b"".join(field(2, field(1, k.encode()) + field(2, v.encode())) for k, v in attributes.items())
    request = field(1, b"projects/p/topics/t") + field(2, field(1, data) + entries)
    [(payload, attrs)] = storage_events.messages(request)
    assert payload == data and attrs == attributes
    event = storage_events.cloud_event(payload, attrs)
    assert event is not None and event["type"] == "google.cloud.storage.object.v1.finalized"
    assert event["data"]["generation"] == "7" and event["data"]["metageneration"] == "1"
    assert event["subject"] == "objects/users/u/auto/web-512/a.png"
    dt.datetime.strptime(event["time"], "%Y-%m-%dT%H:%M:%S.%f%z")  # the form firebase-functions parses
    assert storage_events.cloud_event(payload, {**attrs, "eventType": "OBJECT_DELETE"}) is None
    assert list(storage_events.fields(storage_events.publish_response(2)))[1][0] == 1
