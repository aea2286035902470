"""Configuration declared as params (set per project in functions/.env*, see README.md)."""

from firebase_functions import params

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
UPLOAD_MAX_FILES = params.IntParam("UPLOAD_MAX_FILES", default=50, description="Files per upload request.")
UPLOAD_MAX_MB = params.IntParam("UPLOAD_MAX_MB", default=100, description="Megabytes per upload request.")

# Scene generation
GENERATION_PROVIDER = params.StringParam(
    "GENERATION_PROVIDER",
    default="",
    description="'replicate' or 'local'; empty: replicate when REPLICATE_API_TOKEN is set, else local.",
)
LOCAL_PROVIDER_LATENCY_MS = params.IntParam(
    "LOCAL_PROVIDER_LATENCY_MS", default=0, description="Latency the local provider adds per asset (benchmarks)."
)
REPLICATE_API_TOKEN = params.SecretParam("REPLICATE_API_TOKEN")
REPLICATE_WEBHOOK_SECRET = params.SecretParam("REPLICATE_WEBHOOK_SECRET")
REPLICATE_BASE_URL = params.StringParam("REPLICATE_BASE_URL", default="https://api.replicate.com")
REPLICATE_WEBHOOK_URL = params.StringParam(
    "REPLICATE_WEBHOOK_URL",
    default="",
    description="Public URL of replicate_webhook; empty: no webhooks, polling only.",
)
REPLICATE_TIMEOUT_SECONDS = params.IntParam("REPLICATE_TIMEOUT_SECONDS", default=900)
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
STREAM_BASE_URL = params.StringParam(
    "STREAM_BASE_URL",
    default="",
    description="URL of the `stream` function (e.g. https://<site>.web.app/stream behind a Hosting rewrite); "
    "empty: its default cloudfunctions.net URL (the emulator's origin locally).",
)
