"""``policy tune-reject`` states one :class:`RejectTuning`; every format is rendered from it.

Each scenario runs the command once per format (``text``, ``github``,
``json``), every time on its own copy of the same starting home, and checks
that the renderings agree: the GitHub report is the text report (it has no
annotation to add on success), and every value the text report states (rows
used and skipped, the bundle, the store, the chosen threshold, what was or
would be written, the changes) is the one in the JSON report. The outcome
itself is built in-process too, to show it is frozen and that both
renderings follow its attributes.
"""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from taskclf.cli.policy_tune import RejectTuning
from taskclf.cli.render import field_changes
from taskclf.tune.policy import tuned_policy
from taskclf.tune.report import format_threshold
from taskclf.tune.scores import ScoreRow
from taskclf.tune.sweep import tune_reject
from test_cli_support import POLICY_NAME, Result, run_cli
from test_cli_tune import ROWS

from conftest import EXAMPLE_LABELS, EXAMPLE_SCHEMA_HASH, REPO_ROOT

TUNE = ("policy", "tune-reject", "--model-dir", "models/run_001")
SWEEP = ("--thresholds", "0.5:0.8:0.1", "--reject-rate-max", "0.5")
FORMATS = ("text", "github", "json")
CERTIFIED = ("--apply-calibrator", "--per-user", "--target-accuracy", "0.9")

# ROWS (label, predicted, confidence, user_id) are test_cli_tune.py's: their sweep
# over SWEEP chooses 0.6 (accuracy 5/6 on the 6 rows it accepts).
INVALID_ROWS = 25  # more than the report lists one by one

_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})")


def _row_lines(rows: Any) -> str:
    return "".join(
        json.dumps({"label": label, "predicted": predicted, "confidence": conf, "user_id": user})
        + "\n"
        for label, predicted, conf, user in rows
    )


@pytest.fixture
def scored_home(home: Path) -> Path:
    """The example home with the scores files the scenarios read."""
    (home / "heldout.jsonl").write_text(_row_lines(ROWS))
    invalid = json.dumps({"label": "code", "predicted": "code", "confidence": 7}) + "\n"
    (home / "bad.jsonl").write_text(_row_lines(ROWS) + invalid * INVALID_ROWS)
    shutil.copy(REPO_ROOT / "examples" / "heldout_raw.jsonl", home / "heldout_raw.jsonl")
    return home


def _valid_policy(home: Path) -> None:
    created = run_cli("policy", "create", "--model-dir", "models/run_001", cwd=home)
    assert created.code == 0, created.stderr
    # A created_at of its own, so every run replaces it (runs in the same second as
    # `policy create` would not, and the runs of one scenario would differ).
    path = home / "models" / POLICY_NAME
    document = json.loads(path.read_text())
    path.write_text(json.dumps({**document, "created_at": "2000-01-01T00:00:00+00:00"}, indent=2))


def _invalid_policy(home: Path) -> None:
    (home / "models" / POLICY_NAME).write_text("{}\n")


def _no_policy(home: Path) -> None:
    pass


def _each_format(home: Path, tmp_path: Path, *args: str) -> dict[str, Result]:
    """One run per format, each on a fresh copy of ``home`` as it is now."""
    runs = {}
    for output_format in FORMATS:
        copy = tmp_path / f"copy-{output_format}"
        shutil.copytree(home, copy)
        runs[output_format] = run_cli(*TUNE, *args, "--format", output_format, cwd=copy)
    return runs


def _stable(text: str) -> str:
    """``text`` without the clock's timestamps (each run writes its own ``created_at``)."""
    return _TIMESTAMP.sub("<TIMESTAMP>", text)


def _without_annotations(stdout: str) -> str:
    return "".join(line for line in stdout.splitlines(keepends=True) if not line.startswith("::"))


SCENARIOS: dict[str, tuple[Callable[[Path], None], tuple[str, ...]]] = {
    "dry run over a valid policy": (_valid_policy, SWEEP),
    "written over a valid policy": (_valid_policy, (*SWEEP, "--write-policy")),
    "written over an invalid policy": (_invalid_policy, (*SWEEP, "--write-policy")),
    "dry run over an invalid policy": (_invalid_policy, SWEEP),
    "written where there was none, per user": (
        _no_policy,
        (*SWEEP, "--per-user", "--min-user-samples", "2", "--write-policy"),
    ),
    "invalid rows skipped": (
        _no_policy,
        ("--scores", "bad.jsonl", "--skip-invalid-rows", "--reject-rate-max", "1"),
    ),
    "certified per user, calibrated here": (
        _no_policy,
        ("--scores", "heldout_raw.jsonl", *CERTIFIED),
    ),
}


