"""Drop-in compatibility with the original taskclf (0.4.x): names, files and details it had."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any, ClassVar

import pytest

from test_cli_support import run_cli

from conftest import REPO_ROOT

ORIGINAL_CASES = sorted((REPO_ROOT / "tests" / "cases" / "valid").glob("original_*"))


class TestNames:
    """The original's import paths work, and name the same objects as ours."""

    def test_reloader_and_config_from_resolve(self) -> None:
        from taskclf.infer import reloader, resolve
        from taskclf.infer.resolve import InferencePolicyReloader, ResolvedInferenceConfig

        assert InferencePolicyReloader is reloader.InferencePolicyReloader
        assert ResolvedInferenceConfig is resolve.ResolvedInferenceConfig

    def test_default_threshold_from_core_defaults_is_the_schemas(self) -> None:
        from taskclf.core import inference_policy
        from taskclf.core.defaults import DEFAULT_REJECT_THRESHOLD

        schema = json.loads((REPO_ROOT / "schemas" / "inference_policy.v1.json").read_text())
        assert schema["properties"]["reject_threshold"]["default"] == DEFAULT_REJECT_THRESHOLD
        assert inference_policy.DEFAULT_REJECT_THRESHOLD == DEFAULT_REJECT_THRESHOLD

    def test_unknown_names_still_raise(self) -> None:
        from taskclf.infer import resolve

        with pytest.raises(AttributeError, match="no attribute 'NoSuchThing'"):
            _ = resolve.NoSuchThing  # type: ignore[attr-defined]


class TestOriginalFiles:
    """Files as the original writes them load, validate and resolve unchanged."""

    @pytest.mark.parametrize("case", ORIGINAL_CASES, ids=[case.name for case in ORIGINAL_CASES])
    def test_resolves_through_the_policy(self, case: Path, home: Path) -> None:
        target = home / "models" / "inference_policy.json"
        shutil.copy(case / "inference_policy.json", target)
        before = target.read_bytes()

        validated = run_cli("policy", "validate", cwd=home)
        resolved = run_cli("policy", "resolve", "--format", "json", cwd=home)

        assert validated.code == 0, validated.stdout
        assert resolved.code == 0, resolved.stderr
        config = resolved.json()["resolved"]
        document = json.loads(before)
        assert config["step"] == "policy"
        assert config["model_dir"] == document["model_dir"]
        assert config["reject_threshold"] == document["reject_threshold"]
        assert config["calibrator_store_dir"] == document["calibrator_store_dir"]
        assert target.read_bytes() == before  # nothing rewrote the user's file

    def test_null_method_with_a_store_uses_the_stores(self, home: Path) -> None:
        shutil.copy(
            REPO_ROOT / "tests/cases/valid/original_build_with_store_dir/inference_policy.json",
            home / "models" / "inference_policy.json",
        )
        config = run_cli("policy", "resolve", "--format", "json", cwd=home).json()["resolved"]
        # store.json of the example store says "temperature"; the policy says null.
        assert config["calibration_method"] == "temperature"
        assert config["calibration_method_from"] == "store.json"
        assert config["policy"]["calibration_method"] is None
        # The original writes no per_user_reject_thresholds here: reported as the policy has it.
        assert config["policy_per_user_reject_thresholds"] is None
        assert config["per_user_reject_thresholds"] == {}


