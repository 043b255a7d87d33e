"""Tests for the typed facade :class:`taskclf.core.inference_policy.InferencePolicy`."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from taskclf.core.inference_policy import (
    DEFAULT_REJECT_THRESHOLD,
    DEFAULT_SOURCE,
    InferencePolicy,
    PolicySchemaError,
    build_inference_policy,
)
from taskclf.core.provenance import UNKNOWN_COMMIT

from conftest import policy_schema_from_file

SCHEMA = policy_schema_from_file()
# What a policy in a checkout sets "$schema" to: a path relative to the policy file (a URL
# nobody serves would make editors stop validating).
SCHEMA_POINTER = "../../schemas/inference_policy.v1.json"
SCHEMA_DEFAULTS = {
    name: spec["default"] for name, spec in SCHEMA["properties"].items() if "default" in spec
}
REQUIRED_ONLY = {
    "model_dir": "models/run_001",
    "model_schema_hash": "abc",
    "model_label_set": ["code", "browse"],
    "reject_threshold": 0.5,
}


def _git_env(ceiling: Path) -> dict[str, str]:
    # Git must not find a repository above ``ceiling`` (e.g. one holding /tmp).
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env["GIT_CEILING_DIRECTORIES"] = str(ceiling)
    return env


def _git(repo: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
        env=_git_env(repo.parent),
    )
    return result.stdout.strip()


def _run_python(code: str, cwd: Path, ceiling: Path) -> str:
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        env=_git_env(ceiling),
    )
    return result.stdout.strip()


class TestDefaults:
    """Fields left out take the schema's defaults, read from the schema file itself."""

    def test_schema_defaults_applied(self) -> None:
        assert SCHEMA_DEFAULTS, "the schema declares defaults"
        policy = InferencePolicy.from_dict(REQUIRED_ONLY)
        document = policy.to_dict()
        for name, default in SCHEMA_DEFAULTS.items():
            if name in REQUIRED_ONLY:
                continue
            assert document[name] == default, name

    def test_default_threshold_when_omitted(self) -> None:
        document = {k: v for k, v in REQUIRED_ONLY.items() if k != "reject_threshold"}
        with pytest.raises(PolicySchemaError) as caught:
            InferencePolicy.from_dict(document)
        # reject_threshold is both required and defaulted: the file must state it,
        # while a keyword construction falls back to the schema's default.
        assert [i.pointer for i in caught.value.issues] == ["/reject_threshold"]
        policy = InferencePolicy(model_dir="m", model_schema_hash="h", model_label_set=("a",))
        assert policy.reject_threshold == SCHEMA["properties"]["reject_threshold"]["default"]

    def test_module_constants_equal_schema(self) -> None:
        assert SCHEMA["properties"]["reject_threshold"]["default"] == DEFAULT_REJECT_THRESHOLD
        assert SCHEMA["properties"]["source"]["default"] == DEFAULT_SOURCE

    def test_created_at_defaults_to_now_utc(self) -> None:
        before = datetime.now(UTC).replace(microsecond=0)
        policy = InferencePolicy.from_dict(REQUIRED_ONLY)
        after = datetime.now(UTC)
        created = datetime.fromisoformat(policy.created_at)
        assert created.utcoffset() is not None
        assert created.utcoffset().total_seconds() == 0  # type: ignore[union-attr]
        assert before <= created <= after

    def test_missing_required_field_raises(self) -> None:
        with pytest.raises(PolicySchemaError) as caught:
            InferencePolicy(model_dir="models/run_001", model_schema_hash="h")
        assert [i.pointer for i in caught.value.issues] == ["/model_label_set"]