def _scores_args(args: tuple[str, ...]) -> tuple[str, ...]:
    return args if "--scores" in args else ("--scores", "heldout.jsonl", *args)


@pytest.mark.parametrize("scenario", SCENARIOS)
class TestFormatsAgree:
    """The text, GitHub and JSON reports of one run say the same things."""

    @pytest.fixture
    def runs(self, scenario: str, scored_home: Path, tmp_path: Path) -> dict[str, Result]:
        setup, args = SCENARIOS[scenario]
        setup(scored_home)
        runs = _each_format(scored_home, tmp_path, *_scores_args(args))
        for output_format, run in runs.items():
            assert run.code == 0, (output_format, run.stderr)
            assert run.stderr == "", (output_format, run.stderr)
        return runs

    def test_github_is_the_text_report(self, runs: dict[str, Result]) -> None:
        text, github = runs["text"].stdout, runs["github"].stdout
        assert text.startswith("Scores: ")
        assert _stable(_without_annotations(github)) == _stable(text)

    def test_text_states_the_json_values(self, runs: dict[str, Result]) -> None:
        document = runs["json"].json()
        lines = runs["text"].stdout.splitlines()
        scores = document["scores"]
        plural = "" if scores["rows_used"] == 1 else "s"
        skipped = f", {scores['rows_skipped']} invalid skipped" if scores["rows_skipped"] else ""
        assert lines[0] == (
            f"Scores: {scores['file']} ({scores['rows_used']} row{plural} used{skipped})"
        )
        listed = [line for line in lines if line.startswith("  skipped ")]
        assert len(listed) == len(scores["skipped"])
        for line, error in zip(listed, scores["skipped"], strict=True):
            assert line.startswith(f"  skipped {error['file']}:{error['line']}: ")
        unlisted = scores["rows_skipped"] - len(scores["skipped"])
        assert (f"  ... and {unlisted} more skipped rows" in lines) == (unlisted > 0)

        assert any(line.startswith(f"Model bundle: {document['model_dir']} (") for line in lines)
        store = document["calibrator_store_dir"]
        calibrator = next(line for line in lines if line.startswith("Calibrator: "))
        assert calibrator.startswith(f"Calibrator: {store} (" if store else "Calibrator: none")
        applied = f"Scores: raw model outputs, calibrated here with {store} "
        assert any(line.startswith(applied) for line in lines) == document["calibrator_applied"]

        chosen = format_threshold(document["result"]["chosen_threshold"])
        assert any(line.startswith(f"chosen reject threshold: {chosen}") for line in lines)
        assert document["policy"]["reject_threshold"] == document["result"]["chosen_threshold"]

        invalid = (
            "The existing models/inference_policy.json is invalid; the tuned policy replaces it."
        )
        assert (invalid in lines) == (document["previous_policy"] == "invalid")
        self._check_policy_part(document, lines)

    @staticmethod
    def _check_policy_part(document: dict[str, Any], lines: list[str]) -> None:
        """What was or would be written, and the changes to a valid policy, in text and JSON."""
        changes = document["changes"]
        replaced = document["previous_policy"] == "valid"
        if document["written"]:
            count = f" ({len(changes)} change{'' if len(changes) == 1 else 's'}):"
            header = "Wrote models/inference_policy.json" + (count if replaced else "")
            assert lines[-(len(changes) if replaced else 0) - 1] == header
        else:
            start = lines.index(
                "Would write models/inference_policy.json (pass --write-policy to write it):"
            )
            end = lines.index("}", start)
            shown = json.loads("\n".join(lines[start + 1 : end + 1]))
            assert _stable(json.dumps(shown)) == _stable(json.dumps(document["policy"]))
            if replaced:
                assert lines[end + 1] == f"Changes to the existing policy ({len(changes)}):"
        if replaced:
            assert len(changes) >= 1  # source becomes "tune-reject" at least
            shown_changes = lines[-len(changes) :]
            for line, change in zip(shown_changes, changes, strict=True):
                old, new = json.dumps(change["old"]), json.dumps(change["new"])
                assert _stable(line) == _stable(f"  ~ {change['field']}: {old} -> {new}")
        else:
            assert not any(line.startswith("Changes to the existing policy") for line in lines)


