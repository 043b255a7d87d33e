"""Calibrators applied to raw probabilities agree with numpy and with real scikit-learn fits.

The references are independent: numpy formulas written from the original's
documented behaviour, and scikit-learn's ``IsotonicRegression`` fitted on
generated data, exported to the JSON form the original writes, then read back
through :class:`~taskclf.core.artifacts.Calibrator` as taskclf reads a store.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn import isotonic

from taskclf.core.artifacts import Calibrator
from taskclf.core.calibration import (
    CalibrationError,
    StoreCalibrators,
    calibrate,
    predict_isotonic,
    score,
    top_label,
)
from taskclf.core.home import Home
from taskclf.core.inference_policy import InferencePolicy
from taskclf.core.policy_checks import inspect_policy_artifacts

from conftest import EXAMPLE_LABELS, EXAMPLE_STORE_DIR

TOLERANCE = 1e-12


def _calibrator(document: dict[str, Any], file: str = "global.json") -> Calibrator:
    return Calibrator.from_bytes(json.dumps(document).encode(), file=file)


def _rows(rng: Any, count: int, labels: int) -> Any:
    # Dirichlet rows with some exact zeros and near-ties, as raw model output has.
    rows = rng.dirichlet(np.full(labels, 0.6), size=count)
    rows[::17, 0] = 0.0
    rows[::23] = np.round(rows[::23], 2)
    return rows


def _as_dict(row: Any, labels: list[str]) -> dict[str, float]:
    return {label: float(value) for label, value in zip(labels, row, strict=True)}


def _numpy_temperature(row: Any, temperature: float) -> Any:
    if temperature == 1.0:
        return row
    logits = np.log(np.clip(row, 1e-12, None)) / temperature
    exps = np.exp(logits - logits.max())
    return exps / exps.sum()


def _export(regressor: Any) -> dict[str, Any]:
    """An IsotonicRegression in the JSON form the original taskclf writes."""
    return {
        "X_thresholds_": regressor.X_thresholds_.tolist(),
        "y_thresholds_": regressor.y_thresholds_.tolist(),
        "X_min_": float(regressor.X_min_),
        "X_max_": float(regressor.X_max_),
        "increasing_": bool(regressor.increasing_),
        "out_of_bounds": regressor.out_of_bounds,
    }


def _fit(rng: Any, rows: Any, *, increasing: bool = True, out_of_bounds: str = "clip") -> list[Any]:
    """One regressor per label, fitted on (raw probability, is this the true label)."""
    truth = np.array([rng.choice(len(row), p=row / row.sum()) for row in rows])
    fitted = []
    for column in range(rows.shape[1]):
        target = (truth == column).astype(float)
        regressor = isotonic.IsotonicRegression(
            increasing=increasing, out_of_bounds=out_of_bounds, y_min=0.0, y_max=1.0
        )
        fitted.append(regressor.fit(rows[:, column], target if increasing else 1 - target))
    return fitted


def _original_reload(document: dict[str, Any]) -> list[Any]:
    """What the original's loader builds from the JSON: a refit on the thresholds."""
    rebuilt = []
    for item in document["regressors"]:
        regressor = isotonic.IsotonicRegression(
            increasing=item["increasing_"],
            out_of_bounds=item["out_of_bounds"],
            y_min=0.0,
            y_max=1.0,
        )
        rebuilt.append(
            regressor.fit(np.array(item["X_thresholds_"]), np.array(item["y_thresholds_"]))
        )
    return rebuilt


def _sklearn_calibrate(regressors: list[Any], rows: Any) -> Any:
    """The original's IsotonicCalibrator.calibrate, written again from its description."""
    columns = [np.clip(r.predict(rows[:, c]), 1e-12, None) for c, r in enumerate(regressors)]
    calibrated = np.column_stack(columns)
    return calibrated / calibrated.sum(axis=1, keepdims=True)


class TestIdentity:
    """The identity leaves every probability as it is (no renormalising)."""

    def test_unchanged(self) -> None:
        raw = {"write": 0.2, "code": 0.5, "browse": 0.2}
        calibrated = calibrate(_calibrator({}), raw)
        assert calibrated == {"browse": 0.2, "code": 0.5, "write": 0.2}
        assert list(calibrated) == ["browse", "code", "write"]


