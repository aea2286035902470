"""Photo ingestion and decoding on hostile inputs, without the stack."""

from __future__ import annotations

import io
import random
import tracemalloc
import zipfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from mediajobs.photos import ingest
from mediajobs.photos.processing import PhotoError, decode, encode, square_around
from mediajobs.photos.upload import sniff
from tests import photo_fixtures as fx


def test_mixed_zip_yields_its_images_and_skips_the_rest_with_reasons() -> None:
    images, skipped = ingest.expand_zip("users/u/a.zip", fx.mixed_zip(12))
    assert len(images) == 12
    assert all("/" not in image.name and not image.name.startswith(".") for image in images)
    assert "evil.png" in {image.name for image in images}
    assert {(s.entry, s.reason) for s in skipped} == {
        ("notes.txt", "not-an-image"),
        (".DS_Store", "hidden-file"),
        ("more.zip", "nested-archive"),
    }


def test_zip_bomb_corrupt_and_encrypted_archives_are_refused() -> None:
    with pytest.raises(ingest.ArchiveRefused) as bomb:
        ingest.expand_zip("b.zip", fx.zip_bomb())
    assert bomb.value.code == "zip-bomb"
    with pytest.raises(ingest.ArchiveRefused) as corrupt:
        ingest.expand_zip("c.zip", b"PK\x03\x04 not really")
    assert corrupt.value.code == "corrupt-archive"
    encrypted = bytearray(fx.mixed_zip(1))
    # Set the "encrypted" flag bit in every central directory header.
    start = 0
    while (at := encrypted.find(b"PK\x01\x02", start)) != -1:
        encrypted[at + 8] |= 0x1
        start = at + 4
    with pytest.raises(ingest.ArchiveRefused) as locked:
        ingest.expand_zip("e.zip", bytes(encrypted))
    assert locked.value.code == "encrypted-archive"


def test_too_many_entries_are_refused() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for index in range(ingest.MAX_ENTRIES + 1):
            archive.writestr(f"{index}.txt", b"")
    with pytest.raises(ingest.ArchiveRefused) as raised:
        ingest.expand_zip("many.zip", buffer.getvalue())
    assert raised.value.code == "too-many-entries"


@settings(max_examples=50, deadline=None)
@given(
    st.lists(
        st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), min_size=1, max_size=40),
        min_size=1,
        max_size=8,
        unique=True,
    )
)
def test_any_entry_names_never_escape(names: list[str]) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            archive.writestr(name + ".png", b"\x89PNG\r\n\x1a\n")
    images, _ = ingest.expand_zip("x.zip", buffer.getvalue())
    for image in images:
        assert "/" not in image.name and "\\" not in image.name and image.name not in {".", ".."}


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "empty-file"),
        (b"hello, not an image", "unsupported-format"),
        (fx.decompression_bomb_png(), "decompression-bomb"),
        (fx.photo("astronaut")[:5000], "truncated-image"),
    ],
)
def test_undecodable_images_give_clear_codes(data: bytes, code: str) -> None:
    with pytest.raises(PhotoError) as raised:
        decode(data, "x")
    assert raised.value.code == code
    assert raised.value.message.startswith("x ")


@pytest.mark.parametrize("mode", ["CMYK", "P", "I;16", "LA", "L", "RGBA"])
def test_any_image_mode_decodes_to_rgb_or_rgba(mode: str) -> None:
    buffer = io.BytesIO()
    image = Image.new(mode, (40, 30))
    image.save(buffer, "TIFF" if mode in ("CMYK", "I;16") else "PNG")
    decoded = decode(buffer.getvalue(), "m")
    assert decoded.mode in ("RGB", "RGBA") and decoded.size == (40, 30)


@pytest.mark.parametrize("mode", ["RGBA", "RGB", "L"])
def test_png_outputs_are_lossless_in_every_mode(mode: str) -> None:
    rng = random.Random(mode)
    pixels = bytes(rng.randrange(256) for _ in range(37 * 23 * len(mode)))
    image = Image.frombytes(mode, (37, 23), pixels)
    encoded = encode(image, "png")
    assert encoded.startswith(b"\x89PNG")
    back = Image.open(io.BytesIO(encoded))
    assert back.mode == mode and back.tobytes() == image.tobytes()


