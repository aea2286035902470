"""Background models on the real local stack: a model that is not installed is refused up front."""

from __future__ import annotations

import pytest
from google.cloud import firestore as gfs

from mediajobs import cloud
from mediajobs.cli import client
from mediajobs.jobs.models import new_job_document
from mediajobs.photos.models_catalogue import CATALOGUE, model_problem
from tests import photo_fixtures as fx
from tests.integration.test_photos import put, run_batch

MISSING = [name for name in CATALOGUE if model_problem(name)]  # the functions read the same functions/models


@pytest.mark.parametrize("model", ["silueta", "isnet-general-use", "birefnet-general-lite"])
def test_a_model_that_is_not_installed_is_failed_precondition_naming_the_fetch_command(
    user: client.User, model: str
) -> None:
    if model not in MISSING:
        pytest.skip(f"{model} is installed here")
    path = put(user, "astronaut.jpg", fx.photo("astronaut"))
    with pytest.raises(client.CallableError) as raised:
        client.call(
            "start_job", {"type": "photo_batch", "input": {"paths": [path]}, "options": {"model": model}}, user.id_token
        )
    assert raised.value.status == "FAILED_PRECONDITION"
    assert f"scripts/fetch-models --from-releases {model}" in raised.value.message
    assert "not installed" in raised.value.message


def test_a_job_written_directly_with_a_missing_model_fails_with_the_same_reason(user: client.User) -> None:
    if "silueta" not in MISSING:
        pytest.skip("silueta is installed here")
    path = put(user, "coffee.jpg", fx.photo("coffee"))
    ref = cloud.db().collection("jobs").document()
    document = new_job_document(
        job_type="photo_batch", owner_uid=user.uid, input={"paths": [path]}, options={"model": "silueta"}
    )
    ref.create({**document, "created_at": gfs.SERVER_TIMESTAMP, "updated_at": gfs.SERVER_TIMESTAMP})
    final, _ = client.watch_job(ref.id, timeout=120)
    assert final["status"] == "failed"
    assert final["error"]["code"] == "failed-precondition" and "scripts/fetch-models" in final["error"]["message"]


def test_the_default_model_is_the_deployments_param_and_runs(user: client.User) -> None:
    path = put(user, "chelsea.jpg", fx.photo("chelsea"))
    final = run_batch(user, [path])
    assert final["status"] == "completed", final
    assert final["options"]["model"] == "u2netp"  # PHOTO_DEFAULT_MODEL of functions/.env