class TestTemperature:
    """softmax(log(max(p, 1e-12)) / T), against numpy to 1e-12."""

    @pytest.mark.parametrize("temperature", [0.25, 0.8, 1.37, 3.0, 25.0])
    def test_against_numpy(self, temperature: float) -> None:
        rng = np.random.default_rng(7)
        calibrator = _calibrator({"type": "temperature", "temperature": temperature})
        worst = 0.0
        for row in _rows(rng, 400, 4):
            found = calibrate(calibrator, _as_dict(row, EXAMPLE_LABELS))
            expected = _numpy_temperature(row, temperature)
            worst = max(worst, float(np.max(np.abs(np.array(list(found.values())) - expected))))
            assert math.isclose(math.fsum(found.values()), 1.0, abs_tol=1e-12)
        assert worst <= TOLERANCE

    def test_temperature_one_is_unchanged(self) -> None:
        # The original returns its input as it is for T == 1, not a renormalised copy.
        raw = {"a": 0.0, "b": 0.3}
        assert calibrate(_calibrator({"type": "temperature", "temperature": 1}), raw) == raw

    def test_zero_probability_is_floored(self) -> None:
        calibrated = calibrate(
            _calibrator({"type": "temperature", "temperature": 2.0}), {"a": 0.0, "b": 1.0}
        )
        assert calibrated["a"] == pytest.approx(1e-6 / (1 + 1e-6), rel=1e-12)


class TestIsotonicAgainstScikitLearn:
    """Per-label isotonic regressions fitted by scikit-learn, exported, read and applied."""

    @pytest.mark.parametrize("seed", [1, 2, 3])
    @pytest.mark.parametrize("increasing", [True, False])
    def test_fitted_and_exported(self, seed: int, increasing: bool) -> None:
        rng = np.random.default_rng(seed)
        fitted = _fit(rng, _rows(rng, 600, 4), increasing=increasing)
        document = {"type": "isotonic", "regressors": [_export(r) for r in fitted]}
        calibrator = _calibrator(json.loads(json.dumps(document)))
        test_rows = _rows(rng, 500, 4)
        expected = _sklearn_calibrate(fitted, test_rows)
        reloaded = _sklearn_calibrate(_original_reload(document), test_rows)
        assert np.max(np.abs(expected - reloaded)) <= TOLERANCE
        found = np.array(
            [
                list(calibrate(calibrator, _as_dict(row, EXAMPLE_LABELS)).values())
                for row in test_rows
            ]
        )
        assert np.max(np.abs(found - expected)) <= TOLERANCE

    def test_each_regressor_point_by_point(self) -> None:
        rng = np.random.default_rng(11)
        rows = _rows(rng, 300, 3)
        inside = np.concatenate([np.linspace(0, 1, 1001), rows[:, 0]])
        for regressor in _fit(rng, rows):
            ours = _calibrator({"type": "isotonic", "regressors": [_export(regressor)]})
            (typed,) = ours.regressors
            expected = regressor.predict(inside)
            found = np.array([predict_isotonic(typed, float(x)) for x in inside])
            assert np.max(np.abs(found - expected)) <= TOLERANCE
            # Every threshold itself maps to its own output value.
            at_thresholds = [predict_isotonic(typed, x) for x in typed.x_thresholds]
            assert np.max(np.abs(np.array(at_thresholds) - regressor.y_thresholds_)) <= TOLERANCE

    @pytest.mark.parametrize("out_of_bounds", ["clip", "nan"])
    def test_outside_the_fitted_range(self, out_of_bounds: str) -> None:
        xs = np.array([0.2, 0.3, 0.5, 0.7])
        regressor = isotonic.IsotonicRegression(out_of_bounds=out_of_bounds).fit(
            xs, np.array([0.1, 0.4, 0.3, 0.9])
        )
        (typed,) = _calibrator({"type": "isotonic", "regressors": [_export(regressor)]}).regressors
        probes = np.array([0.0, 0.1, 0.2, 0.25, 0.7, 0.71, 1.0])
        expected = regressor.predict(probes)
        found = np.array([predict_isotonic(typed, float(x)) for x in probes])
        assert np.array_equal(np.isnan(found), np.isnan(expected))
        same = ~np.isnan(expected)
        assert np.max(np.abs(found[same] - expected[same])) <= TOLERANCE

    def test_raise_outside_the_fitted_range(self) -> None:
        regressor = isotonic.IsotonicRegression(out_of_bounds="raise").fit(
            np.array([0.2, 0.6]), np.array([0.1, 0.8])
        )
        with pytest.raises(ValueError):
            regressor.predict(np.array([0.9]))
        (typed,) = _calibrator(
            {"type": "isotonic", "regressors": [_export(regressor)]}, file="users/bob.json"
        ).regressors
        assert predict_isotonic(typed, 0.6) == pytest.approx(0.8, abs=TOLERANCE)
        with pytest.raises(
            CalibrationError, match=r"^users/bob.json: raw probability 0.9 is outside"
        ):
            predict_isotonic(typed, 0.9, file="users/bob.json")

    @pytest.mark.parametrize("out_of_bounds", ["clip", "nan", "raise"])
    def test_one_threshold_is_a_constant_everywhere(self, out_of_bounds: str) -> None:
        regressor = isotonic.IsotonicRegression(out_of_bounds=out_of_bounds).fit(
            np.array([0.4, 0.4]), np.array([0.0, 1.0])
        )
        (typed,) = _calibrator({"type": "isotonic", "regressors": [_export(regressor)]}).regressors
        for x in (0.0, 0.4, 1.0):
            assert predict_isotonic(typed, x) == float(regressor.predict(np.array([x]))[0]) == 0.5

    def test_floor_then_renormalise(self) -> None:
        zero = {
            "X_thresholds_": [0.0, 1.0],
            "y_thresholds_": [0.0, 0.0],
            "X_min_": 0.0,
            "X_max_": 1.0,
            "increasing_": True,
            "out_of_bounds": "clip",
        }
        half = {**zero, "y_thresholds_": [0.5, 0.5]}
        calibrated = calibrate(
            _calibrator({"type": "isotonic", "regressors": [zero, half]}), {"a": 0.7, "b": 0.3}
        )
        assert calibrated == {"a": 1e-12 / (0.5 + 1e-12), "b": 0.5 / (0.5 + 1e-12)}

    def test_regressor_count_must_match(self) -> None:
        rng = np.random.default_rng(5)
        fitted = _fit(rng, _rows(rng, 100, 3))
        calibrator = _calibrator(
            {"type": "isotonic", "regressors": [_export(r) for r in fitted]}, file="global.json"
        )
        with pytest.raises(CalibrationError, match="3 regressors cannot calibrate 4 labels"):
            calibrate(calibrator, _as_dict(_rows(rng, 1, 4)[0], EXAMPLE_LABELS))


