"""Hypothesis strategies and checks shared by the fuzz tests (tests/unit/test_fuzz_*.py)."""

from __future__ import annotations

from typing import Any

import pydantic
from google.cloud.firestore_v1 import _helpers as firestore_helpers
from hypothesis import strategies as st

from mediajobs.validation import describe

# Text a client can really send: JSON allows lone surrogates ("\ud800") and NUL, and names
# come with slashes, dots, control characters and any script.
hostile_text = st.one_of(
    st.text(max_size=30),
    st.text(st.characters(codec=None, categories=["Cs", "Cc", "Zs", "Po"]), max_size=8),
    st.sampled_from(["", ".", "..", "../x", "/abs", "a\\b", "a\x00b", "\ud800", "users/u/a.png", "é" * 400, "__x__"]),
)
json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    hostile_text,
)
json_values: st.SearchStrategy[Any] = st.recursive(
    json_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(hostile_text, children, max_size=4),
    ),
    max_leaves=12,
)


def objects_with(fields: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[dict[str, Any]]:
    """Dicts mixing the model's own field names (with plausible or wild values) and junk keys."""
    known = st.fixed_dictionaries(
        {}, optional={name: st.one_of(values, json_values) for name, values in fields.items()}
    )
    junk = st.dictionaries(hostile_text, json_values, max_size=2)
    return st.one_of(known, st.builds(lambda a, b: {**b, **a}, known, junk), st.dictionaries(hostile_text, json_values))


def assert_clear_validation_error(error: pydantic.ValidationError, prefix: str = "") -> str:
    message = describe(error, prefix)
    assert message.strip(), "a validation error must explain itself"
    assert len(message) < 20_000
    return message


def _no_array_in_array(value: Any, in_array: bool = False) -> None:
    if isinstance(value, list):
        assert not in_array, f"Firestore cannot store an array inside an array: {value!r}"
        for item in value:
            _no_array_in_array(item, True)
    elif isinstance(value, dict):
        for item in value.values():
            _no_array_in_array(item, False)


def assert_storable(document: dict[str, Any]) -> None:
    """What a validator accepted can be written to Firestore as is (UTF-8 text, int64, no nested arrays)."""
    _no_array_in_array(document)
    encoded = firestore_helpers.encode_dict(document)
    for value in encoded.values():
        type(value).serialize(value)
