"""The Replicate provider against a local server speaking Replicate's API, with real webhooks
through our `replicate_webhook` function and real Firestore."""

from __future__ import annotations

import dataclasses
import io
import json
import os
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from PIL import Image

from mediajobs import cloud
from mediajobs.jobs.kinds import Item
from mediajobs.jobs.models import Job
from mediajobs.scenes.params import GenerationParams
from mediajobs.scenes.providers import local, replicate_provider
from mediajobs.scenes.providers.base import ProviderCancelled, ProviderError, ScenePrompt
from mediajobs.scenes.providers.replicate_provider import ReplicateProvider, ReplicateSettings
from tests.fake_replicate import FakeReplicate, signed_headers

SECRET_FILE = Path(__file__).resolve().parents[2] / "functions" / ".secret.local"
PROMPT = ScenePrompt("p1", "s1", "image", "Opening shot", "A bottle on a beach at dawn", 4, {"tone": "calm"}, None)


def webhook_secret() -> str:
    for line in SECRET_FILE.read_text().splitlines():
        if line.startswith("REPLICATE_WEBHOOK_SECRET="):
            return line.split("=", 1)[1]
    raise AssertionError("no webhook secret for the emulator")


@pytest.fixture
def fake() -> Iterator[FakeReplicate]:
    server = FakeReplicate(
        webhook_secret(),
        {"image": (local.image_png(PROMPT, (320, 180)), "image/png"), "audio": (local.audio_wav(PROMPT), "audio/wav"),
         "video": (local.video_mp4(PROMPT), "video/mp4")},
    )  # fmt: skip
    yield server
    server.close()


class Control:
    def __init__(self, cancel_after: float | None = None) -> None:
        self.started = time.monotonic()
        self.cancel_after = cancel_after
        self.fractions: list[float] = []

    def cancelled(self) -> bool:
        return self.cancel_after is not None and time.monotonic() - self.started > self.cancel_after

    def progress(self, fraction: float) -> None:
        self.fractions.append(fraction)


def provider(
    fake: FakeReplicate, *, webhooks: bool = True, poll: float = 60, timeout: float = 30, loopback: bool = True
) -> ReplicateProvider:
    return ReplicateProvider(
        ReplicateSettings(
            token="r8_test", base_url=fake.url,
            models={"image": "test/image-model", "video": "test/video-model", "audio": "test/audio-model",
                    "composition": "test/llm"},
            webhook_url=f"{os.environ['FUNCTIONS_ORIGIN']}/replicate_webhook" if webhooks else "",
            timeout_seconds=timeout, poll_seconds=poll, allow_loopback_outputs=loopback,
        )
    )  # fmt: skip


def test_success_through_signed_webhooks_alone(fake: FakeReplicate) -> None:
    control = Control()
    asset = provider(fake, webhooks=True, poll=3600).generate(PROMPT, control)  # polling effectively off

    assert asset.content_type == "image/png" and asset.extension == "png"
    assert Image.open(io.BytesIO(asset.data)).size == (320, 180)
    assert ("completed", 200) in fake.webhooks_sent
    assert all(status == 200 for _, status in fake.webhooks_sent)
    assert control.fractions and max(control.fractions) == 1.0  # progress read from the logs


def test_success_by_polling_only(fake: FakeReplicate) -> None:
    asset = provider(fake, webhooks=False, poll=0.3).generate(PROMPT, Control())

    assert Image.open(io.BytesIO(asset.data)).format == "PNG"
    assert fake.webhooks_sent == []


@pytest.mark.parametrize("kind", ["video", "audio", "composition"])
def test_every_asset_kind(fake: FakeReplicate, kind: str) -> None:
    prompt = ScenePrompt(**{**PROMPT.__dict__, "kind": kind})
    asset = provider(fake, webhooks=False, poll=0.3).generate(prompt, Control())

    expected = {
        "video": ("video/mp4", "mp4"),
        "audio": ("audio/wav", "wav"),
        "composition": ("application/json", "json"),
    }
    assert (asset.content_type, asset.extension) == expected[kind]
    if kind == "composition":
        assert asset.details == {"description": "A hero shot", "styling": "warm", "animation": "push-in"}


