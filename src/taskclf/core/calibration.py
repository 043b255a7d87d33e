"""Apply a store's calibrators to raw probabilities, as the original taskclf's inference does.

Pure Python (no numpy at run time). A :class:`~taskclf.core.artifacts.Calibrator`
read from a store maps one row's raw ``label -> probability`` to calibrated
probabilities:

- ``identity``: unchanged;
- ``temperature`` ``T``: ``softmax(log(max(p, 1e-12)) / T)`` over the labels
  (with ``T == 1`` the original returns the probabilities unchanged, and so
  does this module);
- ``isotonic``: each label's probability through its own regressor, in sorted
  label order, as scikit-learn's ``IsotonicRegression.predict`` computes it
  (linear interpolation between the thresholds; outside ``[X_min_, X_max_]``
  the end value for ``"clip"``, NaN for ``"nan"``, an error for ``"raise"``;
  a regressor with one threshold is that constant everywhere); then every value
  is raised to at least ``1e-12`` and the vector divided by its sum.

:func:`score` then gives the prediction (the label of the largest calibrated
probability, the first in sorted order on a tie) and the confidence (that
probability). :class:`StoreCalibrators` picks a user's own calibrator where
the store has one, else the global one.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from taskclf.core.artifacts import Calibrator, IsotonicRegressor

__all__ = [
    "PROBABILITY_FLOOR",
    "CalibrationError",
    "Score",
    "StoreCalibrators",
    "calibrate",
    "predict_isotonic",
    "score",
    "top_label",
]

PROBABILITY_FLOOR = 1e-12
"""The smallest probability the original lets through: log's argument, and isotonic outputs."""


class CalibrationError(ValueError):
    """A calibrator cannot be applied to a row of probabilities.

    Attributes:
        file: the calibrator's file, as shown to the user.
        reason: what is wrong and how to fix it, without the file name.
    """

    def __init__(self, file: str, reason: str) -> None:
        super().__init__(f"{file}: {reason}")
        self.file = file
        self.reason = reason


@dataclass(frozen=True, kw_only=True, slots=True)
class Score:
    """One row's calibrated probabilities and the decision they give.

    Attributes:
        probabilities: the calibrated probability of each label, in sorted label order.
        predicted: the label with the largest probability (the first in sorted
            order on a tie).
        confidence: that probability.
    """

    probabilities: Mapping[str, float]
    predicted: str
    confidence: float


def predict_isotonic(regressor: IsotonicRegressor, x: float, *, file: str = "calibrator") -> float:
    """The value of ``regressor`` at raw probability ``x``, as ``IsotonicRegression.predict``.

    Raises:
        CalibrationError: ``x`` is outside ``[x_min, x_max]`` and the
            regressor's ``out_of_bounds`` is ``"raise"``.
    """
    xs, ys = regressor.x_thresholds, regressor.y_thresholds
    if len(xs) == 1:
        # scikit-learn predicts a one-point fit as that constant, bounds or not.
        return ys[0]
    if regressor.out_of_bounds == "clip":
        x = min(max(x, regressor.x_min), regressor.x_max)
    elif not xs[0] <= x <= xs[-1]:
        if regressor.out_of_bounds == "nan":
            return math.nan
        raise CalibrationError(
            file,
            f"raw probability {x!r} is outside the fitted range [{xs[0]!r}, {xs[-1]!r}] of an "
            'isotonic regressor whose out_of_bounds is "raise"; refit it with out_of_bounds '
            '"clip", or score only inputs inside that range',
        )
    # The segment [xs[i - 1], xs[i]] holding x; x equal to a threshold takes the segment
    # that ends there, and the first threshold the first segment.
    i = min(max(bisect_left(xs, x), 1), len(xs) - 1)
    x0, x1, y0, y1 = xs[i - 1], xs[i], ys[i - 1], ys[i]
    return y0 + (y1 - y0) / (x1 - x0) * (x - x0)


