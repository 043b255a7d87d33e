"""``taskclf policy tune-reject``: the sweep a user sees, the policy it writes, and its refusals.

The sweep itself (bucketing, macro-F1, ties) and the row readers are tested as
a library in ``test_tune_*.py``; this module runs the command on real files and
checks what it prints, what it writes, and its exit codes. Most tests use the
ten hand-scored rows of :data:`ROWS`, whose numbers are worked out below.
"""

from __future__ import annotations

import csv
import json
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from test_cli_support import POLICY_NAME, run_cli, tree_bytes

from conftest import EXAMPLE_HOME, EXAMPLE_LABELS, EXAMPLE_SCHEMA_HASH, make_store, write_json

TUNE = ("policy", "tune-reject")
# Four candidates and a 50% reject ceiling keep the table small enough to
# work out by hand (see ROWS).
SWEEP = ("--thresholds", "0.5:0.8:0.1", "--reject-rate-max", "0.5")
STORE = "artifacts/calibrator_store"
# Without --apply-calibrator, the report says in one line how the scores are taken.
CALIBRATED_LINE = (
    "Scores: taken as already calibrated (pass --apply-calibrator if their probabilities are "
    "the model's raw outputs)"
)

# (label, predicted, confidence, user_id), one per line of heldout.jsonl.
#
#  line  label    predicted  conf  user
#    1   code     code       0.95  alice  right
#    2   code     code       0.85  alice  right
#    3   write    write      0.90  bob    right
#    4   browse   browse     0.75  bob    right
#    5   meeting  meeting    0.65  bob    right
#    6   code     write      0.72  alice  wrong
#    7   browse   code       0.55  alice  wrong
#    8   write    write      0.58  bob    right
#    9   meeting  browse     0.45  carol  wrong
#   10   code     code       0.40  alice  right
#
# A row is accepted when its confidence is at least the threshold.
#
# t=0.5: rejects lines 9, 10 -> 2 rejected (20%), 8 accepted, 6 right: accuracy 6/8 = 0.75.
#   F1 per label = 2TP / (2TP + FP + FN) on the accepted rows:
#   code TP 1,2 FP 7 FN 6 -> 4/6; write TP 3,8 FP 6 -> 4/5; browse TP 4 FN 7 -> 2/3;
#   meeting TP 5 -> 1. macro-F1 = (2/3 + 4/5 + 2/3 + 1) / 4 = 47/60 = 0.7833.
# t=0.6: also rejects 7, 8 -> 4 rejected (40%), 6 accepted (1-6), 5 right: 5/6 = 0.8333.
#   code TP 2 FN 1 -> 4/5; write TP 1 FP 1 -> 2/3; browse 1; meeting 1.
#   macro-F1 = (4/5 + 2/3 + 1 + 1) / 4 = 13/15 = 0.8667.
# t=0.7: also rejects 5 -> 5 rejected (50%), 5 accepted (1-4, 6), 4 right: 4/5 = 0.8.
#   code 4/5, write 2/3, browse 1 (meeting has no accepted row, left out).
#   macro-F1 = (4/5 + 2/3 + 1) / 3 = 37/45 = 0.8222.
# t=0.8: also rejects 4, 6 -> 7 rejected (70%), 3 accepted (1-3), all right: 1.0, macro-F1 1.0.
#
# Within [0%, 50%] are 0.5, 0.6 and 0.7; the best accuracy among them is 0.6
# (0.8333), which is chosen although 0.8 is more accurate (it rejects 70%).
#
# Per user (same thresholds and bounds):
#   alice (lines 1, 2, 6, 7, 10): 0.5 rejects 10 (20%), 2/4 right; 0.6 and 0.7 reject 7, 10
#     (40%), 2/3 right; 0.8 rejects 60%, out of bounds. 0.6 and 0.7 tie: the lower, 0.6.
#     macro-F1 at 0.6 over lines 1, 2, 6: code 4/5, write 0 (one FP) -> 0.4.
#   bob (lines 3, 4, 5, 8): nothing rejected at 0.5 and every row right: 0.5, accuracy 1.0.
#   carol (line 9, 0.45): every candidate rejects her one row, so none has an
#     accepted row: no threshold of her own.
ROWS: tuple[tuple[str, str, float, str], ...] = (
    ("code", "code", 0.95, "alice"),
    ("code", "code", 0.85, "alice"),
    ("write", "write", 0.90, "bob"),
    ("browse", "browse", 0.75, "bob"),
    ("meeting", "meeting", 0.65, "bob"),
    ("code", "write", 0.72, "alice"),
    ("browse", "code", 0.55, "alice"),
    ("write", "write", 0.58, "bob"),
    ("meeting", "browse", 0.45, "carol"),
    ("code", "code", 0.40, "alice"),
)

TABLE = [
    "   threshold  rejected  accepted  reject rate  coverage  accuracy  macro-F1",
    "        0.50         2         8        20.0%     80.0%    0.7500    0.7833",
    "*       0.60         4         6        40.0%     60.0%    0.8333    0.8667  <- chosen",
    "        0.70         5         5        50.0%     50.0%    0.8000    0.8222",
    "        0.80         7         3        70.0%     30.0%    1.0000    1.0000",
]
SUMMARY = (
    "chosen reject threshold: 0.60 (rejects 40.0% of 10 rows; accuracy on accepted rows "
    "0.8333, macro-F1 0.8667; allowed reject rate 0.0% to 50.0%)"
)
EXPECTED_SWEEP = [
    {"threshold": 0.5, "rejected": 2, "accepted": 8, "reject_rate": 0.2, "coverage": 0.8,
     "accuracy": 6 / 8, "macro_f1": 47 / 60},
    {"threshold": 0.6, "rejected": 4, "accepted": 6, "reject_rate": 0.4, "coverage": 0.6,
     "accuracy": 5 / 6, "macro_f1": 13 / 15},
    {"threshold": 0.7, "rejected": 5, "accepted": 5, "reject_rate": 0.5, "coverage": 0.5,
     "accuracy": 4 / 5, "macro_f1": 37 / 45},
    {"threshold": 0.8, "rejected": 7, "accepted": 3, "reject_rate": 0.7, "coverage": 0.3,
     "accuracy": 1.0, "macro_f1": 1.0},
]  # fmt: skip
USER_TABLE = [
    "user   rows  threshold  reject rate  accuracy  macro-F1",
    "alice     5       0.60        40.0%    0.6667    0.4000",
    "bob       4       0.50         0.0%    1.0000    1.0000",
]