def test_take_parameters_and_a_pinned_version_reach_the_prediction(fake: FakeReplicate) -> None:
    version = "a" * 64
    params = GenerationParams(seed=42, aspect_ratio="1:1", negative_prompt="blurry, text", version=version)
    prompt = ScenePrompt(**{**PROMPT.__dict__, "params": params})

    asset = provider(fake, webhooks=False, poll=0.3).generate(prompt, Control())
    plain = provider(fake, webhooks=False, poll=0.3).generate(PROMPT, Control())

    pinned = fake.predictions[str(asset.prediction_id)]
    assert (pinned.model, pinned.version) == ("test/image-model", version)
    assert {k: pinned.input[k] for k in ("seed", "aspect_ratio", "negative_prompt")} == {
        "seed": 42,
        "aspect_ratio": "1:1",
        "negative_prompt": "blurry, text",
    }
    assert asset.model == f"test/image-model:{version}" and Image.open(io.BytesIO(asset.data)).format == "PNG"
    latest = fake.predictions[str(plain.prediction_id)]
    assert (latest.model, latest.version, plain.model) == ("test/image-model", "v1", "test/image-model")
    assert "seed" not in latest.input and "negative_prompt" not in latest.input
    assert latest.input["aspect_ratio"] == "16:9"  # the default when none is asked for


def test_a_version_replicate_does_not_know_is_rejected(fake: FakeReplicate) -> None:
    bad = dataclasses.replace(PROMPT, params=GenerationParams(version="b" * 64))
    settings = dataclasses.replace(provider(fake).settings, models={**provider(fake).settings.models, "image": "bad"})
    with pytest.raises(ProviderError) as raised:
        ReplicateProvider(settings).generate(bad, Control())
    assert raised.value.code == "provider-rejected" and "422" in raised.value.message


def test_rate_limited_creates_are_retried(fake: FakeReplicate) -> None:
    fake.create_errors = [429, 503]
    asset = provider(fake, webhooks=False, poll=0.3).generate(PROMPT, Control())

    assert asset.data and fake.creates == 3


def test_a_failed_prediction_is_a_clear_error(fake: FakeReplicate) -> None:
    fake.behaviour = "fail"
    with pytest.raises(ProviderError) as raised:
        provider(fake).generate(PROMPT, Control())
    assert raised.value.code == "provider-failed" and "CUDA out of memory" in raised.value.message


def test_a_hung_prediction_times_out_and_is_cancelled(fake: FakeReplicate) -> None:
    fake.behaviour = "hang"
    with pytest.raises(ProviderError) as raised:
        provider(fake, poll=0.5, timeout=2).generate(PROMPT, Control())
    assert raised.value.code == "provider-timeout"
    assert list(fake.predictions) == fake.cancels


def test_cancelling_the_job_cancels_the_prediction(fake: FakeReplicate) -> None:
    fake.behaviour = "hang"
    with pytest.raises(ProviderCancelled):
        provider(fake, poll=0.5).generate(PROMPT, Control(cancel_after=0.6))
    assert list(fake.predictions) == fake.cancels
    assert next(iter(fake.predictions.values())).status == "canceled"


@pytest.mark.parametrize("behaviour", ["garbage", "wrong-type"])
def test_bad_outputs_are_refused(fake: FakeReplicate, behaviour: str) -> None:
    fake.behaviour = behaviour
    with pytest.raises(ProviderError) as raised:
        provider(fake, webhooks=False, poll=0.3).generate(PROMPT, Control())
    assert raised.value.code == "provider-bad-output"


def test_the_webhook_function_refuses_unsigned_and_forged_news() -> None:
    url = f"{os.environ['FUNCTIONS_ORIGIN']}/replicate_webhook"
    body = '{"id": "abc", "status": "succeeded", "output": ["http://evil.example/x.png"]}'
    unsigned = requests.post(url, data=body, headers={"Content-Type": "application/json"}, timeout=30)
    assert unsigned.status_code == 401
    forged = requests.post(
        url, data=body, timeout=30,
        headers={"webhook-id": "msg_1", "webhook-timestamp": str(int(time.time())),
                 "webhook-signature": "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="},
    )  # fmt: skip
    assert forged.status_code == 401
    assert forged.json() == {"message": "Invalid webhook signature."}  # no details for an unauthenticated caller