def calibrate(calibrator: Calibrator, probabilities: Mapping[str, float]) -> dict[str, float]:
    """Calibrated probabilities of one row, keyed by label in sorted label order.

    ``probabilities`` maps each label of the model to its raw probability.
    The result may hold NaN (an isotonic regressor with ``out_of_bounds``
    ``"nan"`` given a value outside its range: then every value is NaN, as in
    the original).

    Raises:
        CalibrationError: an isotonic calibrator has another number of
            regressors than there are labels, or a regressor refuses a value
            (``out_of_bounds`` ``"raise"``).
    """
    labels = sorted(probabilities)
    raw = [float(probabilities[label]) for label in labels]
    if calibrator.kind == "temperature" and calibrator.temperature is not None:
        values = _temperature(raw, calibrator.temperature)
    elif calibrator.kind == "isotonic":
        values = _isotonic(raw, calibrator)
    else:
        values = raw
    return dict(zip(labels, values, strict=True))


def _temperature(raw: list[float], temperature: float) -> list[float]:
    if temperature == 1.0:
        return raw
    scaled = [math.log(max(p, PROBABILITY_FLOOR)) / temperature for p in raw]
    top = max(scaled)
    exps = [math.exp(s - top) for s in scaled]
    total = math.fsum(exps)
    return [e / total for e in exps]


def _isotonic(raw: list[float], calibrator: Calibrator) -> list[float]:
    if len(calibrator.regressors) != len(raw):
        raise CalibrationError(
            calibrator.file,
            f"an isotonic calibrator with {len(calibrator.regressors)} regressors cannot "
            f"calibrate {len(raw)} labels (one regressor per label, in sorted label order); "
            "refit the calibrator store for this model",
        )
    values = []
    for regressor, p in zip(calibrator.regressors, raw, strict=True):
        value = predict_isotonic(regressor, p, file=calibrator.file)
        values.append(value if math.isnan(value) else max(value, PROBABILITY_FLOOR))
    total = math.fsum(values)
    return [value / total for value in values]


def top_label(probabilities: Mapping[str, float]) -> tuple[str, float]:
    """The label with the largest probability and that probability (ties: first in sorted order).

    Raises:
        ValueError: ``probabilities`` is empty or holds NaN.
    """
    labels = sorted(probabilities)
    if not labels:
        raise ValueError("no probabilities to choose a label from")
    best = (labels[0], probabilities[labels[0]])
    for label in labels:
        value = probabilities[label]
        if math.isnan(value):
            raise ValueError(f"the probability of {label!r} is NaN")
        if value > best[1]:
            best = (label, value)
    return best


def score(calibrator: Calibrator, probabilities: Mapping[str, float]) -> Score:
    """Calibrate one row and decide: calibrated probabilities, predicted label, confidence.

    Raises:
        CalibrationError: the calibrator cannot be applied (see :func:`calibrate`),
            or it gives NaN for this row (an isotonic regressor with
            ``out_of_bounds`` ``"nan"`` met a value outside its range; the
            original would carry a NaN confidence, which no threshold rejects).
    """
    calibrated = calibrate(calibrator, probabilities)
    if any(math.isnan(value) for value in calibrated.values()):
        raise CalibrationError(
            calibrator.file,
            'gives NaN for this row: an isotonic regressor with out_of_bounds "nan" met a raw '
            'probability outside its fitted range; refit it with out_of_bounds "clip"',
        )
    predicted, confidence = top_label(calibrated)
    return Score(
        probabilities=MappingProxyType(calibrated), predicted=predicted, confidence=confidence
    )


@dataclass(frozen=True, kw_only=True, slots=True)
class StoreCalibrators:
    """A store's calibrators: the global one and each user's own.

    Attributes:
        global_calibrator: ``global.json``, for every user without their own.
        users: ``users/<user_id>.json`` by user id.
    """

    global_calibrator: Calibrator
    users: Mapping[str, Calibrator] = field(default_factory=lambda: MappingProxyType({}))

    def for_user(self, user_id: str | None) -> Calibrator:
        """The calibrator of ``user_id``: their own where the store has one, else the global one."""
        if user_id is not None and user_id in self.users:
            return self.users[user_id]
        return self.global_calibrator

    def score(self, probabilities: Mapping[str, float], user_id: str | None = None) -> Score:
        """:func:`score` with the calibrator of ``user_id``.

        Raises:
            CalibrationError: as :func:`score`.
        """
        return score(self.for_user(user_id), probabilities)
