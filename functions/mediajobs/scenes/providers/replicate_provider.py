"""The Replicate provider: create a prediction (with a webhook), wait for it (webhook news in
Firestore, polling as the fallback), then download and check its output.

Replicate deletes outputs after an hour, so the caller stores what this returns in Storage
before the job completes; nothing here keeps a provider URL. The prediction id is kept on the
item before waiting, so a retried item resumes its prediction rather than paying for another.
Outputs are fetched only from public https addresses (no redirects), with a size cap.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import io
import json
import re
import socket
import time
import urllib.parse
from typing import TYPE_CHECKING, Any, Protocol

import httpx

from mediajobs import cloud, config
from mediajobs.addresses import refused_address
from mediajobs.jobs.store import now

if TYPE_CHECKING:
    from mediajobs.jobs.kinds import Item, ItemContext
from mediajobs.scenes.providers.base import Control, GeneratedAsset, ProviderCancelled, ProviderError, ScenePrompt

PREDICTIONS = "replicate_predictions"  # webhook news, one document per prediction id
TERMINAL = ("succeeded", "failed", "canceled")
EXPECTED_TYPES = {
    "image": ("image/",),
    "video": ("video/",),
    "audio": ("audio/",),
    "composition": ("text/", "application/json"),
}
# Held in memory by a worker that runs several items at once: sized per kind, not "anything".
MAX_OUTPUT_BYTES = {"image": 40 * 1024 * 1024, "audio": 60 * 1024 * 1024, "video": 200 * 1024 * 1024}
NEWS_KEPT_FOR = dt.timedelta(days=7)  # `expire_at` of a prediction's news (a Firestore TTL policy)
CREATE_ATTEMPTS = 6
_PERCENT = re.compile(r"(\d{1,3})%")


@dataclasses.dataclass(frozen=True)
class ReplicateSettings:
    token: str
    base_url: str
    models: dict[str, str]
    webhook_url: str
    timeout_seconds: float
    poll_seconds: float = 5.0  # how often to ask the API when no webhook has brought news
    allow_loopback_outputs: bool = False  # the local stack's fake Replicate serves http://127.0.0.1


class PredictionCheckpoint(Protocol):
    """Where an item keeps its prediction's id across attempts."""

    def load(self) -> str | None: ...

    def save(self, prediction_id: str) -> None: ...


class ItemCheckpoint:
    """A prediction id in the engine's item checkpoint (`checkpoint.predictions[key]`): an item
    that makes several predictions (a mood's text, then its image) keeps one per key."""

    def __init__(self, ctx: ItemContext, item: Item, key: str) -> None:
        self._ctx = ctx
        self._item = item
        self._key = key

    def _predictions(self) -> dict[str, Any]:
        predictions = self._item.checkpoint.get("predictions")
        return dict(predictions) if isinstance(predictions, dict) else {}

    def load(self) -> str | None:
        prediction_id = self._predictions().get(self._key)
        return prediction_id if isinstance(prediction_id, str) and prediction_id else None

    def save(self, prediction_id: str) -> None:
        predictions = {**self._predictions(), self._key: prediction_id}
        self._item.checkpoint["predictions"] = predictions  # the same attempt's next save keeps it
        self._ctx.save_checkpoint({**self._item.checkpoint, "predictions": predictions})