def test_exif_orientation_is_applied() -> None:
    image = Image.new("RGB", (60, 20), (255, 0, 0))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise on display
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif)
    assert decode(buffer.getvalue(), "r").size == (20, 60)


def test_square_around_stays_inside_the_image() -> None:
    image = Image.new("RGB", (100, 80))
    left, top, right, bottom = square_around(image, (80, 60, 30, 30), margin=0.5)
    assert right - left == bottom - top
    assert left >= 0 and top >= 0 and right <= 100 and bottom <= 80


def test_sniff_trusts_bytes_not_names() -> None:
    assert sniff(fx.photo("coffee")) == "image/jpeg"
    assert sniff(fx.photo("coffee", "PNG")) == "image/png"
    assert sniff(fx.mixed_zip(1)) == "application/zip"
    assert sniff(b"GIF89a...") == "image/gif"
    assert sniff(b"plain text") is None


def test_small_entries_that_expand_too_much_are_a_zip_bomb() -> None:
    """340 KB that would expand to 300 MiB: no entry is exempt from the ratio check for being small."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for index in range(300):
            archive.writestr(f"{index}.png", bytes(1024 * 1024))
    assert len(buffer.getvalue()) < 400 * 1024

    with pytest.raises(ingest.ArchiveRefused) as raised:
        ingest.expand_zip("small-bombs.zip", buffer.getvalue())

    assert raised.value.code == "zip-bomb" and "expands" in raised.value.message


def test_a_whole_archive_that_claims_more_than_its_ratio_is_refused() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("a.png", fx.photo("coffee", "PNG", size=(64, 64)))
    with pytest.raises(ingest.ArchiveRefused) as raised:
        ingest.CheckedZip("claims.zip", io.BytesIO(buffer.getvalue()), archive_size=10)
    assert raised.value.code == "zip-bomb" and "as a whole" in raised.value.message


class Sink(io.RawIOBase):
    def __init__(self) -> None:
        super().__init__()
        self.total = 0
        self.largest_write = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self.total += len(data)
        self.largest_write = max(self.largest_write, len(data))
        return len(data)


def test_entries_are_copied_out_in_bounded_memory(tmp_path: Path) -> None:
    """A 24 MB entry read from a file (as from Storage's ranged reader) never sits in memory whole."""
    big = random.Random(7).randbytes(24 * 1024 * 1024)
    archive_path = tmp_path / "big.zip"
    with zipfile.ZipFile(archive_path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("big.png", big)
        archive.writestr("small.jpg", fx.photo("coffee", size=(64, 64)))
    del big
    sink = Sink()

    tracemalloc.start()
    try:
        with archive_path.open("rb") as file:
            checked = ingest.CheckedZip("big.zip", file, archive_path.stat().st_size)
            for image in checked.images:
                checked.copy(image, sink)  # type: ignore[arg-type]
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    assert [image.entry for image in checked.images] == ["big.png", "small.jpg"]
    assert sink.total > 24 * 1024 * 1024 and sink.largest_write <= ingest.COPY_CHUNK
    assert peak < 6 * 1024 * 1024, peak


@pytest.mark.parametrize(
    ("name", "head", "archive"),
    [
        ("x.png", b"PK\x03\x04\x14\x00\x00\x00", True),  # a ZIP named like an image
        ("x.jpg", b"\x1f\x8b\x08\x00", True),  # gzip
        ("x.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\r", False),
        ("x.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF", False),
        ("x.zip", b"\xff\xd8\xff\xe0\x00\x10JFIF", True),  # the name alone is enough to send it to the plan task
        ("x.png", b"", True),  # missing or unreadable: the plan task looks at it
    ],
)
def test_the_inline_plan_decision_sniffs_the_bytes(name: str, head: bytes, archive: bool) -> None:
    assert ingest.any_archive([("plain.jpg", b"\xff\xd8\xff\xe0"), (name, head)]) is archive
