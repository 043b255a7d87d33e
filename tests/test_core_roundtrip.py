"""Property tests: every policy the schema accepts survives save and load unchanged."""

from __future__ import annotations

import tempfile
from datetime import UTC, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from taskclf.core.inference_policy import (
    InferencePolicy,
    PolicySchemaError,
    load_inference_policy,
    policy_path,
    save_inference_policy,
    validate_policy_document,
)

from conftest import policy_schema_from_file

SCHEMA = policy_schema_from_file()
PROPERTIES = SCHEMA["properties"]

_text_chars = st.characters(codec="utf-8")  # UTF-8 has no lone surrogates
# Path segments: no "/", no backslash, no control characters (the schema refuses them).
_segment_chars = st.characters(codec="utf-8", exclude_categories=("Cc",), exclude_characters="/\\")
_segment = st.text(_segment_chars, min_size=1, max_size=8).filter(lambda s: s != "..")


def _no_drive_letter(path: str) -> bool:
    return not (len(path) >= 2 and path[1] == ":" and path[0].isascii() and path[0].isalpha())


relative_paths = st.lists(_segment, min_size=1, max_size=4).map("/".join).filter(_no_drive_letter)
probabilities = st.floats(min_value=0.0, max_value=1.0, allow_nan=False) | st.sampled_from([0, 1])
labels = st.lists(
    st.text(_text_chars, min_size=1, max_size=10), min_size=1, max_size=6, unique=True
)
non_empty_text = st.text(_text_chars, min_size=1, max_size=20)

_zones = st.sampled_from(
    [UTC, timezone(timedelta(hours=5, minutes=30)), timezone(-timedelta(hours=11, minutes=45))]
)


@st.composite
def created_at(draw: st.DrawFn) -> str:
    moment = draw(st.datetimes(timezones=_zones))
    text = moment.isoformat(timespec=draw(st.sampled_from(["seconds", "milliseconds", "auto"])))
    if moment.utcoffset() == timedelta(0) and draw(st.booleans()):
        text = text.removesuffix("+00:00") + "Z"
    return text


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(_text_chars, max_size=10),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(_text_chars, max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)
notes = st.dictionaries(
    st.text(_text_chars, max_size=8).map(lambda s: "_" + s), json_values, max_size=2
)


@st.composite
def policy_documents(draw: st.DrawFn) -> dict[str, Any]:
    """A policy document the schema accepts; optional fields may be left out."""
    document: dict[str, Any] = {
        "model_dir": draw(relative_paths),
        "model_schema_hash": draw(non_empty_text),
        "model_label_set": draw(labels),
        "reject_threshold": draw(probabilities),
    }
    calibration = draw(st.sampled_from(["absent", "nulls", "store-only", "store-and-method"]))
    if calibration == "nulls":
        document["calibrator_store_dir"] = None
        document["calibration_method"] = None
    elif calibration != "absent":
        document["calibrator_store_dir"] = draw(relative_paths)
        if calibration == "store-and-method":
            document["calibration_method"] = draw(st.sampled_from(["temperature", "isotonic"]))
    optional: dict[str, st.SearchStrategy[Any]] = {
        "policy_version": st.just("v1"),
        "created_at": created_at(),
        "source": non_empty_text,
        "git_commit": st.text(_text_chars, max_size=40),
        "per_user_reject_thresholds": st.none()
        | st.dictionaries(non_empty_text, probabilities, max_size=3),
        # A path relative to the policy file, as the README tells editors to use.
        "$schema": st.just("../../schemas/inference_policy.v1.json"),
    }
    for name, strategy in optional.items():
        if draw(st.booleans()):
            document[name] = draw(strategy)
    document.update(draw(notes))
    return draw(st.permutations(list(document.items())).map(dict))


class TestRoundTrip:
    """from_dict -> save -> load gives back an equal policy with an equal dict form."""

    @settings(max_examples=100, deadline=None)
    @given(document=policy_documents())
    def test_save_load(self, document: dict[str, Any]) -> None:
        assert validate_policy_document(document) == ()
        policy = InferencePolicy.from_dict(document)
        with tempfile.TemporaryDirectory() as folder:
            models = Path(folder) / "models"
            save_inference_policy(policy, models)
            assert policy_path(models).read_bytes() == policy.to_json().encode("utf-8")
            loaded = load_inference_policy(models)
        assert loaded is not None
        assert loaded == policy
        assert loaded.to_dict() == policy.to_dict()
        assert list(loaded.to_dict()) == list(policy.to_dict())
        stored = loaded.to_dict()
        for key, value in document.items():
            assert stored[key] == value, key
        for name, spec in PROPERTIES.items():
            if name not in document and "default" in spec:
                assert stored[name] == spec["default"], name


class TestRejection:
    """A document the schema accepts stops being accepted when one value breaks a rule."""

    @settings(max_examples=50, deadline=None)
    @given(
        document=policy_documents(),
        threshold=st.floats(allow_nan=True, allow_infinity=True).filter(
            lambda x: not 0.0 <= x <= 1.0
        ),
        field=st.sampled_from(["reject_threshold", "per_user_reject_thresholds"]),
    )
    def test_bad_threshold(self, document: dict[str, Any], threshold: float, field: str) -> None:
        document[field] = threshold if field == "reject_threshold" else {"u": threshold}
        pointer = "/reject_threshold" if field == "reject_threshold" else f"/{field}/u"
        with pytest.raises(PolicySchemaError) as caught:
            InferencePolicy.from_dict(document)
        assert [i.pointer for i in caught.value.issues] == [pointer]
