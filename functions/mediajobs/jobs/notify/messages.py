"""What a notification says about a job: one title and body for push, a subject, text and HTML
for email, naming the job and how it ended."""

from __future__ import annotations

import dataclasses
import html
from typing import Any

from mediajobs.events import output_paths

MAX_PATHS_LISTED = 20

OUTCOMES = {
    "completed": "completed",
    "failed": "failed",
    "cancelled": "was cancelled",
    "started": "started",
}


@dataclasses.dataclass(frozen=True)
class Notice:
    title: str
    body: str
    paths: list[str]
    error: str | None


def job_title(job_type: str) -> str:
    """`photo_batch` -> `Photo batch`."""
    words = job_type.replace("_", " ").strip()
    return (words[:1].upper() + words[1:]) or "Job"


def notice_of(job_id: str, job: dict[str, Any], event: str) -> Notice:
    title = f"{job_title(str(job.get('type', '')))} {OUTCOMES.get(event, event)}"
    progress = job.get("progress")
    total, done = (progress.get("total"), progress.get("done")) if isinstance(progress, dict) else (None, None)
    parts = [f"Job {job_id} {OUTCOMES.get(event, event)}"]
    if isinstance(total, int) and isinstance(done, int) and total > 0:
        parts.append(f"{done} of {total} items done")
    error = job.get("error") if isinstance(job.get("error"), dict) else None
    reason = f"{error.get('code', 'unknown')}: {error.get('message', '')}".strip(": ") if error else None
    if reason:
        parts.append(reason[:200])
    return Notice(title, ". ".join(parts) + ".", output_paths(job.get("result")), reason)


def email_of(job_id: str, job: dict[str, Any], event: str) -> dict[str, str]:
    """`message` of a Trigger Email document: subject, text and html."""
    notice = notice_of(job_id, job, event)
    listed = notice.paths[:MAX_PATHS_LISTED]
    more = len(notice.paths) - len(listed)
    lines = [notice.body, ""]
    if listed:
        lines += ["Outputs (Storage paths; download them from the dashboard or with download_url):"]
        lines += [f"  {path}" for path in listed]
        if more > 0:
            lines.append(f"  and {more} more")
    text = "\n".join(lines).rstrip() + "\n"
    items = "".join(f"<li><code>{html.escape(path)}</code></li>" for path in listed)
    more_html = f"<li>and {more} more</li>" if more > 0 else ""
    outputs = f"<p>Outputs:</p><ul>{items}{more_html}</ul>" if listed else ""
    body = f"<p>{html.escape(notice.body)}</p>{outputs}"
    return {"subject": notice.title, "text": text, "html": body}
