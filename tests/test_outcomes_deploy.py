"""`policy set | diff | apply | history | rollback` report one outcome, in every format.

Each command builds one frozen outcome (see :mod:`taskclf.cli.policy_deploy`) from
which its text and its JSON are both rendered. Checked here with real runs: the
GitHub report is the text report plus annotation lines; the values the JSON report
gives (a threshold, a path, a version) are the ones the text report prints; and, in
process, that the outcomes are frozen and say what happened.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from taskclf.cli.policy_deploy import (
    FieldsUpdate,
    Installation,
    PolicyComparison,
    Restoration,
    StoredVersion,
    VersionList,
)
from taskclf.cli.render import FieldChange
from taskclf.core.errors import DiskCheckFailure
from taskclf.core.inference_policy import InferencePolicy
from taskclf.core.policy_history import DamagedRecord, PolicyHistory, PolicyVersion
from test_cli_support import Result, cli_env, normalise, run_cli

POLICY = "models/inference_policy.json"
HISTORY = "models/.policy_history"
AGED = "2001-02-03T04:05:06+00:00"  # an old created_at: every write changes it visibly


def _ok(result: Result) -> Result:
    assert "Traceback" not in result.stderr, result
    return result


def _policy(home: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((home / POLICY).read_bytes())
    return document


def _write_policy(path: Path, document: dict[str, Any]) -> None:
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")


@pytest.fixture
def staged(home: Path) -> Path:
    """A home with a policy (threshold 0.5, an old created_at) and two kept versions.

    Version 1 is the policy `policy create` wrote, version 2 is "no policy". Two
    candidate files lie beside models/: ``candidate.json`` (threshold 0.3, valid
    here) and ``elsewhere.json`` (threshold 0.3, its bundle is run_002's but its
    calibrator is run_001's, so it fails the disk checks).
    """
    assert _ok(run_cli("policy", "create", "--model-dir", "models/run_001", cwd=home)).code == 0
    assert _ok(run_cli("policy", "set", "reject_threshold=0.5", cwd=home)).code == 0
    document = {**_policy(home), "created_at": AGED}
    _write_policy(home / POLICY, document)
    _write_policy(home / "candidate.json", {**document, "reject_threshold": 0.3})
    run_002 = json.loads((home / "models/run_002/metadata.json").read_bytes())
    mismatched = {**document, "reject_threshold": 0.3, "model_dir": "models/run_002"}
    mismatched["model_schema_hash"] = run_002["schema_hash"]
    mismatched["model_label_set"] = run_002["label_set"]
    _write_policy(home / "elsewhere.json", mismatched)
    return home


def _copy(home: Path, name: str) -> Path:
    """A copy of ``home`` beside it, so that two runs start from the same state."""
    target = home.parent / name
    shutil.copytree(home, target)
    return target


def _without_annotations(stdout: str) -> str:
    return "".join(line for line in stdout.splitlines(keepends=True) if not line.startswith("::"))


COMMANDS = [
    ("policy", "set", "reject_threshold=0.7"),
    ("policy", "set", "reject_threshold=0.7", "--dry-run"),
    ("policy", "diff", "candidate.json"),
    ("policy", "diff", "elsewhere.json"),
    ("policy", "apply", "candidate.json"),
    ("policy", "apply", "candidate.json", "--dry-run"),
    ("policy", "history"),
    ("policy", "history", "--show", "2"),
    ("policy", "rollback", "--dry-run"),
    ("policy", "rollback", "--yes"),
    ("policy", "rollback", "2", "--yes"),
]


class TestGithubIsTheTextReport:
    """`--format github` prints the text report; annotation lines are all it adds."""

    @pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
    def test_same_lines_from_the_same_state(self, staged: Path, args: tuple[str, ...]) -> None:
        github_home = _copy(staged, "github")
        text = _ok(run_cli(*args, "--format", "text", cwd=staged))
        github = _ok(run_cli(*args, "--format", "github", cwd=github_home))
        assert text.code == github.code
        assert text.stdout.strip(), text  # there is a report to compare
        expected = normalise(text.stdout, staged)
        assert normalise(_without_annotations(github.stdout), github_home) == expected
        assert text.stderr == "" and github.stderr == ""
        assert (staged / POLICY).exists() == (github_home / POLICY).exists()

    def test_a_damaged_record_is_a_warning_in_every_format(self, staged: Path) -> None:
        records = sorted(p for p in (staged / HISTORY).iterdir() if p.name[0] != ".")
        records[-1].write_bytes(b'{"record_version": "v1", "sequ')  # torn by hand
        text = _ok(run_cli("policy", "history", cwd=staged))
        github = _ok(run_cli("policy", "history", "--format", "github", cwd=staged))
        report = _ok(run_cli("policy", "history", "--format", "json", cwd=staged)).json()
        [warning] = report["warnings"]
        assert warning.startswith("skipping damaged history record ")
        assert text.stderr == f"taskclf: warning: {warning}\n"
        annotations = [line for line in github.stdout.splitlines() if line.startswith("::")]
        assert annotations == [f"::warning title=taskclf%3A warning::{warning}"]
        assert _without_annotations(github.stdout) == text.stdout
        [damaged] = report["damaged"]
        assert f"damaged record {damaged['file']} (skipped): {damaged['reason']}" in text.stdout


class TestJsonHoldsWhatTheTextSays:
    """The JSON report's values are the ones the text report prints, run for run."""

    def test_set(self, staged: Path) -> None:
        json_home = _copy(staged, "json")
        text = _ok(run_cli("policy", "set", "reject_threshold=0.7", cwd=staged))
        report = _ok(
            run_cli("policy", "set", "reject_threshold=0.7", "--format", "json", cwd=json_home)
        ).json()
        assert report["ok"] is True and report["written"] is True and report["dry_run"] is False
        assert report["policy"]["reject_threshold"] == 0.7 == _policy(json_home)["reject_threshold"]
        fields = [change["field"] for change in report["changes"]]
        assert fields == ["reject_threshold", "created_at"]
        assert f"Changes to {POLICY} ({len(fields)}):" in text.stdout
        threshold = report["changes"][0]
        assert f"  ~ reject_threshold: {threshold['old']} -> {threshold['new']}\n" in text.stdout
        assert f"Wrote {POLICY} (undo: taskclf policy rollback)." in text.stdout

    def test_diff_with_failures(self, staged: Path) -> None:
        text = _ok(run_cli("policy", "diff", "elsewhere.json", cwd=staged))
        result = _ok(run_cli("policy", "diff", "elsewhere.json", "--format", "json", cwd=staged))
        report = result.json()
        assert text.code == result.code == 1
        assert report["ok"] is False and report["same"] is False
        assert report["file"] == "elsewhere.json"
        changed = {change["field"] for change in report["changes"]}
        assert {"reject_threshold", "model_dir"} <= changed
        assert f"Changes from {POLICY} to elsewhere.json ({len(report['changes'])}):" in text.stdout
        assert report["failures"], report
        for failure in report["failures"]:
            line = (
                f"  elsewhere.json::{failure['pointer']}: [{failure['check']}] {failure['message']}"
            )
            assert line + "\n" in text.stdout

    def test_diff_of_the_same_policy(self, staged: Path) -> None:
        shutil.copy(staged / POLICY, staged / "same.json")
        text = _ok(run_cli("policy", "diff", "same.json", cwd=staged))
        report = _ok(run_cli("policy", "diff", "same.json", "--format", "json", cwd=staged)).json()
        assert text.code == 0 and report["ok"] is True and report["same"] is True
        assert report["changes"] == [] and report["failures"] == []
        assert text.stdout == f"No differences: same.json is the same policy as {POLICY}.\n"

    def test_apply(self, staged: Path) -> None:
        json_home = _copy(staged, "json")
        text = _ok(run_cli("policy", "apply", "candidate.json", cwd=staged))
        report = _ok(
            run_cli("policy", "apply", "candidate.json", "--format", "json", cwd=json_home)
        ).json()
        assert report["written"] is True and report["file"] == "candidate.json"
        assert (
            f"Installed {report['file']} as {POLICY} (undo: taskclf policy rollback)."
            in text.stdout
        )
        assert (json_home / POLICY).read_bytes() == (json_home / "candidate.json").read_bytes()
        assert report["policy"] == _policy(json_home)
        [change] = report["changes"]
        assert f"  ~ {change['field']}: {change['old']} -> {change['new']}\n" in text.stdout

    def test_apply_of_the_installed_file_writes_nothing(self, staged: Path) -> None:
        shutil.copy(staged / POLICY, staged / "same.json")
        text = _ok(run_cli("policy", "apply", "same.json", cwd=staged))
        report = _ok(run_cli("policy", "apply", "same.json", "--format", "json", cwd=staged)).json()
        assert report["written"] is False and report["changes"] == []
        assert text.stdout == (
            f"same.json is already installed as {POLICY}, byte for byte; nothing to do.\n"
        )
        versions = _ok(run_cli("policy", "history", "--format", "json", cwd=staged)).json()
        assert len(versions["versions"]) == 2  # nothing was replaced

    def test_history(self, staged: Path) -> None:
        text = _ok(run_cli("policy", "history", cwd=staged))
        report = _ok(run_cli("policy", "history", "--format", "json", cwd=staged)).json()
        assert [v["version"] for v in report["versions"]] == [1, 2]
        for version in report["versions"]:
            head = f"  {version['version']}  replaced {version['replaced_at']} by "
            assert head + f"{version['replaced_by']}\n" in text.stdout
        kept = report["versions"][0]["policy"]
        assert (
            f"model_dir {kept['model_dir']}, reject_threshold {kept['reject_threshold']:g}"
            in text.stdout
        )
        assert report["versions"][1]["policy"] is None and "     no policy\n" in text.stdout

    def test_history_show_prints_the_file_the_json_carries(self, staged: Path) -> None:
        text = _ok(run_cli("policy", "history", "--show", "1", cwd=staged))
        report = _ok(
            run_cli("policy", "history", "--show", "1", "--format", "json", cwd=staged)
        ).json()
        assert text.stdout == report["file_text"]
        assert json.loads(text.stdout) == report["version"]["policy"]
        none = _ok(
            run_cli("policy", "history", "--show", "2", "--format", "json", cwd=staged)
        ).json()
        assert none["file_text"] is None and none["version"]["policy"] is None

    def test_rollback(self, staged: Path) -> None:
        json_home = _copy(staged, "json")
        text = _ok(run_cli("policy", "rollback", "--yes", cwd=staged))
        report = _ok(
            run_cli("policy", "rollback", "--yes", "--format", "json", cwd=json_home)
        ).json()
        version = report["version"]
        described = f"version 1 (replaced {version['replaced_at']} by {version['replaced_by']})"
        assert text.stdout.startswith(f"Restoring {described}.\n")
        assert report["written"] is True and report["fallback"] is None
        assert _policy(json_home) == version["policy"]
        assert f"Changes to {POLICY} ({len(report['changes'])}):" in text.stdout

    def test_rollback_to_no_policy_says_what_inference_uses(self, staged: Path) -> None:
        json_home = _copy(staged, "json")
        text = _ok(run_cli("policy", "rollback", "2", "--yes", cwd=staged))
        report = _ok(
            run_cli("policy", "rollback", "2", "--yes", "--format", "json", cwd=json_home)
        ).json()
        assert report["written"] is True and report["changes"] == []
        assert report["fallback"].startswith("inference uses ")
        assert text.stdout.endswith(f"Removed {POLICY}.\nNow {report['fallback']}.\n")
        assert not (staged / POLICY).exists() and not (json_home / POLICY).exists()


def _rollback_on_a_terminal(home: Path, answer: str) -> Result:
    """`policy rollback` with stdin a terminal (a pty) that answers ``answer``."""
    import pty

    controller, terminal = pty.openpty()
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "taskclf", "policy", "rollback"],
            cwd=home,
            env=cli_env(),
            stdin=terminal,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        os.write(controller, f"{answer}\n".encode())
        stdout, stderr = process.communicate(timeout=120)
    finally:
        os.close(terminal)
        os.close(controller)
    return Result(stdout, stderr, process.returncode)


