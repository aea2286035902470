"""Seeds `email_users`, `images`, `voices` and Storage objects the way the old client wrote them."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import random
import urllib.parse
import uuid
from typing import Any

from mediajobs import cloud


@dataclasses.dataclass
class SeededFile:
    id: str
    kind: str
    path: str
    filename: str
    data: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclasses.dataclass
class SeededUser:
    id: str
    email: str | None
    files: list[SeededFile] = dataclasses.field(default_factory=list)  # what the archive must hold
    expected_errors: set[str] = dataclasses.field(default_factory=set)  # codes of per-file errors


def metadata(style: str, path: str, filename: str, content_type: str, size: int) -> dict[str, Any]:
    """A metadata document as one of the old clients wrote it.

    snake: storage_path; camel: storagePath, fileName, contentType; gs: a gs:// URL;
    url: a Firebase download URL; emulator-url: the same on the Storage emulator's host."""
    bucket = cloud.bucket().name
    if style == "snake":
        return {"storage_path": path, "filename": filename, "content_type": content_type, "size": size}
    camel = {"fileName": filename, "contentType": content_type, "size": size}
    if style == "camel":
        return {"storagePath": path, **camel}
    if style == "gs":
        return {"storagePath": f"gs://{bucket}/{path}", **camel}
    encoded = urllib.parse.quote(path, safe="")
    host = "https://firebasestorage.googleapis.com"
    if style == "emulator-url":
        host = os.environ["STORAGE_EMULATOR_HOST"].rstrip("/")
    return {"downloadURL": f"{host}/v0/b/{bucket}/o/{encoded}?alt=media&token={uuid.uuid4()}", **camel}


def add_file(
    user: SeededUser,
    kind: str,
    filename: str,
    data: bytes,
    *,
    upload: bool = True,
    style: str = "snake",
    claimed_size: int | None = None,
) -> SeededFile:
    file_id = f"{kind[:-1]}-{uuid.uuid4().hex[:12]}"
    path = f"uploads/{user.id}/{kind}/{file_id}"
    content_type = "image/jpeg" if kind == "images" else "audio/wav"
    size = len(data) if claimed_size is None else claimed_size
    document = metadata(style, path, filename, content_type, size)
    cloud.db().collection(kind).document(file_id).set({**document, "email": user.email})
    if upload:
        cloud.bucket().blob(path).upload_from_string(data, content_type=content_type)
    seeded = SeededFile(file_id, kind, path, filename, data)
    return seeded


def save_user(user: SeededUser, extra: dict[str, Any] | None = None) -> None:
    doc: dict[str, Any] = {
        "imageIds": [f.id for f in user.files if f.kind == "images"],
        "voiceIds": [f.id for f in user.files if f.kind == "voices"],
    }
    if user.email is not None:
        doc["email"] = user.email
    doc.update(extra or {})
    cloud.db().collection("email_users").document(user.id).set(doc)


def seed_users(count: int, seed: int = 7, prefix: str | None = None) -> list[SeededUser]:
    """`count` ordinary users with 0-6 files each (random bytes of 0.1-200 KB)."""
    rng = random.Random(seed)
    prefix = prefix or uuid.uuid4().hex[:8]
    users = []
    for index in range(count):
        user = SeededUser(id=f"{prefix}-u{index:03d}", email=f"User.{index}+{prefix}@Example.com")
        for _ in range(rng.randint(0, 6)):
            kind = rng.choice(["images", "voices"])
            ext = ".jpg" if kind == "images" else ".wav"
            data = rng.randbytes(rng.randint(100, 200_000))
            user.files.append(add_file(user, kind, f"file-{rng.randint(0, 3)}{ext}", data))
        save_user(user)
        users.append(user)
    return users
