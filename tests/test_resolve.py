"""Tests of taskclf.infer.resolve: every precedence step and every fallback reason."""

from __future__ import annotations

import dataclasses
import json
import logging
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from taskclf.core.inference_policy import DEFAULT_REJECT_THRESHOLD
from taskclf.infer.resolve import (
    IDENTITY_CALIBRATION,
    InvalidOverrideError,
    ModelResolutionError,
    ResolutionStep,
    ResolvedInferenceConfig,
    TrailCode,
    TrailEntry,
    resolve_inference_config,
)
from taskclf.model_registry import write_active_atomic

from conftest import EXAMPLE_LABELS, EXAMPLE_SCHEMA_HASH, write_json

MakeBundle = Callable[..., Path]
WritePolicy = Callable[..., Path]

NOT_GIVEN = TrailEntry(
    step=ResolutionStep.OVERRIDE,
    code=TrailCode.NOT_GIVEN,
    reason="no model_dir override given",
)
NO_POLICY = TrailEntry(
    step=ResolutionStep.POLICY,
    code=TrailCode.MISSING,
    reason="models/inference_policy.json does not exist",
)
NO_ACTIVE = TrailEntry(
    step=ResolutionStep.ACTIVE,
    code=TrailCode.MISSING,
    reason="models/active.json does not exist",
)


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


def set_active(models_dir: Path, model_dir: str, **extra: Any) -> Path:
    return write_json(
        models_dir / "active.json",
        {
            "model_dir": model_dir,
            "selected_at": "2026-01-30T08:00:00+00:00",
            "policy_version": "v1",
            **extra,
        },
    )


def policy_skip(config: ResolvedInferenceConfig) -> TrailEntry:
    return next(entry for entry in config.trail if entry.step is ResolutionStep.POLICY)


class TestOverride:
    """An explicit model_dir bypasses the policy; a missing one is an error, not a fallback."""

    def test_existing_override_bypasses_the_policy(
        self, models_dir: Path, write_policy: WritePolicy, caplog: pytest.LogCaptureFixture
    ) -> None:
        write_policy(models_dir)
        with caplog.at_level(logging.WARNING):
            config = resolve_inference_config(models_dir, model_dir_override="models/run_002")
        assert config.step is ResolutionStep.OVERRIDE
        assert config.bundle_id == "run_002" and config.model_dir == "models/run_002"
        assert config.model_path == models_dir / "run_002"
        assert config.policy is None
        assert config.reject_threshold == DEFAULT_REJECT_THRESHOLD
        assert config.calibrator_store_dir is None
        assert config.calibration_method == IDENTITY_CALIBRATION
        assert config.trail == ()
        assert warnings_of(caplog) == []

    def test_absolute_override_and_metrics_not_needed(
        self, tmp_path: Path, models_dir: Path, make_bundle: MakeBundle
    ) -> None:
        outside = make_bundle(tmp_path / "scratch", "experiment", schema_hash="abc")
        config = resolve_inference_config(models_dir, model_dir_override=outside)
        assert config.model_dir == str(outside) and config.schema_hash == "abc"

    def test_missing_override_is_an_error(self, models_dir: Path) -> None:
        with pytest.raises(
            InvalidOverrideError, match=r"model_dir_override models/run_009: .*does not exist"
        ) as info:
            resolve_inference_config(models_dir, model_dir_override="models/run_009")
        assert isinstance(info.value, ModelResolutionError)
        assert info.value.field == "model_dir_override"
        assert info.value.reason.startswith("models/run_009 does not exist")

    def test_incompatible_override_is_an_error(self, models_dir: Path) -> None:
        with pytest.raises(InvalidOverrideError, match="incompatible: schema_hash"):
            resolve_inference_config(
                models_dir, model_dir_override="models/run_002", required_schema_hash="other"
            )


