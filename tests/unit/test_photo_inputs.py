"""Photo ingestion and decoding on hostile inputs, without the stack."""

from __future__ import annotations

import io
import random
import zipfile

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
