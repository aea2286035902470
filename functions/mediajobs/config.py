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
