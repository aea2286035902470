"""Configuration declared as params (set per project in functions/.env*, see README.md)."""

import os

from firebase_functions import params

REGION = params.StringParam(
    "REGION",
    default="us-central1",
    description="Cloud Functions region of every function and of the task queues (e.g. europe-west1).",
)

SELFTEST_JOBS_ENABLED = params.BoolParam(
    "SELFTEST_JOBS_ENABLED",
    default=False,
    description="Allow the built-in 'selftest' job type (for tests and the demo).",
)
MAX_ACTIVE_JOBS_PER_USER = params.IntParam(
    "MAX_ACTIVE_JOBS_PER_USER",
    default=10,
    description="How many queued or processing jobs one user may have at once.",
)
ITEM_QUEUE_MAX_CONCURRENCY = params.IntParam(
    "ITEM_QUEUE_MAX_CONCURRENCY",
    default=100,
    description="Cloud Tasks max concurrent dispatches for the job item queue.",
)
EXPORT_QUEUE_MAX_CONCURRENCY = params.IntParam(
    "EXPORT_QUEUE_MAX_CONCURRENCY",
    default=50,
    description="Cloud Tasks max concurrent dispatches for media export users.",
)
PHOTO_QUEUE_MAX_CONCURRENCY = params.IntParam(
    "PHOTO_QUEUE_MAX_CONCURRENCY",
    default=20,
    description="Cloud Tasks max concurrent dispatches for photo chunks (each loads a model).",
)
PHOTO_MODEL_THREADS = params.IntParam(
    "PHOTO_MODEL_THREADS",
    default=0,
    description="onnxruntime threads per photo worker (0: one per CPU of the instance).",
)
DAILY_GENERATIONS_PER_USER = params.IntParam(
    "DAILY_GENERATIONS_PER_USER",
    default=100,
    description="Paid generations (a scene asset is 1, a mood board 1 per image) one user may start per UTC day.",
)
PHOTO_DEFAULT_MODEL = params.StringParam(
    "PHOTO_DEFAULT_MODEL",
    default="u2netp",
    description="Background model used when a photo job names none; it must be in functions/models/ "
    "(scripts/fetch-models NAME before deploying).",
)
UPLOAD_MAX_FILES = params.IntParam("UPLOAD_MAX_FILES", default=50, description="Files per upload request.")
UPLOAD_MAX_MB = params.IntParam(
    "UPLOAD_MAX_MB",
    default=32,
    description="Megabytes (10^6 bytes) per upload request; at most 32, as Cloud Run refuses bodies over 32 MiB.",
)

# Scene generation
GENERATION_PROVIDER = params.StringParam(
    "GENERATION_PROVIDER",
    default="",
    description="'replicate' or 'local'; empty: replicate when REPLICATE_API_TOKEN is set, else local.",
)
LOCAL_PROVIDER_LATENCY_MS = params.IntParam(
    "LOCAL_PROVIDER_LATENCY_MS", default=0, description="Latency the local provider adds per asset (benchmarks)."
)


class UndeclaredSecret:
    """A Replicate secret that this deployment does not declare (GENERATION_PROVIDER=local): its
    value is whatever the environment holds (the emulator's functions/.secret.local), else ''."""

    def __init__(self, name: str) -> None:
        self.name = name

    @property
    def value(self) -> str:
        return os.environ.get(self.name, "")


# Decided at import, where firebase-tools' discovery has the project's functions/.env* values in
# the environment (as deployed functions do at run time): with the local provider no Replicate
# secret is declared, so `firebase deploy` neither demands nor binds one.
REPLICATE_SECRETS_DECLARED = os.environ.get("GENERATION_PROVIDER", "") != "local"


def _replicate_secret(name: str) -> params.SecretParam | UndeclaredSecret:
    return params.SecretParam(name) if REPLICATE_SECRETS_DECLARED else UndeclaredSecret(name)


REPLICATE_API_TOKEN = _replicate_secret("REPLICATE_API_TOKEN")
REPLICATE_WEBHOOK_SECRET = _replicate_secret("REPLICATE_WEBHOOK_SECRET")


def bindings(*secrets: params.SecretParam | UndeclaredSecret) -> list[params.SecretParam]:
    """The `secrets=` of a function declaration: those of `secrets` this deployment declares."""
    return [secret for secret in secrets if isinstance(secret, params.SecretParam)]


