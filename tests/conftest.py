"""Shared fixtures. Integration tests need the local stack: run them through `./dev exec`."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable

import pytest

from mediajobs.cli import client

STACK_VARS = ("FIRESTORE_EMULATOR_HOST", "FIREBASE_AUTH_EMULATOR_HOST", "FUNCTIONS_ORIGIN", "STORAGE_EMULATOR_HOST")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    missing = [name for name in STACK_VARS if not os.environ.get(name)]
    if not missing:
        return
    for item in items:
        if "integration" in item.keywords or "/integration/" in str(item.fspath):
            item.add_marker(pytest.mark.skip(reason=f"needs the local stack (./dev exec); unset: {missing}"))


@pytest.fixture
def new_user() -> Callable[..., client.User]:
    def make(admin: bool = False) -> client.User:
        return client.sign_up(f"user-{uuid.uuid4().hex[:10]}@example.com", admin=admin)

    return make


@pytest.fixture
def user(new_user: Callable[..., client.User]) -> client.User:
    return new_user()
