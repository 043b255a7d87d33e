"""The reject-threshold sweep: one pass over scored rows, every candidate threshold at once.

A prediction is *accepted* at threshold ``t`` when its confidence is at least
``t`` and *rejected* otherwise (as inference does with ``reject_threshold``).
For each candidate threshold the sweep reports the reject rate, the coverage
(accepted share), the accuracy on accepted rows and their macro-F1.

Definitions:

- accuracy: correct accepted rows / accepted rows; ``None`` when none is accepted.
- macro-F1: the mean, over every label that is the true or the predicted label
  of at least one accepted row, of ``2 TP / (2 TP + FP + FN)`` counted on the
  accepted rows; ``None`` when none is accepted. Labels that no accepted row
  mentions are left out, since their F1 is undefined (0/0).

The chosen threshold maximises accuracy on accepted rows among the candidates
whose reject rate lies in ``[reject_rate_min, reject_rate_max]`` (bounds
included). On a tie the lower threshold wins: it rejects fewer rows for the
same accuracy. When no candidate qualifies, :func:`tune_reject` raises
:class:`NoThresholdInBounds` instead of picking one.

Certified choice (``target_accuracy``): each candidate gets the one-sided
Clopper-Pearson lower bound, at level ``1 - delta``, of its accuracy on
accepted rows; fixed-sequence testing from the highest candidate down
certifies candidates while the bound is at least the target and stops at the
first that is not; the lowest certified candidate is chosen, provided its
reject rate is at most ``reject_rate_max`` when that is given
(:func:`~taskclf.core.bounds.certify_thresholds`). If the held-out rows are
exchangeable with the rows met in deployment, then with probability at least
``1 - delta`` over the held-out sample the chosen threshold's accuracy on
accepted rows is at least the target. When nothing is certified,
:func:`tune_reject` raises :class:`NothingCertified`. Per user, each user is
certified on their own rows alone (same procedure, same ``delta``), so the
guarantee holds for each user separately.

Memory does not grow with the number of rows: each row lands in one bucket,
the number of candidate thresholds it passes (found by bisection), and the
accumulator keeps, per bucket, the row count and per-label TP/FP/FN counts.
Cumulative sums over the buckets give every threshold's figures at the end,
so the accumulator is O(thresholds x labels). With ``per_user``, each user
reaching ``min_user_samples`` rows gets one; the rows of a user below that are
kept packed, 8 bytes a row, so many users with few rows each cost little.
"""

from __future__ import annotations

import math
from array import array
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, DecimalException, InvalidOperation
from itertools import pairwise
from typing import Any

from taskclf.core.bounds import CertifiedThresholds, ThresholdCount, certify_thresholds
from taskclf.core.schemas import POLICY_SCHEMA, validate_value
from taskclf.tune.defaults import (
    DEFAULT_DELTA,
    DEFAULT_MIN_USER_SAMPLES,
    DEFAULT_REJECT_RATE_MAX,
    DEFAULT_REJECT_RATE_MIN,
    DEFAULT_THRESHOLD_SPEC,
)
from taskclf.tune.scores import ScoreRow

__all__ = [
    "CERTIFICATION_ASSUMPTION",
    "DEFAULT_DELTA",
    "DEFAULT_MIN_USER_SAMPLES",
    "DEFAULT_REJECT_RATE_MAX",
    "DEFAULT_REJECT_RATE_MIN",
    "DEFAULT_THRESHOLD_SPEC",
    "MAX_THRESHOLDS",
    "NoScoreRowsError",
    "NoThresholdInBounds",
    "NothingCertified",
    "SkippedUser",
    "SweepAccumulator",
    "SweepResult",
    "ThresholdSpecError",
    "ThresholdStats",
    "TuneRejectError",
    "TuneResult",
    "UserSweep",
    "certification_dict",
    "certification_failure",
    "default_thresholds",
    "parse_thresholds",
    "tune_reject",
]