class TestPolicy:
    """A valid policy that passes its disk checks wins over active.json and selection."""

    def test_valid_policy(self, models_dir: Path, write_policy: WritePolicy) -> None:
        write_policy(models_dir, per_user_reject_thresholds={"alice": 0.7})
        set_active(models_dir, "models/run_002")
        config = resolve_inference_config(
            models_dir,
            required_schema_hash=EXAMPLE_SCHEMA_HASH,
            required_label_set=reversed(EXAMPLE_LABELS),
        )
        assert config.step is ResolutionStep.POLICY
        assert config.model_dir == "models/run_001"
        assert config.policy is not None and config.policy.reject_threshold == 0.62
        assert config.reject_threshold == 0.62
        assert config.calibrator_store_dir == "artifacts/calibrator_store"
        assert config.calibrator_store_path == models_dir.parent / "artifacts/calibrator_store"
        assert config.calibration_method == "temperature"
        assert config.trail == (NOT_GIVEN,)
        assert config.threshold_for("alice") == 0.7
        assert config.threshold_for("bob") == 0.62
        assert config.threshold_for(None) == 0.62

    def test_policy_bundle_needs_no_metrics(
        self, models_dir: Path, write_policy: WritePolicy
    ) -> None:
        (models_dir / "run_001" / "metrics.json").unlink()  # selection needs it, inference not
        write_policy(models_dir)
        config = resolve_inference_config(models_dir)
        assert config.step is ResolutionStep.POLICY and config.model_dir == "models/run_001"

    def test_policy_without_calibration(self, models_dir: Path, write_policy: WritePolicy) -> None:
        write_policy(models_dir, calibrator_store_dir=None, calibration_method=None)
        config = resolve_inference_config(models_dir)
        assert config.step is ResolutionStep.POLICY
        assert config.calibrator_store_dir is None
        assert config.calibration_method == IDENTITY_CALIBRATION

    def test_store_method_used_when_policy_names_none(
        self, models_dir: Path, write_policy: WritePolicy
    ) -> None:
        store = models_dir.parent / "artifacts" / "calibrator_store" / "store.json"
        write_json(store, {"model_bundle_id": "run_001"})  # names no method
        write_policy(models_dir, calibration_method=None)
        config = resolve_inference_config(models_dir)
        assert config.step is ResolutionStep.POLICY and config.calibration_method is None
        write_json(store, {"model_bundle_id": "run_001", "method": "isotonic"})
        write_policy(models_dir, calibration_method=None)
        # null means "the store's method", as the original taskclf writes it.
        config = resolve_inference_config(models_dir)
        assert config.step is ResolutionStep.POLICY and config.calibration_method == "isotonic"
        write_policy(models_dir, calibration_method="temperature")
        # A method the store contradicts is a disk-check failure.
        config = resolve_inference_config(models_dir)
        assert config.step is not ResolutionStep.POLICY
        assert (
            'Calibration method mismatch: policy has "temperature", store has "isotonic"'
            in policy_skip(config).reason
        )


