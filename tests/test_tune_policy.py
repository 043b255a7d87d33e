"""Tests of taskclf.tune.policy: the validated policy that tune-reject writes."""

from __future__ import annotations

from pathlib import Path

import pytest

from taskclf.core.inference_policy import (
    PolicySchemaError,
    read_inference_policy,
    save_inference_policy,
    validate_policy,
)
from taskclf.tune.policy import TUNE_REJECT_SOURCE, tuned_policy
from taskclf.tune.scores import ScoreRow
from taskclf.tune.sweep import TuneResult, tune_reject

from conftest import EXAMPLE_LABELS, EXAMPLE_SCHEMA_HASH

# Thresholds 0.6 and 0.8, reject rate at most 30 %:
# alice: right at 0.9 and 0.7: t=0.6 rejects none (accuracy 1), t=0.8 half -> 0.6.
# bob: right at 0.95, wrong at 0.5: both thresholds reject half -> no threshold.
# Overall: t=0.6 rejects 1 of 4 (25 %, accuracy 1), t=0.8 2 of 4 -> 0.6.
ROWS = [
    ScoreRow("code", "code", 0.9, "alice"),
    ScoreRow("write", "write", 0.7, "alice"),
    ScoreRow("code", "code", 0.95, "bob"),
    ScoreRow("code", "write", 0.5, "bob"),
]


@pytest.fixture
def result() -> TuneResult:
    return tune_reject(ROWS, [0.6, 0.8], per_user=True, min_user_samples=2)


class TestTunedPolicy:
    """The policy binds the bundle and store to the tuned thresholds and is validated."""

    def test_fields(self, result: TuneResult) -> None:
        assert result.threshold == 0.6
        assert result.per_user_thresholds == {"alice": 0.6}
        policy = tuned_policy(
            result,
            model_dir="models/run_001",
            model_schema_hash=EXAMPLE_SCHEMA_HASH,
            model_label_set=reversed(EXAMPLE_LABELS),
            calibrator_store_dir="artifacts/calibrator_store",
            calibration_method="temperature",
        )
        assert policy.source == TUNE_REJECT_SOURCE == "tune-reject"
        assert policy.reject_threshold == 0.6
        assert dict(policy.per_user_reject_thresholds or {}) == {"alice": 0.6}
        assert policy.model_label_set == tuple(sorted(EXAMPLE_LABELS))
        assert policy.calibrator_store_dir == "artifacts/calibrator_store"
        assert policy.calibration_method == "temperature"
        assert policy.created_at
        assert policy.git_commit

    def test_matches_the_example_home_and_round_trips(
        self, result: TuneResult, models_dir: Path
    ) -> None:
        policy = tuned_policy(
            result,
            model_dir="models/run_001",
            model_schema_hash=EXAMPLE_SCHEMA_HASH,
            model_label_set=EXAMPLE_LABELS,
            calibrator_store_dir="artifacts/calibrator_store",
            calibration_method="temperature",
        )
        validate_policy(policy, models_dir)
        path = save_inference_policy(policy, models_dir)
        assert read_inference_policy(path) == policy
        assert read_inference_policy(path).to_dict()["per_user_reject_thresholds"] == {"alice": 0.6}

    def test_no_per_user_thresholds_is_null(self) -> None:
        policy = tuned_policy(
            tune_reject(ROWS, [0.6, 0.8]),
            model_dir="models/run_001",
            model_schema_hash=EXAMPLE_SCHEMA_HASH,
            model_label_set=EXAMPLE_LABELS,
        )
        assert policy.per_user_reject_thresholds is None
        assert policy.calibrator_store_dir is None
        assert policy.calibration_method is None

    def test_invalid_values_are_refused(self, result: TuneResult) -> None:
        with pytest.raises(PolicySchemaError) as caught:
            tuned_policy(
                result,
                model_dir="../outside",
                model_schema_hash="",
                model_label_set=EXAMPLE_LABELS,
                calibration_method="temperature",
            )
        pointers = {issue.pointer for issue in caught.value.issues}
        assert {"/model_dir", "/model_schema_hash", "/calibrator_store_dir"} <= pointers