class TestScore:
    """Prediction is the largest calibrated probability, ties to the first label in sorted order."""

    def test_top_label_ties_go_to_the_first_label(self) -> None:
        assert top_label({"write": 0.4, "code": 0.4, "browse": 0.2}) == ("code", 0.4)

    def test_top_label_refuses_nan_and_empty(self) -> None:
        with pytest.raises(ValueError, match="NaN"):
            top_label({"a": math.nan})
        with pytest.raises(ValueError, match="no probabilities"):
            top_label({})

    def test_score(self) -> None:
        found = score(
            _calibrator({"type": "temperature", "temperature": 0.5}), {"a": 0.3, "b": 0.7}
        )
        assert found.predicted == "b"
        assert found.confidence == pytest.approx(0.49 / 0.58, abs=TOLERANCE)
        assert dict(found.probabilities) == pytest.approx({"a": 0.09 / 0.58, "b": 0.49 / 0.58})

    def test_nan_is_a_clear_error(self) -> None:
        regressor = {
            "X_thresholds_": [0.2, 0.8],
            "y_thresholds_": [0.1, 0.9],
            "X_min_": 0.2,
            "X_max_": 0.8,
            "increasing_": True,
            "out_of_bounds": "nan",
        }
        calibrator = _calibrator({"type": "isotonic", "regressors": [regressor, regressor]})
        assert all(math.isnan(v) for v in calibrate(calibrator, {"a": 0.1, "b": 0.9}).values())
        with pytest.raises(CalibrationError, match="gives NaN for this row"):
            score(calibrator, {"a": 0.1, "b": 0.9})


class TestStoreCalibrators:
    """A user's own calibrator where the store has one, else the global one."""

    def test_example_store(self, home: Path, policy_document: dict[str, Any]) -> None:
        found = inspect_policy_artifacts(InferencePolicy.from_dict(policy_document), Home.at(home))
        assert found.global_calibrator is not None
        calibrators = StoreCalibrators(
            global_calibrator=found.global_calibrator, users=found.user_calibrators
        )
        assert calibrators.for_user("alice").file == f"{EXAMPLE_STORE_DIR}/users/alice.json"
        assert calibrators.for_user("bob").kind == "isotonic"
        assert calibrators.for_user("carol") is found.global_calibrator
        assert calibrators.for_user(None) is found.global_calibrator
        raw = {"browse": 0.1, "code": 0.6, "meeting": 0.1, "write": 0.2}
        bob = calibrators.score(raw, "bob")
        # bob's code regressor: 0.6 lies on [0.6, 0.9] -> 0.55.
        expected = [0.1 * 0.4 + 0.02, 0.55, 0.03 + 0.1 * 0.27 / 0.4, 0.02 + 0.2 * 0.13 / 0.25]
        total = sum(expected)
        assert bob.predicted == "code"
        assert bob.confidence == pytest.approx(0.55 / total, abs=TOLERANCE)
        alice = calibrators.score(raw, "alice")
        assert alice.confidence == pytest.approx(
            float(_numpy_temperature(np.array(list(raw.values())), 1.12)[1]), abs=TOLERANCE
        )
