"""The contract's example of every callable (functions/mediajobs/contract/examples.py, shown in
CONTRACT.md), run in order as one user against the local stack: each answer matches the
example (keys, and the ids it names) and the callable's response schema; each error example
answers its code; each job an example waits for ends as the example says."""

from __future__ import annotations

import io
from typing import Any

import pytest
from PIL import Image

from mediajobs import cloud
from mediajobs.cli import client
from mediajobs.contract import validate
from mediajobs.contract.examples import CLIP, EXAMPLES, PHOTO, substitute
from tests.integration.test_video import make_video


def _upload_example_files(user: client.User) -> None:
    png = io.BytesIO()
    Image.new("RGB", (800, 600), (30, 120, 200)).save(png, format="PNG")
    bucket = cloud.bucket()
    bucket.blob(PHOTO.replace("{uid}", user.uid)).upload_from_string(png.getvalue(), content_type="image/png")
    clip = make_video(2, size="320x240")
    bucket.blob(CLIP.replace("{uid}", user.uid)).upload_from_string(clip, content_type="video/mp4")


def _matches(expected: Any, actual: Any, names: dict[str, str], where: str) -> None:
    """Same keys; a `{placeholder}` names the saved value; other values are illustrative."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict) and len(actual) == len(expected), f"{where}: {actual}"
        for key, value in expected.items():
            real_key = substitute(key, names)
            assert real_key in actual, f"{where}: no {real_key!r} in {actual}"
            _matches(value, actual[real_key], names, f"{where}.{key}")
    elif isinstance(expected, str) and expected.startswith("{") and expected.endswith("}"):
        name = expected[1:-1]
        if name in names:
            assert actual == names[name], f"{where}: {actual!r} is not {name} ({names[name]!r})"
    else:
        assert type(actual) is type(expected), f"{where}: {actual!r} is not like {expected!r}"


def test_every_contract_example_runs_as_documented(user: client.User) -> None:
    _upload_example_files(user)
    names = {"uid": user.uid}
    for step, example in enumerate(EXAMPLES):
        where = f"example {step} ({example.callable}: {example.title})"
        request = substitute(example.request, names)
        if example.error is not None:
            with pytest.raises(client.CallableError) as refused:
                client.call(example.callable, request, user.id_token)
            assert refused.value.status == example.error.upper().replace("-", "_"), where
            continue
        answer = client.call(example.callable, request, user.id_token)
        schema = validate.validator(f"callable.{example.callable}.response.schema.json")
        assert not [e.message for e in schema.iter_errors(answer)], f"{where}: {answer}"
        for field, name in example.saves.items():
            names[name] = str(answer[field])
        _matches(example.response, answer, names, where)
        if example.wait is not None:
            final, _ = client.watch_job(names[example.wait], timeout=600)
            assert final["status"] == example.final_status, f"{where}: {final.get('status')} {final.get('error')}"