class TestImmutability:
    """A policy cannot change after construction, nor through the values it was built from."""

    def test_fields_cannot_be_set(self) -> None:
        policy = InferencePolicy.from_dict(REQUIRED_ONLY)
        with pytest.raises(dataclasses.FrozenInstanceError):
            policy.reject_threshold = 0.9  # type: ignore[misc]
        with pytest.raises(dataclasses.FrozenInstanceError):
            policy.model_dir = "elsewhere"  # type: ignore[misc]

    def test_containers_are_read_only(self) -> None:
        policy = InferencePolicy.from_dict(
            {**REQUIRED_ONLY, "per_user_reject_thresholds": {"alice": 0.6}, "_note": "x"}
        )
        assert isinstance(policy.model_label_set, tuple)
        assert policy.per_user_reject_thresholds is not None
        with pytest.raises(TypeError):
            policy.per_user_reject_thresholds["alice"] = 0.1  # type: ignore[index]
        with pytest.raises(TypeError):
            policy.annotations["_note"] = "y"  # type: ignore[index]

    def test_source_values_are_copied(self) -> None:
        labels = ["code", "browse"]
        per_user = {"alice": 0.6}
        notes = {"_help": {"notes": ["a"]}}
        document = {
            **REQUIRED_ONLY,
            "model_label_set": labels,
            "per_user_reject_thresholds": per_user,
            **notes,
        }
        policy = InferencePolicy.from_dict(document)
        before = policy.to_dict()
        labels.append("meeting")
        per_user["bob"] = 0.1
        notes["_help"]["notes"].append("b")
        assert policy.to_dict() == before

    def test_to_dict_returns_a_copy(self) -> None:
        policy = InferencePolicy.from_dict({**REQUIRED_ONLY, "_help": {"notes": ["a"]}})
        first = policy.to_dict()
        first["model_label_set"].append("x")
        first["_help"]["notes"].append("b")
        assert policy.to_dict()["model_label_set"] == REQUIRED_ONLY["model_label_set"]
        assert policy.to_dict()["_help"] == {"notes": ["a"]}


class TestDictForm:
    """from_dict/to_dict round-trip, with keys in schema order and notes kept."""

    def test_round_trip(self, policy_document: dict[str, Any]) -> None:
        policy = InferencePolicy.from_dict(policy_document)
        assert policy.to_dict() == policy_document
        assert InferencePolicy.from_dict(policy.to_dict()) == policy

    def test_key_order_is_schema_order(self, policy_document: dict[str, Any]) -> None:
        shuffled = dict(reversed(list(policy_document.items())))
        policy = InferencePolicy.from_dict(shuffled)
        assert list(policy.to_dict()) == list(SCHEMA["properties"])

    def test_schema_key_first_then_notes_then_fields(self, policy_document: dict[str, Any]) -> None:
        document = {"_note": "n", **policy_document, "$schema": SCHEMA_POINTER, "_help": {}}
        policy = InferencePolicy.from_dict(document)
        assert list(policy.to_dict()) == ["$schema", "_note", "_help", *SCHEMA["properties"]]
        assert dict(policy.annotations) == {"_note": "n", "$schema": SCHEMA_POINTER, "_help": {}}

    def test_to_json_is_the_dict(self, policy_document: dict[str, Any]) -> None:
        policy = InferencePolicy.from_dict(policy_document)
        assert json.loads(policy.to_json()) == policy.to_dict()

    def test_from_dict_rejects_non_mapping(self) -> None:
        with pytest.raises(PolicySchemaError) as caught:
            InferencePolicy.from_dict([REQUIRED_ONLY])  # type: ignore[arg-type]
        assert [(i.pointer, i.keyword) for i in caught.value.issues] == [("", "type")]

    def test_annotations_key_is_not_a_backdoor(self) -> None:
        with pytest.raises(PolicySchemaError) as caught:
            InferencePolicy.from_dict({**REQUIRED_ONLY, "annotations": {"_x": 1}})
        assert [i.pointer for i in caught.value.issues] == ["/annotations"]


