"""File names made safe and unique: the helpers every kind may use when it names what it writes
(archive entries, outputs, extracted files). Plain functions; nothing here knows Firebase."""

from __future__ import annotations

import posixpath
import re
import unicodedata

MAX_NAME_LENGTH = 120
MAX_NAME_BYTES = 200  # file systems hold 255 bytes per name; leaves room for a " (2)" suffix

_UNSAFE = re.compile(r"[^\w.\- ()+@]+")


def safe_filename(name: object, fallback: str) -> str:
    """A file name that cannot escape its folder or confuse an unzip tool."""
    text = unicodedata.normalize("NFC", name if isinstance(name, str) else "")
    text = posixpath.basename(text.replace("\\", "/"))  # drop any directory part
    text = _UNSAFE.sub("_", text).strip(" .")
    if not text or set(text) <= {"_"}:
        text = _UNSAFE.sub("_", unicodedata.normalize("NFC", fallback)).strip(" .") or "file"
    if len(text) > MAX_NAME_LENGTH or len(text.encode("utf-8")) > MAX_NAME_BYTES:
        stem, ext = posixpath.splitext(text)
        ext = ext[:16]
        stem = stem[: MAX_NAME_LENGTH - len(ext)]
        while len((stem + ext).encode("utf-8")) > MAX_NAME_BYTES:  # 120 CJK characters are 360 bytes
            stem = stem[:-1]
        text = stem + ext
    return text


def safe_email(email: str) -> str:
    """The archive's file name for a user: the email, lower-cased, with only safe characters."""
    text = re.sub(r"[^a-z0-9@._+-]+", "_", email.strip().lower()).strip("._")
    return text[:MAX_NAME_LENGTH] or "unknown"


class UniqueNames:
    """Resolves name collisions inside an archive without overwriting: `a.jpg`, `a (2).jpg`..."""

    def __init__(self) -> None:
        self._taken: set[str] = {"manifest.json"}

    def claim(self, folder: str, filename: str) -> str:
        stem, ext = posixpath.splitext(filename)
        candidate = f"{folder}/{filename}"
        counter = 2
        while candidate.lower() in self._taken:
            candidate = f"{folder}/{stem} ({counter}){ext}"
            counter += 1
        self._taken.add(candidate.lower())
        return candidate

    def reserve(self, name: str) -> None:
        """Marks `name` (as `claim` returned it, e.g. in an earlier part of an archive) as taken."""
        self._taken.add(name.lower())
