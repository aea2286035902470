"""The split-export step of `python -m mediajobs.cli demo`: one user of about 80 MB exported
with the smallest part size the option allows (64 MiB), so the archive comes as two parts,
each a complete ZIP; then the CLI's download joins them into the original folder layout."""

from __future__ import annotations

import hashlib
import random
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mediajobs import cloud
from mediajobs.cli import client

MiB = 1024 * 1024
BIG_FILES = 4  # x 20 MiB: with 64 MiB parts, three go in part 1 and one in part 2
BIG_FILE_BYTES = 20 * MiB


def seed_big_user() -> tuple[str, dict[str, str]]:
    """A user with four 20 MiB camera originals (random bytes: the export never decodes
    them) and a real photo and memo; returns the id and {kind/name: sha256}."""
    from mediajobs.cli.seed import photo_jpeg, voice_wav

    db, bucket = cloud.db(), cloud.bucket()
    user_id = f"demo-big-{uuid.uuid4().hex[:6]}"
    rng = random.Random(user_id)
    files = [(f"original-{n + 1}.jpg", "images", rng.randbytes(BIG_FILE_BYTES)) for n in range(BIG_FILES)]
    files += [("astronaut.jpg", "images", photo_jpeg("astronaut")), ("memo.wav", "voices", voice_wav(2, 220))]
    ids: dict[str, list[str]] = {"images": [], "voices": []}
    for index, (name, kind, data) in enumerate(files):
        file_id = f"{user_id}-{index}"
        path = f"users/{user_id}/{kind}/{file_id}"
        content_type = "audio/wav" if kind == "voices" else "image/jpeg"
        bucket.blob(path).upload_from_string(data, content_type=content_type)
        db.collection(kind).document(file_id).set(
            {"storage_path": path, "filename": name, "content_type": content_type, "size": len(data)}
        )
        ids[kind].append(file_id)
    db.collection("email_users").document(user_id).set(
        {"email": f"{user_id}@example.com", "imageIds": ids["images"], "voiceIds": ids["voices"]}
    )
    return user_id, {f"{kind}/{name}": hashlib.sha256(data).hexdigest() for name, kind, data in files}


def demo_split_export(admin: client.User, watch: Callable[[str], dict[str, Any]]) -> bool:
    """Exports one ~80 MB user in 64 MiB parts, lists the parts and joins them on disk."""
    from mediajobs.cli.download import download_export, sha256_of

    print("\n2b. media_export split like Google Takeout: an 80 MB user, parts of at most 64 MiB, joined on disk")
    user_id, expected = seed_big_user()
    job = client.call(
        "start_job",
        {"type": "media_export", "input": {"user_ids": [user_id]}, "options": {"archive_max_bytes": 64 * MiB}},
        admin.id_token,
    )
    final = watch(job["job_id"])
    if final["status"] != "completed":
        print(f"  error: {final.get('error')}; item errors: {final.get('errors')}")
        return False
    archive = final["result"]["archives"][0]
    for part in archive["parts"]:
        print(
            f"  part {part['number']}/{len(archive['parts'])}: {part['path']}, {part['archive_bytes'] / MiB:.1f} MiB, "
            f"sha256 {part['sha256'][:16]}..., kept until {part['expires_at'][:10]}"
        )
    with tempfile.TemporaryDirectory() as folder:
        summary = download_export(job["job_id"], final, Path(folder), show_progress=False)
        user_dir = Path(folder) / f"{user_id}@example.com"
        on_disk = {
            str(p.relative_to(user_dir)): sha256_of(p)
            for p in user_dir.rglob("*")
            if p.is_file() and p.name != "manifest.json"
        }
        joined = on_disk == expected and not summary.problems
        print(
            f"  `export --download` joined {len(archive['parts'])} parts into {user_dir.name}/images|voices/: "
            f"{summary.written} files, {'every one byte-identical (sha256)' if joined else 'NOT identical'}"
        )
    return joined and len(archive["parts"]) == 2