class TestRefusals:
    """A run that chooses nothing or cannot write reports the error in every format alike."""

    def test_nothing_in_bounds(self, scored_home: Path, tmp_path: Path) -> None:
        runs = _each_format(
            scored_home, tmp_path, "--scores", "heldout.jsonl", "--thresholds", "0.5,0.9",
            "--reject-rate-max", "0.1",
        )  # fmt: skip
        assert {run.code for run in runs.values()} == {1}
        text, github, document = runs["text"], runs["github"], runs["json"].json()
        assert _without_annotations(github.stdout) == text.stdout
        assert github.stdout.splitlines()[-1].startswith(
            "::error title=taskclf policy tune-reject::"
        )
        sweep = document["error"]["details"]["sweep"]
        table = text.stdout.splitlines()
        assert [row.split()[0] for row in table[1:]] == [
            format_threshold(entry["threshold"]) for entry in sweep["sweep"]
        ]
        assert text.stderr == f"taskclf: error: {document['error']['message']}\n"
        assert "policy" not in document and "written" not in document

    def test_write_refused(self, scored_home: Path, tmp_path: Path) -> None:
        (scored_home / "models" / POLICY_NAME).mkdir()  # a folder where the policy goes
        runs = _each_format(
            scored_home, tmp_path, "--scores", "heldout.jsonl", *SWEEP, "--write-policy"
        )
        assert {run.code for run in runs.values()} == {1}
        document = runs["json"].json()
        assert document["ok"] is False
        assert "written" not in document
        assert "nothing was written" in document["error"]["message"]
        for output_format in ("text", "github"):
            assert "Wrote" not in runs[output_format].stdout
        assert runs["text"].stderr == f"taskclf: error: {document['error']['message']}\n"
        for output_format in FORMATS:
            assert (tmp_path / f"copy-{output_format}" / "models" / POLICY_NAME).is_dir()


def _outcome(**changes: Any) -> RejectTuning:
    """A :class:`RejectTuning` of ROWS over SWEEP, as the command would build it."""
    rows = [ScoreRow(label, predicted, conf, user) for label, predicted, conf, user in ROWS]
    result = tune_reject(rows, (0.5, 0.6, 0.7, 0.8), reject_rate_max=0.5)
    policy = tuned_policy(
        result,
        model_dir="models/run_001",
        model_schema_hash=EXAMPLE_SCHEMA_HASH,
        model_label_set=EXAMPLE_LABELS,
    )
    previous = {**policy.to_dict(), "source": "manual", "reject_threshold": 0.55}
    outcome = RejectTuning(
        scores_file="heldout.jsonl",
        rows_used=len(rows),
        rows_skipped=0,
        skipped=(),
        model_dir="models/run_001",
        model_from="--model-dir",
        calibrator="none, raw scores (--no-calibrator)",
        calibrator_store_dir=None,
        calibrator_applied=False,
        users_with_own_calibrator=(),
        result=result,
        policy=policy,
        policy_file="models/inference_policy.json",
        previous_policy="valid",
        changes=tuple(field_changes(previous, policy.to_dict())),
        written=False,
    )
    return dataclasses.replace(outcome, **changes)


def _text(outcome: RejectTuning) -> list[str]:
    entries = outcome.text_lines()
    return "\n".join(e if isinstance(e, str) else e.text for e in entries).splitlines()


class TestTheOutcome:
    def test_frozen(self) -> None:
        outcome = _outcome()
        with pytest.raises(dataclasses.FrozenInstanceError):
            outcome.written = True  # type: ignore[misc]
        with pytest.raises(dataclasses.FrozenInstanceError):
            outcome.rows_used = 0  # type: ignore[misc]

    def test_both_renderings_follow_the_attributes(self) -> None:
        shown = _outcome()
        assert shown.ok and shown.exit_code == 0
        assert shown.json_fields()["result"]["chosen_threshold"] == 0.6
        assert "chosen reject threshold: 0.60" in " ".join(_text(shown))
        assert shown.json_fields()["written"] is False
        assert "Changes to the existing policy (2):" in _text(shown)

        written = dataclasses.replace(shown, written=True, rows_used=11, previous_policy="none")
        fields = written.json_fields()
        assert fields["written"] is True and fields["previous_policy"] is None
        assert fields["scores"]["rows_used"] == 11
        lines = _text(written)
        assert lines[0] == "Scores: heldout.jsonl (11 rows used)"
        assert lines[-1] == "Wrote models/inference_policy.json"
        assert not any("Changes" in line for line in lines)
