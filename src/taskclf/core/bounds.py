"""Certified reject thresholds: exact binomial lower bounds and fixed-sequence testing.

Pure Python. Two pieces:

- :func:`clopper_pearson_lower`: the one-sided Clopper-Pearson lower confidence
  bound, at level ``1 - delta``, on the accuracy of the predictions a threshold
  accepts, from ``k`` correct of ``n`` accepted held-out rows. It is the
  ``delta``-quantile of Beta(k, n - k + 1) (:func:`beta_quantile`, computed
  here from the regularized incomplete beta function).
- :func:`certify_thresholds`: fixed-sequence testing over a grid of thresholds.
  Starting at the highest threshold and going down, a threshold is certified
  while its bound is at least the target accuracy; the first one that is not
  stops the sequence. The lowest certified threshold is chosen (it rejects the
  fewest rows).

The guarantee: if the held-out rows and the rows seen in deployment are
exchangeable (drawn alike from the same distribution, independent of how the
grid was chosen), then with probability at least ``1 - delta`` over the draw of
the held-out rows, every certified threshold, and so the chosen one, has an
accuracy on the predictions it accepts of at least the target. Testing in a
fixed order, each hypothesis at the full level ``delta``, controls the chance
of certifying any threshold whose accuracy is below the target at ``delta``
without a multiplicity correction, because the order does not depend on the
labels. If deployment drifts (other users, other days, a retrained model), the
guarantee says nothing.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import pairwise

__all__ = [
    "CertifiedThresholds",
    "ThresholdBound",
    "ThresholdCount",
    "beta_cdf",
    "beta_quantile",
    "certify_thresholds",
    "clopper_pearson_lower",
    "rows_to_certify",
]

_TINY = 1e-300  # keeps Lentz's method away from dividing by zero
_EPSILON = 4e-16  # a continued-fraction step this close to 1 (two ulps) has converged
_MAX_TERMS = 100_000
_RELATIVE = 1e-15  # relative width at which a quantile counts as found
_MAX_STEPS = 2_000  # Newton or bisection steps; bisection alone needs about 1,100 to reach 1e-300


def _log_beta(a: float, b: float) -> float:
    return math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)


def _nonzero(value: float) -> float:
    return value if abs(value) > _TINY else _TINY


def _continued_fraction(a: float, b: float, x: float) -> float:
    """The continued fraction of I_x(a, b), evaluated by the modified Lentz method.

    I_x(a, b) = x^a (1 - x)^b / (a B(a, b)) * 1 / (1 + d_1 / (1 + d_2 / (1 + ...))), with
    d_{2m+1} = -(a + m)(a + b + m) x / ((a + 2m)(a + 2m + 1)) and
    d_{2m} = m (b - m) x / ((a + 2m - 1)(a + 2m)). It converges quickly for
    x < (a + 1) / (a + b + 2); this returns the fraction 1 / (1 + d_1 / ...).
    """
    # Lentz keeps f = C_j D_j ... as a product of ratios C_j = A_j / A_{j-1} and
    # D_j = B_{j-1} / B_j of the convergents' numerators and denominators, guarding both
    # against 0. The first term, 1 / (1 + d_1), starts the product.
    c = 1.0
    d = _nonzero(1.0 - (a + b) * x / (a + 1.0))
    d = 1.0 / d
    f = d
    for m in range(1, _MAX_TERMS):
        for coefficient in (
            m * (b - m) * x / ((a + 2 * m - 1.0) * (a + 2 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1.0)),
        ):
            d = 1.0 / _nonzero(1.0 + coefficient * d)
            c = _nonzero(1.0 + coefficient / c)
            step = c * d
            f *= step
        if abs(step - 1.0) < _EPSILON:
            return f
    raise ArithmeticError(f"the incomplete beta fraction did not converge (a={a}, b={b}, x={x})")


def beta_cdf(x: float, a: float, b: float) -> float:
    """The regularized incomplete beta function I_x(a, b): P(X <= x) for X ~ Beta(a, b).

    Args:
        x: a point of [0, 1].
        a, b: the shape parameters, both greater than 0.

    Raises:
        ValueError: a parameter is out of range.
    """
    if not (a > 0 and b > 0):
        raise ValueError(f"Beta shape parameters must be positive, got a={a}, b={b}")
    if not 0.0 <= x <= 1.0:
        raise ValueError(f"x must lie in [0, 1], got {x}")
    if x == 0.0 or x == 1.0:
        return x
    log_front = a * math.log(x) + b * math.log1p(-x) - _log_beta(a, b)
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _continued_fraction(a, b, x) / a
    # The symmetry I_x(a, b) = 1 - I_{1-x}(b, a) keeps the fraction where it converges.
    return 1.0 - math.exp(log_front) * _continued_fraction(b, a, 1.0 - x) / b


def _log_beta_pdf(x: float, a: float, b: float) -> float:
    return (a - 1.0) * math.log(x) + (b - 1.0) * math.log1p(-x) - _log_beta(a, b)


def beta_quantile(q: float, a: float, b: float) -> float:
    """The ``q``-quantile of Beta(a, b): the x in [0, 1] with I_x(a, b) = q.

    Newton's method on the CDF, kept inside a bracket that every step shrinks
    and replaced by bisection whenever it would leave it, until the bracket or
    the step is below about 1e-15 relative (1e-300 absolute): far below the 1e-12
    the bounds need.

    Raises:
        ValueError: ``q`` is outside [0, 1] or a shape parameter is not positive.
    """
    if not (a > 0 and b > 0):
        raise ValueError(f"Beta shape parameters must be positive, got a={a}, b={b}")
    if not 0.0 <= q <= 1.0:
        raise ValueError(f"q must lie in [0, 1], got {q}")
    if q == 0.0 or q == 1.0:
        return q
    if b == 1.0:
        return math.pow(q, 1.0 / a)  # I_x(a, 1) = x^a
    if a == 1.0:
        return -math.expm1(math.log1p(-q) / b)  # I_x(1, b) = 1 - (1 - x)^b
    lo, hi = 0.0, 1.0  # I_lo(a, b) < q < I_hi(a, b) throughout
    x = a / (a + b)  # the mean: inside (0, 1), where Newton's method starts
    for _ in range(_MAX_STEPS):
        error = beta_cdf(x, a, b) - q
        if error == 0.0:
            return x
        if error < 0.0:
            lo = x
        else:
            hi = x
        if hi - lo <= _RELATIVE * hi or hi <= _TINY:
            break
        density = math.exp(_log_beta_pdf(x, a, b))
        newton = x - error / density if density > 0.0 else math.nan
        if not lo < newton < hi:
            # A step out of the bracket (or no slope to step along): halve the bracket.
            x = 0.5 * (lo + hi)
            continue
        if abs(newton - x) <= _RELATIVE * x:
            return newton
        x = newton
    return 0.5 * (lo + hi)


def clopper_pearson_lower(correct: int, accepted: int, delta: float) -> float | None:
    """The one-sided Clopper-Pearson lower bound, at level ``1 - delta``, of an accuracy.

    With ``correct`` right predictions among ``accepted`` (independent, each
    right with the same probability p), the bound L satisfies P(L <= p) >=
    1 - delta whatever p is (exact, not an approximation). L is the
    ``delta``-quantile of Beta(correct, accepted - correct + 1).

    Returns:
        the bound; 0.0 when ``correct`` is 0; ``None`` when ``accepted`` is 0
        (no accepted row says nothing about the accuracy).

    Raises:
        ValueError: ``delta`` is not in (0, 1), or the counts are not
            ``0 <= correct <= accepted``.
    """
    if not 0.0 < delta < 1.0:
        raise ValueError(f"delta must lie strictly between 0 and 1, got {delta}")
    if not 0 <= correct <= accepted:
        raise ValueError(
            f"expected 0 <= correct <= accepted, got correct={correct}, accepted={accepted}"
        )
    if accepted == 0:
        return None
    if correct == 0:
        return 0.0
    return beta_quantile(delta, float(correct), float(accepted - correct + 1))


def rows_to_certify(correct: int, accepted: int, target: float, delta: float) -> int | None:
    """About how many accepted rows, at the observed accuracy, would certify ``target``.

    The approximation: the accuracy stays ``correct / accepted`` as rows are
    added (with ``m`` rows, ``floor(m * correct / accepted)`` of them correct),
    and the answer is the smallest such ``m`` whose bound reaches ``target``
    (found by doubling, then bisection, so a count a little lower may also work
    where rounding makes the bound uneven). It is a planning figure, not a
    promise: new rows bring their own accuracy.

    Returns:
        that number of accepted rows (at least ``accepted``); ``None`` when the
        observed accuracy is not above ``target`` (no number of rows at that
        accuracy would do) or ``accepted`` is 0.
    """
    if accepted == 0 or correct / accepted <= target:
        return None
    rate = correct / accepted

    def certifies(m: int) -> bool:
        bound = clopper_pearson_lower(math.floor(m * rate + 1e-9), m, delta)
        return bound is not None and bound >= target

    if certifies(accepted):
        return accepted
    lo, hi = accepted, 2 * accepted
    while not certifies(hi):
        lo, hi = hi, 2 * hi
        if hi > 10**12:
            return None
    while hi - lo > 1:
        middle = (lo + hi) // 2
        if certifies(middle):
            hi = middle
        else:
            lo = middle
    return hi


@dataclass(frozen=True, kw_only=True, slots=True)
class ThresholdCount:
    """The held-out counts at one threshold: ``accepted`` rows with confidence at or above it,
    ``correct`` of which were predicted right."""

    threshold: float
    correct: int
    accepted: int


@dataclass(frozen=True, kw_only=True, slots=True)
class ThresholdBound:
    """One threshold of the grid, with its bound and what the sequence made of it.

    Attributes:
        threshold, correct, accepted: as given.
        accuracy: ``correct / accepted`` (``None`` when nothing is accepted).
        bound: :func:`clopper_pearson_lower` of the counts (``None`` when nothing is accepted).
        tested: whether the sequence reached this threshold.
        certified: whether it is certified (tested, and its bound at least the target).
        reject_rate: the share of all held-out rows it rejects, when the total is known.
    """

    threshold: float
    correct: int
    accepted: int
    accuracy: float | None
    bound: float | None
    tested: bool
    certified: bool
    reject_rate: float | None


@dataclass(frozen=True, kw_only=True, slots=True)
class CertifiedThresholds:
    """The result of :func:`certify_thresholds`.

    Attributes:
        target_accuracy, delta: as asked.
        bounds: every threshold of the grid, in increasing threshold order.
        certified: the certified thresholds, in increasing order.
        chosen: the lowest certified threshold, unless none is certified or it
            rejects more than the maximum reject rate; else ``None``.
        chosen_bound: the bound of ``chosen``.
        reason: when ``chosen`` is ``None``, why, in a sentence.
        best_bound: the highest bound of any threshold of the grid (tested or not).
        best_threshold: the (highest) threshold with that bound.
        rows_needed: when nothing is certified, :func:`rows_to_certify` at
            ``best_threshold``: about how many accepted rows at its observed
            accuracy would certify it (``None`` if that accuracy is not above
            the target).
        more_rows_needed: ``rows_needed`` minus the rows accepted there now.
        more_heldout_rows_needed: the same in held-out rows (accepted ones
            divided by the share of rows that threshold accepts), when the total
            is known.
    """

    target_accuracy: float
    delta: float
    bounds: tuple[ThresholdBound, ...]
    certified: tuple[float, ...]
    chosen: float | None
    chosen_bound: float | None
    reason: str | None
    best_bound: float | None
    best_threshold: float | None
    rows_needed: int | None
    more_rows_needed: int | None
    more_heldout_rows_needed: int | None


def certify_thresholds(
    counts: Iterable[ThresholdCount],
    *,
    target_accuracy: float,
    delta: float,
    total_rows: int | None = None,
    max_reject_rate: float | None = None,
) -> CertifiedThresholds:
    """Fixed-sequence testing of a grid of reject thresholds against a target accuracy.

    From the highest threshold down, each threshold's :func:`clopper_pearson_lower`
    bound (level ``1 - delta``) is compared with ``target_accuracy``; thresholds
    are certified until the first whose bound is lower (or that accepts no row:
    its bound is ``None``), where the sequence stops. The lowest certified
    threshold is chosen. With ``max_reject_rate`` (which needs ``total_rows``,
    the number of held-out rows), it is chosen only if it rejects at most that
    share of the rows; being the lowest certified, no other certified threshold
    rejects fewer.

    Guarantee (see the module): if the held-out rows are exchangeable with the
    rows in deployment, then with probability at least ``1 - delta`` every
    certified threshold, the chosen one included, has an accuracy on accepted
    predictions of at least ``target_accuracy``. The grid must be fixed without
    looking at which rows were predicted right.

    Raises:
        ValueError: ``target_accuracy`` or ``delta`` not in (0, 1),
            ``max_reject_rate`` not in [0, 1] or given without ``total_rows``,
            a threshold given twice, or counts that are not
            ``0 <= correct <= accepted (<= total_rows)``.
    """
    if not 0.0 < target_accuracy < 1.0:
        raise ValueError(
            f"target_accuracy must lie strictly between 0 and 1, got {target_accuracy}"
        )
    if not 0.0 < delta < 1.0:
        raise ValueError(f"delta must lie strictly between 0 and 1, got {delta}")
    if max_reject_rate is not None:
        if total_rows is None:
            raise ValueError("max_reject_rate needs total_rows, the number of held-out rows")
        if not 0.0 <= max_reject_rate <= 1.0:
            raise ValueError(f"max_reject_rate must lie in [0, 1], got {max_reject_rate}")
    grid = sorted(counts, key=lambda count: count.threshold)
    for before, after in pairwise(grid):
        if before.threshold == after.threshold:
            raise ValueError(f"threshold {before.threshold} is given twice")
    for count in grid:
        if not 0 <= count.correct <= count.accepted:
            raise ValueError(
                f"threshold {count.threshold}: expected 0 <= correct <= accepted, got "
                f"correct={count.correct}, accepted={count.accepted}"
            )
        if total_rows is not None and count.accepted > total_rows:
            raise ValueError(
                f"threshold {count.threshold}: {count.accepted} accepted rows of only "
                f"{total_rows} held-out rows"
            )
    bounds = {
        count.threshold: clopper_pearson_lower(count.correct, count.accepted, delta)
        for count in grid
    }
    tested: set[float] = set()
    certified: list[float] = []
    for count in reversed(grid):
        tested.add(count.threshold)
        bound = bounds[count.threshold]
        if bound is None or bound < target_accuracy:
            break
        certified.append(count.threshold)
    certified.sort()
    rows = tuple(
        ThresholdBound(
            threshold=count.threshold,
            correct=count.correct,
            accepted=count.accepted,
            accuracy=count.correct / count.accepted if count.accepted else None,
            bound=bounds[count.threshold],
            tested=count.threshold in tested,
            certified=count.threshold in certified,
            reject_rate=(1.0 - count.accepted / total_rows) if total_rows else None,
        )
        for count in grid
    )
    best = max(
        (row for row in rows if row.bound is not None),
        key=lambda row: (row.bound, row.threshold),
        default=None,
    )
    chosen: ThresholdBound | None = None
    reason: str | None = None
    if certified:
        lowest = next(row for row in rows if row.threshold == certified[0])
        if (
            max_reject_rate is not None
            and lowest.reject_rate is not None
            and lowest.reject_rate > max_reject_rate
        ):
            reason = (
                f"the lowest certified threshold, {lowest.threshold:g}, rejects "
                f"{lowest.reject_rate:.1%} of the rows, more than the maximum of "
                f"{max_reject_rate:.1%}"
            )
        else:
            chosen = lowest
    elif not grid:
        reason = "the grid holds no threshold"
    else:
        top = grid[-1]
        top_bound = bounds[top.threshold]
        why = (
            "accepts no held-out row"
            if top_bound is None
            else f"has a lower bound of {top_bound:.4f}, below the target of "
            f"{target_accuracy:g} at delta {delta:g}"
        )
        reason = f"the highest threshold, {top.threshold:g}, {why}, which stops the sequence"
    rows_needed = more = more_heldout = None
    if not certified and best is not None:
        rows_needed = rows_to_certify(best.correct, best.accepted, target_accuracy, delta)
        if rows_needed is not None:
            more = rows_needed - best.accepted
            if total_rows:
                more_heldout = math.ceil(more * total_rows / best.accepted)
    return CertifiedThresholds(
        target_accuracy=target_accuracy,
        delta=delta,
        bounds=rows,
        certified=tuple(certified),
        chosen=chosen.threshold if chosen else None,
        chosen_bound=chosen.bound if chosen else None,
        reason=reason,
        best_bound=best.bound if best else None,
        best_threshold=best.threshold if best else None,
        rows_needed=rows_needed,
        more_rows_needed=more,
        more_heldout_rows_needed=more_heldout,
    )