class TestRollbackOnATerminal:
    """The lines the question refers to come before it, once; the outcome says the rest."""

    def _preview(self, home: Path) -> str:
        dry = _ok(run_cli("policy", "rollback", "--dry-run", cwd=home)).stdout
        assert dry.endswith("Nothing was written (--dry-run).\n")
        return dry.removesuffix("Nothing was written (--dry-run).\n")

    def test_declined(self, staged: Path) -> None:
        preview = self._preview(staged)
        before = (staged / POLICY).read_bytes()
        result = _ok(_rollback_on_a_terminal(staged, "n"))
        assert result.code == 0, result
        question = preview.splitlines()[0].removeprefix("Restoring ").removesuffix(".")
        assert result.stdout == f"{preview}Restore {question}? [y/N] Not restored.\n"
        assert (staged / POLICY).read_bytes() == before

    def test_confirmed(self, staged: Path) -> None:
        preview = self._preview(staged)
        result = _ok(_rollback_on_a_terminal(staged, "y"))
        assert result.code == 0, result
        assert result.stdout.count("Restoring version 1") == 1
        assert result.stdout.startswith(preview)
        assert result.stdout.endswith(
            f"? [y/N] Restored {POLICY}; the version it replaced is now version 1.\n"
        )
        assert _policy(staged)["reject_threshold"] == 0.6