class TestDiskCheckDetails:
    """PolicyValidationError.details carries the original's keys beside ours."""

    def _error(self, models_dir: Path, document: dict[str, Any]) -> Any:
        from taskclf.core.inference_policy import (
            InferencePolicy,
            PolicyValidationError,
            validate_policy,
        )

        with pytest.raises(PolicyValidationError) as caught:
            validate_policy(InferencePolicy.from_dict(document), models_dir)
        return caught.value

    def test_schema_hash_mismatch(self, models_dir: Path, policy_document: dict[str, Any]) -> None:
        error = self._error(models_dir, {**policy_document, "model_schema_hash": "deadbeef"})
        assert error.details["policy_hash"] == "deadbeef"
        assert error.details["bundle_hash"] == "f3a9c2d1e8b7"
        assert error.details["model_dir"].endswith("models/run_001")
        assert error.details["failures"][0]["check"] == "schema_hash_matches"
        assert error.message.splitlines()[1].strip().startswith("Schema hash mismatch: policy has")

    def test_store_fitted_for_another_schema(
        self, home: Path, models_dir: Path, policy_document: dict[str, Any]
    ) -> None:
        store = home / "artifacts" / "calibrator_store" / "store.json"
        store.write_text(json.dumps({"method": "temperature", "model_schema_hash": "0000"}))
        error = self._error(models_dir, policy_document)
        assert error.details["store_schema_hash"] == "0000"
        assert error.details["policy_schema_hash"] == "f3a9c2d1e8b7"
        assert error.details["calibrator_store_dir"].endswith("artifacts/calibrator_store")
        assert "Calibrator store was fitted against a different schema" in error.message

    @pytest.mark.parametrize(
        ("field", "value", "words"),
        [
            ("model_dir", "models/run_404", "Model directory does not exist: models/run_404"),
            (
                "calibrator_store_dir",
                "artifacts/nowhere",
                "Calibrator store directory does not exist: artifacts/nowhere",
            ),
        ],
    )
    def test_missing_folders(
        self,
        models_dir: Path,
        policy_document: dict[str, Any],
        field: str,
        value: str,
        words: str,
    ) -> None:
        error = self._error(models_dir, {**policy_document, field: value})
        assert error.details[field].endswith(value)
        assert words in error.message

    def test_missing_and_unreadable_files(
        self, home: Path, models_dir: Path, policy_document: dict[str, Any]
    ) -> None:
        (models_dir / "run_001" / "metadata.json").unlink()
        (home / "artifacts" / "calibrator_store" / "store.json").write_text("{")
        message = self._error(models_dir, policy_document).message
        assert "Model metadata not found: models/run_001/metadata.json does not exist" in message
        assert "Could not read calibrator store metadata: " in message


class TestHelpBlock:
    """The template's and starter files' _help carry the original's keys."""

    KEYS: ClassVar[list[str]] = [
        "summary",
        "preferred_command",
        "with_calibration",
        "paths_are_relative_to",
        "notes",
        "canonical_template",
    ]

    def test_template(self) -> None:
        result = run_cli("policy", "template", cwd=REPO_ROOT)
        assert list(json.loads(result.stdout)["_help"]) == self.KEYS

    def test_starter_file(self, home: Path) -> None:
        assert run_cli("policy", "init", cwd=home).code == 0
        document = json.loads((home / "models" / "inference_policy.json").read_text())
        assert list(document["_help"]) == self.KEYS
        assert document["_help"]["paths_are_relative_to"] == str(home)
        assert "taskclf policy template" in document["_help"]["canonical_template"]


class TestLabelSet:
    """model_label_set compares equal to lists (as the original's list[str] did), immutably."""

    def _policy(self, labels: list[str]) -> Any:
        from taskclf.core.inference_policy import InferencePolicy

        return InferencePolicy(
            model_dir="models/run_001",
            model_schema_hash="h",
            model_label_set=labels,
            reject_threshold=0.5,
        )

    def test_equals_the_bundles_list(self, models_dir: Path) -> None:
        from taskclf.core.inference_policy import load_inference_policy

        metadata = json.loads((models_dir / "run_001" / "metadata.json").read_text())
        created = run_cli(
            "policy", "create", "--model-dir", "models/run_001", cwd=models_dir.parent
        )
        assert created.code == 0, created.stderr
        policy = load_inference_policy(models_dir)
        assert policy is not None
        assert policy.model_label_set == sorted(metadata["label_set"])
        assert sorted(metadata["label_set"]) == policy.model_label_set
        assert policy.model_label_set == tuple(sorted(metadata["label_set"]))

    def test_order_and_content_matter_as_for_lists(self) -> None:
        labels = self._policy(["a", "b"]).model_label_set
        assert labels == ["a", "b"] and labels != ["b", "a"] and labels != ["a"]
        assert labels != "ab" and labels != ["a", "b", "c"]

    def test_immutable_and_hashable(self) -> None:
        labels = self._policy(["a", "b"]).model_label_set
        assert not hasattr(labels, "append")
        with pytest.raises(TypeError):
            labels[0] = "z"  # type: ignore[index]
        assert hash(labels) == hash(("a", "b"))
        assert {labels: 1}[("a", "b")] == 1

    def test_json_form_is_a_list(self) -> None:
        assert self._policy(["a", "b"]).to_dict()["model_label_set"] == ["a", "b"]
