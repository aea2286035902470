"""What this system holds for one signed-in user: their documents and their Storage objects.

Found strictly by ownership: their own folders (`users/{uid}/`, `uploads/{uid}/`), the outputs
of every job they own (`jobs/{job_id}/`), their projects (`projects/{project_id}/`, with
scenes and moods) and their library videos (`videos/{video_id}/`). Prefixes end in "/", so
another user whose id starts with theirs is never included.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from typing import Any

from mediajobs import cloud, storage_paths
from mediajobs.exports.archive import SourceFile
from mediajobs.names import safe_filename

OWN_EXPORT_TYPE = "my_data"  # earlier data exports are not exported again (archives of archives)
# Jobs that are not about their owner: an admin's media_export lists other people's emails and
# archives. They stay out of the owner's data.
ABOUT_OTHERS = ("media_export",)


@dataclasses.dataclass
class Holdings:
    uid: str
    documents: dict[str, list[dict[str, Any]]]  # "jobs", "projects", "videos"
    files: list[SourceFile]


def holdings_of(uid: str, *, skip_job: str | None = None) -> Holdings:
    db = cloud.db()
    prefixes = list(storage_paths.owner_prefixes(uid))
    jobs = []
    for snap in db.collection("jobs").where("owner_uid", "==", uid).stream():
        data = snap.to_dict() or {}
        if snap.id == skip_job or data.get("type") in (OWN_EXPORT_TYPE, *ABOUT_OTHERS):
            continue
        jobs.append({"id": snap.id, **data})
        prefixes.append(f"jobs/{snap.id}/")
    projects = []
    for snap in db.collection("projects").where("user_id", "==", uid).stream():
        scenes = [{"id": s.id, **(s.to_dict() or {})} for s in snap.reference.collection("scenes").stream()]
        moods = [{"id": m.id, **(m.to_dict() or {})} for m in snap.reference.collection("moods").stream()]
        projects.append({"id": snap.id, **(snap.to_dict() or {}), "scenes": scenes, "moods": moods})
        prefixes.append(f"projects/{snap.id}/")
    videos = []
    for snap in db.collection("videos").where("owner_uid", "==", uid).stream():
        videos.append({"id": snap.id, **(snap.to_dict() or {})})
        prefixes.append(f"videos/{snap.id}/")
    files = [f for prefix in dict.fromkeys(prefixes) for f in _objects_under(prefix)]
    return Holdings(uid, {"jobs": jobs, "projects": projects, "videos": videos}, files)


def _objects_under(prefix: str) -> list[SourceFile]:
    files = []
    for blob in cloud.bucket().list_blobs(prefix=prefix):
        parts = storage_paths.segments(blob.name)
        if parts is None or len(parts) < 2:  # not a plain path: it could not be named safely
            continue
        folder = "/".join(safe_filename(p, fallback="folder") for p in parts[:-1])
        files.append(
            SourceFile(
                id=blob.name,
                kind=folder,
                source_path=blob.name,
                filename=parts[-1],
                content_type=blob.content_type or "application/octet-stream",
                expected_size=blob.size,
            )
        )
    return files


def index_json(holdings: Holdings, job_id: str, exported_at: dt.datetime) -> bytes:
    """`my_data.json`: every document this system holds for the user, and every object listed."""
    index = {
        "job_id": job_id,
        "uid": holdings.uid,
        "exported_at": exported_at.isoformat(),
        "about": "Your data in this media service (GDPR Art. 20): your jobs, projects with their scenes "
        "and moods, library videos, and every stored file; the files are in this archive and its "
        "other parts, each part's manifest.json lists them with their sha256.",
        **holdings.documents,
        "objects": [
            {"path": f.source_path, "size": f.expected_size, "content_type": f.content_type} for f in holdings.files
        ],
    }
    return json.dumps(index, indent=2, ensure_ascii=False, default=_plain).encode()


def _plain(value: object) -> object:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    path = getattr(value, "path", None)  # a DocumentReference
    return path if isinstance(path, str) else str(value)