def test_signed_news_of_a_prediction_we_did_not_create_is_not_stored() -> None:
    url = f"{os.environ['FUNCTIONS_ORIGIN']}/replicate_webhook"
    prediction_id = f"foreign{uuid.uuid4().hex[:12]}"
    body = json.dumps({"id": prediction_id, "status": "succeeded", "output": ["https://evil.example/x.png"]})

    reply = requests.post(url, data=body, headers=signed_headers(webhook_secret(), body), timeout=30)

    assert reply.status_code == 404 and reply.json() == {"message": "Unknown prediction."}
    assert not cloud.db().collection("replicate_predictions").document(prediction_id).get().exists


def test_duplicate_and_late_webhooks_never_move_a_prediction_back(fake: FakeReplicate) -> None:
    provider(fake, webhooks=True, poll=3600).generate(PROMPT, Control())
    prediction = next(iter(fake.predictions.values()))
    prediction.status = "processing"  # replay an old state, signed
    done = threading.Event()

    def replay() -> None:
        fake._webhook(prediction, "logs")
        done.set()

    threading.Thread(target=replay).start()
    assert done.wait(30)
    news = cloud.db().collection("replicate_predictions").document(prediction.id).get().to_dict() or {}
    assert news["status"] == "succeeded"


def test_outputs_are_not_fetched_from_loopback_unless_allowed_nor_through_redirects(
    fake: FakeReplicate, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ProviderError) as loopback:
        provider(fake, webhooks=False, poll=0.3, loopback=False).generate(PROMPT, Control())
    assert loopback.value.code == "provider-bad-output" and "not https" in loopback.value.message

    fake.behaviour = "redirect"
    with pytest.raises(ProviderError) as redirected:
        provider(fake, webhooks=False, poll=0.3).generate(PROMPT, Control())
    assert redirected.value.code == "provider-bad-output" and "redirect" in redirected.value.message

    fake.behaviour = "succeed"
    monkeypatch.setitem(replicate_provider.MAX_OUTPUT_BYTES, "image", 1000)
    with pytest.raises(ProviderError) as too_big:
        provider(fake, webhooks=False, poll=0.3).generate(PROMPT, Control())
    assert too_big.value.code == "provider-bad-output" and "larger than 1,000 bytes" in too_big.value.message


class WorkerDied(BaseException):
    pass


class SavedCheckpoints:
    """What the engine keeps of an item's checkpoints across attempts (tested in the engine's own
    tests), for the provider's control."""

    def __init__(self) -> None:
        self.saved: dict[str, Any] = {}
        self.job = Job(id="resume", type="scene_asset")

    def cancelled(self) -> bool:
        return False

    def heartbeat(self, fraction: float | None = None, current: str | None = None) -> None:
        pass

    def save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        self.saved = dict(checkpoint)


class CheckpointedControl(Control):
    """An item's control with its checkpoint; `die` makes the worker die once it is waiting."""

    def __init__(self, engine: SavedCheckpoints, die: bool = False) -> None:
        super().__init__()
        item = Item(id="asset", label="image", payload={}, attempt=2 if engine.saved else 1, checkpoint=engine.saved)
        self.checkpoint = replicate_provider.ItemCheckpoint(engine, item, "image")
        self.die = die

    def cancelled(self) -> bool:
        if self.die:
            raise WorkerDied()
        return False


def test_a_retried_item_resumes_its_prediction_instead_of_paying_for_another(fake: FakeReplicate) -> None:
    engine = SavedCheckpoints()

    with pytest.raises(WorkerDied):
        provider(fake, webhooks=True, poll=0.3).generate(PROMPT, CheckpointedControl(engine, die=True))
    [first] = fake.predictions
    assert engine.saved == {"predictions": {"image": first}}  # kept before waiting

    asset = provider(fake, webhooks=True, poll=0.3).generate(PROMPT, CheckpointedControl(engine))

    assert Image.open(io.BytesIO(asset.data)).size == (320, 180)
    assert fake.creates == 1 and list(fake.predictions) == [first]