def _version(number: int, data: bytes | None) -> PolicyVersion:
    return PolicyVersion(
        version=number,
        sequence=3 - number,
        file=f"{HISTORY}/00000{3 - number}-abc.json",
        replaced_at="2026-01-31T12:00:00+00:00",
        replaced_by="taskclf policy set",
        sha256=None,
        data=data,
    )


class TestOutcomesInProcess:
    """The outcomes themselves: frozen, and saying what happened."""

    @pytest.fixture
    def policy(self, staged: Path) -> InferencePolicy:
        return InferencePolicy.from_dict(_policy(staged))

    def test_every_outcome_is_frozen(self, staged: Path, policy: InferencePolicy) -> None:
        change = FieldChange("reject_threshold", 0.5, 0.7)
        version = _version(1, (staged / POLICY).read_bytes())
        outcomes = [
            FieldsUpdate(policy_file=POLICY, changes=(change,), policy=policy, dry_run=False),
            PolicyComparison(
                file="c.json", policy_file=POLICY, has_current=True, changes=(), failures=()
            ),
            Installation(
                file="c.json",
                policy_file=POLICY,
                same=False,
                dry_run=False,
                changes=(change,),
                policy=policy,
            ),
            VersionList(policy_file=POLICY, history=PolicyHistory((version,), ())),
            StoredVersion(version=version, damaged=()),
            Restoration(
                policy_file=POLICY,
                version=version,
                policy=policy,
                changes=(change,),
                step="checked",
                dry_run=True,
            ),
        ]
        for outcome in outcomes:
            field = dataclasses.fields(outcome)[0].name
            with pytest.raises(dataclasses.FrozenInstanceError):
                setattr(outcome, field, None)
            assert outcome.json_fields()  # each has fields of its own in the JSON report

    def test_a_diff_fails_when_anything_differs_or_fails(self) -> None:
        failure = DiskCheckFailure(
            "model_dir_exists", "models/gone", "a folder", "nothing", "gone", "/model_dir"
        )
        same = PolicyComparison(
            file="c.json", policy_file=POLICY, has_current=True, changes=(), failures=()
        )
        failing = dataclasses.replace(same, failures=(failure,))
        differing = dataclasses.replace(same, changes=(FieldChange("source", "a", "b"),))
        assert (same.ok, same.exit_code) == (True, 0)
        assert (failing.ok, failing.exit_code) == (False, 1)
        assert (differing.ok, differing.exit_code) == (False, 1)
        assert "  c.json::/model_dir: [model_dir_exists] gone" in list(failing.text_lines())
        assert failing.json_fields()["same"] is True
        assert differing.json_fields()["same"] is False

    def test_rollback_reports_what_each_step_did(self, policy: InferencePolicy) -> None:
        change = FieldChange("reject_threshold", 0.5, 0.6)
        base = Restoration(
            policy_file=POLICY,
            version=_version(1, b"{}"),
            policy=policy,
            changes=(change,),
            step="unchanged",
            dry_run=False,
        )
        keys = {
            step: list(dataclasses.replace(base, step=step).json_fields())
            for step in ("unchanged", "checked", "declined", "restored")
        }
        assert keys["unchanged"] == keys["declined"] == ["written", "dry_run", "version"]
        assert keys["checked"] == ["written", "dry_run", "version", "changes"]
        assert keys["restored"] == ["written", "dry_run", "version", "changes", "fallback"]
        restored = dataclasses.replace(base, step="restored")
        assert restored.json_fields()["written"] is True
        lines = list(restored.text_lines())
        assert lines[0].startswith("Restoring version 1 (replaced 2026-01-31T12:00:00+00:00 by")
        asked = list(dataclasses.replace(restored, previewed=True).text_lines())
        assert (
            asked
            == [lines[-1]]
            == [f"Restored {POLICY}; the version it replaced is now version 1."]
        )
        removed = dataclasses.replace(
            restored, policy=None, changes=(), fallback="inference uses X"
        )
        assert list(removed.text_lines())[-2:] == [f"Removed {POLICY}.", "Now inference uses X."]

    def test_damaged_records_are_the_warnings(self) -> None:
        bad = DamagedRecord(1, f"{HISTORY}/000002-abc.json", "is not valid JSON")
        listing = VersionList(policy_file=POLICY, history=PolicyHistory((), (bad,)))
        shown = StoredVersion(version=_version(2, None), damaged=(bad,))
        expected = [f"skipping damaged history record {bad.file}: {bad.reason}"]
        assert list(listing.warnings()) == list(shown.warnings()) == expected
        assert list(shown.text_lines()) == ['Version 2 is "no policy": there was no policy file.']
        assert shown.json_fields() == {"version": shown.version.to_dict(), "file_text": None}
