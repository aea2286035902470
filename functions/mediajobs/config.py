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
