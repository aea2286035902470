"""A photo worker's model session, loaded when the instance starts rather than by its first photo.

Importing rembg and onnxruntime and reading the model take about a second and a half of a new
instance's time. A daemon thread started at import of main.py, only in instances that serve the
photo queue (FUNCTION_TARGET, which Cloud Run and the functions emulator set per function), does
it while the instance waits for its first task; the first item then finds the session ready (or
waits on the session lock for the rest of the load, never loading twice). Discovery by
firebase-tools and every other function's instances set another target and load nothing."""

from __future__ import annotations

import os
import threading

PHOTO_WORKER_TARGET = "photoitems"


def serves_photos() -> bool:
    return os.environ.get("FUNCTION_TARGET") == PHOTO_WORKER_TARGET


def _load_default_session() -> None:
    from firebase_functions import logger

    from mediajobs import config
    from mediajobs.photos import processing
    from mediajobs.photos.models_catalogue import default_model

    try:
        model = default_model()
        if processing.model_available(model):
            processing.session_for(model, config.PHOTO_MODEL_THREADS.value)
    except Exception as error:  # noqa: BLE001 - a warm-up is a head start, never a failure: the item loads it again
        logger.warn("photo model warm-up failed", error=repr(error))


def start_if_photo_worker() -> threading.Thread | None:
    """Starts loading the default model's session in the background on a photo worker instance."""
    if not serves_photos():
        return None
    thread = threading.Thread(target=_load_default_session, name="photo-model-warmup", daemon=True)
    thread.start()
    return thread
