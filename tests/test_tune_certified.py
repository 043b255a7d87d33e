"""Certified reject thresholds, score distributions and Parquet scores, checked independently.

Rows are generated with known answers (numpy, fixed seeds); every threshold's
counts, accuracy, Clopper-Pearson bound (scipy's Beta quantile) and the
fixed-sequence choice are recomputed here with numpy/scipy and compared with
what :func:`~taskclf.tune.sweep.tune_reject` finds.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy.stats import beta

from taskclf.tune.scores import (
    PROBABILITY_SUM_TOLERANCE,
    InvalidScoreRowsError,
    ScoreFileError,
    ScoreReader,
    ScoreRow,
)
from taskclf.tune.sweep import NothingCertified, tune_reject

LABELS = ["browse", "code", "meeting", "write"]
GRID = tuple(round(0.1 + 0.05 * i, 2) for i in range(18))  # the default grid, 0.10 .. 0.95


def _generated_rows(
    count: int, seed: int, users: tuple[str, ...] = ()
) -> list[tuple[str, str, float, str | None]]:
    """Rows whose chance of being right grows with the confidence (as a calibrated model's)."""
    rng = np.random.default_rng(seed)
    confidence = rng.uniform(0.25, 1.0, count)
    right = rng.uniform(0.0, 1.0, count) < confidence
    true = rng.integers(0, len(LABELS), count)
    shift = rng.integers(1, len(LABELS), count)
    rows = []
    for index in range(count):
        label = LABELS[true[index]]
        predicted = label if right[index] else LABELS[(true[index] + shift[index]) % len(LABELS)]
        user = users[index % len(users)] if users else None
        rows.append((label, predicted, float(confidence[index]), user))
    return rows


def _reference(
    rows: list[tuple[str, str, float, str | None]], target: float, delta: float
) -> dict[str, Any]:
    """Counts, bounds and the certified choice computed with numpy and scipy."""
    confidence = np.array([row[2] for row in rows])
    right = np.array([row[0] == row[1] for row in rows])
    accepted, correct, bounds = [], [], []
    for threshold in GRID:
        mask = confidence >= threshold
        n, k = int(mask.sum()), int(right[mask].sum())
        accepted.append(n)
        correct.append(k)
        if n == 0:
            bounds.append(None)
        elif k == 0:
            bounds.append(0.0)
        else:
            bounds.append(float(beta.ppf(delta, k, n - k + 1)))
    certified = []
    for index in range(len(GRID) - 1, -1, -1):
        bound = bounds[index]
        if bound is None or bound < target:
            break
        certified.append(GRID[index])
    return {
        "accepted": accepted,
        "correct": correct,
        "bounds": bounds,
        "chosen": min(certified) if certified else None,
        "certified": sorted(certified),
    }


class TestCertifiedChoice:
    @pytest.mark.parametrize(
        ("seed", "count", "target", "delta"),
        [(1, 2000, 0.9, 0.05), (2, 5000, 0.85, 0.01), (3, 800, 0.8, 0.1), (4, 300, 0.75, 0.05)],
    )
    def test_matches_numpy_and_scipy(
        self, seed: int, count: int, target: float, delta: float
    ) -> None:
        rows = _generated_rows(count, seed)
        expected = _reference(rows, target, delta)
        result = tune_reject(
            (ScoreRow(*row) for row in rows), GRID, target_accuracy=target, delta=delta
        )
        sweep = result.sweep
        assert sweep.certification is not None
        assert [entry.accepted for entry in sweep.stats] == expected["accepted"]
        assert [entry.correct for entry in sweep.stats] == expected["correct"]
        assert [entry.rejected for entry in sweep.stats] == [
            count - n for n in expected["accepted"]
        ]
        for entry, k, n in zip(sweep.stats, expected["correct"], expected["accepted"], strict=True):
            assert entry.accuracy == pytest.approx(k / n, abs=1e-15)
        for entry, bound in zip(sweep.stats, expected["bounds"], strict=True):
            assert sweep.bound_of(entry) == pytest.approx(bound, rel=1e-9, abs=1e-12)
        assert expected["chosen"] is not None
        assert result.threshold == expected["chosen"]
        assert list(sweep.certification.certified) == expected["certified"]
        # The chosen threshold's bound reaches the target; the one below it does not.
        chosen_index = GRID.index(expected["chosen"])
        assert expected["bounds"][chosen_index] >= target
        if chosen_index > 0:
            assert expected["bounds"][chosen_index - 1] < target

    def test_json_carries_bounds_and_choice(self) -> None:
        rows = _generated_rows(1500, 7)
        expected = _reference(rows, 0.9, 0.05)
        document = tune_reject(
            (ScoreRow(*row) for row in rows), GRID, target_accuracy=0.9
        ).to_dict()
        certification = document["certification"]
        assert certification["target_accuracy"] == 0.9
        assert certification["delta"] == 0.05
        assert certification["chosen_threshold"] == expected["chosen"] == document["threshold"]
        assert [entry["lower_bound"] for entry in certification["bounds"]] == pytest.approx(
            expected["bounds"], rel=1e-9
        )
        assert "exchangeable" in certification["assumption"]

    def test_reject_rate_max_must_hold(self) -> None:
        rows = _generated_rows(2000, 1)
        expected = _reference(rows, 0.9, 0.05)
        index = GRID.index(expected["chosen"])
        rate = 1 - expected["accepted"][index] / 2000
        # A limit just above the chosen threshold's reject rate keeps it ...
        kept = tune_reject(
            (ScoreRow(*row) for row in rows),
            GRID,
            target_accuracy=0.9,
            reject_rate_max=min(1.0, rate + 0.001),
            limit_reject_rate=True,
        )
        assert kept.threshold == expected["chosen"]
        # ... one just below refuses it: no other certified threshold rejects less.
        with pytest.raises(NothingCertified) as caught:
            tune_reject(
                (ScoreRow(*row) for row in rows),
                GRID,
                target_accuracy=0.9,
                reject_rate_max=rate - 0.001,
                limit_reject_rate=True,
            )
        assert "reject-rate limit" in str(caught.value)

    def test_nothing_certifies(self) -> None:
        rows = _generated_rows(200, 5)
        expected = _reference(rows, 0.97, 0.05)
        assert expected["chosen"] is None
        with pytest.raises(NothingCertified) as caught:
            tune_reject((ScoreRow(*row) for row in rows), GRID, target_accuracy=0.97)
        certification = caught.value.sweep.certification
        assert certification is not None and caught.value.sweep.chosen is None
        known = [bound for bound in expected["bounds"] if bound is not None]
        assert certification.best_bound == pytest.approx(max(known), rel=1e-9)
        best_index = expected["bounds"].index(
            max(known, key=lambda value: value)  # the highest bound
        )
        message = str(caught.value)
        assert f"The best lower bound is {max(known):.4f}" in message
        assert f"at threshold {GRID[best_index]:g}" in message
        assert "Lower the target (--target-accuracy)" in message

    def test_more_rows_estimate_certifies(self) -> None:
        """The estimate of rows needed, at the observed accuracy, does certify (scipy check)."""
        rows = _generated_rows(60, 11)
        with pytest.raises(NothingCertified) as caught:
            tune_reject((ScoreRow(*row) for row in rows), GRID, target_accuracy=0.9)
        certification = caught.value.sweep.certification
        assert certification is not None
        assert certification.rows_needed is not None
        assert certification.more_heldout_rows_needed is not None
        best = next(b for b in certification.bounds if b.threshold == certification.best_threshold)
        needed = certification.rows_needed
        rate = best.correct / best.accepted
        k = int(np.floor(needed * rate + 1e-9))
        assert beta.ppf(0.05, k, needed - k + 1) >= 0.9 - 1e-9
        # ... and the rows there now do not.
        assert beta.ppf(0.05, best.correct, best.accepted - best.correct + 1) < 0.9

    def test_per_user_certified_on_their_own_rows(self) -> None:
        users = ("alice", "bob", "carol")
        rows = _generated_rows(3000, 3, users)
        # bob's rows are made worse: a third of his right predictions become wrong.
        worse = []
        for index, (label, predicted, confidence, user) in enumerate(rows):
            if user == "bob" and label == predicted and index % 3 == 0:
                predicted = LABELS[(LABELS.index(label) + 1) % len(LABELS)]
            worse.append((label, predicted, confidence, user))
        result = tune_reject(
            (ScoreRow(*row) for row in worse),
            GRID,
            target_accuracy=0.9,
            per_user=True,
            min_user_samples=100,
        )
        for user in result.per_user:
            expected = _reference([row for row in worse if row[3] == user.user_id], 0.9, 0.05)
            assert user.sweep.threshold == expected["chosen"], user.user_id
            for entry, bound in zip(user.sweep.stats, expected["bounds"], strict=True):
                assert user.sweep.bound_of(entry) == pytest.approx(bound, rel=1e-9, abs=1e-12)
        thresholds = result.per_user_thresholds
        bob = _reference([row for row in worse if row[3] == "bob"], 0.9, 0.05)
        assert (bob["chosen"] is None) == ("bob" not in thresholds)


def _write_jsonl(path: Path, documents: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(d) + "\n" for d in documents), encoding="utf-8")
    return path