class ReplicateProvider:
    name = "replicate"

    def __init__(self, settings: ReplicateSettings) -> None:
        from replicate.client import Client

        self.settings = settings
        self.client = Client(api_token=settings.token, base_url=settings.base_url, timeout=httpx.Timeout(30.0))

    @classmethod
    def from_config(cls) -> ReplicateProvider:
        return cls(
            ReplicateSettings(
                token=config.replicate_token(),
                base_url=config.REPLICATE_BASE_URL.value,
                models={
                    "composition": config.REPLICATE_MODEL_COMPOSITION.value,
                    "image": config.REPLICATE_MODEL_IMAGE.value,
                    "video": config.REPLICATE_MODEL_VIDEO.value,
                    "audio": config.REPLICATE_MODEL_AUDIO.value,
                },
                webhook_url=config.replicate_webhook_url(),  # the param, else derived from project and REGION
                timeout_seconds=config.REPLICATE_TIMEOUT_SECONDS.value,
                allow_loopback_outputs=config.REPLICATE_ALLOW_LOOPBACK_OUTPUTS.value,
            )
        )

    def generate(self, prompt: ScenePrompt, control: Control) -> GeneratedAsset:
        checkpoint: PredictionCheckpoint | None = getattr(control, "checkpoint", None)
        prediction_id = self._resumable(checkpoint)
        if prediction_id is None:
            prediction_id = self._create(prompt)
            # Written before any news can count: the webhook stores news only for predictions we made.
            cloud.db().collection(PREDICTIONS).document(prediction_id).set(
                {"status": "starting", "kind": prompt.kind, "scene_id": prompt.scene_id, "created_at": now(),
                 "expire_at": now() + NEWS_KEPT_FOR},
                merge=True,
            )  # fmt: skip
            if checkpoint is not None:
                checkpoint.save(prediction_id)
        news = cloud.db().collection(PREDICTIONS).document(prediction_id)
        deadline = time.monotonic() + self.settings.timeout_seconds
        last_poll = time.monotonic()
        state: dict[str, Any] = {}
        while True:
            if control.cancelled():
                self._cancel(prediction_id)
                raise ProviderCancelled()
            if time.monotonic() > deadline:
                self._cancel(prediction_id)
                raise ProviderError(
                    "provider-timeout",
                    f"Replicate prediction {prediction_id} did not finish within {self.settings.timeout_seconds:.0f}s; "
                    "it was cancelled. Try again later.",
                )
            state = news.get().to_dict() or {}  # written by the replicate_webhook function
            if state.get("status") not in TERMINAL and time.monotonic() - last_poll >= self.settings.poll_seconds:
                last_poll = time.monotonic()
                state = self._poll(prediction_id) or state
            if fraction := _progress_of(state.get("logs") or ""):
                control.progress(fraction)
            if state.get("status") in TERMINAL:
                break
            time.sleep(0.25)
        if state["status"] == "failed":
            raise ProviderError("provider-failed", f"Replicate prediction {prediction_id} failed: {state.get('error')}")
        if state["status"] == "canceled":
            raise ProviderError("provider-canceled", f"Replicate prediction {prediction_id} was cancelled remotely.")
        asset = self._output(prompt, state.get("output"))
        return dataclasses.replace(asset, prediction_id=prediction_id, model=self._model_ref(prompt))

    def _model_ref(self, prompt: ScenePrompt) -> str:
        """The model as the API is asked for it: `owner/name`, or `owner/name:version` when pinned."""
        model = self.settings.models[prompt.kind]
        return f"{model}:{prompt.params.version}" if prompt.params.version else model

    def _resumable(self, checkpoint: PredictionCheckpoint | None) -> str | None:
        """The prediction an earlier attempt of this item created, if it can still be waited on."""
        prediction_id = checkpoint.load() if checkpoint is not None else None
        if prediction_id is None:
            return None
        known = cloud.db().collection(PREDICTIONS).document(prediction_id).get().exists
        state = self._poll(prediction_id)
        if not known or state is None or state.get("status") == "canceled":
            return None  # gone or cancelled: a new prediction it is
        return prediction_id

    def _create(self, prompt: ScenePrompt) -> str:
        """Creates the prediction, retrying 429 and 5xx with backoff (the client does not)."""
        from replicate.exceptions import ReplicateError

        params: dict[str, Any] = {}
        if self.settings.webhook_url:
            params = {"webhook": self.settings.webhook_url, "webhook_events_filter": ["start", "logs", "completed"]}
        delay = 1.0
        for attempt in range(1, CREATE_ATTEMPTS + 1):
            try:
                if prompt.params.version:  # POST /v1/predictions {version: "owner/name:version_id"}
                    prediction = self.client.predictions.create(
                        version=self._model_ref(prompt), input=_input_for(prompt), **params
                    )
                else:
                    prediction = self.client.predictions.create(
                        model=self.settings.models[prompt.kind], input=_input_for(prompt), **params
                    )
                return str(prediction.id)
            except ReplicateError as error:
                status = error.status or 0
                if (status == 429 or status >= 500) and attempt < CREATE_ATTEMPTS:
                    time.sleep(delay)
                    delay = min(delay * 2, 30)
                    continue
                raise ProviderError(
                    "provider-rejected" if status and status < 500 and status != 429 else "provider-unavailable",
                    f"Replicate refused the prediction (HTTP {status}): {error.detail or error}",
                ) from None
            except httpx.HTTPError as error:
                if attempt < CREATE_ATTEMPTS:
                    time.sleep(delay)
                    delay = min(delay * 2, 30)
                    continue
                raise ProviderError("provider-unavailable", f"Replicate is unreachable: {error}") from None
        raise AssertionError("unreachable")

    def _poll(self, prediction_id: str) -> dict[str, Any] | None:
        try:
            prediction = self.client.predictions.get(prediction_id)
        except Exception:  # noqa: BLE001 - polling is best effort; the deadline still holds
            return None
        return {"status": prediction.status, "output": prediction.output, "error": prediction.error,
                "logs": prediction.logs or ""}  # fmt: skip

    def _cancel(self, prediction_id: str) -> None:
        with contextlib.suppress(Exception):  # best effort: the deadline or cancel still ends our side
            self.client.predictions.cancel(prediction_id)

    def _output(self, prompt: ScenePrompt, output: Any) -> GeneratedAsset:
        if prompt.kind == "composition":
            text = "".join(output) if isinstance(output, list) else str(output or "")
            if not text.strip():
                raise ProviderError("provider-bad-output", "Replicate returned an empty composition.")
            details = _composition_details(text)
            return GeneratedAsset(json.dumps(details, indent=2).encode(), "application/json", "json", details)
        url = output[0] if isinstance(output, list) and output else output
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise ProviderError(
                "provider-bad-output", f"Replicate returned no output URL for the {prompt.kind} ({output!r:.100})."
            )
        return download_checked(url, prompt.kind, allow_loopback=self.settings.allow_loopback_outputs)


