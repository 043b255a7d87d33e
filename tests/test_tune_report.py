"""Tests of taskclf.tune.report: the text tables the CLI prints."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from taskclf.tune.report import (
    format_sweep_table,
    format_threshold,
    format_tune_report,
    format_user_table,
)
from taskclf.tune.scores import ScoreReader
from taskclf.tune.sweep import NoThresholdInBounds, TuneResult, tune_reject

ROWS = [
    {"label": "code", "predicted": "code", "confidence": 0.9, "user_id": "u1"},
    {"label": "write", "predicted": "code", "confidence": 0.6, "user_id": "u1"},
    {"label": "write", "predicted": "write", "confidence": 0.85, "user_id": "u2"},
    {"label": "code", "predicted": "code", "confidence": 0.3},
    {"label": "code", "predicted": "code", "confidence": 0.95, "user_id": "u3"},
    {"label": "write", "predicted": "write", "confidence": 0.2, "user_id": "u3"},
]
# t=0.5 rejects rows 4 and 6 (33.3 %), is right on 1, 3, 5 of 4: 0.75;
#   code F1 2*2/(2*2+1) = 0.8, write F1 2/(2+1) = 2/3, macro-F1 0.7333.
# t=0.8 rejects 2, 4, 6 (50 %, above the 40 % allowed), accuracy 1.
# u1 (2 rows): t=0.5 rejects none, accuracy 0.5, macro-F1 (2/3 + 0) / 2.
# u3 (2 rows): both thresholds reject 50 %: no threshold. u2 (1 row): skipped.


@pytest.fixture
def result(tmp_path: Path) -> TuneResult:
    path = tmp_path / "scores.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in ROWS), encoding="utf-8")
    return tune_reject(
        ScoreReader(path), [0.5, 0.8], reject_rate_max=0.4, per_user=True, min_user_samples=2
    )


class TestTables:
    """Aligned columns, the chosen row marked, '-' where there is no value."""

    def test_sweep_table(self, result: TuneResult) -> None:
        assert format_sweep_table(result).splitlines() == [
            "   threshold  rejected  accepted  reject rate  coverage  accuracy  macro-F1",
            "*       0.50         2         4        33.3%     66.7%    0.7500    0.7333"
            "  <- chosen",
            "        0.80         3         3        50.0%     50.0%    1.0000    1.0000",
        ]
        assert format_sweep_table(result.sweep) == format_sweep_table(result)

    def test_user_table(self, result: TuneResult) -> None:
        assert format_user_table(result).splitlines() == [
            "user  rows  threshold  reject rate  accuracy  macro-F1",
            "u1       2       0.50         0.0%    0.5000    0.3333",
            "u3       2          -            -         -         -  no threshold within bounds",
            "skipped, fewer than 2 rows: u2 (1)",
            "rows without user_id: 1",
        ]

    def test_full_report(self, result: TuneResult) -> None:
        report = format_tune_report(result)
        assert report.splitlines()[0] == (
            "chosen reject threshold: 0.50 (rejects 33.3% of 6 rows; accuracy on accepted rows "
            "0.7500, macro-F1 0.7333; allowed reject rate 0.0% to 40.0%)"
        )
        assert report == "\n".join(
            [
                report.splitlines()[0],
                "",
                format_sweep_table(result),
                "",
                format_user_table(result),
            ]
        )

    def test_without_per_user(self, result: TuneResult) -> None:
        plain = TuneResult(sweep=result.sweep)
        assert format_user_table(plain) == ""
        assert format_tune_report(plain).endswith(format_sweep_table(plain))

    def test_no_user_has_enough_rows(self, result: TuneResult) -> None:
        few = TuneResult(sweep=result.sweep, min_user_samples=50)
        assert format_user_table(few) == "no user has 50 or more rows"

    def test_unmarked_when_nothing_is_chosen(self, tmp_path: Path) -> None:
        path = tmp_path / "scores.jsonl"
        path.write_text("".join(json.dumps(row) + "\n" for row in ROWS), encoding="utf-8")
        with pytest.raises(NoThresholdInBounds) as caught:
            tune_reject(ScoreReader(path), [0.5, 0.8], reject_rate_max=0.1)
        table = format_sweep_table(caught.value.sweep)
        assert "*" not in table
        assert "chosen" not in table
        assert len(table.splitlines()) == 3


@pytest.mark.parametrize(
    ("value", "text"),
    [(0.1, "0.10"), (0.125, "0.125"), (1.0, "1.00"), (0.0, "0.00"), (0.1234567, "0.123457")],
)
def test_format_threshold(value: float, text: str) -> None:
    assert format_threshold(value) == text
