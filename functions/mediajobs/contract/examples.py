"""An example of every callable, as data: CONTRACT.md shows them (contract/reference.py) and
tests/integration/test_contract_examples.py runs them in order, as one signed-in user, against
the local stack, checking each answer against the callable's response schema.

`{name}` in a request is a value an earlier step saved (`saves`: response field -> name), or one
the runner provides: `uid` (the caller), and the files it uploads first,
`users/{uid}/examples/photo.png` (an 800x600 PNG) and `users/{uid}/examples/clip.mp4` (a
2-second H.264 video). `wait` names a saved job id to follow to its end before the next step.
"""

from __future__ import annotations

import dataclasses
from typing import Any

PHOTO = "users/{uid}/examples/photo.png"
CLIP = "users/{uid}/examples/clip.mp4"
CAPTIONS = "WEBVTT\n\n00:00.000 --> 00:01.500\nHello from the contract\n"


@dataclasses.dataclass(frozen=True)
class Example:
    callable: str
    title: str
    request: dict[str, Any]
    response: dict[str, Any] | None = None  # what it answers (ids shown as their placeholders)
    error: str | None = None  # or the error code it answers
    saves: dict[str, str] = dataclasses.field(default_factory=dict)
    wait: str | None = None  # a saved job id: the job has ended before the next step
    final_status: str | None = None  # the status `wait` must end in


EXAMPLES: tuple[Example, ...] = (
    Example("webhook_secret", "read my webhook signing secret (created on first use)", {},
            {"secret": "whsec_..."}),
    Example("register_device", "this browser gets push notifications (its FCM registration token)",
            {"token": "fcm-registration-token-example-0123", "platform": "web"},
            {"token": "fcm-registration-token-example-0123", "devices": 1}),
    Example("set_notification_settings", "my defaults for jobs started without notify: none",
            {"webhook": None, "push": False, "email": False}, {"webhook": None, "push": False, "email": False}),
    Example("create_project", "a project with a creative brief",
            {"name": "Fizz summer", "description": "Launch film",
             "storyboard": {"title": "Cold open", "creative_brief": {"brand_name": "Fizz", "tone": "playful"}}},
            {"project_id": "{project_id}"}, saves={"project_id": "project_id"}),
    Example("update_project", "rename it", {"project_id": "{project_id}", "name": "Fizz summer 2027"},
            {"project_id": "{project_id}"}),
    Example("add_scene", "a first scene", {"project_id": "{project_id}", "title": "Sunrise run",
            "description": "A runner at dawn", "duration_seconds": 4},
            {"scene_id": "{scene_id}"}, saves={"scene_id": "scene_id"}),
    Example("add_scene", "a second scene", {"project_id": "{project_id}", "title": "Finale", "duration_seconds": 3},
            {"scene_id": "{last_scene_id}"}, saves={"scene_id": "last_scene_id"}),
    Example("update_scene", "retitle the first scene",
            {"project_id": "{project_id}", "scene_id": "{scene_id}", "title": "Sunrise sprint"},
            {"scene_id": "{scene_id}"}),
    Example("generate_scene_asset", "its composition (one active job per scene)",
            {"project_id": "{project_id}", "scene_id": "{scene_id}", "kind": "composition"},
            {"job_id": "{scene_job}"}, saves={"job_id": "scene_job"}, wait="scene_job", final_status="completed"),
    Example("select_take", "select that composition again (a new take is selected when it is made)",
            {"project_id": "{project_id}", "scene_id": "{scene_id}", "take_id": "{scene_job}-composition"},
            {"scene_id": "{scene_id}", "kind": "composition", "take_id": "{scene_job}-composition"}),
    Example("generate_storyboard", "every scene's missing composition, as one server job",
            {"project_id": "{project_id}", "kinds": ["composition"]},
            {"job_id": "{storyboard_job}"}, saves={"job_id": "storyboard_job"}, wait="storyboard_job",
            final_status="completed"),
    Example("delete_scene", "delete the second scene (its jobs are cancelled first)",
            {"project_id": "{project_id}", "scene_id": "{last_scene_id}"}, {"scene_id": "{last_scene_id}"}),
    Example("start_job", "a photo batch of my own upload",
            {"type": "photo_batch", "input": {"paths": [PHOTO]}, "options": {"remove_bg": False, "size": 512}},
            {"job_id": "{photo_job}"}, saves={"job_id": "photo_job"}, wait="photo_job", final_status="completed"),
    Example("download_url", "a URL for its results.zip", {"paths": ["jobs/{photo_job}/results.zip"]},
            {"urls": {"jobs/{photo_job}/results.zip": "https://..."}, "expires_in": 1800}),
    Example("download_url", "export archives are for administrators", {"paths": ["exports/any/user.zip"]},
            error="permission-denied"),
    Example("start_job", "a selftest job that sleeps, to cancel", {"type": "selftest",
            "input": {"items": 3, "sleep_ms": 5000}},
            {"job_id": "{slow_job}"}, saves={"job_id": "slow_job"}),
    Example("cancel_job", "cancel it", {"job_id": "{slow_job}"}, {"status": "processing"},
            wait="slow_job", final_status="cancelled"),
    Example("start_job", "a video: one small rendition, HLS only",
            {"type": "video_process", "input": {"path": CLIP, "title": "Teaser"},
             "options": {"renditions": [144], "thumbnails": 1, "dash": False, "mobile": False, "previews": False}},
            {"job_id": "{video_id}"}, saves={"job_id": "video_id"}, wait="video_id", final_status="completed"),
    Example("update_video", "publish it", {"video_id": "{video_id}", "title": "Launch teaser", "public": True},
            {"video_id": "{video_id}"}),
    Example("video_thumbnail", "a still at 1 s, 160 px wide (cached: a second call draws nothing)",
            {"video_id": "{video_id}", "at_seconds": 1.0, "width": 160},
            {"path": "videos/{video_id}/stills/1000ms-160w.jpg", "url": "https://...", "width": 160,
             "at_seconds": 1.0, "expires_in": 1800, "cached": False}),
    Example("auto_backfill", "administrators only: start jobs for images already under users/*/auto/",
            {"max_objects": 100}, error="permission-denied"),
    Example("set_caption", "English captions", {"video_id": "{video_id}", "language": "en", "label": "English",
            "vtt": CAPTIONS}, {"video_id": "{video_id}"}),
    Example("delete_video", "delete it and its files", {"video_id": "{video_id}"}, {"video_id": "{video_id}"}),
    Example("delete_project", "delete the project, its scenes, moods and files", {"project_id": "{project_id}"},
            {"project_id": "{project_id}"}),
    Example("update_project", "a project that is gone (or not yours) answers not-found",
            {"project_id": "{project_id}", "name": "Again"}, error="not-found"),
)  # fmt: skip


def substitute(value: Any, names: dict[str, str]) -> Any:
    """`value` with every `{name}` replaced by its saved value (placeholders left when unknown)."""
    if isinstance(value, str):
        for name, saved in names.items():
            value = value.replace("{" + name + "}", saved)
        return value
    if isinstance(value, list):
        return [substitute(v, names) for v in value]
    if isinstance(value, dict):
        return {substitute(k, names): substitute(v, names) for k, v in value.items()}
    return value
