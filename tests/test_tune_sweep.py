"""Tests of taskclf.tune.sweep: threshold specs, the one-pass sweep and the choice.

The hand-computed file below is read from real JSON Lines and CSV files.
"""

from __future__ import annotations

import csv
import json
import re
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from taskclf.tune.scores import ScoreReader, ScoreRow
from taskclf.tune.sweep import (
    DEFAULT_MIN_USER_SAMPLES,
    DEFAULT_REJECT_RATE_MAX,
    DEFAULT_REJECT_RATE_MIN,
    MAX_THRESHOLDS,
    NoScoreRowsError,
    NoThresholdInBounds,
    SweepAccumulator,
    ThresholdSpecError,
    TuneResult,
    default_thresholds,
    parse_thresholds,
    tune_reject,
)

# Ten held-out predictions: (label, predicted, confidence, user_id).
HAND_ROWS = [
    ("code", "code", 0.95, "alice"),  # 1 right
    ("code", "code", 0.90, "alice"),  # 2 right
    ("write", "write", 0.85, "alice"),  # 3 right
    ("code", "write", 0.80, "bob"),  # 4 wrong
    ("browse", "browse", 0.70, "bob"),  # 5 right
    ("write", "write", 0.60, "bob"),  # 6 right
    ("browse", "code", 0.45, "alice"),  # 7 wrong
    ("code", "browse", 0.40, "bob"),  # 8 wrong
    ("write", "code", 0.30, "alice"),  # 9 wrong; exactly on the 0.30 threshold
    ("meeting", "meeting", 0.28, None),  # 10 right; no user
]
HAND_THRESHOLDS = "0.3,0.5,0.75,0.9"
# Worked out by hand (a row is accepted when confidence >= threshold):
#
# t=0.30  accepted rows 1-9 (9), rejected row 10 (1): reject rate 0.1, coverage 0.9.
#         right: 1,2,3,5,6 -> accuracy 5/9.
#         labels on accepted rows: code, write, browse (meeting only on row 10).
#         code:   TP 2 (1,2)  FP 2 (7,9 predicted code)  FN 2 (4,8)  F1 4/8 = 1/2
#         write:  TP 2 (3,6)  FP 1 (4)                   FN 1 (9)    F1 4/6 = 2/3
#         browse: TP 1 (5)    FP 1 (8)                   FN 1 (7)    F1 2/4 = 1/2
#         macro-F1 (1/2 + 2/3 + 1/2) / 3 = 5/9.
# t=0.50  accepted rows 1-6: reject rate 0.4, accuracy 5/6.
#         code TP 2 FN 1 (4) -> 4/5; write TP 2 FP 1 (4) -> 4/5; browse TP 1 -> 1.
#         macro-F1 (4/5 + 4/5 + 1) / 3 = 13/15.
# t=0.75  accepted rows 1-4: reject rate 0.6, accuracy 3/4.
#         code TP 2 FN 1 -> 4/5; write TP 1 FP 1 -> 2/3; macro-F1 (4/5 + 2/3) / 2 = 11/15.
# t=0.90  accepted rows 1-2: reject rate 0.8, accuracy 1, macro-F1 1 (code only).
#
# Default bounds [0, 0.3]: only t=0.30 qualifies -> chosen 0.30.
# Bounds [0, 0.5]: t=0.30 (5/9) and t=0.50 (5/6) qualify -> chosen 0.50.
HAND_SWEEP = [
    # threshold, rejected, accepted, reject rate, accuracy, macro-F1
    (0.3, 1, 9, 0.1, Fraction(5, 9), Fraction(5, 9)),
    (0.5, 4, 6, 0.4, Fraction(5, 6), Fraction(13, 15)),
    (0.75, 6, 4, 0.6, Fraction(3, 4), Fraction(11, 15)),
    (0.9, 8, 2, 0.8, Fraction(1), Fraction(1)),
]