class TestPolicyFallback:
    """An unusable policy falls back, with one WARNING and the reason in the trail."""

    def test_invalid_json(self, models_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
        (models_dir / "inference_policy.json").write_text('{"model_dir": ', encoding="utf-8")
        with caplog.at_level(logging.WARNING):
            config = resolve_inference_config(models_dir)
        assert config.step is ResolutionStep.BEST_MODEL
        skipped = policy_skip(config)
        assert skipped.code is TrailCode.INVALID and skipped.broken
        assert skipped.reason.startswith("models/inference_policy.json is not valid JSON:")
        assert config.trail == (NOT_GIVEN, skipped, NO_ACTIVE)
        messages = warnings_of(caplog)
        assert len(messages) == 1
        assert skipped.reason in messages[0]
        assert "using models/run_001 (best-model) instead" in messages[0]

    def test_schema_violation(
        self,
        models_dir: Path,
        write_policy: WritePolicy,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        write_policy(models_dir, reject_threshold=1.5)
        with caplog.at_level(logging.WARNING):
            config = resolve_inference_config(models_dir)
        assert policy_skip(config).reason == (
            "models/inference_policy.json is invalid: /reject_threshold: 1.5 is greater than "
            "the maximum of 1 (expected a probability between 0 and 1)"
        )
        assert config.reject_threshold == DEFAULT_REJECT_THRESHOLD
        assert len(warnings_of(caplog)) == 1

    def test_missing_bundle(
        self, models_dir: Path, write_policy: WritePolicy, caplog: pytest.LogCaptureFixture
    ) -> None:
        write_policy(
            models_dir,
            model_dir="models/run_009",
            calibrator_store_dir=None,
            calibration_method=None,
        )
        with caplog.at_level(logging.WARNING):
            config = resolve_inference_config(models_dir)
        skipped = policy_skip(config)
        assert skipped.code is TrailCode.DISK_CHECK
        assert skipped.reason == "policy's model_dir models/run_009 does not exist"
        assert config.step is ResolutionStep.BEST_MODEL
        assert len(warnings_of(caplog)) == 1

    def test_schema_hash_mismatch(
        self, models_dir: Path, write_policy: WritePolicy, caplog: pytest.LogCaptureFixture
    ) -> None:
        write_policy(models_dir, model_schema_hash="0000")
        with caplog.at_level(logging.WARNING):
            config = resolve_inference_config(models_dir)
        skipped = policy_skip(config)
        assert skipped.code is TrailCode.DISK_CHECK
        assert (
            'Schema hash mismatch: policy has "0000", bundle has "f3a9c2d1e8b7"' in skipped.reason
        )
        assert config.policy is None
        assert len(warnings_of(caplog)) == 1

    def test_missing_store_drops_the_tuned_threshold_too(
        self, models_dir: Path, write_policy: WritePolicy, caplog: pytest.LogCaptureFixture
    ) -> None:
        shutil.rmtree(models_dir.parent / "artifacts" / "calibrator_store")
        write_policy(models_dir)
        set_active(models_dir, "models/run_001")
        with caplog.at_level(logging.WARNING):
            config = resolve_inference_config(models_dir)
        # Same bundle, but neither the tuned threshold nor a silent identity calibration.
        assert config.step is ResolutionStep.ACTIVE and config.model_dir == "models/run_001"
        assert config.reject_threshold == DEFAULT_REJECT_THRESHOLD
        assert config.policy is None
        skipped = policy_skip(config)
        assert skipped.reason == (
            "policy's calibrator_store_dir artifacts/calibrator_store does not exist; its "
            "reject_threshold 0.62 was tuned on calibrated scores, so the policy is not used "
            "without its calibrator store"
        )
        messages = warnings_of(caplog)
        assert len(messages) == 2  # the policy's reason, and active.json's deprecation
        assert skipped.reason in messages[0]
        assert "models/active.json is deprecated" in messages[1]

    def test_incompatible_with_the_caller(
        self, models_dir: Path, make_bundle: MakeBundle, write_policy: WritePolicy
    ) -> None:
        make_bundle(
            models_dir, "run_003", labels=["code"], metrics={"macro_f1": 0.1, "weighted_f1": 0.1}
        )
        write_policy(models_dir)
        config = resolve_inference_config(models_dir, required_label_set=["code"])
        assert config.step is ResolutionStep.BEST_MODEL and config.bundle_id == "run_003"
        skipped = policy_skip(config)
        assert skipped.code is TrailCode.INCOMPATIBLE
        assert skipped.reason.startswith("policy's model models/run_001 is incompatible: label_set")

    def test_policy_pointing_out_of_home(
        self,
        tmp_path: Path,
        models_dir: Path,
        make_bundle: MakeBundle,
        write_policy: WritePolicy,
    ) -> None:
        outside = make_bundle(
            tmp_path / "outside", "evil", metrics={"macro_f1": 1, "weighted_f1": 1}
        )
        (models_dir / "evil").symlink_to(outside, target_is_directory=True)
        write_policy(
            models_dir, model_dir="models/evil", calibrator_store_dir=None, calibration_method=None
        )
        config = resolve_inference_config(models_dir)
        assert "leads outside TASKCLF_HOME" in policy_skip(config).reason
        assert config.model_dir == "models/run_001"


class TestActive:
    """active.json is the deprecated fallback, with code defaults."""

    def test_valid_active(self, models_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
        write_active_atomic(models_dir, "models/run_002")
        with caplog.at_level(logging.WARNING):
            config = resolve_inference_config(models_dir)
        assert config.step is ResolutionStep.ACTIVE
        assert config.model_dir == "models/run_002"
        assert config.reject_threshold == DEFAULT_REJECT_THRESHOLD
        assert config.calibration_method == IDENTITY_CALIBRATION
        assert config.trail == (NOT_GIVEN, NO_POLICY)
        assert warnings_of(caplog) == [
            "models/active.json is deprecated: using models/run_002 (active); make it the "
            "inference policy with `taskclf policy create --model-dir models/run_002`"
        ]

    def test_invalid_active(self, models_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
        write_json(models_dir / "active.json", {"model_dir": "models/run_002"})
        with caplog.at_level(logging.WARNING):
            config = resolve_inference_config(models_dir)
        assert config.step is ResolutionStep.BEST_MODEL
        skipped = config.trail[2]
        assert skipped.step is ResolutionStep.ACTIVE and skipped.code is TrailCode.INVALID
        assert skipped.reason.startswith("models/active.json is invalid: /selected_at")
        messages = warnings_of(caplog)
        assert len(messages) == 1 and skipped.reason in messages[0]

    def test_active_pointing_at_missing_bundle(self, models_dir: Path) -> None:
        set_active(models_dir, "models/run_009")
        config = resolve_inference_config(models_dir)
        assert config.trail[2] == TrailEntry(
            step=ResolutionStep.ACTIVE,
            code=TrailCode.UNUSABLE,
            reason="models/active.json points at models/run_009, which is not a usable "
            "bundle: models/run_009 does not exist",
        )
        assert config.step is ResolutionStep.BEST_MODEL

    def test_active_pointing_out_of_home(
        self, tmp_path: Path, models_dir: Path, make_bundle: MakeBundle
    ) -> None:
        outside = make_bundle(
            tmp_path / "outside", "evil", metrics={"macro_f1": 1, "weighted_f1": 1}
        )
        (models_dir / "evil").symlink_to(outside, target_is_directory=True)
        set_active(models_dir, "models/evil")
        config = resolve_inference_config(models_dir)
        assert config.trail[2].code is TrailCode.UNUSABLE
        assert "leads outside TASKCLF_HOME" in config.trail[2].reason
        assert config.model_dir == "models/run_001"

    def test_incompatible_active(self, models_dir: Path, make_bundle: MakeBundle) -> None:
        make_bundle(
            models_dir,
            "run_003",
            schema_hash="new_features",
            metrics={"macro_f1": 0.5, "weighted_f1": 0.5},
        )
        set_active(models_dir, "models/run_001")
        config = resolve_inference_config(models_dir, required_schema_hash="new_features")
        assert config.trail[2].code is TrailCode.INCOMPATIBLE
        assert config.trail[2].reason == (
            "models/active.json points at models/run_001, which is incompatible: schema_hash "
            f'"{EXAMPLE_SCHEMA_HASH}" does not match the required "new_features"'
        )
        assert config.step is ResolutionStep.BEST_MODEL and config.bundle_id == "run_003"


class TestBestModel:
    """Without policy or active.json, the best compatible bundle wins, with code defaults."""

    def test_best_model(self, models_dir: Path, make_bundle: MakeBundle) -> None:
        make_bundle(models_dir, "run_003")  # broken: no metrics.json
        config = resolve_inference_config(models_dir)
        assert config.step is ResolutionStep.BEST_MODEL
        assert config.bundle_id == "run_001"
        assert config.trail == (NOT_GIVEN, NO_POLICY, NO_ACTIVE)
        assert config.selection is not None
        assert [b.bundle_id for b in config.selection.ranked] == ["run_001", "run_002"]
        assert [e.bundle.bundle_id for e in config.selection.excluded] == ["run_003"]
        assert config.reject_threshold == DEFAULT_REJECT_THRESHOLD
        assert config.metadata["reject_threshold"] == 0.6  # advisory only: not used

    def test_ties_use_weighted_f1_then_created_at(
        self, tmp_path: Path, make_bundle: MakeBundle
    ) -> None:
        models = tmp_path / "home" / "models"
        scores = {"macro_f1": 0.8, "weighted_f1": 0.8}
        make_bundle(models, "old", metrics=scores, created_at="2026-01-01T00:00:00+00:00")
        make_bundle(models, "new", metrics=scores, created_at="2026-01-05T00:00:00+00:00")
        assert resolve_inference_config(models).bundle_id == "new"
        make_bundle(models, "weighted", metrics={"macro_f1": 0.8, "weighted_f1": 0.81})
        assert resolve_inference_config(models).bundle_id == "weighted"

    def test_no_bundles_at_all(self, tmp_path: Path) -> None:
        models = tmp_path / "home" / "models"
        with pytest.raises(ModelResolutionError) as info:
            resolve_inference_config(models)
        message = info.value.message
        assert message.splitlines()[:5] == [
            f"no model bundle could be resolved in {models}:",
            "  override: no model_dir override given",
            "  policy: models/inference_policy.json does not exist",
            "  active: models/active.json does not exist",
            "  best-model: no valid, compatible model bundle in models",
        ]
        assert "taskclf policy create" in message
        assert info.value.excluded == ()
        assert [entry.step for entry in info.value.trail] == list(ResolutionStep)

    def test_only_broken_bundles(
        self,
        models_dir: Path,
        make_bundle: MakeBundle,
        write_policy: WritePolicy,
    ) -> None:
        for name in ("run_001", "run_002"):
            (models_dir / name / "metrics.json").unlink()
        write_policy(models_dir, reject_threshold=2)
        set_active(models_dir, "models/run_002")
        with pytest.raises(ModelResolutionError) as info:
            resolve_inference_config(models_dir)
        message = info.value.message
        assert "policy: models/inference_policy.json is invalid: /reject_threshold" in message
        assert "active: models/active.json points at models/run_002" in message
        assert "best-model: no valid, compatible model bundle in models (2 excluded)" in message
        assert (
            "excluded bundles:\n  models/run_001: models/run_001/metrics.json does not exist"
            in message
        )
        assert "  models/run_002: models/run_002/metrics.json does not exist" in message
        as_dict = json.loads(json.dumps(info.value.to_dict()))
        assert len(as_dict["excluded"]) == 2 and len(as_dict["trail"]) == 4


class TestFieldOverrides:
    """Threshold and store overrides apply on top of the winning step; the trail says so."""

    def test_threshold_override_on_policy(
        self, models_dir: Path, write_policy: WritePolicy
    ) -> None:
        write_policy(models_dir, per_user_reject_thresholds={"alice": 0.7})
        config = resolve_inference_config(models_dir, reject_threshold_override=0.4)
        assert config.step is ResolutionStep.POLICY
        assert config.reject_threshold == 0.4 and config.threshold_for("alice") == 0.4
        assert config.calibrator_store_dir == "artifacts/calibrator_store"
        assert config.trail[-1] == TrailEntry(
            step=ResolutionStep.POLICY,
            code=TrailCode.OVERRIDDEN,
            reason="reject_threshold 0.4 from the override replaces 0.62 from the policy; "
            "the policy's per-user thresholds (1 user) are not used",
        )
        assert not config.trail[-1].skipped

    def test_threshold_override_on_model_override(self, models_dir: Path) -> None:
        config = resolve_inference_config(
            models_dir, model_dir_override="models/run_002", reject_threshold_override=0
        )
        assert config.reject_threshold == 0.0
        assert config.trail[0].reason == (
            f"reject_threshold 0 from the override replaces {DEFAULT_REJECT_THRESHOLD} "
            "from the code default"
        )

    @pytest.mark.parametrize("value", [1.5, -0.1, float("nan")])
    def test_threshold_override_out_of_range(self, models_dir: Path, value: float) -> None:
        with pytest.raises(InvalidOverrideError, match="reject_threshold_override") as info:
            resolve_inference_config(models_dir, reject_threshold_override=value)
        assert info.value.field == "reject_threshold_override"

    def test_store_override_on_best_model(self, models_dir: Path) -> None:
        config = resolve_inference_config(
            models_dir, calibrator_store_override="artifacts/calibrator_store"
        )
        assert config.step is ResolutionStep.BEST_MODEL and config.bundle_id == "run_001"
        assert config.calibrator_store_dir == "artifacts/calibrator_store"
        assert config.calibration_method == "temperature"
        assert config.trail[-1].reason == (
            "calibrator store artifacts/calibrator_store from the override replaces identity "
            "calibration from the code default"
        )

    def test_store_override_on_policy(self, models_dir: Path, write_policy: WritePolicy) -> None:
        write_json(
            models_dir.parent / "artifacts" / "iso" / "store.json",
            {"method": "isotonic", "model_schema_hash": EXAMPLE_SCHEMA_HASH},
        )
        write_policy(models_dir)
        config = resolve_inference_config(models_dir, calibrator_store_override="artifacts/iso")
        assert config.step is ResolutionStep.POLICY
        assert config.calibration_method == "isotonic"
        assert config.reject_threshold == 0.62
        assert config.trail[-1].reason == (
            "calibrator store artifacts/iso from the override replaces calibrator store "
            "artifacts/calibrator_store from the policy"
        )

    def test_store_override_for_another_model(self, models_dir: Path) -> None:
        with pytest.raises(InvalidOverrideError, match='fitted for model bundle "run_001"'):
            resolve_inference_config(
                models_dir,
                model_dir_override="models/run_002",
                calibrator_store_override="artifacts/calibrator_store",
            )

    def test_missing_store_override(self, models_dir: Path) -> None:
        with pytest.raises(InvalidOverrideError, match="not a calibrator store folder"):
            resolve_inference_config(models_dir, calibrator_store_override="artifacts/none")


class TestConfigObject:
    """The result is immutable and serialisable."""

    def test_immutable(self, models_dir: Path, write_policy: WritePolicy) -> None:
        write_policy(models_dir, per_user_reject_thresholds={"alice": 0.7})
        config = resolve_inference_config(models_dir)
        with pytest.raises(dataclasses.FrozenInstanceError):
            config.reject_threshold = 0.1  # type: ignore[misc]
        with pytest.raises(TypeError):
            config.per_user_reject_thresholds["bob"] = 0.1  # type: ignore[index]
        with pytest.raises(TypeError):
            config.metadata["schema_hash"] = "x"  # type: ignore[index]
        assert isinstance(config.trail, tuple)
        assert config == resolve_inference_config(models_dir)

    def test_to_dict(self, models_dir: Path, write_policy: WritePolicy) -> None:
        write_policy(models_dir)
        as_dict = json.loads(json.dumps(resolve_inference_config(models_dir).to_dict()))
        assert as_dict["step"] == "policy"
        assert as_dict["model_dir"] == "models/run_001"
        assert as_dict["policy"]["reject_threshold"] == 0.62
        assert as_dict["trail"] == [
            {"step": "override", "code": "not-given", "reason": "no model_dir override given"}
        ]
        assert as_dict["metadata"]["train_range"] == {"from": "2025-12-01", "to": "2026-01-10"}