REPLICATE_BASE_URL = params.StringParam("REPLICATE_BASE_URL", default="https://api.replicate.com")
REPLICATE_WEBHOOK_URL = params.StringParam(
    "REPLICATE_WEBHOOK_URL",
    default="",
    description="Public URL of replicate_webhook (a proxy, a custom domain); empty: its default "
    "cloudfunctions.net URL in REGION (none on the emulator, which Replicate cannot reach: polling).",
)
REPLICATE_TIMEOUT_SECONDS = params.IntParam("REPLICATE_TIMEOUT_SECONDS", default=900)
REPLICATE_ALLOW_LOOPBACK_OUTPUTS = params.BoolParam(
    "REPLICATE_ALLOW_LOOPBACK_OUTPUTS",
    default=False,
    description="Fetch outputs over http from loopback addresses (a local fake Replicate; never when deployed).",
)
REPLICATE_MODEL_COMPOSITION = params.StringParam("REPLICATE_MODEL_COMPOSITION", default="meta/meta-llama-3-8b-instruct")
REPLICATE_MODEL_IMAGE = params.StringParam("REPLICATE_MODEL_IMAGE", default="black-forest-labs/flux-schnell")
REPLICATE_MODEL_VIDEO = params.StringParam("REPLICATE_MODEL_VIDEO", default="minimax/video-01")
REPLICATE_MODEL_AUDIO = params.StringParam("REPLICATE_MODEL_AUDIO", default="meta/musicgen")


def replicate_token() -> str:
    """The Replicate token when the secret is bound to this function, else ''."""
    try:
        return REPLICATE_API_TOKEN.value or ""
    except Exception:  # noqa: BLE001 - unbound secrets raise or are empty depending on context
        return ""


SCENE_QUEUE_MAX_CONCURRENCY = params.IntParam(
    "SCENE_QUEUE_MAX_CONCURRENCY", default=50, description="Concurrent scene asset generations (provider-bound)."
)

# Video
# Both fit one videoitems instance (8 GiB, /tmp in memory, 1,800 s): docs/SCALING.md.
VIDEO_MAX_SECONDS = params.IntParam("VIDEO_MAX_SECONDS", default=1800, description="Longest video accepted.")
VIDEO_MAX_MB = params.IntParam("VIDEO_MAX_MB", default=4096, description="Largest video file accepted.")
VIDEO_QUEUE_MAX_CONCURRENCY = params.IntParam("VIDEO_QUEUE_MAX_CONCURRENCY", default=20)


def replicate_webhook_url() -> str:
    """Where Replicate sends prediction news: REPLICATE_WEBHOOK_URL when set, else (deployed) the
    `replicate_webhook` function's URL derived from the project and REGION. '' on the emulators,
    whose functions Replicate cannot reach (the provider then polls)."""
    if explicit := REPLICATE_WEBHOOK_URL.value:
        return explicit
    if os.environ.get("FUNCTIONS_EMULATOR") == "true" or os.environ.get("FIRESTORE_EMULATOR_HOST"):
        return ""
    project = project_id()
    return deployed_function_url("replicate_webhook", REGION.value, project) if project else ""


def project_id() -> str:
    """The project these functions run in (firebase deploy and the emulator set GCLOUD_PROJECT)."""
    return os.environ.get("GCLOUD_PROJECT") or os.environ.get("GOOGLE_CLOUD_PROJECT") or ""


EVENTS_LOCATION = params.StringParam(
    "EVENTS_LOCATION",
    default="",
    description="Location of the Eventarc channel lifecycle events are published to "
    "(projects/P/locations/L/channels/firebase); empty: REGION, the functions' region.",
)


def events_location() -> str:
    """Where lifecycle events go: EVENTS_LOCATION when set, else REGION (the functions' region)."""
    return EVENTS_LOCATION.value or REGION.value


def deployed_function_url(name: str, region: str, project: str) -> str:
    """The public URL of a deployed HTTP function (2nd gen keeps the cloudfunctions.net address)."""
    return f"https://{region}-{project}.cloudfunctions.net/{name}"


STREAM_BASE_URL = params.StringParam(
    "STREAM_BASE_URL",
    default="",
    description="URL of the `stream` function (e.g. https://<site>.web.app/stream behind a Hosting rewrite); "
    "empty: its default cloudfunctions.net URL in REGION (the emulator's origin locally).",
)