class TestValueSemantics:
    """Policies compare and hash by value."""

    def test_equal_by_value(self, policy_document: dict[str, Any]) -> None:
        a = InferencePolicy.from_dict(policy_document)
        b = InferencePolicy.from_dict(json.loads(json.dumps(policy_document)))
        assert a == b
        assert a is not b
        assert hash(a) == hash(b)
        assert len({a, b}) == 1

    @pytest.mark.parametrize(
        ("field", "value"),
        [
            ("reject_threshold", 0.56),
            ("model_label_set", ["a"]),
            ("per_user_reject_thresholds", {"alice": 0.5}),
            ("_note", "differs"),
        ],
    )
    def test_unequal_when_any_value_differs(
        self, policy_document: dict[str, Any], field: str, value: Any
    ) -> None:
        a = InferencePolicy.from_dict(policy_document)
        b = InferencePolicy.from_dict({**policy_document, field: value})
        assert a != b
        assert len({a, b}) == 2

    def test_hashable_with_mappings(self, policy_document: dict[str, Any]) -> None:
        policy_document["per_user_reject_thresholds"] = {"alice": 0.5}
        policy_document["_help"] = {"notes": []}
        policy = InferencePolicy.from_dict(policy_document)
        assert {policy: 1}[InferencePolicy.from_dict(policy_document)] == 1

    def test_label_order_matters_for_equality(self, policy_document: dict[str, Any]) -> None:
        # The file keeps the order it was given; build_inference_policy sorts.
        reordered = {**policy_document, "model_label_set": policy_document["model_label_set"][::-1]}
        assert InferencePolicy.from_dict(policy_document) != InferencePolicy.from_dict(reordered)


class TestBuild:
    """build_inference_policy sorts labels and stamps provenance."""

    def test_sorts_labels_and_defaults(self) -> None:
        policy = build_inference_policy(
            model_dir="models/run_001", model_schema_hash="h", model_label_set=["c", "a", "b"]
        )
        assert policy.model_label_set == ("a", "b", "c")
        assert policy.reject_threshold == SCHEMA["properties"]["reject_threshold"]["default"]
        assert policy.source == SCHEMA["properties"]["source"]["default"]
        assert policy.calibrator_store_dir is None
        assert datetime.fromisoformat(policy.created_at).utcoffset().total_seconds() == 0  # type: ignore[union-attr]

    def test_invalid_values_raise(self) -> None:
        with pytest.raises(PolicySchemaError) as caught:
            build_inference_policy(
                model_dir="/abs",
                model_schema_hash="h",
                model_label_set=["a"],
                calibration_method="isotonic",
            )
        assert [i.pointer for i in caught.value.issues] == ["/model_dir", "/calibrator_store_dir"]

    def test_git_commit_unknown_outside_git(self, tmp_path: Path) -> None:
        code = (
            "from taskclf.core.inference_policy import build_inference_policy\n"
            "print(build_inference_policy(model_dir='m', model_schema_hash='h',"
            " model_label_set=['a']).git_commit)"
        )
        assert _run_python(code, tmp_path, tmp_path.parent) == UNKNOWN_COMMIT

    def test_git_commit_inside_git(self, tmp_path: Path) -> None:
        repo = tmp_path / "repo"
        repo.mkdir()
        _git(repo, "init", "-q")
        (repo / "f.txt").write_text("x\n", encoding="utf-8")
        _git(repo, "add", "f.txt")
        _git(
            repo,
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.invalid",
            "commit",
            "-q",
            "-m",
            "c",
        )
        head = _git(repo, "rev-parse", "HEAD")
        assert len(head) >= 40
        code = (
            "from taskclf.core.inference_policy import build_inference_policy\n"
            "print(build_inference_policy(model_dir='m', model_schema_hash='h',"
            " model_label_set=['a']).git_commit)"
        )
        assert _run_python(code, repo, tmp_path) == head
        sub = repo / "sub"
        sub.mkdir()
        code = "from taskclf.core.provenance import current_git_commit; print(current_git_commit())"
        assert _run_python(code, sub, tmp_path) == head

    def test_git_commit_unknown_before_first_commit(self, tmp_path: Path) -> None:
        repo = tmp_path / "empty-repo"
        repo.mkdir()
        _git(repo, "init", "-q")
        code = "from taskclf.core.provenance import current_git_commit; print(current_git_commit())"
        assert _run_python(code, repo, tmp_path) == UNKNOWN_COMMIT