def refused_output_url(url: str, allow_loopback: bool = False) -> str | None:
    """Why an output URL must not be fetched (not https, or an address that is not public), or None.
    `allow_loopback`: http and loopback addresses are fine (the local stack only)."""
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return "is not a valid URL"
    if parts.scheme != "https" and not (allow_loopback and parts.scheme == "http"):
        return "is not https"
    if not parts.hostname:
        return "has no host"
    try:
        addresses = {str(info[4][0]) for info in socket.getaddrinfo(parts.hostname, port, proto=socket.IPPROTO_TCP)}
    except (OSError, UnicodeError):
        return "does not resolve"
    for address in addresses:
        if problem := refused_address(address, allow_loopback):
            return problem
    return None


def download_checked(url: str, kind: str, allow_loopback: bool = False) -> GeneratedAsset:
    """Downloads an output from a public https address (no redirects), checking its content
    type and size as it streams and that it really is that media."""
    if problem := refused_output_url(url, allow_loopback):
        raise ProviderError("provider-bad-output", f"The output URL {problem}; not downloaded.")
    limit = MAX_OUTPUT_BYTES[kind]
    try:
        with httpx.stream("GET", url, timeout=60, follow_redirects=False) as response:
            _check_peer(response, allow_loopback)  # the address really connected to (DNS may have changed)
            if response.is_redirect:
                status = response.status_code
                raise ProviderError("provider-bad-output", f"The output answered a redirect (HTTP {status}).")
            if response.status_code != 200:
                raise ProviderError("provider-bad-output", f"The output answered HTTP {response.status_code}.")
            content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
            if not content_type.startswith(EXPECTED_TYPES[kind]):
                raise ProviderError("provider-bad-output", f"The output is {content_type or 'untyped'}, not a {kind}.")
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > limit:
                raise ProviderError("provider-bad-output", f"The output is larger than {limit:,} bytes.")
            data = bytearray()
            for chunk in response.iter_bytes():
                data += chunk
                if len(data) > limit:
                    raise ProviderError("provider-bad-output", f"The output is larger than {limit:,} bytes.")
    except httpx.HTTPError as error:
        raise ProviderError("provider-unavailable", f"Could not download the output: {error}") from None
    extension = _check_media(kind, bytes(data), url)
    return GeneratedAsset(bytes(data), content_type, extension)


