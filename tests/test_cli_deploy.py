"""`taskclf policy set | diff | apply | history | rollback`, run as a user runs them.

Every run is the console script in a real process on a real copy of examples/home;
every refusal is checked to change nothing (the whole home compared byte for byte).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from door_support import assert_clean, run_taskclf
from test_cli_support import Result, tree_bytes

from conftest import EXAMPLE_STORE_DIR

POLICY = "models/inference_policy.json"
HISTORY = "models/.policy_history"


def _run(home: Path, *args: str, input: str | None = None) -> Result:
    result = run_taskclf(*args, cwd=home, input=input)
    assert_clean(result)
    return result


@pytest.fixture
def deployed(home: Path) -> Path:
    """The example home with a policy made by `policy create` (run_001, its store)."""
    assert _run(home, "policy", "create", "--model-dir", "models/run_001").code == 0
    return home


def _policy(home: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((home / POLICY).read_bytes())
    return document


def _refused(home: Path, *args: str, code: int = 1) -> Result:
    """Run a command that must fail with ``code`` and leave the home exactly as it was."""
    before = tree_bytes(home)
    result = _run(home, *args)
    assert result.code == code, result
    assert tree_bytes(home) == before
    return result


class TestSet:
    """`policy set KEY=VALUE ...` changes fields, validated before anything is written."""

    def test_changes_fields_and_prints_them(self, deployed: Path) -> None:
        before = _policy(deployed)
        result = _run(
            deployed,
            "policy",
            "set",
            "reject_threshold=0.7",
            "per_user_reject_thresholds.alice=0.8",
            "--source",
            "review-42",
        )
        assert result.code == 0, result
        after = _policy(deployed)
        assert after["reject_threshold"] == 0.7
        assert after["per_user_reject_thresholds"] == {"alice": 0.8}
        assert after["source"] == "review-42"
        assert after["created_at"] >= before["created_at"]
        assert "  ~ reject_threshold: 0.6 -> 0.7\n" in result.stdout
        assert '~ per_user_reject_thresholds: null -> {"alice": 0.8}' in result.stdout
        history = _run(deployed, "policy", "history", "--format", "json").json()
        assert history["versions"][0]["replaced_by"] == "taskclf policy set"
        assert history["versions"][0]["policy"] == before

    def test_removing_the_last_user_makes_the_map_null(self, deployed: Path) -> None:
        assert _run(deployed, "policy", "set", "per_user_reject_thresholds.bob=0.5").code == 0
        result = _run(deployed, "policy", "set", "per_user_reject_thresholds.bob=null")
        assert result.code == 0, result
        assert _policy(deployed)["per_user_reject_thresholds"] is None

    def test_store_without_method_takes_the_stores_method(self, deployed: Path) -> None:
        result = _run(deployed, "policy", "set", f"calibrator_store_dir={EXAMPLE_STORE_DIR}")
        assert result.code == 0, result
        assert _policy(deployed)["calibration_method"] is None

    def test_string_values_and_dry_run(self, deployed: Path) -> None:
        result = _refused(
            deployed,
            "policy",
            "set",
            "model_dir=models/run_002",
            "calibrator_store_dir=null",
            "--dry-run",
            code=0,
        )
        assert '~ model_dir: "models/run_001" -> "models/run_002"' in result.stdout
        assert "Nothing was written (--dry-run)." in result.stdout

    def test_unknown_key_is_a_usage_error_with_did_you_mean(self, deployed: Path) -> None:
        result = _refused(deployed, "policy", "set", "reject_treshold=0.5", code=2)
        assert "unknown key 'reject_treshold': did you mean reject_threshold?" in result.stderr

    def test_provenance_keys_are_usage_errors(self, deployed: Path) -> None:
        result = _refused(deployed, "policy", "set", "source=x", code=2)
        assert "pass --source" in result.stderr

    def test_missing_equals_is_a_usage_error(self, deployed: Path) -> None:
        result = _refused(deployed, "policy", "set", "reject_threshold", code=2)
        assert "expected KEY=VALUE" in result.stderr

    def test_a_value_that_is_not_json_is_text_and_the_schema_judges_it(
        self, deployed: Path
    ) -> None:
        result = _refused(deployed, "policy", "set", "reject_threshold=NaN")
        assert '/reject_threshold: "NaN" is not of type number' in result.stderr
        assert "nothing was written" in result.stderr

    def test_a_value_the_schema_refuses_lists_every_error(self, deployed: Path) -> None:
        result = _refused(deployed, "policy", "set", "reject_threshold=1.5", "model_label_set=[]")
        assert "/reject_threshold: 1.5 is greater than the maximum of 1" in result.stderr
        assert "/model_label_set" in result.stderr

    def test_a_value_the_disk_refuses(self, deployed: Path) -> None:
        result = _refused(deployed, "policy", "set", "model_dir=models/run_002")
        assert "[store_bundle_matches]" in result.stderr
        assert "would not match the files on disk; nothing was written" in result.stderr

    def test_without_a_policy_names_the_command_that_creates_one(self, home: Path) -> None:
        result = _refused(home, "policy", "set", "reject_threshold=0.5")
        assert "there is no policy at models/inference_policy.json" in result.stderr
        assert "taskclf policy create --model-dir" in result.stderr


class TestDiffAndApply:
    """`diff FILE` compares, `apply FILE` installs byte for byte; bad files change nothing."""

    def _candidate(self, home: Path, tmp_path: Path, **fields: Any) -> Path:
        document = {**_policy(home), **fields}
        path = tmp_path / "reviewed.json"
        # A reviewer's own formatting and notes: installed exactly as written.
        path.write_text(json.dumps(document, indent=4) + "\n", encoding="utf-8")
        return path

    def test_diff_same_is_0(self, deployed: Path, tmp_path: Path) -> None:
        candidate = self._candidate(deployed, tmp_path)
        result = _refused(deployed, "policy", "diff", str(candidate), code=0)
        assert "No differences" in result.stdout

    def test_diff_differs_is_1(self, deployed: Path, tmp_path: Path) -> None:
        candidate = self._candidate(deployed, tmp_path, reject_threshold=0.3)
        result = _refused(deployed, "policy", "diff", str(candidate), "--format", "json")
        report = json.loads(result.stdout)
        assert report["same"] is False
        assert [c["field"] for c in report["changes"]] == ["reject_threshold"]

    def test_diff_invalid_file_is_1_and_says_so(self, deployed: Path, tmp_path: Path) -> None:
        bad = tmp_path / "bad.json"
        bad.write_text('{"reject_threshold": 0.5,}', encoding="utf-8")
        result = _refused(deployed, "policy", "diff", str(bad))
        assert "is not a valid policy" in result.stderr and "not valid JSON" in result.stderr

    def test_diff_usage_error_is_2(self, deployed: Path) -> None:
        assert _refused(deployed, "policy", "diff", code=2).stderr

    def test_apply_installs_byte_for_byte(self, deployed: Path, tmp_path: Path) -> None:
        before = (deployed / POLICY).read_bytes()
        candidate = self._candidate(deployed, tmp_path, reject_threshold=0.3, _why="PR 42")
        result = _run(deployed, "policy", "apply", str(candidate))
        assert result.code == 0, result
        assert (deployed / POLICY).read_bytes() == candidate.read_bytes()
        assert "~ reject_threshold: " in result.stdout and '+ _why: "PR 42"' in result.stdout
        shown = _run(deployed, "policy", "history", "--show", "1")
        assert shown.stdout.encode() == before

    def test_apply_dry_run_writes_nothing(self, deployed: Path, tmp_path: Path) -> None:
        candidate = self._candidate(deployed, tmp_path, reject_threshold=0.3)
        result = _refused(deployed, "policy", "apply", str(candidate), "--dry-run", code=0)
        assert "Nothing was written (--dry-run)." in result.stdout

    def test_apply_schema_errors_change_nothing(self, deployed: Path, tmp_path: Path) -> None:
        candidate = self._candidate(deployed, tmp_path, reject_threshold=7, model_dir="/abs")
        result = _refused(deployed, "policy", "apply", str(candidate))
        assert "/reject_threshold" in result.stderr and "/model_dir" in result.stderr

    def test_apply_a_file_that_does_not_match_the_disk(
        self, deployed: Path, tmp_path: Path
    ) -> None:
        candidate = self._candidate(deployed, tmp_path, model_schema_hash="0000")
        result = _refused(deployed, "policy", "apply", str(candidate))
        assert "[schema_hash_matches]" in result.stderr
        assert "does not match the files on disk" in result.stderr

    def test_apply_a_missing_file(self, deployed: Path, tmp_path: Path) -> None:
        result = _refused(deployed, "policy", "apply", str(tmp_path / "nope.json"))
        assert "does not exist" in result.stderr


class TestHistoryAndRollback:
    """Every change is kept; `history` lists them; `rollback` restores one, checked first."""

    def test_every_command_is_recorded_in_order(self, home: Path, tmp_path: Path) -> None:
        assert _run(home, "policy", "init").code == 0
        assert _run(home, "policy", "create", "--model-dir", "models/run_001").code == 0
        assert _run(home, "policy", "set", "reject_threshold=0.4").code == 0
        assert _run(home, "policy", "remove", "--yes").code == 0
        result = _run(home, "policy", "history")
        assert result.code == 0
        lines = result.stdout.splitlines()
        assert lines[2].startswith("  1  replaced ") and "by taskclf policy remove" in lines[2]
        assert lines[3] == "     model_dir models/run_001, reject_threshold 0.4"
        assert lines[4] == "     calibrator artifacts/calibrator_store (temperature)"
        report = _run(home, "policy", "history", "--format", "json").json()
        assert [v["replaced_by"] for v in report["versions"]] == [
            "taskclf policy remove",
            "taskclf policy set",
            "taskclf policy create",
            "taskclf policy init",
        ]
        assert report["versions"][-1]["policy"] is None
        assert set(report["versions"][0]) == {
            "version",
            "replaced_at",
            "replaced_by",
            "sha256",
            "policy",
        }

    def test_edit_is_recorded(self, deployed: Path, tmp_path: Path) -> None:
        before = (deployed / POLICY).read_bytes()
        editor = tmp_path / "editor"
        editor.write_text('#!/bin/sh\nsed -i "s/0\\.6,/0.5,/" "$1"\n', encoding="utf-8")
        editor.chmod(0o755)
        result = run_taskclf(
            "policy", "edit", cwd=deployed, env={"EDITOR": str(editor), "VISUAL": ""}
        )
        assert result.code == 0, result
        assert _policy(deployed)["reject_threshold"] == 0.5
        report = _run(deployed, "policy", "history", "--format", "json").json()
        assert report["versions"][0]["replaced_by"] == "taskclf policy edit"
        assert _run(deployed, "policy", "history", "--show", "1").stdout.encode() == before

    def test_show_prints_the_file_exactly(self, deployed: Path) -> None:
        first = (deployed / POLICY).read_bytes()
        assert _run(deployed, "policy", "set", "reject_threshold=0.2").code == 0
        assert _run(deployed, "policy", "history", "--show", "1").stdout.encode() == first
        none = _run(deployed, "policy", "history", "--show", "2")
        assert none.code == 0 and "no policy" in none.stdout
        assert _refused(deployed, "policy", "history", "--show", "9").code == 1
        assert _refused(deployed, "policy", "history", "--show", "0", code=2).stderr

    def test_rollback_needs_yes_without_a_terminal(self, deployed: Path) -> None:
        result = _refused(deployed, "policy", "rollback", code=2)
        assert "pass --yes" in result.stderr

    def test_rollback_restores_and_can_be_rolled_back(self, deployed: Path) -> None:
        first = (deployed / POLICY).read_bytes()
        assert _run(deployed, "policy", "set", "reject_threshold=0.2").code == 0
        second = (deployed / POLICY).read_bytes()
        result = _run(deployed, "policy", "rollback", "--yes")
        assert result.code == 0, result
        assert (deployed / POLICY).read_bytes() == first
        assert _run(deployed, "policy", "rollback", "--yes").code == 0
        assert (deployed / POLICY).read_bytes() == second

    def test_rollback_to_no_policy_removes_it_and_says_what_inference_uses(
        self, deployed: Path
    ) -> None:
        result = _run(deployed, "policy", "rollback", "1", "--yes")
        assert result.code == 0, result
        assert not (deployed / POLICY).exists()
        assert "Now inference uses" in result.stdout

    def test_rollback_refuses_a_version_whose_bundle_is_gone(self, deployed: Path) -> None:
        moved = _run(
            deployed, "policy", "set", "model_dir=models/run_002", "calibrator_store_dir=null"
        )
        assert moved.code == 0, moved
        shutil.rmtree(deployed / "models" / "run_001")
        result = _refused(deployed, "policy", "rollback", "1", "--yes")
        assert "not restoring version 1" in result.stderr
        assert "Model directory does not exist" in result.stderr

    def test_a_damaged_record_is_reported_and_skipped(self, deployed: Path) -> None:
        assert _run(deployed, "policy", "set", "reject_threshold=0.2").code == 0
        records = sorted(p for p in (deployed / HISTORY).iterdir() if p.name[0] != ".")
        records[-1].write_bytes(b'{"record_version": "v1", "sequ')  # torn by hand
        result = _run(deployed, "policy", "history")
        assert result.code == 0
        assert "skipping damaged history record" in result.stderr
        assert "damaged record" in result.stdout and "no policy" in result.stdout
        refused = _refused(deployed, "policy", "rollback", "1", "--yes")
        assert "version 1 cannot be used" in refused.stderr

    def test_no_history_yet(self, home: Path) -> None:
        result = _refused(home, "policy", "history", code=0)
        assert "No versions" in result.stdout
        assert _refused(home, "policy", "rollback", "--yes").code == 1


class TestConcurrentSets:
    """`policy set` in several processes at once: each run is recorded or refused, none lost."""

    def test_every_success_is_recorded(self, deployed: Path) -> None:
        import subprocess

        from test_cli_support import cli_env

        from conftest import console_script

        procs = [
            subprocess.Popen(
                [str(console_script()), "policy", "set", f"reject_threshold=0.{index}1"],
                cwd=deployed,
                env=cli_env(),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for index in range(1, 7)
        ]
        outcomes = []
        for proc in procs:
            _out, err = proc.communicate(timeout=120)
            assert "Traceback" not in err
            assert proc.returncode == 0 or "changed by something else meanwhile" in err, err
            outcomes.append(proc.returncode)
        report = _run(deployed, "policy", "history", "--format", "json").json()
        assert report["damaged"] == []
        # "no policy" (replaced by create) plus one version per successful set.
        assert len(report["versions"]) == 1 + outcomes.count(0)
        thresholds = [v["policy"]["reject_threshold"] for v in report["versions"][:-1]]
        current = _policy(deployed)["reject_threshold"]
        # The chain is whole: create's 0.6, then each value set, the last one still in place.
        assert sorted([*thresholds, current]) == sorted(
            [0.6, *(float(f"0.{i}1") for i, code in enumerate(outcomes, start=1) if code == 0)]
        )