class TestDistributions:
    def test_float32_softmax_outputs_pass(self, tmp_path: Path) -> None:
        rng = np.random.default_rng(0)
        logits = rng.normal(0.0, 3.0, (2000, len(LABELS))).astype(np.float32)
        exps = np.exp(logits - logits.max(axis=1, keepdims=True))
        softmax = (exps / exps.sum(axis=1, keepdims=True)).astype(np.float32)
        sums = softmax.astype(np.float64).sum(axis=1)
        assert np.abs(sums - 1).max() < PROBABILITY_SUM_TOLERANCE / 10
        documents = [
            {"label": "code", "probabilities": dict(zip(LABELS, map(float, row), strict=True))}
            for row in softmax
        ]
        reader = ScoreReader(_write_jsonl(tmp_path / "s.jsonl", documents), label_set=LABELS)
        assert len(list(reader)) == 2000

    @pytest.mark.parametrize(
        ("probabilities", "message"),
        [
            (
                {"browse": 0.2, "code": 0.7, "write": 0.1},
                "/probabilities: the probabilities are not a distribution over the model's "
                'labels: "meeting" is missing',
            ),
            (
                {"browse": 0.2, "code": 0.7, "meeting": 0.2, "write": 0.1},
                "/probabilities: the probabilities sum to 1.2, not 1 (within 0.0001)",
            ),
            (
                {"browse": 0.2, "code": 0.6998, "meeting": 0, "write": 0.1},
                "/probabilities: the probabilities sum to 0.9998, not 1 (within 0.0001)",
            ),
            (
                {"browse": 0.2, "code": 0.7, "meeting": 0, "write": 0.1, "lunch": 0},
                '/probabilities/lunch: "lunch" is not one of the model\'s labels',
            ),
            (
                {"browse": -0.1, "code": 0.9, "meeting": 0.1, "write": 0.1},
                "/probabilities/browse: ",
            ),
        ],
        ids=["missing-label", "sum-high", "sum-low", "other-key", "negative"],
    )
    def test_non_distributions_are_invalid(
        self, tmp_path: Path, probabilities: dict[str, float], message: str
    ) -> None:
        good = {
            "label": "code",
            "probabilities": {"browse": 0, "code": 1, "meeting": 0, "write": 0},
        }
        path = _write_jsonl(
            tmp_path / "s.jsonl", [good, {"label": "code", "probabilities": probabilities}]
        )
        for fast in (True, False):
            with pytest.raises(InvalidScoreRowsError) as caught:
                list(ScoreReader(path, label_set=LABELS, fast_check=fast))
            (error,) = caught.value.errors
            assert error.line == 2
            assert str(error).startswith(f"{path}:2: {message}")

    def test_within_tolerance_passes(self, tmp_path: Path) -> None:
        off = PROBABILITY_SUM_TOLERANCE / 2
        row = {"browse": 0.2, "code": 0.7 + off, "meeting": 0, "write": 0.1}
        path = _write_jsonl(tmp_path / "s.jsonl", [{"label": "code", "probabilities": row}])
        assert list(ScoreReader(path, label_set=LABELS)) == [
            ScoreRow("code", "code", 0.7 + off, None)
        ]