MAX_THRESHOLDS = 10_000
"""Most candidate thresholds a spec may produce (a guard against ``0:1:1e-9``)."""

CERTIFICATION_ASSUMPTION = (
    "the held-out rows are exchangeable with the rows met in deployment (drawn alike from "
    "the same distribution)"
)
"""What the certified guarantee assumes, as the report states it."""

_SPEC_HELP = "use start:stop:step (such as 0.10:0.95:0.05) or a list (such as 0.3,0.5,0.7)"


class ThresholdSpecError(ValueError):
    """A threshold spec cannot be used; ``spec`` is the text and ``reason`` what is wrong."""

    def __init__(self, spec: str, reason: str) -> None:
        super().__init__(f"invalid threshold spec {spec!r}: {reason}")
        self.spec = spec
        self.reason = reason


class TuneRejectError(Exception):
    """Tuning cannot produce a threshold; the message says why and what to change."""


class NoScoreRowsError(TuneRejectError):
    """There is no row to tune on."""

    def __init__(self) -> None:
        super().__init__(
            "no scored rows to tune on: the file has no rows, or every row was invalid"
        )


def parse_thresholds(spec: str) -> tuple[float, ...]:
    """Parse a threshold spec into sorted candidate thresholds.

    ``start:stop:step`` gives ``start, start+step, ...`` up to and including
    ``stop`` when a step lands on it; the arithmetic is exact decimal, so
    ``0.10:0.95:0.05`` ends at 0.95 exactly. ``a,b,c`` gives those values.
    Every value must be a valid ``reject_threshold`` of the policy schema (a
    probability in [0, 1]).

    Raises:
        ThresholdSpecError: (a ``ValueError``) the spec is empty or malformed,
            a number is not finite, the step is not positive, stop is below
            start, a value is out of range or repeated, or the spec yields more
            than :data:`MAX_THRESHOLDS` values.
    """
    text = spec.strip()
    if not text:
        raise ThresholdSpecError(spec, f"it is empty; {_SPEC_HELP}")
    if ":" in text:
        parts = text.split(":")
        if len(parts) != 3:
            raise ThresholdSpecError(spec, f"a range has three parts; {_SPEC_HELP}")
        start, stop, step = (_decimal(spec, part) for part in parts)
        if step <= 0:
            raise ThresholdSpecError(spec, f"the step {parts[2].strip()} must be greater than 0")
        if stop < start:
            raise ThresholdSpecError(spec, "stop is below start")
        try:
            count = int((stop - start) / step) + 1
        except DecimalException:  # the quotient overflows: far too many
            count = MAX_THRESHOLDS + 1
        if count > MAX_THRESHOLDS:
            raise ThresholdSpecError(
                spec, f"it gives more than {MAX_THRESHOLDS} thresholds; use a larger step"
            )
        values = [start + index * step for index in range(count)]
    else:
        values = [_decimal(spec, part) for part in text.split(",")]
        if len(values) > MAX_THRESHOLDS:
            raise ThresholdSpecError(spec, f"it lists more than {MAX_THRESHOLDS} thresholds")
    try:
        return _checked_thresholds(float(value) for value in values)
    except ValueError as exc:
        raise ThresholdSpecError(spec, str(exc)) from exc


def default_thresholds() -> tuple[float, ...]:
    """The candidate thresholds of :data:`DEFAULT_THRESHOLD_SPEC`."""
    return parse_thresholds(DEFAULT_THRESHOLD_SPEC)


def _decimal(spec: str, part: str) -> Decimal:
    try:
        value = Decimal(part.strip())
    except InvalidOperation:
        raise ThresholdSpecError(spec, f"{part.strip()!r} is not a number; {_SPEC_HELP}") from None
    if not value.is_finite():
        raise ThresholdSpecError(spec, f"{part.strip()!r} is not a finite number")
    return value