def _documents(*, users: bool = True) -> list[dict[str, Any]]:
    documents = []
    for label, predicted, confidence, user_id in ROWS:
        document: dict[str, Any] = {
            "label": label,
            "predicted": predicted,
            "confidence": confidence,
        }
        if users:
            document["user_id"] = user_id
        documents.append(document)
    return documents


def _probabilities(predicted: str, confidence: float) -> dict[str, float]:
    if confidence == 0.45:
        # Line 9: browse and meeting tie; the first label in alphabetical order
        # (browse) is the prediction, whatever the order of keys or columns.
        return {"write": 0.05, "meeting": 0.45, "code": 0.05, "browse": 0.45}
    rest = round((1 - confidence) / 3, 4)  # every other label stays below the confidence
    return {label: confidence if label == predicted else rest for label in EXAMPLE_LABELS}


def _probability_documents() -> list[dict[str, Any]]:
    return [
        {"label": label, "probabilities": _probabilities(predicted, confidence), "user_id": user}
        for label, predicted, confidence, user in ROWS
    ]


def _write_lines(path: Path, lines: Sequence[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def _write_jsonl(path: Path, documents: Sequence[dict[str, Any]]) -> Path:
    return _write_lines(path, [json.dumps(document) for document in documents])


def _write_csv(path: Path, header: Sequence[str], records: Sequence[Sequence[Any]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as stream:
        csv.writer(stream).writerows([header, *records])
    return path


def _heldout(home: Path) -> Path:
    return _write_jsonl(home / "heldout.jsonl", _documents())


def _printed_policy(stdout: str) -> dict[str, Any]:
    """The policy document a run without --write-policy prints after its report."""
    block = stdout.split("(pass --write-policy to write it):\n", 1)[1]
    document: dict[str, Any] = json.loads(block[: block.index("\n}\n") + 2])
    return document


def _written(home: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((home / "models" / POLICY_NAME).read_text("utf-8"))
    return document


def _comparable(report: dict[str, Any]) -> dict[str, Any]:
    """A --format json report without what differs from run to run (clock, files, home)."""
    policy = {key: value for key, value in report["policy"].items() if key != "created_at"}
    scores = {key: value for key, value in report["scores"].items() if key != "file"}
    kept = {key: value for key, value in report.items() if key not in {"policy_file", "changes"}}
    return {**kept, "policy": policy, "scores": scores}


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The --format json report of ROWS as JSON Lines, per user (min 1), in an example home."""
    home = tmp_path_factory.mktemp("reference") / "home"
    shutil.copytree(
        EXAMPLE_HOME,
        home,
        ignore=shutil.ignore_patterns("inference_policy.json*", ".policy_history"),
    )
    _heldout(home)
    result = run_cli(
        *TUNE, "--scores", "heldout.jsonl", *SWEEP, "--per-user", "--min-user-samples", "1",
        "--format", "json", cwd=home,
    )  # fmt: skip
    assert (result.code, result.stderr) == (0, "")
    report: dict[str, Any] = result.json()
    return report


class TestHandComputedSweep:
    """The table, the choice and the JSON numbers are the ones worked out for ROWS."""

    def test_table_and_choice(self, home: Path, snapshot: Any) -> None:
        _heldout(home)

        result = run_cli(*TUNE, "--scores", "heldout.jsonl", *SWEEP, cwd=home)

        assert result.code == 0, result.stderr
        assert result.stderr == ""
        lines = result.stdout.splitlines()
        assert lines[:12] == [
            "Scores: heldout.jsonl (10 rows used)",
            "Model bundle: models/run_001 (resolved by best-model)",
            f"Calibrator: {STORE} (temperature; bound to the bundle under artifacts/)",
            CALIBRATED_LINE,
            "",
            SUMMARY,
            "",
            *TABLE,
        ]
        assert [line for line in lines if "chosen" in line] == [SUMMARY, TABLE[2]]
        assert _printed_policy(result.stdout)["reject_threshold"] == 0.6
        assert result.seen(home) == snapshot

    def test_json_numbers(self, reference: dict[str, Any]) -> None:
        tuned = reference["result"]

        assert tuned["threshold"] == tuned["chosen_threshold"] == 0.6
        assert (tuned["total_rows"], tuned["reject_rate_min"], tuned["reject_rate_max"]) == (
            10,
            0.0,
            0.5,
        )
        assert len(tuned["sweep"]) == len(EXPECTED_SWEEP)
        for entry, expected in zip(tuned["sweep"], EXPECTED_SWEEP, strict=True):
            assert entry == pytest.approx(expected)

    def test_json_numbers_per_user(self, reference: dict[str, Any]) -> None:
        per_user = reference["result"]["per_user"]

        assert per_user["min_user_samples"] == 1
        assert per_user["per_user_reject_thresholds"] == {"alice": 0.6, "bob": 0.5}
        assert (per_user["skipped_users"], per_user["rows_without_user"]) == ([], 0)
        users = {user["user_id"]: user for user in per_user["users"]}
        assert list(users) == ["alice", "bob", "carol"]
        assert [users[name]["total_rows"] for name in users] == [5, 4, 1]
        alice = {entry["threshold"]: entry for entry in users["alice"]["sweep"]}
        assert alice[0.6] == pytest.approx(
            {"threshold": 0.6, "rejected": 2, "accepted": 3, "reject_rate": 0.4,
             "coverage": 0.6, "accuracy": 2 / 3, "macro_f1": 0.4}
        )  # fmt: skip
        assert (alice[0.7]["accuracy"], alice[0.7]["reject_rate"]) == (2 / 3, 0.4)
        assert users["bob"]["sweep"][0] == pytest.approx(
            {"threshold": 0.5, "rejected": 0, "accepted": 4, "reject_rate": 0.0,
             "coverage": 1.0, "accuracy": 1.0, "macro_f1": 1.0}
        )  # fmt: skip
        assert users["carol"]["chosen_threshold"] is None
        assert {entry["accepted"] for entry in users["carol"]["sweep"]} == {0}
        assert reference["policy"]["per_user_reject_thresholds"] == {"alice": 0.6, "bob": 0.5}

    def test_default_thresholds_and_bounds(self, home: Path) -> None:
        # Defaults: 0.10, 0.15, ..., 0.95 and a reject rate in [0%, 30%].
        # Up to 0.40 nothing is rejected (7/10 right); 0.45 rejects line 10
        # (6/9); 0.50 and 0.55 both reject lines 9 and 10 (6/8): line 7 has a
        # confidence of exactly 0.55 and is accepted. 0.60 rejects 40%, out of
        # bounds. Best in bounds: 0.75 at 0.50 and 0.55, and the lower one wins.
        _heldout(home)

        result = run_cli(*TUNE, "--scores", "heldout.jsonl", "--format", "json", cwd=home)

        assert result.code == 0, result.stderr
        tuned = result.json()["result"]
        by_threshold = {entry["threshold"]: entry for entry in tuned["sweep"]}
        assert list(by_threshold) == [round(0.10 + 0.05 * step, 2) for step in range(18)]
        assert (tuned["reject_rate_min"], tuned["reject_rate_max"]) == (0.0, 0.3)
        assert tuned["chosen_threshold"] == 0.5
        assert {by_threshold[t]["accuracy"] for t in (0.1, 0.25, 0.4)} == {0.7}
        assert by_threshold[0.45]["accuracy"] == pytest.approx(6 / 9)
        same = {key: value for key, value in by_threshold[0.5].items() if key != "threshold"}
        assert by_threshold[0.55] == {"threshold": 0.55, **same}
        assert (same["accepted"], same["accuracy"]) == (8, 0.75)
        assert by_threshold[0.6]["reject_rate"] == 0.4
        # Line 1 (0.95) meets the highest candidate exactly and is accepted.
        assert (by_threshold[0.95]["accepted"], by_threshold[0.95]["accuracy"]) == (1, 1.0)


class TestInputFormats:
    """CSV, JSON Lines, probabilities and --input-format give the same result for the same rows."""

    @staticmethod
    def _csv(home: Path) -> list[str]:
        records = [list(row) for row in ROWS]
        _write_csv(home / "heldout.csv", ["label", "predicted", "confidence", "user_id"], records)
        return ["--scores", "heldout.csv"]

    @staticmethod
    def _jsonl_probabilities(home: Path) -> list[str]:
        _write_jsonl(home / "probabilities.jsonl", _probability_documents())
        return ["--scores", "probabilities.jsonl"]

    @staticmethod
    def _csv_probabilities(home: Path) -> list[str]:
        # Columns out of alphabetical order, user_id first: names, not places, count.
        labels = ["write", "meeting", "code", "browse"]
        header = ["user_id", "label", *(f"p_{label}" for label in labels)]
        records = [
            [document["user_id"], document["label"]]
            + [document["probabilities"][label] for label in labels]
            for document in _probability_documents()
        ]
        _write_csv(home / "probabilities.csv", header, records)
        return ["--scores", "probabilities.csv"]

    @staticmethod
    def _named_format(home: Path) -> list[str]:
        TestInputFormats._csv(home)
        (home / "heldout.csv").rename(home / "heldout.export")
        return ["--scores", "heldout.export", "--input-format", "csv"]

    @staticmethod
    def _ndjson(home: Path) -> list[str]:
        _write_jsonl(home / "heldout.NDJSON", _documents())
        return ["--scores", "heldout.NDJSON"]

    @pytest.mark.parametrize(
        "setup",
        [_csv, _jsonl_probabilities, _csv_probabilities, _named_format, _ndjson],
        ids=["csv", "jsonl-probabilities", "csv-probabilities", "input-format", "ndjson"],
    )
    def test_same_result_as_jsonl(
        self, home: Path, reference: dict[str, Any], setup: Callable[[Path], list[str]]
    ) -> None:
        args = setup(home)

        result = run_cli(
            *TUNE, *args, *SWEEP, "--per-user", "--min-user-samples", "1", "--format", "json",
            cwd=home,
        )  # fmt: skip

        assert (result.code, result.stderr) == (0, "")
        report = result.json()
        assert report["scores"]["file"] == args[1]
        assert _comparable(report) == _comparable(reference)


class TestBoundsNotMet:
    """No candidate within the bounds: the table, a message naming the flags, exit 1, no write."""

    ARGS = ("--scores", "heldout.jsonl", *SWEEP[:2], "--reject-rate-min", "0.55",
            "--reject-rate-max", "0.65", "--write-policy")  # fmt: skip

    def test_text(self, home: Path, snapshot: Any) -> None:
        _heldout(home)
        before = tree_bytes(home)

        result = run_cli(*TUNE, *self.ARGS, cwd=home)

        assert result.code == 1
        # The same table as when a threshold is chosen, without the mark column.
        assert result.stdout.splitlines() == [
            "  threshold  rejected  accepted  reject rate  coverage  accuracy  macro-F1",
            "       0.50         2         8        20.0%     80.0%    0.7500    0.7833",
            "       0.60         4         6        40.0%     60.0%    0.8333    0.8667",
            "       0.70         5         5        50.0%     50.0%    0.8000    0.8222",
            "       0.80         7         3        70.0%     30.0%    1.0000    1.0000",
        ]
        assert result.stderr == (
            "taskclf: error: no candidate threshold keeps the reject rate within "
            "[55.0%, 65.0%] on 10 rows (the candidates reject 20.0% to 70.0%); widen the "
            "bounds (--reject-rate-min, --reject-rate-max) or try other thresholds "
            "(--thresholds)\n"
        )
        assert tree_bytes(home) == before
        assert result.seen(home) == snapshot

    def test_json(self, home: Path) -> None:
        _heldout(home)

        result = run_cli(*TUNE, *self.ARGS, "--format", "json", cwd=home)

        assert (result.code, result.stderr) == (1, "")
        report = result.json()  # the table is not printed: stdout is one JSON document
        assert (report["command"], report["ok"]) == ("policy tune-reject", False)
        assert "--reject-rate-min, --reject-rate-max" in report["error"]["message"]
        sweep = report["error"]["details"]["sweep"]
        assert sweep["chosen_threshold"] is None
        assert [entry["reject_rate"] for entry in sweep["sweep"]] == [0.2, 0.4, 0.5, 0.7]
        assert not (home / "models" / POLICY_NAME).exists()


class TestPerUser:
    """--per-user tunes users with at least --min-user-samples rows and lists the others."""

    def test_write_validate_show(self, home: Path, snapshot: Any) -> None:
        _heldout(home)

        result = run_cli(
            *TUNE, "--scores", "heldout.jsonl", *SWEEP, "--per-user", "--min-user-samples", "4",
            "--write-policy", cwd=home,
        )  # fmt: skip

        assert result.code == 0, result.stderr
        lines = result.stdout.splitlines()
        start = lines.index(USER_TABLE[0])
        assert lines[start : start + 6] == [
            *USER_TABLE,
            "skipped, fewer than 4 rows: carol (1)",
            "",
            "Wrote models/inference_policy.json",
        ]
        assert result.seen(home) == snapshot
        assert _written(home)["per_user_reject_thresholds"] == {"alice": 0.6, "bob": 0.5}

        validated = run_cli("policy", "validate", cwd=home)
        assert validated.code == 0, validated.stdout + validated.stderr
        assert "models/inference_policy.json: ok (schema and disk checks)" in validated.stdout

        shown = run_cli("policy", "show", cwd=home)
        assert shown.code == 0, shown.stderr
        assert "  source             tune-reject\n" in shown.stdout
        assert (
            "  per-user reject thresholds (2):\n"
            "    user   threshold\n"
            "    alice  0.6\n"
            "    bob    0.5\n"
        ) in shown.stdout

    def test_user_without_a_threshold_in_bounds(self, home: Path) -> None:
        _heldout(home)

        result = run_cli(
            *TUNE, "--scores", "heldout.jsonl", *SWEEP, "--per-user", "--min-user-samples", "1",
            cwd=home,
        )  # fmt: skip

        assert result.code == 0, result.stderr
        lines = result.stdout.splitlines()
        start = lines.index(USER_TABLE[0])
        assert lines[start : start + 5] == [
            *USER_TABLE,
            "carol     1          -            -         -         -  no threshold within bounds",
            "",
        ]
        # carol keeps the global threshold: she is not in the policy's table.
        policy = _printed_policy(result.stdout)
        assert policy["per_user_reject_thresholds"] == {"alice": 0.6, "bob": 0.5}

    def test_rows_without_user_id(self, home: Path) -> None:
        _write_jsonl(home / "heldout.jsonl", _documents(users=False))

        result = run_cli(*TUNE, "--scores", "heldout.jsonl", *SWEEP, "--per-user", cwd=home)

        assert result.code == 0, result.stderr
        assert "\nno user has 100 or more rows\nrows without user_id: 10\n" in result.stdout
        assert _printed_policy(result.stdout)["per_user_reject_thresholds"] is None


BAD_JSONL = [
    '{"label": "code", "predicted": "code", "confidence": 1.5}',
    '{"label": "code", "predicted": "code"',
    "",
    '{"label": "sleep", "predicted": "code", "confidence": 0.5}',
    '{"predicted": "code", "confidence": 0.5}',
]


class TestBadRows:
    """Invalid rows are listed as FILE:LINE: and stop the run, unless --skip-invalid-rows."""

    @pytest.fixture
    def bad_jsonl(self, home: Path) -> Path:
        """Four invalid rows (lines 1, 2, 4, 5; line 3 is blank), then the ten ROWS."""
        return _write_lines(
            home / "heldout.jsonl", [*BAD_JSONL, *(json.dumps(d) for d in _documents())]
        )

    def test_jsonl(self, home: Path, bad_jsonl: Path, snapshot: Any) -> None:
        before = tree_bytes(home)

        result = run_cli(*TUNE, "--scores", "heldout.jsonl", *SWEEP, "--write-policy", cwd=home)

        assert result.code == 1
        assert result.stdout == ""
        lines = result.stderr.splitlines()
        assert lines[:4] == [
            "taskclf: error: heldout.jsonl: 4 invalid rows; fix them, or skip invalid rows "
            "(--skip-invalid-rows):",
            "  heldout.jsonl:1: /confidence: 1.5 is greater than the maximum of 1 "
            "(expected a probability between 0 and 1)",
            "  heldout.jsonl:2: not valid JSON: Expecting ',' delimiter at column 38",
            '  heldout.jsonl:4: /label: "sleep" is not one of the model\'s labels '
            "(the labels are browse, code, meeting, write)",
        ]
        assert lines[4].startswith('  heldout.jsonl:5: /label: "label" is required but missing')
        assert len(lines) == 5
        assert tree_bytes(home) == before
        assert result.seen(home) == snapshot

    def test_json_lists_the_rows(self, home: Path, bad_jsonl: Path) -> None:
        result = run_cli(*TUNE, "--scores", "heldout.jsonl", "--format", "json", cwd=home)

        assert (result.code, result.stderr) == (1, "")
        details = result.json()["error"]["details"]
        assert (details["file"], details["complete"]) == ("heldout.jsonl", True)
        assert [row["line"] for row in details["rows"]] == [1, 2, 4, 5]
        assert details["rows"][0]["errors"][0]["pointer"] == "/confidence"

    def test_csv(self, home: Path) -> None:
        _write_lines(
            home / "heldout.csv",
            [
                "label,predicted,confidence,user_id",
                'code,code,0.95,"a user id',
                'on two lines"',
                "code,code,1.5,alice",
                "code,code,NaN,alice",
                "code,code",
                "sleep,code,0.5,bob",
            ],
        )
        before = tree_bytes(home)

        result = run_cli(*TUNE, "--scores", "heldout.csv", cwd=home)

        assert result.code == 1
        assert result.stdout == ""
        # Line numbers are where a row starts: the quoted cell spans lines 2-3.
        assert result.stderr.splitlines() == [
            "taskclf: error: heldout.csv: 4 invalid rows; fix them, or skip invalid rows "
            "(--skip-invalid-rows):",
            "  heldout.csv:4: column confidence: 1.5 is greater than the maximum of 1 "
            "(expected a probability between 0 and 1)",
            '  heldout.csv:5: column confidence: "NaN" is not of type number (expected the '
            "probability of the predicted label, a number between 0 and 1)",
            "  heldout.csv:6: the row has 2 fields, the header 4",
            '  heldout.csv:7: column label: "sleep" is not one of the model\'s labels '
            "(the labels are browse, code, meeting, write)",
        ]
        assert tree_bytes(home) == before

    def test_skip_invalid_rows(self, home: Path, bad_jsonl: Path) -> None:
        result = run_cli(
            *TUNE, "--scores", "heldout.jsonl", *SWEEP, "--skip-invalid-rows", cwd=home
        )

        assert result.code == 0, result.stderr
        assert result.stderr == ""
        lines = result.stdout.splitlines()
        assert lines[0] == "Scores: heldout.jsonl (10 rows used, 4 invalid skipped)"
        # The four skipped rows are listed next (lines 1-4), then the bundle and
        # calibrator and how the scores are taken. The valid rows are ROWS: the same
        # choice as without the bad lines.
        assert lines[7] == CALIBRATED_LINE
        assert lines[9:16] == [SUMMARY, "", *TABLE]

    def test_skip_invalid_rows_json(self, home: Path, bad_jsonl: Path) -> None:
        result = run_cli(
            *TUNE, "--scores", "heldout.jsonl", *SWEEP, "--skip-invalid-rows", "--format", "json",
            cwd=home,
        )  # fmt: skip

        assert (result.code, result.stderr) == (0, "")
        scores = result.json()["scores"]
        assert (scores["rows_used"], scores["rows_skipped"]) == (10, 4)
        assert [row["line"] for row in scores["skipped"]] == [1, 2, 4, 5]

    def test_labels_outside_the_bundle(self, home: Path, make_bundle: Callable[..., Path]) -> None:
        make_bundle(home / "models", "run_003", labels=["code", "write"])
        _heldout(home)

        result = run_cli(*TUNE, "--scores", "heldout.jsonl", "--model-dir", "models/run_003",
                         cwd=home)  # fmt: skip

        assert result.code == 1
        lines = result.stderr.splitlines()
        # Lines 4, 5, 7 and 9 have browse or meeting as label (or prediction).
        assert lines[0].startswith("taskclf: error: heldout.jsonl: 4 invalid rows;")
        assert [line.split(": ", 1)[0] for line in lines[1:]] == [
            f"  heldout.jsonl:{line}" for line in (4, 5, 7, 9)
        ]
        assert lines[3] == (
            '  heldout.jsonl:7: /label: "browse" is not one of the model\'s labels '
            "(the labels are code, write)"
        )
        assert not (home / "models" / POLICY_NAME).exists()

    def test_probability_column_outside_the_bundle(self, home: Path) -> None:
        _write_lines(home / "heldout.csv", ["label,p_code,p_sleep", "code,0.5,0.5"])

        result = run_cli(*TUNE, "--scores", "heldout.csv", cwd=home)

        assert (result.code, result.stdout) == (1, "")
        assert result.stderr == (
            "taskclf: error: heldout.csv: the column p_sleep names a label the model does "
            "not have (its labels are browse, code, meeting, write)\n"
        )

    def test_row_with_both_forms_reads_as_json(self, home: Path) -> None:
        _write_lines(
            home / "heldout.jsonl",
            ['{"label": "code", "predicted": "code", "confidence": 0.5, '
             '"probabilities": {"code": 0.5}}'],
        )  # fmt: skip

        result = run_cli(*TUNE, "--scores", "heldout.jsonl", cwd=home)

        assert result.code == 1
        line = result.stderr.splitlines()[1]
        assert line.startswith("  heldout.jsonl:1: ")
        assert "not both" in line
        assert "{'" not in line  # no Python repr of the row
        assert "..." not in line  # nor one cut short

    def test_bad_probability_cell_hint(self, home: Path) -> None:
        _write_lines(home / "heldout.csv", ["label,p_code,p_write", "code,abc,0.1"])

        result = run_cli(*TUNE, "--scores", "heldout.csv", cwd=home)

        assert result.code == 1
        line = result.stderr.splitlines()[1]
        assert line.startswith('  heldout.csv:2: column p_code: "abc" is not of type number')
        assert "expected an object mapping" not in line
        assert "between 0 and 1" in line


class TestScoresFile:
    """A scores file that cannot be read at all: exit 1 and one clear message."""

    @pytest.mark.parametrize(
        ("name", "content", "message"),
        [
            ("missing.jsonl", None, "missing.jsonl: does not exist"),
            (
                "heldout.txt",
                "",
                "heldout.txt: cannot tell the format from the extension (known: .jsonl, "
                ".ndjson, .csv, .parquet); name the format (--input-format jsonl, csv or "
                "parquet)",
            ),
            ("folder.jsonl", "folder", "folder.jsonl: is a directory, not a file"),
            ("empty.csv", "", "empty.csv: is empty; the first row must name the columns"),
            (
                "empty.jsonl",
                "\n\n",
                "no scored rows to tune on: the file has no rows, or every row was invalid",
            ),
        ],
        ids=["missing", "unknown-extension", "folder", "empty-csv", "empty-jsonl"],
    )
    def test_unreadable(self, home: Path, name: str, content: str | None, message: str) -> None:
        if content == "folder":
            (home / name).mkdir()
        elif content is not None:
            (home / name).write_text(content, encoding="utf-8")
        before = tree_bytes(home)

        result = run_cli(*TUNE, "--scores", name, "--write-policy", cwd=home)

        assert (result.code, result.stdout) == (1, "")
        assert result.stderr == f"taskclf: error: {message}\n"
        assert tree_bytes(home) == before


class TestWritePolicy:
    """Without --write-policy the policy is printed, not written; with it, written and valid."""

    def test_without_write_policy_nothing_is_written(self, home: Path) -> None:
        _heldout(home)
        before = tree_bytes(home)

        result = run_cli(*TUNE, "--scores", "heldout.jsonl", *SWEEP, cwd=home)

        assert result.code == 0, result.stderr
        assert tree_bytes(home) == before
        assert (
            "\nWould write models/inference_policy.json (pass --write-policy to write it):\n{"
            in result.stdout
        )
        policy = _printed_policy(result.stdout)
        assert result.stdout.endswith(json.dumps(policy, indent=2, ensure_ascii=False) + "\n")
        assert {key: policy[key] for key in policy if key != "created_at"} == {
            "policy_version": "v1",
            "model_dir": "models/run_001",
            "model_schema_hash": EXAMPLE_SCHEMA_HASH,
            "model_label_set": sorted(EXAMPLE_LABELS),
            "calibrator_store_dir": STORE,
            "calibration_method": "temperature",
            "reject_threshold": 0.6,
            "source": "tune-reject",
            "git_commit": "unknown",
            "per_user_reject_thresholds": None,
        }

    def test_write_policy_json(self, home: Path) -> None:
        _heldout(home)

        result = run_cli(
            *TUNE, "--scores", "heldout.jsonl", *SWEEP, "--write-policy", "--format", "json",
            cwd=home,
        )  # fmt: skip

        assert (result.code, result.stderr) == (0, "")
        report = result.json()
        assert report["written"] is True
        # There was no policy before: every field is listed as new, from null.
        assert [change["field"] for change in report["changes"]] == list(report["policy"])
        assert {change["old"] for change in report["changes"]} == {None}
        assert _written(home) == report["policy"]
        assert report["policy"]["source"] == "tune-reject"
        validated = run_cli("policy", "validate", "--format", "json", cwd=home)
        assert validated.code == 0, validated.stdout

    def test_existing_policy_changes(
        self, home: Path, policy_document: dict[str, Any], snapshot: Any
    ) -> None:
        # The existing policy binds run_001 and the store with 0.55 (source manual);
        # without --model-dir the tuning is for what that policy binds.
        write_json(home / "models" / POLICY_NAME, policy_document)
        _heldout(home)
        before = tree_bytes(home)
        changes = [
            "  ~ reject_threshold: 0.55 -> 0.6",
            '  ~ created_at: "2026-01-31T12:00:00+00:00" -> "',
            '  ~ source: "manual" -> "tune-reject"',
        ]

        shown = run_cli(*TUNE, "--scores", "heldout.jsonl", *SWEEP, cwd=home)

        assert shown.code == 0, shown.stderr
        assert tree_bytes(home) == before
        lines = shown.stdout.splitlines()
        assert lines[1:3] == [
            "Model bundle: models/run_001 (resolved by policy)",
            f"Calibrator: {STORE} (temperature; from the policy in use)",
        ]
        start = lines.index("Changes to the existing policy (3):")
        assert [line[: len(c)] for line, c in zip(lines[start + 1 :], changes, strict=True)] == (
            changes
        )

        written = run_cli(*TUNE, "--scores", "heldout.jsonl", *SWEEP, "--write-policy", cwd=home)

        assert written.code == 0, written.stderr
        lines = written.stdout.splitlines()
        start = lines.index("Wrote models/inference_policy.json (3 changes):")
        assert [line[: len(c)] for line, c in zip(lines[start + 1 :], changes, strict=True)] == (
            changes
        )
        assert _written(home)["reject_threshold"] == 0.6
        assert written.seen(home) == snapshot

    def test_invalid_existing_policy_is_named(self, home: Path) -> None:
        (home / "models" / POLICY_NAME).write_text('{"reject_threshold": NaN}\n')
        _heldout(home)

        result = run_cli(*TUNE, "--scores", "heldout.jsonl", *SWEEP, "--write-policy", cwd=home)

        assert result.code == 0, result.stderr
        assert _written(home)["source"] == "tune-reject"
        assert (
            "The existing models/inference_policy.json is invalid; the tuned policy replaces it."
            in result.stdout
        )

    def test_one_row_is_singular(self, home: Path) -> None:
        _write_jsonl(home / "one.jsonl", _documents()[:1])

        result = run_cli(*TUNE, "--scores", "one.jsonl", cwd=home)

        assert result.code == 0, result.stderr
        assert result.stdout.startswith("Scores: one.jsonl (1 row used)\n")
        assert "rejects 0.0% of 1 row;" in result.stdout


def _store_b(home: Path) -> None:
    make_store(
        home / "artifacts" / "store_b",
        {"method": "isotonic", "model_bundle_id": "run_002", "model_schema_hash": "f3a9c2d1e8b7"},
    )


def _run_001(home: Path) -> list[str]:
    return ["--model-dir", "models/run_001"]


def _run_002(home: Path) -> list[str]:
    return ["--model-dir", "models/run_002"]


def _run_002_with_its_store(home: Path) -> list[str]:
    _store_b(home)
    return ["--model-dir", "models/run_002"]


def _no_calibrator(home: Path) -> list[str]:
    return ["--model-dir", "models/run_001", "--no-calibrator"]


def _named_store(home: Path) -> list[str]:
    _store_b(home)
    return ["--model-dir", "models/run_002", "--calibrator-store", "artifacts/store_b"]


def _resolved(home: Path) -> list[str]:
    return []


class TestCalibratorStore:
    """Which store the policy binds: the flag, else the policy's, else one bound to the bundle."""

    @pytest.mark.parametrize(
        ("setup", "lines", "store", "method"),
        [
            (_run_001, ["models/run_001 (--model-dir)", f"{STORE} (temperature; bound to the "
             "bundle under artifacts/)"], STORE, "temperature"),
            (_run_002, ["models/run_002 (--model-dir)", "none, raw scores: no calibrator store "
             "under artifacts/ is bound to this bundle (pass --calibrator-store if the scores "
             "were calibrated)"], None, None),
            (_run_002_with_its_store, ["models/run_002 (--model-dir)", "artifacts/store_b "
             "(isotonic; bound to the bundle under artifacts/)"], "artifacts/store_b",
             "isotonic"),
            (_no_calibrator, ["models/run_001 (--model-dir)", "none, raw scores "
             "(--no-calibrator)"], None, None),
            (_named_store, ["models/run_002 (--model-dir)", "artifacts/store_b (isotonic; "
             "--calibrator-store)"], "artifacts/store_b", "isotonic"),
            (_resolved, ["models/run_001 (resolved by best-model)", f"{STORE} (temperature; "
             "bound to the bundle under artifacts/)"], STORE, "temperature"),
        ],
        ids=["run_001-default", "run_002-none-bound", "run_002-own-store", "no-calibrator",
             "calibrator-store", "resolved-bundle"],
    )  # fmt: skip
    def test_choice(
        self,
        home: Path,
        setup: Callable[[Path], list[str]],
        lines: list[str],
        store: str | None,
        method: str | None,
    ) -> None:
        args = setup(home)
        _heldout(home)

        result = run_cli(*TUNE, "--scores", "heldout.jsonl", *SWEEP, *args, cwd=home)

        assert result.code == 0, result.stderr
        bundle, calibrator = lines
        assert result.stdout.splitlines()[1:3] == [
            f"Model bundle: {bundle}",
            f"Calibrator: {calibrator}",
        ]
        policy = _printed_policy(result.stdout)
        assert (policy["calibrator_store_dir"], policy["calibration_method"]) == (store, method)

    def test_store_bound_to_another_model(
        self, home: Path, policy_document: dict[str, Any], snapshot: Any
    ) -> None:
        write_json(home / "models" / POLICY_NAME, policy_document)
        _heldout(home)
        before = tree_bytes(home)

        result = run_cli(
            *TUNE, "--scores", "heldout.jsonl", *SWEEP, "--model-dir", "models/run_002",
            "--calibrator-store", STORE, "--write-policy", cwd=home,
        )  # fmt: skip

        assert (result.code, result.stdout) == (1, "")
        assert result.stderr.startswith(
            "taskclf: error: the model bundle and calibrator store do not fit together; "
            "nothing was read or written:\n  [store_bundle_matches] "
        )
        assert 'fitted for another model bundle: store has "run_001"' in result.stderr
        assert tree_bytes(home) == before
        assert result.seen(home) == snapshot

    def test_store_without_manifest(self, home: Path) -> None:
        (home / "artifacts" / "empty_store").mkdir()
        _heldout(home)

        result = run_cli(
            *TUNE, "--scores", "heldout.jsonl", "--model-dir", "models/run_001",
            "--calibrator-store", "artifacts/empty_store", cwd=home,
        )  # fmt: skip

        assert (result.code, result.stdout) == (1, "")
        assert result.stderr.startswith("taskclf: error: ")
        assert "empty_store/store.json does not exist" in result.stderr
        assert result.stderr.endswith("; nothing was written\n")

    def test_no_bundle_resolves(self, bare_home: Path) -> None:
        _heldout(bare_home)

        result = run_cli(*TUNE, "--scores", "heldout.jsonl", cwd=bare_home)

        assert (result.code, result.stdout) == (1, "")
        assert result.stderr.startswith(
            "taskclf: error: no model bundle given and none resolves; pass --model-dir.\n"
        )


class TestUsageErrors:
    """Bad option values exit 2 with a message naming the option, and touch nothing."""

    @pytest.mark.parametrize(
        ("args", "last_line"),
        [
            (["--thresholds", "0.9:0.1:0.1"], "argument --thresholds: stop is below start"),
            (["--thresholds", "abc"], "argument --thresholds: 'abc' is not a number; use "
             "start:stop:step (such as 0.10:0.95:0.05) or a list (such as 0.3,0.5,0.7)"),
            (["--thresholds", "0.5,0.5"], "argument --thresholds: the threshold 0.5 appears "
             "twice"),
            (["--thresholds", "0:1:0"], "argument --thresholds: the step 0 must be greater "
             "than 0"),
            (["--thresholds", "0.2,1.5"], "argument --thresholds: threshold 1.5 is greater "
             "than the maximum of 1 (expected a probability between 0 and 1)"),
            (["--reject-rate-max", "1.5"], "argument --reject-rate-max: 1.5 is greater than "
             "the maximum of 1 (expected a probability between 0 and 1)"),
            (["--reject-rate-min", "-0.1"], "argument --reject-rate-min: -0.1 is less than "
             "the minimum of 0 (expected a probability between 0 and 1)"),
            (["--min-user-samples", "0"], "argument --min-user-samples: expected at least 1, "
             "got 0"),
            (["--min-user-samples", "many"], "argument --min-user-samples: expected a whole "
             "number, got 'many'"),
            (["--input-format", "xml"], "argument --input-format: invalid choice: 'xml' "
             "(choose from 'jsonl', 'csv', 'parquet')"),
            (["--no-calibrator", "--calibrator-store", STORE], "argument --calibrator-store: "
             "not allowed with argument --no-calibrator"),
        ],
        ids=["thresholds-reversed", "thresholds-text", "thresholds-repeated",
             "thresholds-zero-step", "thresholds-above-one", "rate-max-above-one",
             "rate-min-negative", "min-user-samples-zero", "min-user-samples-text",
             "input-format", "store-and-no-calibrator"],
    )  # fmt: skip
    def test_argument(self, home: Path, args: list[str], last_line: str) -> None:
        _heldout(home)
        before = tree_bytes(home)

        result = run_cli(*TUNE, "--scores", "heldout.jsonl", *args, "--write-policy", cwd=home)

        assert (result.code, result.stdout) == (2, "")
        assert result.stderr.startswith("usage: taskclf policy tune-reject")
        assert result.stderr.splitlines()[-1] == f"taskclf policy tune-reject: error: {last_line}"
        assert tree_bytes(home) == before

    def test_rate_min_above_max(self, home: Path) -> None:
        _heldout(home)
        before = tree_bytes(home)

        result = run_cli(
            *TUNE, "--scores", "heldout.jsonl", "--reject-rate-min", "0.6",
            "--reject-rate-max", "0.4", "--write-policy", cwd=home,
        )  # fmt: skip

        assert (result.code, result.stdout) == (2, "")
        assert result.stderr == (
            "taskclf: error: --reject-rate-min 0.6 is above --reject-rate-max 0.4\n"
        )
        assert tree_bytes(home) == before

    def test_scores_is_required(self, home: Path) -> None:
        result = run_cli(*TUNE, "--write-policy", cwd=home)

        assert (result.code, result.stdout) == (2, "")
        assert result.stderr.splitlines()[-1] == (
            "taskclf policy tune-reject: error: the following arguments are required: --scores"
        )
        assert not (home / "models" / POLICY_NAME).exists()


class TestJsonShape:
    """--format json prints one object with the report's parts, and nothing on stderr."""

    def test_keys(self, reference: dict[str, Any]) -> None:
        assert set(reference) == {
            "command", "ok", "policy_file", "written", "previous_policy", "scores",
            "model_dir", "calibrator_store_dir", "calibrator_applied", "result", "policy",
            "changes",
        }  # fmt: skip
        assert reference["calibrator_applied"] is False
        assert (reference["command"], reference["ok"], reference["written"]) == (
            "policy tune-reject",
            True,
            False,
        )
        assert reference["policy_file"].endswith("/home/models/inference_policy.json")
        assert Path(reference["policy_file"]).is_absolute()
        assert reference["scores"] == {
            "file": "heldout.jsonl",
            "rows_used": 10,
            "rows_skipped": 0,
            "skipped": [],
        }
        assert (reference["model_dir"], reference["calibrator_store_dir"]) == (
            "models/run_001",
            STORE,
        )
        assert reference["policy"]["reject_threshold"] == reference["result"]["threshold"]


class TestWritePolicyKeepsTheReplacedVersion:
    """--write-policy keeps the policy it replaces in the history, as every writer does."""

    def test_recorded(self, home: Path) -> None:
        _heldout(home)
        assert run_cli("policy", "create", "--model-dir", "models/run_001", cwd=home).code == 0
        before = (home / "models" / POLICY_NAME).read_bytes()

        result = run_cli(*TUNE, "--scores", "heldout.jsonl", *SWEEP, "--write-policy", cwd=home)

        assert result.code == 0, result.stderr
        history = run_cli("policy", "history", "--format", "json", cwd=home).json()
        assert history["versions"][0]["replaced_by"] == "taskclf policy tune-reject"
        assert run_cli("policy", "history", "--show", "1", cwd=home).stdout.encode() == before