def write_jsonl(path: Path, rows: list[tuple[str, str, float, str | None]]) -> Path:
    lines = []
    for label, predicted, confidence, user_id in rows:
        document: dict[str, object] = {
            "label": label,
            "predicted": predicted,
            "confidence": confidence,
        }
        if user_id is not None:
            document["user_id"] = user_id
        lines.append(json.dumps(document))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_csv(path: Path, rows: list[tuple[str, str, float, str | None]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["user_id", "label", "confidence", "predicted"])
        for label, predicted, confidence, user_id in rows:
            writer.writerow([user_id or "", label, confidence, predicted])
    return path


def write_probabilities_jsonl(path: Path, rows: list[tuple[str, str, float, str | None]]) -> Path:
    # The predicted label gets the confidence, the three others share the rest.
    labels = ["browse", "code", "meeting", "write"]
    lines = []
    for label, predicted, confidence, user_id in rows:
        rest = (1 - confidence) / 3
        probabilities = {name: confidence if name == predicted else rest for name in labels}
        document: dict[str, object] = {"label": label, "probabilities": probabilities}
        if user_id is not None:
            document["user_id"] = user_id
        lines.append(json.dumps(document))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def hand_jsonl(tmp_path: Path) -> Path:
    return write_jsonl(tmp_path / "scores.jsonl", HAND_ROWS)


class TestHandComputedSweep:
    """The sweep of the hand-computed file matches the numbers worked out above."""

    def test_every_threshold_figure(self, hand_jsonl: Path) -> None:
        result = tune_reject(ScoreReader(hand_jsonl), parse_thresholds(HAND_THRESHOLDS))
        assert result.sweep.total == 10
        got = [
            (s.threshold, s.rejected, s.accepted, s.reject_rate, s.accuracy, s.macro_f1)
            for s in result.sweep.stats
        ]
        assert len(got) == len(HAND_SWEEP)
        for actual, expected in zip(got, HAND_SWEEP, strict=True):
            assert actual[:4] == expected[:4]
            assert actual[4] == pytest.approx(float(expected[4]))
            assert actual[5] == pytest.approx(float(expected[5]))
        assert [s.coverage for s in result.sweep.stats] == [0.9, 0.6, 0.4, 0.2]

    def test_default_bounds_choose_the_only_threshold_within_them(self, hand_jsonl: Path) -> None:
        result = tune_reject(ScoreReader(hand_jsonl), parse_thresholds(HAND_THRESHOLDS))
        assert (result.sweep.reject_rate_min, result.sweep.reject_rate_max) == (0.0, 0.3)
        assert result.threshold == 0.3
        assert result.sweep.chosen is result.sweep.stats[0]

    def test_wider_bounds_choose_the_most_accurate_threshold(self, hand_jsonl: Path) -> None:
        result = tune_reject(
            ScoreReader(hand_jsonl), parse_thresholds(HAND_THRESHOLDS), reject_rate_max=0.5
        )
        assert result.threshold == 0.5
        assert result.sweep.chosen is not None
        assert result.sweep.chosen.accuracy == pytest.approx(5 / 6)

    def test_bounds_are_inclusive(self, hand_jsonl: Path) -> None:
        result = tune_reject(
            ScoreReader(hand_jsonl),
            parse_thresholds(HAND_THRESHOLDS),
            reject_rate_min=0.8,
            reject_rate_max=0.8,
        )
        assert result.threshold == 0.9

    def test_default_thresholds_sweep(self, hand_jsonl: Path) -> None:
        result = tune_reject(ScoreReader(hand_jsonl))
        assert [s.threshold for s in result.sweep.stats] == list(default_thresholds())
        # 0.45 rejects rows 8, 9, 10 (30 %) and is right on 5 of the 7 others;
        # every lower threshold rejects less and is less accurate.
        assert result.threshold == 0.45
        assert result.sweep.chosen is not None
        assert result.sweep.chosen.reject_rate == 0.3
        assert result.sweep.chosen.accuracy == pytest.approx(5 / 7)

    def test_to_dict(self, hand_jsonl: Path) -> None:
        result = tune_reject(ScoreReader(hand_jsonl), parse_thresholds(HAND_THRESHOLDS))
        document = result.to_dict()
        assert document["threshold"] == 0.3
        assert document["chosen_threshold"] == 0.3
        assert document["total_rows"] == 10
        assert document["sweep"][1] == {
            "threshold": 0.5,
            "rejected": 4,
            "accepted": 6,
            "reject_rate": 0.4,
            "coverage": 0.6,
            "accuracy": pytest.approx(5 / 6),
            "macro_f1": pytest.approx(13 / 15),
        }
        assert "per_user" not in document
        json.dumps(document, allow_nan=False)


class TestSameResultFromEveryInputForm:
    """JSONL, CSV (any column order) and probabilities rows give the same sweep."""

    def test_csv_equals_jsonl(self, tmp_path: Path, hand_jsonl: Path) -> None:
        csv_path = write_csv(tmp_path / "scores.csv", HAND_ROWS)
        thresholds = parse_thresholds(HAND_THRESHOLDS)
        from_jsonl = tune_reject(ScoreReader(hand_jsonl), thresholds, per_user=True)
        from_csv = tune_reject(ScoreReader(csv_path), thresholds, per_user=True)
        assert from_csv == from_jsonl
        assert from_csv.to_dict() == from_jsonl.to_dict()

    def test_probabilities_equal_predicted_and_confidence(
        self, tmp_path: Path, hand_jsonl: Path
    ) -> None:
        probabilities = write_probabilities_jsonl(tmp_path / "probabilities.jsonl", HAND_ROWS)
        thresholds = parse_thresholds(HAND_THRESHOLDS)
        assert tune_reject(ScoreReader(probabilities), thresholds) == tune_reject(
            ScoreReader(hand_jsonl), thresholds
        )


class TestBoundsNotMet:
    """No candidate within the bounds is an error that carries the sweep."""

    def test_raises_with_the_sweep(self, hand_jsonl: Path) -> None:
        with pytest.raises(NoThresholdInBounds) as caught:
            tune_reject(
                ScoreReader(hand_jsonl),
                parse_thresholds(HAND_THRESHOLDS),
                reject_rate_min=0.45,
                reject_rate_max=0.55,
            )
        sweep = caught.value.sweep
        assert sweep.chosen is None
        assert sweep.threshold is None
        assert [s.reject_rate for s in sweep.stats] == [0.1, 0.4, 0.6, 0.8]
        assert str(caught.value) == (
            "no candidate threshold keeps the reject rate within [45.0%, 55.0%] on 10 rows "
            "(the candidates reject 10.0% to 80.0%); widen the bounds "
            "(--reject-rate-min, --reject-rate-max) or try other thresholds (--thresholds)"
        )

    def test_a_threshold_that_accepts_nothing_is_never_chosen(self, tmp_path: Path) -> None:
        path = write_jsonl(tmp_path / "low.jsonl", [("code", "code", 0.2, None)])
        with pytest.raises(NoThresholdInBounds) as caught:
            tune_reject(ScoreReader(path), [0.5], reject_rate_min=0.0, reject_rate_max=1.0)
        (entry,) = caught.value.sweep.stats
        assert (entry.accepted, entry.accuracy, entry.macro_f1) == (0, None, None)
        assert str(caught.value).startswith(
            "no candidate threshold keeps the reject rate below 100% and within [0.0%, 100.0%]"
        )


class TestTies:
    """Equal accuracy: the lower threshold wins (it rejects fewer rows)."""

    def test_lower_threshold_wins(self, hand_jsonl: Path) -> None:
        # 0.90, 0.92 and 0.94 all have accuracy 1 (rows 1-2, then row 1 only).
        result = tune_reject(
            ScoreReader(hand_jsonl),
            parse_thresholds("0.94,0.9,0.92"),
            reject_rate_max=1.0,
        )
        assert [s.accuracy for s in result.sweep.stats] == [1.0, 1.0, 1.0]
        assert result.threshold == 0.9


class TestPerUser:
    """Per-user sweeps for users with enough rows; the others are listed as skipped."""

    def test_thresholds_per_user(self, hand_jsonl: Path) -> None:
        # alice: rows 1,2,3,7,9 -> t=0.30 rejects none, accuracy 3/5; t=0.50 rejects 40 %.
        # bob: rows 4,5,6,8 -> t=0.30 rejects none, accuracy 1/2; t=0.50 rejects
        # row 8 (25 %), accuracy 2/3.
        result = tune_reject(
            ScoreReader(hand_jsonl),
            parse_thresholds(HAND_THRESHOLDS),
            per_user=True,
            min_user_samples=4,
        )
        assert result.threshold == 0.3
        assert result.per_user_thresholds == {"alice": 0.3, "bob": 0.5}
        alice, bob = result.per_user
        assert (alice.user_id, alice.sweep.total) == ("alice", 5)
        assert alice.sweep.chosen is not None
        assert alice.sweep.chosen.accuracy == pytest.approx(3 / 5)
        assert (bob.user_id, bob.sweep.total) == ("bob", 4)
        assert bob.sweep.chosen is not None
        assert (bob.sweep.chosen.reject_rate, bob.sweep.chosen.accuracy) == (
            0.25,
            pytest.approx(2 / 3),
        )
        assert result.skipped_users == ()
        assert result.rows_without_user == 1

    def test_users_below_the_minimum_are_skipped(self, hand_jsonl: Path) -> None:
        result = tune_reject(
            ScoreReader(hand_jsonl),
            parse_thresholds(HAND_THRESHOLDS),
            per_user=True,
            min_user_samples=5,
        )
        assert [user.user_id for user in result.per_user] == ["alice"]
        assert [(user.user_id, user.rows) for user in result.skipped_users] == [("bob", 4)]
        assert result.per_user_thresholds == {"alice": 0.3}
        document = result.to_dict()["per_user"]
        assert document["min_user_samples"] == 5
        assert document["skipped_users"] == [{"user_id": "bob", "rows": 4}]
        assert document["rows_without_user"] == 1
        assert document["per_user_reject_thresholds"] == {"alice": 0.3}
        assert document["users"][0]["user_id"] == "alice"
        assert document["users"][0]["total_rows"] == 5

    def test_a_user_without_threshold_in_bounds_falls_back(self, hand_jsonl: Path) -> None:
        # Bounds [0.5, 0.6]: overall t=0.75 (60 %); alice t=0.90 (rows 1,2 of 5
        # accepted, 60 %); bob's reject rates are 0, 25, 75 and 100 %.
        result = tune_reject(
            ScoreReader(hand_jsonl),
            parse_thresholds(HAND_THRESHOLDS),
            reject_rate_min=0.5,
            reject_rate_max=0.6,
            per_user=True,
            min_user_samples=4,
        )
        assert result.threshold == 0.75
        assert result.per_user_thresholds == {"alice": 0.9}
        assert result.per_user[1].user_id == "bob"
        assert result.per_user[1].sweep.chosen is None

    def test_default_minimum(self, hand_jsonl: Path) -> None:
        result = tune_reject(ScoreReader(hand_jsonl), per_user=True)
        assert result.min_user_samples == DEFAULT_MIN_USER_SAMPLES == 100
        assert result.per_user == ()
        assert [user.user_id for user in result.skipped_users] == ["alice", "bob"]

    def test_without_per_user_nothing_is_kept_per_user(self, hand_jsonl: Path) -> None:
        result = tune_reject(ScoreReader(hand_jsonl), min_user_samples=1)
        assert result.min_user_samples is None
        assert result.per_user == ()
        assert result.per_user_thresholds == {}


class TestArguments:
    """Bad arguments and empty input are clear errors."""

    def test_default_bounds(self) -> None:
        assert (DEFAULT_REJECT_RATE_MIN, DEFAULT_REJECT_RATE_MAX) == (0.0, 0.3)

    @pytest.mark.parametrize(
        ("low", "high", "message"),
        [
            (-0.1, 0.3, "reject_rate_min -0.1 is less than the minimum of 0"),
            (0.5, 0.4, r"reject-rate bounds \[0.5, 0.4\]: min is above max"),
            (0.0, 1.5, "reject_rate_max 1.5 is greater than the maximum of 1"),
            (float("nan"), 0.3, "reject_rate_min NaN is not of type number"),
        ],
    )
    def test_bad_bounds(self, low: float, high: float, message: str) -> None:
        rows = [ScoreRow("code", "code", 0.9, None)]
        with pytest.raises(ValueError, match=message):
            tune_reject(rows, reject_rate_min=low, reject_rate_max=high)

    def test_bad_min_user_samples(self) -> None:
        with pytest.raises(ValueError, match="min_user_samples must be at least 1, not 0"):
            tune_reject([], per_user=True, min_user_samples=0)

    @pytest.mark.parametrize(
        ("thresholds", "message"),
        [
            ([], "no candidate thresholds"),
            (
                [0.5, 1.5],
                r"threshold 1.5 is greater than the maximum of 1 \(expected a probability",
            ),
            ([0.5, 0.5], "the threshold 0.5 appears twice"),
            ([float("nan")], "threshold NaN is not of type number"),
        ],
    )
    def test_bad_thresholds(self, thresholds: list[float], message: str) -> None:
        with pytest.raises(ValueError, match=message):
            tune_reject([ScoreRow("code", "code", 0.9, None)], thresholds)

    def test_unsorted_thresholds_are_sorted(self) -> None:
        result = tune_reject([ScoreRow("code", "code", 0.9, None)], [0.7, 0.2])
        assert [s.threshold for s in result.sweep.stats] == [0.2, 0.7]

    def test_no_rows(self) -> None:
        with pytest.raises(NoScoreRowsError, match="no scored rows to tune on"):
            tune_reject([])

    def test_a_tune_result_needs_a_choice(self, hand_jsonl: Path) -> None:
        with pytest.raises(NoThresholdInBounds) as caught:
            tune_reject(ScoreReader(hand_jsonl), [0.9], reject_rate_max=0.1)
        with pytest.raises(ValueError, match="needs a sweep with a chosen threshold"):
            TuneResult(sweep=caught.value.sweep)


class TestAccumulator:
    """The accumulator keeps counts per threshold bucket, not per row."""

    def test_memory_does_not_grow_with_rows(self) -> None:
        accumulator = SweepAccumulator([0.25, 0.5, 0.75])
        for index in range(10_000):
            label = ("a", "b", "c")[index % 3]
            predicted = ("a", "b", "c")[index % 2]
            accumulator.add(label, predicted, (index % 100) / 100)
        assert accumulator.rows == 10_000
        # Per label, one count per bucket (4 buckets), in each of TP, FP and FN.
        for name in ("_tp", "_fp", "_fn"):
            table = getattr(accumulator, name)
            assert [len(counts) for counts in table] == [4, 4, 4]

    @pytest.mark.parametrize("thresholds", [[], [0.5, 0.2], [0.2, 0.2]])
    def test_thresholds_must_be_sorted_and_distinct(self, thresholds: list[float]) -> None:
        with pytest.raises(ValueError, match="thresholds must be sorted, without repeats"):
            SweepAccumulator(thresholds)

    @settings(max_examples=150, deadline=None)
    @given(
        rows=st.lists(
            st.tuples(
                st.sampled_from(["a", "b", "c"]),
                st.sampled_from(["a", "b", "d"]),
                st.floats(0, 1),
                st.sampled_from([None, "u1", "u2", "u3"]),
            ),
            max_size=60,
        )
    )
    def test_the_sum_of_the_parts_is_the_whole(
        self, rows: list[tuple[str, str, float, str | None]]
    ) -> None:
        thresholds = [0.25, 0.5, 0.75]
        whole = SweepAccumulator(thresholds)
        parts: dict[str | None, SweepAccumulator] = {}
        for label, predicted, confidence, user in rows:
            whole.add(label, predicted, confidence)
            parts.setdefault(user, SweepAccumulator(thresholds)).add(label, predicted, confidence)
        summed = SweepAccumulator(thresholds)
        for part in parts.values():
            summed.absorb(part)
        if not rows:
            assert summed.rows == 0
            return
        assert summed.result(0.0, 1.0) == whole.result(0.0, 1.0)

    @settings(max_examples=150, deadline=None)
    @given(
        rows=st.lists(
            st.tuples(
                st.sampled_from(["a", "b", "c"]),
                st.sampled_from(["a", "b", "d"]),
                st.sampled_from([0.0, 0.25, 0.3, 0.5, 0.75, 1.0]) | st.floats(0, 1),
                st.sampled_from([None, "u1", "u2", "u3", "u4"]),
            ),
            min_size=1,
            max_size=60,
        ),
        minimum=st.integers(1, 12),
    )
    def test_per_user_sweeps_are_those_of_each_users_rows(
        self, rows: list[tuple[str, str, float, str | None]], minimum: int
    ) -> None:
        thresholds = (0.0, 0.25, 0.5, 0.75)
        result = tune_reject(
            [ScoreRow(*row) for row in rows],
            thresholds,
            reject_rate_min=0.0,
            reject_rate_max=1.0,
            per_user=True,
            min_user_samples=minimum,
        )
        by_user: dict[str, SweepAccumulator] = {}
        for label, predicted, confidence, user in rows:
            if user is not None:
                by_user.setdefault(user, SweepAccumulator(thresholds))
                by_user[user].add(label, predicted, confidence)
        expected = {
            user: accumulator.result(0.0, 1.0)
            for user, accumulator in by_user.items()
            if accumulator.rows >= minimum
        }
        assert {user.user_id: user.sweep for user in result.per_user} == expected
        assert [(user.user_id, user.rows) for user in result.skipped_users] == sorted(
            (user, accumulator.rows)
            for user, accumulator in by_user.items()
            if accumulator.rows < minimum
        )
        assert result.rows_without_user == sum(1 for row in rows if row[3] is None)
        whole = SweepAccumulator(thresholds)
        for label, predicted, confidence, _user in rows:
            whole.add(label, predicted, confidence)
        assert result.sweep == whole.result(0.0, 1.0)

    def test_per_user_tuning_gives_the_global_sweep(self) -> None:
        rows = [ScoreRow(*row) for row in HAND_ROWS]
        assert tune_reject(rows, per_user=True).sweep == tune_reject(rows).sweep

    def test_absorb_needs_the_same_thresholds(self) -> None:
        with pytest.raises(ValueError, match="other thresholds"):
            SweepAccumulator([0.5]).absorb(SweepAccumulator([0.4]))

    def test_confidence_equal_to_a_threshold_is_accepted(self) -> None:
        accumulator = SweepAccumulator([0.5])
        accumulator.add("a", "a", 0.5)
        accumulator.add("a", "a", 0.49999)
        (entry,) = accumulator.result(0.0, 1.0).stats
        assert (entry.accepted, entry.rejected) == (1, 1)


class TestThresholdSpecs:
    """Threshold specs: ranges (inclusive of stop) and lists; clear errors otherwise."""

    def test_default_spec(self) -> None:
        thresholds = default_thresholds()
        assert len(thresholds) == 18
        assert thresholds[0] == 0.1
        assert thresholds[-1] == 0.95
        assert thresholds[1] == 0.15  # exact decimal steps, not 0.15000000000000002

    @pytest.mark.parametrize(
        ("spec", "expected"),
        [
            ("0.1:0.9:0.1", (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)),
            ("0:1:0.25", (0.0, 0.25, 0.5, 0.75, 1.0)),
            ("0.5:0.5:0.1", (0.5,)),
            ("0.1:0.35:0.1", (0.1, 0.2, 0.3)),
            (" 0.3, 0.5 ,0.7 ", (0.3, 0.5, 0.7)),
            ("0.7,0.3", (0.3, 0.7)),
            ("0.5", (0.5,)),
            ("5e-1", (0.5,)),
        ],
    )
    def test_valid(self, spec: str, expected: tuple[float, ...]) -> None:
        assert parse_thresholds(spec) == expected

    @pytest.mark.parametrize(
        ("spec", "reason"),
        [
            ("", "it is empty"),
            ("0.1:0.9", "a range has three parts"),
            ("0.1:0.5:0.1:0.1", "a range has three parts"),
            ("0.1:0.9:0", "the step 0 must be greater than 0"),
            ("0.1:0.9:-0.1", "the step -0.1 must be greater than 0"),
            ("0.9:0.1:0.1", "stop is below start"),
            ("0.3,,0.5", "'' is not a number"),
            ("abc", "'abc' is not a number"),
            ("0.3,nan", "'nan' is not a finite number"),
            ("inf:1:0.1", "'inf' is not a finite number"),
            ("0.5,1.5", "threshold 1.5 is greater than the maximum of 1"),
            ("-0.1:0.5:0.1", "threshold -0.1 is less than the minimum of 0"),
            ("0.5,0.50", "the threshold 0.5 appears twice"),
            ("0:1:1e-9", f"more than {MAX_THRESHOLDS} thresholds"),
            ("0:1:1e-9999999", f"more than {MAX_THRESHOLDS} thresholds"),
        ],
    )
    def test_invalid(self, spec: str, reason: str) -> None:
        with pytest.raises(
            ThresholdSpecError, match=re.escape(f"invalid threshold spec {spec!r}: ")
        ) as e:
            parse_thresholds(spec)
        assert isinstance(e.value, ValueError)
        assert e.value.spec == spec
        assert reason in e.value.reason
