"""seed_inference_policy: the policy a new edit starts from, built from the resolved bundle."""

from __future__ import annotations

from pathlib import Path

import pytest

from taskclf.core.inference_policy import DEFAULT_REJECT_THRESHOLD, validate_policy
from taskclf.infer.resolve import ModelResolutionError
from taskclf.infer.seed import EDIT_SOURCE, seed_inference_policy

from conftest import write_json


class TestSeed:
    """Bundle, threshold and calibrator store of a seeded policy."""

    def test_from_best_model_with_bound_store(self, models_dir: Path) -> None:
        seeded = seed_inference_policy(models_dir)
        policy = seeded.policy
        assert str(seeded.config.step) == "best-model"
        assert policy.model_dir == "models/run_001"
        assert policy.reject_threshold == 0.6  # run_001's advisory value
        assert policy.calibrator_store_dir == "artifacts/calibrator_store"
        assert policy.calibration_method == "temperature"
        assert policy.source == EDIT_SOURCE
        assert seeded.dropped_store is None
        validate_policy(policy, models_dir)
        assert not (models_dir / "inference_policy.json").exists()  # nothing written

    def test_override_without_advisory_threshold_or_store(self, models_dir: Path) -> None:
        seeded = seed_inference_policy(models_dir, model_dir_override="models/run_002")
        assert str(seeded.config.step) == "override"
        assert seeded.policy.model_dir == "models/run_002"
        assert seeded.policy.reject_threshold == DEFAULT_REJECT_THRESHOLD
        assert seeded.policy.calibrator_store_dir is None

    def test_store_a_policy_cannot_name_is_dropped(self, home: Path, models_dir: Path) -> None:
        write_json(
            home / "artifacts" / "back\\slash" / "store.json",
            {"method": "isotonic", "model_bundle_id": "run_002"},
        )
        seeded = seed_inference_policy(models_dir, model_dir_override="models/run_002")
        assert seeded.policy.calibrator_store_dir is None
        assert seeded.policy.calibration_method is None
        assert seeded.dropped_store is not None
        assert seeded.dropped_store.startswith("artifacts/back\\slash cannot be named in a policy")

    def test_invalid_store_json_is_not_bound(self, home: Path, models_dir: Path) -> None:
        store = home / "artifacts" / "calibrator_store" / "store.json"
        store.write_text('{"model_bundle_id": "run_001", "method": "platt"}\n')
        seeded = seed_inference_policy(models_dir)
        assert seeded.policy.calibrator_store_dir is None
        assert seeded.dropped_store is None

    def test_nothing_resolves(self, tmp_path: Path) -> None:
        (tmp_path / "models").mkdir()
        with pytest.raises(ModelResolutionError):
            seed_inference_policy(tmp_path / "models")