class TestParquet:
    def test_same_rows_as_jsonl(self, tmp_path: Path) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        rng = np.random.default_rng(9)
        raw = rng.dirichlet(np.ones(len(LABELS)), 3000)
        labels = [LABELS[i] for i in rng.integers(0, len(LABELS), 3000)]
        users = [None if i % 5 == 0 else f"u{i % 7}" for i in range(3000)]
        documents = []
        for label, row, user in zip(labels, raw, users, strict=True):
            document: dict[str, Any] = {
                "label": label,
                "probabilities": dict(zip(LABELS, map(float, row), strict=True)),
            }
            if user is not None:
                document["user_id"] = user
            documents.append(document)
        jsonl = _write_jsonl(tmp_path / "s.jsonl", documents)
        columns: dict[str, Any] = {"label": labels, "user_id": users}
        for index, label in enumerate(LABELS):
            columns[f"p_{label}"] = raw[:, index]
        parquet = tmp_path / "s.parquet"
        pq.write_table(pa.table(columns), parquet, row_group_size=700)
        from_jsonl = list(ScoreReader(jsonl, label_set=LABELS))
        from_parquet = list(ScoreReader(parquet, label_set=LABELS))
        assert len(from_parquet) == 3000
        assert from_parquet == from_jsonl
        assert tune_reject(from_parquet, per_user=True, min_user_samples=50).to_dict() == (
            tune_reject(from_jsonl, per_user=True, min_user_samples=50).to_dict()
        )

    def test_invalid_rows_named_by_row_number(self, tmp_path: Path) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.table(
            {
                "label": ["code", "code", "lunch"],
                "predicted": ["code", "write", "code"],
                "confidence": [0.9, float("nan"), 0.5],
            }
        )
        path = tmp_path / "s.parquet"
        pq.write_table(table, path)
        with pytest.raises(InvalidScoreRowsError) as caught:
            list(ScoreReader(path, label_set=LABELS))
        lines = [(error.line, error.column) for error in caught.value.errors]
        assert lines == [(2, "confidence"), (3, "label")]

    def test_values_json_has_no_type_for_are_invalid(self, tmp_path: Path) -> None:
        import datetime
        import decimal

        import pyarrow as pa
        import pyarrow.parquet as pq

        path = tmp_path / "s.parquet"
        table = pa.table(
            {
                "label": ["code"],
                "predicted": ["code"],
                "confidence": pa.array([decimal.Decimal("0.5")]),
                "user_id": [datetime.date(2020, 1, 1)],
            }
        )
        pq.write_table(table, path)
        with pytest.raises(InvalidScoreRowsError) as caught:
            list(ScoreReader(path, label_set=LABELS))
        (error,) = caught.value.errors
        assert (error.line, error.column, error.issue.keyword) == (1, "confidence", "type")

    def test_not_parquet(self, tmp_path: Path) -> None:
        path = tmp_path / "s.parquet"
        path.write_text("label,predicted,confidence\n")
        with pytest.raises(ScoreFileError) as caught:
            list(ScoreReader(path, label_set=LABELS))
        assert str(caught.value).startswith(f"{path}: cannot be read as Parquet (")
        assert str(caught.value).endswith("); is this a Parquet file?")
