"""Push and email of a job's end without a stack: which channels an event goes to, what the
messages say, the output paths they (and the lifecycle events) carry, and where the SDK posts."""

from __future__ import annotations

import pydantic
import pytest

from mediajobs import events
from mediajobs.jobs.notify import messages, push
from mediajobs.jobs.notify.models import NotificationDefaults, NotifySettings, RegisterDeviceRequest

VIDEO_RESULT = {
    "input_path": "users/u/in.mp4",
    "mobile_path": "videos/v/mobile.mp4",
    "renditions": [{"height": 360, "path": "videos/v/360p.mp4"}, {"height": 720, "path": "videos/v/720p.mp4"}],
    "thumbnails": ["videos/v/t1.jpg", "videos/v/t2.jpg"],
    "poster": "videos/v/poster.jpg",
    "hls_master_path": "videos/v/stream/master.m3u8",
    "duration_seconds": 5.0,
}


def test_push_and_email_go_with_the_endings_asked_for_and_started_only_to_the_webhook() -> None:
    everything = NotifySettings.model_validate(
        {"webhook": "https://example.com/h", "events": ["started", "failed"], "push": True, "email": True}
    )
    assert everything.channels_for("started") == ["webhook"]
    assert everything.channels_for("failed") == ["webhook", "push", "email"]
    assert everything.channels_for("completed") == []
    push_only = NotifySettings(push=True)
    assert push_only.channels_for("completed") == ["push"] and push_only.channels_for("started") == []
    assert NotifySettings().channels_for("completed") == []


@pytest.mark.parametrize("bad", [{"push": "yes"}, {"email": 1}, {"push": True, "sms": True}])
def test_push_and_email_are_strict_booleans(bad: dict[str, object]) -> None:
    with pytest.raises(pydantic.ValidationError):
        NotifySettings.model_validate(bad)
    with pytest.raises(pydantic.ValidationError):
        NotificationDefaults.model_validate(bad)


def test_defaults_become_a_notify_only_when_they_ask_for_something() -> None:
    assert NotificationDefaults().as_notify() is None
    made = NotificationDefaults(email=True).as_notify()
    assert made is not None and made.email and not made.push and made.webhook is None
    assert made.events == ["completed", "failed", "cancelled"]


@pytest.mark.parametrize(
    "token",
    ["short", "a" * 30 + "/b", "a" * 30 + " b", "a" * 1025, "a" * 30 + "é"],
)
def test_a_device_token_must_be_a_plain_document_id(token: str) -> None:
    with pytest.raises(pydantic.ValidationError):
        RegisterDeviceRequest.model_validate({"token": token, "platform": "web"})
    assert RegisterDeviceRequest.model_validate({"token": "dGVzdA:APA91b-x_y" + "z" * 20, "platform": "ios"})


def test_output_paths_are_the_results_outputs_not_its_inputs() -> None:
    assert sorted(events.output_paths(VIDEO_RESULT)) == [
        "videos/v/360p.mp4",
        "videos/v/720p.mp4",
        "videos/v/mobile.mp4",
        "videos/v/poster.jpg",
        "videos/v/stream/master.m3u8",
        "videos/v/t1.jpg",
        "videos/v/t2.jpg",
    ]
    photos = {"outputs": ["jobs/j/outputs/a.png"], "archive_path": "jobs/j/results.zip", "succeeded": 1}
    assert events.output_paths(photos) == ["jobs/j/results.zip", "jobs/j/outputs/a.png"]
    assert events.output_paths(None) == [] and events.output_paths({"count": 3}) == []


def test_a_notice_names_the_job_its_outcome_and_its_error() -> None:
    job = {"type": "photo_batch", "progress": {"total": 3, "done": 2, "percent": 100}, "result": VIDEO_RESULT}
    done = messages.notice_of("job1", job, "completed")
    assert done.title == "Photo batch completed"
    assert done.body == "Job job1 completed. 2 of 3 items done."
    failed = messages.notice_of("job1", {**job, "error": {"code": "too-long", "message": "Over 60 s."}}, "failed")
    assert failed.title == "Photo batch failed" and "too-long: Over 60 s." in failed.body
    assert messages.notice_of("j", {"type": "video_process"}, "cancelled").title == "Video process was cancelled"


def test_an_email_escapes_what_it_quotes_and_lists_the_outputs() -> None:
    job = {"type": "selftest", "result": {"output_path": "jobs/j/<script>.png"}}
    mail = messages.email_of("j", job, "completed")
    assert mail["subject"] == "Selftest completed"
    assert "jobs/j/<script>.png" in mail["text"]
    assert "<script>" not in mail["html"] and "&lt;script&gt;" in mail["html"]
    many = messages.email_of("j", {"type": "x", "result": {"paths": [f"p/{n}" for n in range(25)]}}, "completed")
    assert "and 5 more" in many["text"] and many["text"].count("  p/") == 20


def test_the_fcm_endpoint_is_replaced_only_on_the_emulators(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FCM_EMULATOR_HOST", "127.0.0.1:25010")
    monkeypatch.setenv("FUNCTIONS_EMULATOR", "true")
    assert push.fcm_url("demo-x") == "http://127.0.0.1:25010/v1/projects/demo-x/messages:send"
    for name in ("FUNCTIONS_EMULATOR", "FIRESTORE_EMULATOR_HOST"):
        monkeypatch.delenv(name, raising=False)
    assert push.fcm_url("prod") is None  # deployed, a stray variable never redirects pushes


def test_the_sdk_still_keeps_its_endpoint_where_push_replaces_it() -> None:
    from firebase_admin import messaging

    assert messaging._MessagingService.FCM_URL.endswith("/v1/projects/{0}/messages:send")
    assert "_fcm_url" in messaging._MessagingService.__init__.__code__.co_names
    assert push.token_digest("abc") != "abc" and len(push.token_digest("abc")) == 24


@pytest.mark.parametrize(
    "url",
    ["https://169.254.169.254/computeMetadata/v1/", "https://10.0.0.1/hook", "https://localhost/hook"],
)
def test_production_refuses_metadata_private_and_loopback_names_at_start_and_in_defaults(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from firebase_functions import https_fn

    from mediajobs.jobs.notify.options import checked_notify, checked_webhook

    for name in ("FUNCTIONS_EMULATOR", "FIRESTORE_EMULATOR_HOST", "GOOGLE_CLOUD_PROJECT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GCLOUD_PROJECT", "mediajobs-prod")
    with pytest.raises(https_fn.HttpsError) as at_start:
        checked_notify(NotifySettings(webhook=url, push=True))
    assert at_start.value.code == https_fn.FunctionsErrorCode.INVALID_ARGUMENT
    assert at_start.value.message.startswith("notify.webhook: the URL points to")
    with pytest.raises(https_fn.HttpsError) as in_defaults:
        checked_webhook(url, "webhook")
    assert in_defaults.value.message.startswith("webhook: the URL points to")