def _check_peer(response: httpx.Response, allow_loopback: bool) -> None:
    stream = response.extensions.get("network_stream")
    peer = stream.get_extra_info("server_addr") if stream is not None else None
    if peer and (problem := refused_address(str(peer[0]), allow_loopback)):
        raise ProviderError("provider-bad-output", f"The output URL {problem}; not downloaded.")


def _check_media(kind: str, data: bytes, url: str) -> str:
    """The file extension for the bytes, or ProviderError if they are not what they claim."""
    if kind == "image":
        from PIL import Image, UnidentifiedImageError

        try:
            with Image.open(io.BytesIO(data)) as image:
                image.verify()
                return {"PNG": "png", "JPEG": "jpg", "WEBP": "webp", "GIF": "gif"}.get(image.format or "", "img")
        except (UnidentifiedImageError, OSError, SyntaxError) as error:
            raise ProviderError("provider-bad-output", f"Output {url} is not a valid image ({error}).") from None
    if kind == "video" and len(data) > 12 and data[4:8] == b"ftyp":
        return "mp4"
    if kind == "video" and data[:4] == b"\x1aE\xdf\xa3":
        return "webm"
    if kind == "audio" and data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return "wav"
    if kind == "audio" and (data[:3] == b"ID3" or data[:2] in (b"\xff\xfb", b"\xff\xf3")):
        return "mp3"
    raise ProviderError("provider-bad-output", f"Output {url} is not a valid {kind} file.")


def _input_for(prompt: ScenePrompt) -> dict[str, Any]:
    """The model's input: the scene's text, plus the creator's parameters under the input
    names the models declare (seed, aspect_ratio, negative_prompt)."""
    text = prompt.text()
    chosen = {k: v for k, v in prompt.params.chosen().items() if k != "version"}
    if prompt.kind == "composition":
        return {
            "prompt": "Describe this video scene as JSON with keys description, styling, animation. " + text,
            "max_new_tokens": 400,
            **chosen,
        }
    if prompt.kind == "video":
        return {"prompt": text, "duration": round(min(prompt.duration_seconds, 10)), **chosen}
    if prompt.kind == "audio":
        return {"prompt": f"Soundtrack for: {text}", "duration": round(min(prompt.duration_seconds, 30)), **chosen}
    return {"prompt": text, "aspect_ratio": "16:9", "output_format": "png", **chosen}


def _composition_details(text: str) -> dict[str, str]:
    try:
        start, end = text.index("{"), text.rindex("}") + 1
        parsed = json.loads(text[start:end])
        if isinstance(parsed, dict):
            return {k: str(parsed.get(k, "")) for k in ("description", "styling", "animation")}
    except ValueError:
        pass
    return {"description": text.strip()[:4000], "styling": "", "animation": ""}


def _progress_of(logs: str) -> float | None:
    found = _PERCENT.findall(logs[-2000:])
    return min(int(found[-1]), 100) / 100 if found else None
