"""``tune-reject --apply-calibrator``, ``--target-accuracy`` and Parquet scores, end to end.

Every run is a real ``taskclf`` subprocess on a copy of ``examples/home`` with
``examples/heldout_raw.jsonl`` (600 rows of raw model probabilities for alice,
bob, carol and rows without a user). The expected numbers are recomputed here
with numpy and scipy from the store's files, independently of
:mod:`taskclf.core.calibration` and :mod:`taskclf.core.bounds`.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy.stats import beta

from test_cli_support import POLICY_NAME, cli_env, run_cli

from conftest import EXAMPLE_LABELS, REPO_ROOT, make_store

TUNE = ("policy", "tune-reject", "--model-dir", "models/run_001")
RAW = REPO_ROOT / "examples" / "heldout_raw.jsonl"
STORE = "artifacts/calibrator_store"
GRID = [round(0.1 + 0.05 * i, 2) for i in range(18)]


def _calibrated(home: Path) -> list[tuple[str, str, float, str | None]]:
    """(label, predicted, confidence, user) of every raw row, calibrated with numpy."""
    store = home / STORE
    calibrators = {None: json.loads((store / "global.json").read_text())}
    for user in ("alice", "bob"):
        calibrators[user] = json.loads((store / "users" / f"{user}.json").read_text())
    rows = []
    for line in RAW.read_text().splitlines():
        document = json.loads(line)
        user = document.get("user_id")
        calibrator = calibrators.get(user, calibrators[None])
        raw = np.array([document["probabilities"][label] for label in EXAMPLE_LABELS])
        if calibrator["type"] == "temperature":
            scaled = np.log(np.maximum(raw, 1e-12)) / calibrator["temperature"]
            values = np.exp(scaled - scaled.max())
        else:
            values = np.array(
                [
                    np.interp(p, r["X_thresholds_"], r["y_thresholds_"])
                    for p, r in zip(raw, calibrator["regressors"], strict=True)
                ]
            )
            values = np.maximum(values, 1e-12)
        values = values / values.sum()
        top = int(np.argmax(values))  # the first of equal maxima: sorted label order
        rows.append((document["label"], EXAMPLE_LABELS[top], float(values[top]), user))
    return rows


def _counts(rows: list[tuple[str, str, float, str | None]]) -> list[tuple[int, int]]:
    confidence = np.array([row[2] for row in rows])
    right = np.array([row[0] == row[1] for row in rows])
    return [(int((confidence >= t).sum()), int(right[confidence >= t].sum())) for t in GRID]


def _bounds(counts: list[tuple[int, int]], delta: float) -> list[float | None]:
    return [
        None if n == 0 else 0.0 if k == 0 else float(beta.ppf(delta, k, n - k + 1))
        for n, k in counts
    ]


@pytest.fixture
def raw_home(home: Path) -> Path:
    shutil.copy(RAW, home / "heldout_raw.jsonl")
    return home


class TestApplyCalibrator:
    def test_counts_match_numpy(self, raw_home: Path) -> None:
        result = run_cli(
            *TUNE, "--scores", "heldout_raw.jsonl", "--apply-calibrator", "--format", "json",
            "--reject-rate-max", "1", cwd=raw_home,
        )  # fmt: skip
        assert result.code == 0, result.stderr
        document = result.json()
        assert document["calibrator_applied"] is True
        sweep = document["result"]["sweep"]
        expected = _counts(_calibrated(raw_home))
        assert [(e["accepted"], round(e["accuracy"] * e["accepted"])) for e in sweep] == expected

    def test_without_the_flag_rows_are_taken_as_calibrated(self, raw_home: Path) -> None:
        result = run_cli(
            *TUNE, "--scores", "heldout_raw.jsonl", "--reject-rate-max", "1", cwd=raw_home
        )
        assert result.code == 0, result.stderr
        assert (
            "Scores: taken as already calibrated (pass --apply-calibrator if their probabilities "
            "are the model's raw outputs)"
        ) in result.stdout.splitlines()
        applied = run_cli(
            *TUNE, "--scores", "heldout_raw.jsonl", "--apply-calibrator", "--reject-rate-max",
            "1", cwd=raw_home,
        )  # fmt: skip
        assert (
            f"Scores: raw model outputs, calibrated here with {STORE} (global calibrator; "
            "users with their own calibrator: alice, bob)"
        ) in applied.stdout.splitlines()

    def test_predicted_confidence_rows_are_refused(self, raw_home: Path) -> None:
        lines = RAW.read_text().splitlines()[:3]
        lines.append(json.dumps({"label": "code", "predicted": "code", "confidence": 0.9}))
        (raw_home / "mixed.jsonl").write_text("\n".join(lines) + "\n")
        result = run_cli(*TUNE, "--scores", "mixed.jsonl", "--apply-calibrator", cwd=raw_home)
        assert result.code == 1
        assert "Traceback" not in result.stderr
        assert (
            "mixed.jsonl:4: the row has predicted and confidence but no probabilities; "
            "--apply-calibrator calibrates the model's raw probabilities"
        ) in result.stderr
        # Without the flag the same rows are fine (taken as calibrated).
        plain = run_cli(*TUNE, "--scores", "mixed.jsonl", "--reject-rate-max", "1", cwd=raw_home)
        assert plain.code == 0, plain.stderr

    def test_write_policy_records_the_store(self, raw_home: Path) -> None:
        result = run_cli(
            *TUNE, "--scores", "heldout_raw.jsonl", "--apply-calibrator", "--target-accuracy",
            "0.9", "--write-policy", cwd=raw_home,
        )  # fmt: skip
        assert result.code == 0, result.stderr
        policy = json.loads((raw_home / "models" / POLICY_NAME).read_text())
        assert policy["calibrator_store_dir"] == STORE
        assert policy["calibration_method"] == "temperature"
        assert policy["reject_threshold"] == 0.9

    def test_non_distribution_named(self, raw_home: Path) -> None:
        document = json.loads(RAW.read_text().splitlines()[0])
        del document["probabilities"]["write"]
        (raw_home / "bad.jsonl").write_text(json.dumps(document) + "\n")
        result = run_cli(*TUNE, "--scores", "bad.jsonl", "--apply-calibrator", cwd=raw_home)
        assert result.code == 1
        assert (
            "bad.jsonl:1: /probabilities: the probabilities are not a distribution over the "
            'model\'s labels: "write" is missing'
        ) in result.stderr


class TestCertified:
    def test_bounds_and_choice_match_scipy(self, raw_home: Path) -> None:
        result = run_cli(
            *TUNE, "--scores", "heldout_raw.jsonl", "--apply-calibrator", "--target-accuracy",
            "0.9", "--delta", "0.05", "--format", "json", cwd=raw_home,
        )  # fmt: skip
        assert result.code == 0, result.stderr
        certification = result.json()["result"]["certification"]
        counts = _counts(_calibrated(raw_home))
        expected = _bounds(counts, 0.05)
        got = [entry["lower_bound"] for entry in certification["bounds"]]
        assert got == pytest.approx(expected, rel=1e-9)
        certified = []
        for threshold, bound in reversed(list(zip(GRID, expected, strict=True))):
            if bound is None or bound < 0.9:
                break
            certified.append(threshold)
        assert certification["certified_thresholds"] == sorted(certified)
        assert certification["chosen_threshold"] == min(certified) == 0.9

    def test_table_has_the_bound_column(self, raw_home: Path) -> None:
        result = run_cli(
            *TUNE, "--scores", "heldout_raw.jsonl", "--apply-calibrator", "--target-accuracy",
            "0.9", cwd=raw_home,
        )  # fmt: skip
        assert result.code == 0, result.stderr
        lines = result.stdout.splitlines()
        header = next(line for line in lines if line.lstrip().startswith("threshold"))
        assert header.endswith("lower bound")
        chosen = next(line for line in lines if line.endswith("<- chosen"))
        assert chosen.split()[:2] == ["*", "0.90"]
        assert chosen.endswith("0.9187  certified <- chosen")
        assert any("exchangeable" in line for line in lines)

    def test_nothing_certifies(self, raw_home: Path) -> None:
        result = run_cli(
            *TUNE, "--scores", "heldout_raw.jsonl", "--apply-calibrator", "--target-accuracy",
            "0.99", cwd=raw_home,
        )  # fmt: skip
        assert result.code == 1
        assert "Traceback" not in result.stderr
        expected = _bounds(_counts(_calibrated(raw_home)), 0.05)
        best = max(bound for bound in expected if bound is not None)
        assert f"The best lower bound is {best:.4f}, at threshold 0.95" in result.stderr
        assert "more held-out rows at that accuracy would certify it" in result.stderr
        assert "lower bound" in result.stdout  # the table is shown

    def test_per_user(self, raw_home: Path) -> None:
        result = run_cli(
            *TUNE, "--scores", "heldout_raw.jsonl", "--apply-calibrator", "--target-accuracy",
            "0.9", "--per-user", "--min-user-samples", "50", "--format", "json", cwd=raw_home,
        )  # fmt: skip
        assert result.code == 0, result.stderr
        per_user = result.json()["result"]["per_user"]
        rows = _calibrated(raw_home)
        thresholds = {}
        for user in per_user["users"]:
            counts = _counts([row for row in rows if row[3] == user["user_id"]])
            expected = _bounds(counts, 0.05)
            got = [entry["lower_bound"] for entry in user["certification"]["bounds"]]
            assert [b is None for b in got] == [b is None for b in expected]
            assert [b for b in got if b is not None] == pytest.approx(
                [b for b in expected if b is not None], rel=1e-9
            )
            if user["chosen_threshold"] is not None:
                thresholds[user["user_id"]] = user["chosen_threshold"]
        assert per_user["per_user_reject_thresholds"] == thresholds == {"alice": 0.8}
        text = run_cli(
            *TUNE, "--scores", "heldout_raw.jsonl", "--apply-calibrator", "--target-accuracy",
            "0.9", "--per-user", "--min-user-samples", "50", cwd=raw_home,
        ).stdout.splitlines()  # fmt: skip
        start = text.index(
            "nothing certified on their own rows (the global threshold applies to them):"
        )
        assert text[start + 1].startswith("  bob (159 rows): best bound ")
        assert text[start + 2].startswith("  carol (149 rows): best bound ")

    @pytest.mark.parametrize(
        ("args", "message"),
        [
            (["--delta", "0.1"], "--delta needs --target-accuracy"),
            (["--target-accuracy", "1"], "expected a number strictly between 0 and 1"),
            (["--target-accuracy", "0.9", "--delta", "0"], "strictly between 0 and 1"),
            (["--target-accuracy", "0.9", "--reject-rate-min", "0.1"], "--reject-rate-min"),
            (["--apply-calibrator", "--no-calibrator"], "leave out --no-calibrator"),
        ],
    )
    def test_usage_errors(self, raw_home: Path, args: list[str], message: str) -> None:
        result = run_cli(*TUNE, "--scores", "heldout_raw.jsonl", *args, cwd=raw_home)
        assert result.code == 2
        assert message in result.stderr
        assert "Traceback" not in result.stderr


class TestParquet:
    def test_same_result_as_jsonl(self, raw_home: Path) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        documents = [json.loads(line) for line in RAW.read_text().splitlines()]
        columns: dict[str, Any] = {
            "label": [d["label"] for d in documents],
            "user_id": [d.get("user_id") for d in documents],
        }
        for label in EXAMPLE_LABELS:
            columns[f"p_{label}"] = [d["probabilities"][label] for d in documents]
        pq.write_table(pa.table(columns), raw_home / "heldout_raw.parquet", row_group_size=128)
        args = ["--apply-calibrator", "--target-accuracy", "0.9", "--per-user"]
        args += ["--min-user-samples", "50", "--format", "json"]
        from_jsonl = run_cli(*TUNE, "--scores", "heldout_raw.jsonl", *args, cwd=raw_home)
        from_parquet = run_cli(*TUNE, "--scores", "heldout_raw.parquet", *args, cwd=raw_home)
        assert from_parquet.code == from_jsonl.code == 0, from_parquet.stderr
        assert from_parquet.json()["result"] == from_jsonl.json()["result"]
        named = run_cli(
            *TUNE, "--scores", "heldout_raw.parquet", "--input-format", "parquet", *args,
            cwd=raw_home,
        )  # fmt: skip
        assert named.json()["result"] == from_jsonl.json()["result"]

    def test_without_pyarrow_names_the_extra(self, raw_home: Path) -> None:
        (raw_home / "s.parquet").write_bytes(b"PAR1")
        # An interpreter where importing pyarrow fails, as where it is not installed.
        program = (
            "import sys; sys.modules['pyarrow'] = None; sys.modules['pyarrow.parquet'] = None; "
            "from taskclf.cli.entry import entry_point; "
            "sys.argv = ['taskclf', *sys.argv[1:]]; entry_point()"
        )
        completed = subprocess.run(
            [sys.executable, "-c", program, *TUNE, "--scores", "s.parquet"],
            cwd=raw_home,
            env=cli_env(),
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        assert completed.returncode == 1
        assert (
            "s.parquet: is a Parquet file, and reading Parquet needs pyarrow: pip install "
            '"taskclf[parquet]"'
        ) in completed.stderr
        assert "Traceback" not in completed.stderr


class TestCalibrationRefusals:
    def test_row_a_calibrator_refuses_is_named(self, raw_home: Path) -> None:
        """An isotonic regressor with out_of_bounds "raise" refuses a value: that row is invalid."""
        regressor = {
            "X_thresholds_": [0.1, 0.9],
            "y_thresholds_": [0.1, 0.9],
            "X_min_": 0.1,
            "X_max_": 0.9,
            "increasing_": True,
            "out_of_bounds": "raise",
        }
        store = {"method": "isotonic", "model_schema_hash": "f3a9c2d1e8b7"}
        make_store(
            raw_home / "artifacts" / "strict_store",
            store,
            global_calibrator={"type": "isotonic", "regressors": [regressor] * 4},
        )
        inside = {"browse": 0.2, "code": 0.5, "meeting": 0.15, "write": 0.15}
        outside = {"browse": 0.02, "code": 0.95, "meeting": 0.02, "write": 0.01}
        (raw_home / "rows.jsonl").write_text(
            json.dumps({"label": "code", "probabilities": inside})
            + "\n"
            + json.dumps({"label": "code", "probabilities": outside})
            + "\n"
        )
        args = [*TUNE, "--scores", "rows.jsonl", "--apply-calibrator"]
        args += ["--calibrator-store", "artifacts/strict_store"]
        result = run_cli(*args, cwd=raw_home)
        assert result.code == 1
        assert "Traceback" not in result.stderr
        assert "rows.jsonl:2: /probabilities: cannot be calibrated with " in result.stderr
        assert "is outside the fitted range" in result.stderr
        skipped = run_cli(*args, "--skip-invalid-rows", "--reject-rate-max", "1", cwd=raw_home)
        assert skipped.code == 0, skipped.stderr
        assert "rows.jsonl (1 row used, 1 invalid skipped)" in skipped.stdout