def _checked_thresholds(values: Iterable[float]) -> tuple[float, ...]:
    result = sorted(values)
    if not result:
        raise ValueError("no candidate thresholds")
    for value in result:
        # A candidate may become the policy's reject_threshold: the schema says
        # which values it can take.
        issues = validate_value(POLICY_SCHEMA, "/properties/reject_threshold", value)
        if issues:
            raise ValueError(f"threshold {issues[0].message_with_hint}")
    for previous, value in pairwise(result):
        if previous == value:
            raise ValueError(f"the threshold {value:g} appears twice")
    return tuple(result)


@dataclass(frozen=True, kw_only=True, slots=True)
class ThresholdStats:
    """The figures of one candidate threshold (one row of the sweep table).

    Attributes:
        threshold: the candidate threshold.
        rejected: rows whose confidence is below ``threshold``.
        accepted: the other rows.
        correct: accepted rows whose prediction is right.
        reject_rate: ``rejected / (rejected + accepted)``.
        coverage: ``accepted / (rejected + accepted)``.
        accuracy: share of accepted rows whose prediction is right; ``None``
            when nothing is accepted.
        macro_f1: macro-F1 on the accepted rows (see the module docstring);
            ``None`` when nothing is accepted.
    """

    threshold: float
    rejected: int
    accepted: int
    correct: int
    reject_rate: float
    coverage: float
    accuracy: float | None
    macro_f1: float | None

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form, as used by ``--format json`` output."""
        return {
            "threshold": self.threshold,
            "rejected": self.rejected,
            "accepted": self.accepted,
            "reject_rate": self.reject_rate,
            "coverage": self.coverage,
            "accuracy": self.accuracy,
            "macro_f1": self.macro_f1,
        }


@dataclass(frozen=True, kw_only=True, slots=True)
class SweepResult:
    """The sweep over one set of rows (all rows, or one user's) and the choice made.

    Attributes:
        total: rows swept.
        stats: one entry per candidate threshold, by increasing threshold.
        reject_rate_min: lower bound on the reject rate of the chosen threshold.
        reject_rate_max: upper bound on it.
        chosen: the chosen entry of ``stats``, or ``None`` when no candidate
            has a reject rate within the bounds (and something accepted), or,
            with ``certification``, when none is certified (within
            ``reject_rate_max``).
        certification: with a target accuracy, every candidate's bound and
            the certified choice (``chosen`` is then its choice); else ``None``.
    """

    total: int
    stats: tuple[ThresholdStats, ...]
    reject_rate_min: float
    reject_rate_max: float
    chosen: ThresholdStats | None
    certification: CertifiedThresholds | None = None

    @property
    def threshold(self) -> float | None:
        """The chosen threshold, or ``None``."""
        return None if self.chosen is None else self.chosen.threshold

    def bound_of(self, entry: ThresholdStats) -> float | None:
        """The lower bound of ``entry``'s accuracy, with a certification; else ``None``."""
        if self.certification is None:
            return None
        for bound in self.certification.bounds:
            if bound.threshold == entry.threshold:
                return bound.bound
        return None

    def certified(self, entry: ThresholdStats) -> bool:
        """Whether ``entry``'s threshold is certified (``False`` without a certification)."""
        return self.certification is not None and entry.threshold in self.certification.certified

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form, as used by ``--format json`` output."""
        result: dict[str, Any] = {
            "total_rows": self.total,
            "reject_rate_min": self.reject_rate_min,
            "reject_rate_max": self.reject_rate_max,
            "chosen_threshold": self.threshold,
            "sweep": [entry.to_dict() for entry in self.stats],
        }
        if self.certification is not None:
            result["certification"] = certification_dict(self.certification)
        return result


def certification_dict(certification: CertifiedThresholds) -> dict[str, Any]:
    """Plain-data form of a certification: target, delta, each bound, the choice."""
    return {
        "target_accuracy": certification.target_accuracy,
        "delta": certification.delta,
        "assumption": CERTIFICATION_ASSUMPTION,
        "bounds": [
            {
                "threshold": bound.threshold,
                "correct": bound.correct,
                "accepted": bound.accepted,
                "accuracy": bound.accuracy,
                "lower_bound": bound.bound,
                "tested": bound.tested,
                "certified": bound.certified,
            }
            for bound in certification.bounds
        ],
        "certified_thresholds": list(certification.certified),
        "chosen_threshold": certification.chosen,
        "chosen_bound": certification.chosen_bound,
        "reason": certification.reason,
        "best_bound": certification.best_bound,
        "best_threshold": certification.best_threshold,
        "more_heldout_rows_needed": certification.more_heldout_rows_needed,
    }


class NoThresholdInBounds(TuneRejectError):
    """No candidate threshold keeps the reject rate within the bounds.

    Attributes:
        sweep: the full sweep (its ``chosen`` is ``None``), to show the user.
    """

    def __init__(self, sweep: SweepResult) -> None:
        rates = [entry.reject_rate for entry in sweep.stats]
        within = (
            "within" if all(entry.accepted for entry in sweep.stats) else ("below 100% and within")
        )
        super().__init__(
            f"no candidate threshold keeps the reject rate {within} "
            f"[{sweep.reject_rate_min:.1%}, {sweep.reject_rate_max:.1%}] on {sweep.total} rows "
            f"(the candidates reject {min(rates):.1%} to {max(rates):.1%}); widen the bounds "
            "(--reject-rate-min, --reject-rate-max) or try other thresholds (--thresholds)"
        )
        self.sweep = sweep


class NothingCertified(TuneRejectError):
    """No candidate threshold is certified at the target accuracy (within the reject-rate bound).

    Attributes:
        sweep: the full sweep with its certification (``chosen`` is ``None``).
    """

    def __init__(self, sweep: SweepResult) -> None:
        certification = sweep.certification
        assert certification is not None
        super().__init__(certification_failure(certification, sweep.total))
        self.sweep = sweep


def certification_failure(certification: CertifiedThresholds, total: int) -> str:
    """Why nothing was chosen, the best bound reached and where, and about how many more rows."""
    target = f"accuracy {certification.target_accuracy:g} at delta {certification.delta:g}"
    if certification.certified:
        # Certified, but the lowest certified threshold rejects too much.
        return (
            f"no threshold is certified for {target} within the reject-rate limit: "
            f"{certification.reason}; allow more rejects (--reject-rate-max), lower the "
            "target (--target-accuracy) or add held-out rows"
        )
    if certification.best_bound is None or certification.best_threshold is None:
        return (
            f"no threshold is certified for {target}: no candidate accepts a held-out row; "
            "try lower thresholds (--thresholds)"
        )
    best = next(
        bound for bound in certification.bounds if bound.threshold == certification.best_threshold
    )
    text = (
        f"no threshold is certified for {target} on {total} rows: {certification.reason}. "
        f"The best lower bound is {certification.best_bound:.4f}, at threshold "
        f"{certification.best_threshold:g} ({best.correct} of {best.accepted} accepted rows right)"
    )
    more = certification.more_heldout_rows_needed
    if more is not None:
        text += f"; about {more} more held-out rows at that accuracy would certify it"
    else:
        text += (
            "; its observed accuracy is not above the target, so no number of rows at that "
            "accuracy would certify it"
        )
    return text + ". Lower the target (--target-accuracy), raise --delta, or add held-out rows"


class SweepAccumulator:
    """Counts for every candidate threshold, fed one row at a time.

    Args:
        thresholds: the candidates, sorted ascending (as from :func:`parse_thresholds`).

    Raises:
        ValueError: ``thresholds`` is empty, unsorted or has repeats.
    """

    __slots__ = ("_counts", "_fn", "_fp", "_labels", "_thresholds", "_tp", "rows")

    def __init__(self, thresholds: Sequence[float]) -> None:
        self._thresholds = tuple(thresholds)
        if not self._thresholds or any(a >= b for a, b in pairwise(self._thresholds)):
            raise ValueError(f"thresholds must be sorted, without repeats: {self._thresholds}")
        self.rows = 0
        # Bucket k holds the rows whose confidence passes exactly the k lowest
        # thresholds. Per-label counts are lists of per-bucket counts, indexed
        # by the label's number in _labels (plain lists of ints: per user,
        # dicts keyed by (bucket, label) took ten times the memory).
        self._counts = [0] * (len(self._thresholds) + 1)
        self._labels: dict[str, int] = {}
        self._tp: list[list[int]] = []
        self._fp: list[list[int]] = []
        self._fn: list[list[int]] = []

    @property
    def thresholds(self) -> tuple[float, ...]:
        """The candidate thresholds, ascending."""
        return self._thresholds

    def add(self, label: str, predicted: str, confidence: float) -> None:
        """Count one row: its true label, the predicted label and its confidence."""
        bucket = bisect_right(self._thresholds, confidence)
        self.rows += 1
        self._counts[bucket] += 1
        true = self._labels.get(label)
        if true is None:
            true = self._new_label(label)
        if label == predicted:
            self._tp[true][bucket] += 1
            return
        guess = self._labels.get(predicted)
        if guess is None:
            guess = self._new_label(predicted)
        self._fp[guess][bucket] += 1
        self._fn[true][bucket] += 1

    def absorb(self, other: SweepAccumulator) -> None:
        """Add every count of ``other`` (built with the same thresholds) to this one.

        The counts are sums, so the accumulator of all rows is the sum of the
        accumulators of any split of them (per user, say).

        Raises:
            ValueError: ``other`` has other thresholds.
        """
        if other._thresholds != self._thresholds:
            raise ValueError("cannot add the counts of a sweep over other thresholds")
        self.rows += other.rows
        self._counts = [a + b for a, b in zip(self._counts, other._counts, strict=True)]
        for label, theirs in other._labels.items():
            mine = self._labels.get(label)
            if mine is None:
                mine = self._new_label(label)
            for table, source in (
                (self._tp, other._tp),
                (self._fp, other._fp),
                (self._fn, other._fn),
            ):
                table[mine] = [a + b for a, b in zip(table[mine], source[theirs], strict=True)]

    def _new_label(self, label: str) -> int:
        index = self._labels[label] = len(self._labels)
        for table in (self._tp, self._fp, self._fn):
            table.append([0] * len(self._counts))
        return index

    def result(
        self,
        reject_rate_min: float,
        reject_rate_max: float,
        *,
        target_accuracy: float | None = None,
        delta: float = DEFAULT_DELTA,
        limit_reject_rate: bool = True,
    ) -> SweepResult:
        """The figures of every threshold and the one chosen within the bounds.

        With ``target_accuracy``, the choice is the certified one (see the
        module docstring), bounded by ``reject_rate_max`` only when
        ``limit_reject_rate``; ``reject_rate_min`` is not used.

        Raises:
            NoScoreRowsError: no row was added.
        """
        total = self.rows
        if total == 0:
            raise NoScoreRowsError()
        labels = range(len(self._labels))
        tp = [0 for _ in labels]
        fp = [0 for _ in labels]
        fn = [0 for _ in labels]
        accepted = 0
        stats: list[ThresholdStats] = []
        # Rows in bucket k are accepted by thresholds[0 .. k-1]: walking from
        # the highest threshold down, each step adds one bucket.
        for bucket in range(len(self._thresholds), 0, -1):
            accepted += self._counts[bucket]
            for label in labels:
                tp[label] += self._tp[label][bucket]
                fp[label] += self._fp[label][bucket]
                fn[label] += self._fn[label][bucket]
            rejected = total - accepted
            stats.append(
                ThresholdStats(
                    threshold=self._thresholds[bucket - 1],
                    rejected=rejected,
                    accepted=accepted,
                    correct=sum(tp),
                    reject_rate=rejected / total,
                    coverage=accepted / total,
                    accuracy=sum(tp) / accepted if accepted else None,
                    macro_f1=_macro_f1(tp, fp, fn) if accepted else None,
                )
            )
        stats.reverse()
        if target_accuracy is None:
            return SweepResult(
                total=total,
                stats=tuple(stats),
                reject_rate_min=reject_rate_min,
                reject_rate_max=reject_rate_max,
                chosen=_choose(stats, reject_rate_min, reject_rate_max),
            )
        certification = certify_thresholds(
            (
                ThresholdCount(threshold=e.threshold, correct=e.correct, accepted=e.accepted)
                for e in stats
            ),
            target_accuracy=target_accuracy,
            delta=delta,
            total_rows=total,
            max_reject_rate=reject_rate_max if limit_reject_rate else None,
        )
        chosen = next((e for e in stats if e.threshold == certification.chosen), None)
        return SweepResult(
            total=total,
            stats=tuple(stats),
            reject_rate_min=reject_rate_min,
            reject_rate_max=reject_rate_max if limit_reject_rate else 1.0,
            chosen=chosen,
            certification=certification,
        )


def _macro_f1(tp: Sequence[int], fp: Sequence[int], fn: Sequence[int]) -> float:
    # Labels with no TP, FP or FN among the accepted rows are left out (0/0).
    scores = [2 * t / (2 * t + p + n) for t, p, n in zip(tp, fp, fn, strict=True) if t or p or n]
    return math.fsum(scores) / len(scores)


def _choose(
    stats: Sequence[ThresholdStats], reject_rate_min: float, reject_rate_max: float
) -> ThresholdStats | None:
    best: ThresholdStats | None = None
    for entry in stats:  # by increasing threshold, so ">" keeps the lower one on ties
        if entry.accuracy is None or not reject_rate_min <= entry.reject_rate <= reject_rate_max:
            continue
        if best is None or entry.accuracy > (best.accuracy or 0.0):
            best = entry
    return best


@dataclass(frozen=True, kw_only=True, slots=True)
class UserSweep:
    """The sweep over one user's rows; ``sweep.chosen`` is ``None`` when no
    candidate is within the bounds for that user (the global threshold applies)."""

    user_id: str
    sweep: SweepResult

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form, as used by ``--format json`` output."""
        return {"user_id": self.user_id, **self.sweep.to_dict()}


@dataclass(frozen=True, kw_only=True, slots=True)
class SkippedUser:
    """A user with too few rows for a threshold of their own."""

    user_id: str
    rows: int

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form, as used by ``--format json`` output."""
        return {"user_id": self.user_id, "rows": self.rows}


@dataclass(frozen=True, kw_only=True, slots=True)
class TuneResult:
    """Everything :func:`tune_reject` found.

    Attributes:
        sweep: the sweep over all rows; its ``chosen`` is never ``None``.
        per_user: with ``per_user``, one sweep per user with enough rows, by user id.
        skipped_users: users with fewer than ``min_user_samples`` rows, by user id.
        rows_without_user: rows that have no ``user_id`` (not tuned per user).
        min_user_samples: the minimum used, or ``None`` without ``per_user``.
    """

    sweep: SweepResult
    per_user: tuple[UserSweep, ...] = ()
    skipped_users: tuple[SkippedUser, ...] = ()
    rows_without_user: int = 0
    min_user_samples: int | None = None

    def __post_init__(self) -> None:
        if self.sweep.chosen is None:
            raise ValueError("a TuneResult needs a sweep with a chosen threshold")

    @property
    def threshold(self) -> float:
        """The chosen global reject threshold."""
        chosen = self.sweep.chosen
        assert chosen is not None  # checked by __post_init__
        return chosen.threshold

    @property
    def per_user_thresholds(self) -> dict[str, float]:
        """User id → chosen threshold, for the users that have one.

        Ready for the policy's ``per_user_reject_thresholds`` (empty without ``per_user``).
        """
        return {
            user.user_id: user.sweep.chosen.threshold
            for user in self.per_user
            if user.sweep.chosen is not None
        }

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form, as used by ``--format json`` output."""
        result: dict[str, Any] = {"threshold": self.threshold, **self.sweep.to_dict()}
        if self.min_user_samples is not None:
            result["per_user"] = {
                "min_user_samples": self.min_user_samples,
                "users": [user.to_dict() for user in self.per_user],
                "skipped_users": [user.to_dict() for user in self.skipped_users],
                "rows_without_user": self.rows_without_user,
                "per_user_reject_thresholds": self.per_user_thresholds,
            }
        return result


def tune_reject(
    rows: Iterable[ScoreRow],
    thresholds: Sequence[float] | None = None,
    *,
    reject_rate_min: float = DEFAULT_REJECT_RATE_MIN,
    reject_rate_max: float = DEFAULT_REJECT_RATE_MAX,
    per_user: bool = False,
    min_user_samples: int = DEFAULT_MIN_USER_SAMPLES,
    target_accuracy: float | None = None,
    delta: float = DEFAULT_DELTA,
    limit_reject_rate: bool | None = None,
) -> TuneResult:
    """Sweep ``thresholds`` over ``rows`` in one pass and choose the reject threshold.

    Args:
        rows: scored rows, e.g. a :class:`~taskclf.tune.scores.ScoreReader`;
            consumed once, never stored.
        thresholds: candidate thresholds; ``None`` for :func:`default_thresholds`.
        reject_rate_min: lowest acceptable reject rate of the chosen threshold.
        reject_rate_max: highest acceptable reject rate of the chosen threshold.
        per_user: also sweep each user's rows (rows with a ``user_id``).
        min_user_samples: fewest rows a user needs to be swept; users with
            fewer are listed in ``skipped_users``.
        target_accuracy: choose the certified threshold for this accuracy
            instead (see the module docstring); ``None`` for the best accuracy
            within the reject-rate bounds.
        delta: with ``target_accuracy``, the guarantee fails with probability
            at most ``delta``.
        limit_reject_rate: with ``target_accuracy``, whether ``reject_rate_max``
            bounds the certified choice; ``None`` (the default) means no
            (``tune-reject`` passes ``True`` when ``--reject-rate-max`` is given).

    Returns:
        The global sweep and choice, and with ``per_user`` the per-user ones.
        A user for whom no candidate is within the bounds keeps ``chosen``
        ``None`` and is left out of ``per_user_thresholds``.

    Raises:
        ValueError: bad bounds (not ``0 <= min <= max <= 1``), bad thresholds
            (empty, out of range, repeated) or ``min_user_samples < 1``.
        NoScoreRowsError: ``rows`` is empty.
        NoThresholdInBounds: no candidate is within the bounds on all rows.
        NothingCertified: with ``target_accuracy``, no candidate is certified
            on all rows (within ``reject_rate_max``, when it applies).
        Anything ``rows`` raises (such as ``InvalidScoreRowsError``).
    """
    candidates = default_thresholds() if thresholds is None else _checked_thresholds(thresholds)
    for name, rate in (("reject_rate_min", reject_rate_min), ("reject_rate_max", reject_rate_max)):
        # A reject rate is a probability: the schema's definition says what that is.
        issues = validate_value(POLICY_SCHEMA, "/definitions/probability", rate)
        if issues:
            raise ValueError(f"{name} {issues[0].message_with_hint}")
    if reject_rate_min > reject_rate_max:
        raise ValueError(
            f"reject-rate bounds [{reject_rate_min}, {reject_rate_max}]: min is above max"
        )
    if min_user_samples < 1:
        raise ValueError(f"min_user_samples must be at least 1, not {min_user_samples}")
    if target_accuracy is not None and not 0.0 < target_accuracy < 1.0:
        raise ValueError(
            f"target_accuracy must lie strictly between 0 and 1, not {target_accuracy}"
        )
    if not 0.0 < delta < 1.0:
        raise ValueError(f"delta must lie strictly between 0 and 1, not {delta}")
    choice: dict[str, Any] = {
        "target_accuracy": target_accuracy,
        "delta": delta,
        "limit_reject_rate": target_accuracy is None or bool(limit_reject_rate),
    }
    overall = SweepAccumulator(candidates)
    users: dict[str, SweepAccumulator] = {}
    if per_user:
        users, few, without_user = _count_per_user(rows, overall, candidates, min_user_samples)
    else:
        add = overall.add
        for label, predicted, confidence, _user_id in rows:
            add(label, predicted, confidence)
    sweep = overall.result(reject_rate_min, reject_rate_max, **choice)
    if sweep.chosen is None:
        if sweep.certification is not None:
            raise NothingCertified(sweep)
        raise NoThresholdInBounds(sweep)
    if not per_user:
        return TuneResult(sweep=sweep)
    swept = [
        UserSweep(
            user_id=user_id, sweep=users[user_id].result(reject_rate_min, reject_rate_max, **choice)
        )
        for user_id in sorted(users)
    ]
    skipped = [SkippedUser(user_id=user_id, rows=rows) for user_id, rows in sorted(few.items())]
    return TuneResult(
        sweep=sweep,
        per_user=tuple(swept),
        skipped_users=tuple(skipped),
        rows_without_user=without_user,
        min_user_samples=min_user_samples,
    )


def _count_per_user(
    rows: Iterable[ScoreRow],
    overall: SweepAccumulator,
    thresholds: tuple[float, ...],
    min_user_samples: int,
) -> tuple[dict[str, SweepAccumulator], dict[str, int], int]:
    """Count ``rows`` per user and, all of them, into ``overall``.

    Returns the accumulators of the users with at least ``min_user_samples``
    rows, the row counts of the other users, and the number of rows without
    a user.

    Each row is counted once. A user gets an accumulator (a few KiB) only on
    reaching ``min_user_samples`` rows; until then their rows are kept packed,
    one 8-byte integer each (which label pair, which threshold bucket), so a
    file of many users with few rows each stays small. At the end the rows of
    every user and of no user are added to ``overall``.
    """
    without = SweepAccumulator(thresholds)
    add_without = without.add
    users: dict[str, SweepAccumulator] = {}
    pending: dict[str, array[int]] = {}
    pairs: dict[tuple[str, str], int] = {}
    buckets = len(thresholds) + 1
    for label, predicted, confidence, user_id in rows:
        if user_id is None:
            add_without(label, predicted, confidence)
            continue
        accumulator = users.get(user_id)
        if accumulator is not None:
            accumulator.add(label, predicted, confidence)
            continue
        key = (label, predicted)
        pair = pairs.get(key)
        if pair is None:
            pair = pairs[key] = len(pairs)
        packed = pending.get(user_id)
        if packed is None:
            packed = pending[user_id] = array("q")
        packed.append(pair * buckets + bisect_right(thresholds, confidence))
        if len(packed) >= min_user_samples:
            accumulator = users[user_id] = SweepAccumulator(thresholds)
            _replay(packed, accumulator, list(pairs))
            del pending[user_id]
    overall.absorb(without)
    for accumulator in users.values():
        overall.absorb(accumulator)
    few = {}
    names = list(pairs)
    for user_id, packed in pending.items():
        _replay(packed, overall, names)
        few[user_id] = len(packed)
    return users, few, without.rows


def _replay(packed: array[int], into: SweepAccumulator, pairs: list[tuple[str, str]]) -> None:
    """Count the packed rows ``packed`` into ``into``; ``pairs`` names the label pairs."""
    # Bucket k holds the confidences that pass exactly the k lowest thresholds;
    # counting such a row at the k-th threshold (or below every threshold, for
    # k = 0) puts it in the same bucket.
    at_bucket = (-math.inf, *into.thresholds)
    buckets = len(at_bucket)
    add = into.add
    for code in packed:
        pair, bucket = divmod(code, buckets)
        label, predicted = pairs[pair]
        add(label, predicted, at_bucket[bucket])
