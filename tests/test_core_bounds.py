"""The certified-threshold math: Clopper-Pearson bounds exact against scipy and published values,
and fixed-sequence testing over a grid of thresholds."""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np
import pytest
from scipy import special, stats

from taskclf.core.bounds import (
    ThresholdCount,
    beta_cdf,
    beta_quantile,
    certify_thresholds,
    clopper_pearson_lower,
    rows_to_certify,
)

EXACT = 1e-9  # what the bounds must match scipy to


def _cases() -> list[tuple[int, int]]:
    rng = np.random.default_rng(20261201)
    cases = []
    for n in (1, 2, 3, 5, 10, 30, 100, 250, 1000, 5000, 20_000, 100_000, 1_000_000):
        ks = {0, 1, 2, n // 2, n - 1, n, *(int(k) for k in rng.integers(0, n + 1, size=6))}
        cases += [(k, n) for k in sorted(ks) if 0 <= k <= n]
    return cases


class TestClopperPearsonAgainstScipy:
    """The bound is the delta-quantile of Beta(k, n - k + 1), as scipy.stats.beta.ppf has it."""

    @pytest.mark.parametrize("delta", [0.5, 0.1, 0.05, 0.01, 1e-3, 1e-6, 1e-9])
    def test_grid(self, delta: float) -> None:
        worst = 0.0
        for k, n in _cases():
            found = clopper_pearson_lower(k, n, delta)
            assert found is not None
            expected = 0.0 if k == 0 else float(stats.beta.ppf(delta, k, n - k + 1))
            worst = max(worst, abs(found - expected))
        assert worst <= EXACT

    def test_edges(self) -> None:
        assert clopper_pearson_lower(0, 0, 0.05) is None
        assert clopper_pearson_lower(0, 50, 0.05) == 0.0
        # All correct: Beta(n, 1), whose quantile is delta ** (1 / n).
        assert clopper_pearson_lower(10, 10, 0.05) == pytest.approx(0.05**0.1, abs=1e-15)

    @pytest.mark.parametrize(
        ("correct", "accepted", "delta", "problem"),
        [(1, 0, 0.05, "correct <= accepted"), (-1, 3, 0.05, "correct"), (1, 2, 0.0, "delta")],
    )
    def test_bad_arguments(self, correct: int, accepted: int, delta: float, problem: str) -> None:
        with pytest.raises(ValueError, match=problem):
            clopper_pearson_lower(correct, accepted, delta)


class TestPublishedValues:
    """Two-sided 95% exact intervals printed by R's binom.test; their lower end is delta 0.025."""

    @pytest.mark.parametrize(
        ("correct", "accepted", "lower"),
        [
            (682, 925, 0.7076683),  # binom.test(682, 925): 0.7076683 0.7654066 (R's example)
            (7, 20, 0.1539092),  # binom.test(7, 20): 0.1539092 0.5921885
        ],
    )
    def test_r_binom_test(self, correct: int, accepted: int, lower: float) -> None:
        found = clopper_pearson_lower(correct, accepted, 0.025)
        assert found is not None and abs(found - lower) < 5e-8


class TestBetaFunctions:
    """The incomplete beta function and its inverse, against scipy.special and scipy.stats."""

    SHAPES: ClassVar = [(0.5, 0.5), (0.1, 3.0), (3.0, 0.1), (2.5, 7.5), (100.0, 1.0)]
    SHAPES += [(1.0, 100.0), (1e4, 3.0), (3.0, 1e4), (5e5, 5e5)]

    @pytest.mark.parametrize(("a", "b"), SHAPES)
    def test_cdf(self, a: float, b: float) -> None:
        xs = np.linspace(0.0, 1.0, 501)
        worst = max(abs(beta_cdf(float(x), a, b) - float(special.betainc(a, b, x))) for x in xs)
        assert worst <= EXACT

    @pytest.mark.parametrize(("a", "b"), SHAPES)
    def test_quantile(self, a: float, b: float) -> None:
        qs = [1e-12, 1e-6, 0.01, 0.3, 0.5, 0.9, 0.999999]
        worst = max(abs(beta_quantile(q, a, b) - float(stats.beta.ppf(q, a, b))) for q in qs)
        assert worst <= 1e-12

    def test_quantile_inverts_the_cdf(self) -> None:
        for a, b in self.SHAPES:
            for q in (1e-9, 0.05, 0.5, 0.95):
                x = beta_quantile(q, a, b)
                if 1.0 - x < 1e-12:
                    continue  # closer to 1 than doubles resolve: too coarse to compare
                assert beta_cdf(x, a, b) == pytest.approx(q, rel=1e-9)

    def test_bad_arguments(self) -> None:
        with pytest.raises(ValueError, match="positive"):
            beta_cdf(0.5, 0.0, 1.0)
        with pytest.raises(ValueError, match=r"\[0, 1\]"):
            beta_quantile(1.5, 1.0, 2.0)
        assert (beta_quantile(0.0, 2.0, 3.0), beta_quantile(1.0, 2.0, 3.0)) == (0.0, 1.0)


def _grid(*rows: tuple[float, int, int]) -> list[ThresholdCount]:
    return [ThresholdCount(threshold=t, correct=k, accepted=n) for t, k, n in rows]


def _bound(k: int, n: int, delta: float = 0.05) -> float:
    return float(stats.beta.ppf(delta, k, n - k + 1))


class TestFixedSequence:
    """Certify downward from the top while the bound reaches the target; take the lowest."""

    GRID = _grid(
        (0.3, 850, 1000),  # 0.85 observed
        (0.5, 830, 900),  # 0.922
        (0.7, 760, 790),  # 0.962
        (0.9, 590, 600),  # 0.983
    )

    def test_chooses_the_lowest_certified(self) -> None:
        result = certify_thresholds(self.GRID, target_accuracy=0.9, delta=0.05, total_rows=1000)
        assert result.certified == (0.5, 0.7, 0.9)
        assert result.chosen == 0.5
        assert result.chosen_bound == pytest.approx(_bound(830, 900), abs=EXACT)
        assert result.reason is None and result.rows_needed is None
        assert [row.tested for row in result.bounds] == [True, True, True, True]
        assert [row.certified for row in result.bounds] == [False, True, True, True]
        assert result.bounds[1].reject_rate == pytest.approx(0.1)
        for row in result.bounds:
            assert row.bound == pytest.approx(_bound(row.correct, row.accepted), abs=EXACT)

    def test_stops_at_the_first_failure(self) -> None:
        # 0.7 fails, so 0.5 (which would pass alone) is never tested.
        grid = _grid((0.5, 880, 900), (0.7, 700, 790), (0.9, 590, 600))
        result = certify_thresholds(grid, target_accuracy=0.9, delta=0.05)
        assert result.certified == (0.9,)
        assert result.chosen == 0.9
        assert [row.tested for row in result.bounds] == [False, True, True]
        assert result.bounds[0].bound is not None and result.bounds[0].bound > 0.9

    def test_order_of_the_input_does_not_matter(self) -> None:
        forward = certify_thresholds(self.GRID, target_accuracy=0.9, delta=0.05)
        backward = certify_thresholds(self.GRID[::-1], target_accuracy=0.9, delta=0.05)
        assert forward == backward

    def test_max_reject_rate(self) -> None:
        result = certify_thresholds(
            self.GRID, target_accuracy=0.94, delta=0.05, total_rows=1000, max_reject_rate=0.15
        )
        assert result.certified == (0.7, 0.9)
        assert result.chosen is None
        assert result.reason == (
            "the lowest certified threshold, 0.7, rejects 21.0% of the rows, more than the "
            "maximum of 15.0%"
        )
        allowed = certify_thresholds(
            self.GRID, target_accuracy=0.94, delta=0.05, total_rows=1000, max_reject_rate=0.25
        )
        assert allowed.chosen == 0.7

    def test_nothing_certified_says_how_far(self) -> None:
        grid = _grid((0.5, 180, 200), (0.8, 97, 100), (0.9, 49, 50))
        result = certify_thresholds(grid, target_accuracy=0.95, delta=0.05, total_rows=400)
        assert result.certified == () and result.chosen is None
        assert result.reason == (
            "the highest threshold, 0.9, has a lower bound of 0.9086, below the target of 0.95 "
            "at delta 0.05, which stops the sequence"
        )
        # The best bound is at 0.8 (97 of 100), not at the top.
        assert result.best_threshold == 0.8
        assert result.best_bound == pytest.approx(_bound(97, 100), abs=EXACT)
        needed = result.rows_needed
        assert needed is not None and result.more_rows_needed == needed - 100
        assert result.more_heldout_rows_needed == math.ceil((needed - 100) * 400 / 100)
        # At 97% accuracy, that many rows certify 0.95 and one row fewer does not.
        assert _bound(math.floor(needed * 0.97 + 1e-9), needed) >= 0.95
        assert _bound(math.floor((needed - 1) * 0.97 + 1e-9), needed - 1) < 0.95

    def test_empty_top_threshold_stops_the_sequence(self) -> None:
        grid = _grid((0.5, 900, 910), (0.99, 0, 0))
        result = certify_thresholds(grid, target_accuracy=0.9, delta=0.05)
        assert result.certified == ()
        assert result.reason == (
            "the highest threshold, 0.99, accepts no held-out row, which stops the sequence"
        )
        assert result.best_threshold == 0.5
        assert result.bounds[1].bound is None and result.bounds[1].accuracy is None

    def test_accuracy_not_above_target_needs_no_count(self) -> None:
        result = certify_thresholds(_grid((0.5, 90, 100)), target_accuracy=0.95, delta=0.05)
        assert result.best_threshold == 0.5 and result.rows_needed is None

    @pytest.mark.parametrize(
        ("kwargs", "problem"),
        [
            ({"target_accuracy": 1.0, "delta": 0.05}, "target_accuracy"),
            ({"target_accuracy": 0.9, "delta": 1.0}, "delta"),
            ({"target_accuracy": 0.9, "delta": 0.05, "max_reject_rate": 0.2}, "total_rows"),
            ({"target_accuracy": 0.9, "delta": 0.05, "total_rows": 10}, "accepted rows of only"),
        ],
    )
    def test_bad_arguments(self, kwargs: dict[str, float], problem: str) -> None:
        with pytest.raises(ValueError, match=problem):
            certify_thresholds(_grid((0.5, 5, 20)), **kwargs)  # type: ignore[arg-type]

    def test_duplicate_and_impossible_counts(self) -> None:
        with pytest.raises(ValueError, match="given twice"):
            certify_thresholds(_grid((0.5, 1, 2), (0.5, 1, 2)), target_accuracy=0.9, delta=0.1)
        with pytest.raises(ValueError, match="correct <= accepted"):
            certify_thresholds(_grid((0.5, 3, 2)), target_accuracy=0.9, delta=0.1)


class TestRowsToCertify:
    """The planning figure: rows at the observed accuracy that would certify the target."""

    def test_already_enough(self) -> None:
        assert rows_to_certify(590, 600, 0.95, 0.05) == 600

    def test_not_possible(self) -> None:
        assert rows_to_certify(90, 100, 0.9, 0.05) is None
        assert rows_to_certify(0, 0, 0.9, 0.05) is None


class TestCoverage:
    """The guarantee, checked by simulation: the bound falls above the true accuracy rarely."""

    def test_simulated_miss_rate_is_at_most_delta(self) -> None:
        rng = np.random.default_rng(3)
        delta, accuracy, n = 0.1, 0.87, 60
        correct = rng.binomial(n, accuracy, size=4000)
        misses = 0
        for k in correct:
            bound = clopper_pearson_lower(int(k), n, delta)
            misses += bound is not None and bound > accuracy
        # Exact bounds are conservative: the miss rate is at most delta (plus simulation noise).
        assert misses / len(correct) <= delta + 0.015
