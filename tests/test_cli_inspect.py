"""``taskclf policy show`` and ``taskclf policy validate``: reading a policy and reporting on it.

Bad file *contents* are covered case by case in ``test_cli_cases.py``; this
module covers the states of a home (no policy, valid, invalid, valid but not
matching the disk) and the options of both commands.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from test_cli_support import EXAMPLE_FALLBACK, POLICY_NAME, run_cli, tree_bytes

from conftest import write_json

BEST_MODEL_FALLBACK = EXAMPLE_FALLBACK
LEGACY_POINTER_FALLBACK = (
    "inference uses models/run_002 via the legacy models/active.json pointer (deprecated), "
    "no calibrator, reject threshold 0.55"
)


def _write_active_pointer(home: Path) -> None:
    write_json(
        home / "models" / "active.json",
        {
            "model_dir": "models/run_002",
            "selected_at": "2026-01-31T12:00:00+00:00",
            "policy_version": "v1",
        },
    )


@pytest.fixture
def policy(home: Path, policy_document: dict[str, Any]) -> Path:
    """A valid policy for run_001 and the example calibrator store, in the example home."""
    return write_json(home / "models" / POLICY_NAME, policy_document)


class TestShowWithoutPolicy:
    """No policy file: exit 0, the path it looked at, and what inference uses instead."""

    def test_missing(self, home: Path, snapshot: Any) -> None:
        result = run_cli("policy", "show", cwd=home)

        assert result.code == 0
        assert result.stderr == ""
        assert result.stdout.splitlines() == [
            "No inference policy at models/inference_policy.json.",
            f"Without it, {BEST_MODEL_FALLBACK}.",
            "Create one with: taskclf policy create --model-dir models/<run_id>",
        ]
        assert result.seen(home) == snapshot

    def test_missing_with_legacy_pointer(self, home: Path) -> None:
        _write_active_pointer(home)

        result = run_cli("policy", "show", cwd=home)

        assert result.code == 0
        assert f"Without it, {LEGACY_POINTER_FALLBACK}." in result.stdout

    def test_missing_names_the_absolute_path_outside_the_current_folder(
        self, tmp_path: Path, home: Path
    ) -> None:
        elsewhere = tmp_path / "elsewhere"
        elsewhere.mkdir()

        result = run_cli("policy", "show", "--home", home, cwd=elsewhere)

        assert result.code == 0
        assert f"No inference policy at {home / 'models' / POLICY_NAME}." in result.stdout

    def test_json(self, home: Path) -> None:
        result = run_cli("policy", "show", "--format", "json", cwd=home)

        assert result.code == 0
        assert result.json() == {
            "command": "policy show",
            "ok": True,
            "policy_file": str(home / "models" / POLICY_NAME),
            "exists": False,
            "valid": None,
            "fallback": BEST_MODEL_FALLBACK,
        }


class TestShowValidPolicy:
    """A valid policy that matches the disk: every field, the calibrator, exit 0."""

    def test_with_calibrator(self, home: Path, policy: Path, snapshot: Any) -> None:
        result = run_cli("policy", "show", cwd=home)

        assert result.code == 0
        assert result.stderr == ""
        assert "  calibrator         artifacts/calibrator_store (temperature)\n" in result.stdout
        assert result.stdout.endswith(
            "Disk checks: passed (the bundle and calibrator store match the policy).\n"
        )
        assert result.seen(home) == snapshot

    def test_identity_calibration(self, home: Path, policy_document: dict[str, Any]) -> None:
        policy_document.update(calibrator_store_dir=None, calibration_method=None)
        write_json(home / "models" / POLICY_NAME, policy_document)

        result = run_cli("policy", "show", cwd=home)

        assert result.code == 0
        assert "  calibrator         none (identity)\n" in result.stdout

    def test_per_user_thresholds_table(
        self, home: Path, policy_document: dict[str, Any], snapshot: Any
    ) -> None:
        policy_document["per_user_reject_thresholds"] = {
            "zoe": 0.5,
            "alice": 0.7,
            "a-rather-long-user-id": 0.625,
        }
        write_json(home / "models" / POLICY_NAME, policy_document)

        result = run_cli("policy", "show", cwd=home)

        assert result.code == 0
        table = result.stdout.split("  per-user reject thresholds (3):\n", 1)[1].splitlines()
        assert table[:4] == [
            "    user                   threshold",
            "    a-rather-long-user-id  0.625",
            "    alice                  0.7",
            "    zoe                    0.5",
        ]
        assert result.seen(home) == snapshot

    def test_no_per_user_thresholds(self, home: Path, policy: Path) -> None:
        result = run_cli("policy", "show", cwd=home)

        assert "  per-user           none (every user uses reject_threshold)\n" in result.stdout

    def test_json(self, home: Path, policy: Path, policy_document: dict[str, Any]) -> None:
        result = run_cli("policy", "show", "--format", "json", cwd=home)

        assert result.code == 0
        report = result.json()
        assert (report["ok"], report["exists"], report["valid"]) == (True, True, True)
        assert report["policy"] == policy_document
        assert report["fallback"] is None
        assert report["report"]["disk_checked"] is True
        assert report["report"]["disk_check_failures"] == []


class TestShowInvalidPolicy:
    """A policy that breaks the schema: exit 1, every error with its pointer, the fallback."""

    @pytest.fixture
    def broken(self, home: Path, policy_document: dict[str, Any]) -> Path:
        policy_document.update(
            model_dir="/opt/models/run_001",
            reject_threshold=1.2,
            calibration_method="platt",
            per_user_reject_thresholds={"bob": -1},
            reject_treshold=0.5,
        )
        return write_json(home / "models" / POLICY_NAME, policy_document)

    def test_every_error_is_listed(self, home: Path, broken: Path, snapshot: Any) -> None:
        before = tree_bytes(home)

        result = run_cli("policy", "show", cwd=home)

        assert result.code == 1
        assert result.stderr == ""
        lines = result.stdout.splitlines()
        assert (
            lines[0]
            == "models/inference_policy.json exists but is invalid, so inference ignores it:"
        )
        pointers = sorted(
            line.split("::", 1)[1].split(": ", 1)[0] for line in lines if "::" in line
        )
        assert pointers == [
            "/calibration_method",
            "/model_dir",
            "/per_user_reject_thresholds/bob",
            "/reject_threshold",
            "/reject_treshold",
        ]
        assert f"Until it is fixed, {BEST_MODEL_FALLBACK}." in lines
        assert tree_bytes(home) == before
        assert result.seen(home) == snapshot

    def test_fallback_to_legacy_pointer(self, home: Path, broken: Path) -> None:
        _write_active_pointer(home)

        result = run_cli("policy", "show", cwd=home)

        assert result.code == 1
        assert f"Until it is fixed, {LEGACY_POINTER_FALLBACK}." in result.stdout

    def test_json(self, home: Path, broken: Path) -> None:
        result = run_cli("policy", "show", "--format", "json", cwd=home)

        assert result.code == 1
        report = result.json()
        assert (report["ok"], report["exists"], report["valid"]) == (False, True, False)
        assert report["fallback"] == BEST_MODEL_FALLBACK
        errors = report["report"]["schema_errors"]
        assert {error["pointer"] for error in errors} >= {"/model_dir", "/reject_threshold"}
        threshold = next(error for error in errors if error["pointer"] == "/reject_threshold")
        assert threshold["value"] == 1.2
        assert threshold["keyword"] == "maximum"


class TestShowPolicyThatDoesNotMatchTheDisk:
    """Schema-valid but wrong for the files on disk: exit 1, every failed check, the fallback."""

    def test_several_checks_fail(
        self, home: Path, policy_document: dict[str, Any], snapshot: Any
    ) -> None:
        policy_document.update(
            model_schema_hash="0123abcd",
            model_label_set=["browse", "code"],
            calibration_method="isotonic",
        )
        write_json(home / "models" / POLICY_NAME, policy_document)

        result = run_cli("policy", "show", cwd=home)

        assert result.code == 1
        assert result.stderr == ""
        assert "Disk checks: 4 failed, so inference ignores this policy:" in result.stdout
        for check in (
            "schema_hash_matches",
            "label_set_matches",
            "store_schema_hash_matches",
            "calibration_method_matches",
        ):
            assert f": [{check}] " in result.stdout
        assert "  models/inference_policy.json::/model_schema_hash: [schema_hash_matches] " in (
            result.stdout
        )
        assert f"Until it is fixed, {BEST_MODEL_FALLBACK}." in result.stdout
        assert result.seen(home) == snapshot

    @pytest.mark.parametrize(
        ("damage", "check"),
        [
            (lambda home: shutil.rmtree(home / "models" / "run_001"), "model_dir_exists"),
            (
                lambda home: (home / "models" / "run_001" / "metadata.json").unlink(),
                "model_metadata",
            ),
            (
                lambda home: (home / "models" / "run_001" / "metadata.json").write_text("[1,"),
                "model_metadata",
            ),
            (
                lambda home: shutil.rmtree(home / "artifacts" / "calibrator_store"),
                "calibrator_store_exists",
            ),
            (
                lambda home: (home / "artifacts" / "calibrator_store" / "store.json").write_text(
                    '{"model_bundle_id": "run_002", "method": "temperature"}'
                ),
                "store_bundle_matches",
            ),
        ],
        ids=["bundle-gone", "metadata-gone", "metadata-broken", "store-gone", "store-rebound"],
    )
    def test_one_check_fails(self, home: Path, policy: Path, damage: Any, check: str) -> None:
        damage(home)

        result = run_cli("policy", "show", cwd=home)

        assert result.code == 1
        assert result.stderr == ""
        assert "Disk checks: 1 failed, so inference ignores this policy:" in result.stdout
        assert re.search(rf"  models/inference_policy\.json::/\w+: \[{check}\] ", result.stdout)

    def test_json(self, home: Path, policy: Path) -> None:
        shutil.rmtree(home / "models" / "run_001")

        result = run_cli("policy", "show", "--format", "json", cwd=home)

        assert result.code == 1
        report = result.json()
        assert (report["ok"], report["exists"], report["valid"]) == (False, True, False)
        assert report["fallback"] == BEST_MODEL_FALLBACK.replace("run_001", "run_002")
        (failure,) = report["report"]["disk_check_failures"]
        assert failure["check"] == "model_dir_exists"
        assert failure["file"] == str(home / "models" / "run_001")


class TestValidate:
    """validate: one report line per problem, a summary line, exit 0 only when all are valid."""

    def test_current_policy(self, home: Path, policy: Path) -> None:
        result = run_cli("policy", "validate", cwd=home)

        assert result.code == 0
        assert result.stderr == ""
        assert result.stdout.splitlines() == [
            "models/inference_policy.json: ok (schema and disk checks)",
            "1 file checked: 1 valid, 0 invalid.",
        ]

    def test_current_policy_missing(self, home: Path) -> None:
        result = run_cli("policy", "validate", cwd=home)

        assert result.code == 1
        assert result.stdout.splitlines() == [
            "models/inference_policy.json: does not exist",
            "1 file checked: 0 valid, 1 invalid.",
        ]

    def test_several_files(
        self, home: Path, policy: Path, policy_document: dict[str, Any], snapshot: Any
    ) -> None:
        configs = home / "configs"
        write_json(configs / "good.json", policy_document)
        write_json(configs / "out_of_range.json", {**policy_document, "reject_threshold": 7})
        write_json(configs / "wrong_hash.json", {**policy_document, "model_schema_hash": "ffff"})
        (configs / "not_json.json").write_text("{'single': 'quotes'}\n")
        files = [
            "models/inference_policy.json",
            "configs/good.json",
            "configs/out_of_range.json",
            "configs/wrong_hash.json",
            "configs/not_json.json",
            "configs/absent.json",
        ]

        result = run_cli("policy", "validate", *files, cwd=home)

        assert result.code == 1
        assert result.stderr == ""
        lines = result.stdout.splitlines()
        by_file = {name: [line for line in lines if line.startswith(f"{name}:")] for name in files}
        assert by_file["models/inference_policy.json"] == [
            "models/inference_policy.json: ok (schema and disk checks)"
        ]
        assert by_file["configs/good.json"] == ["configs/good.json: ok (schema and disk checks)"]
        (out_of_range,) = by_file["configs/out_of_range.json"]
        assert out_of_range.startswith(
            "configs/out_of_range.json::/reject_threshold: 7 is greater than the maximum of 1"
        )
        checks = [line.split(" ", 2)[1] for line in by_file["configs/wrong_hash.json"]]
        assert checks == ["[schema_hash_matches]", "[store_schema_hash_matches]"]
        (not_json,) = by_file["configs/not_json.json"]
        assert not_json.startswith("configs/not_json.json: is not valid JSON: ")
        assert by_file["configs/absent.json"] == ["configs/absent.json: does not exist"]
        # Reports come in the order the files were given, then the summary.
        assert lines == [line for name in files for line in by_file[name]] + [
            "6 files checked: 2 valid, 4 invalid."
        ]
        assert result.seen(home) == snapshot

    def test_all_valid(self, home: Path, policy: Path, policy_document: dict[str, Any]) -> None:
        write_json(home / "configs" / "copy.json", policy_document)

        result = run_cli(
            "policy", "validate", "models/inference_policy.json", "configs/copy.json", cwd=home
        )

        assert result.code == 0
        assert result.stdout.splitlines()[-1] == "2 files checked: 2 valid, 0 invalid."

    def test_paths_are_relative_to_the_folder_above_the_file(
        self, tmp_path: Path, home: Path, policy_document: dict[str, Any]
    ) -> None:
        # home/configs/p.json -> TASKCLF_HOME is home, whatever the current folder.
        write_json(home / "configs" / "p.json", policy_document)
        elsewhere = tmp_path / "elsewhere"
        elsewhere.mkdir()

        result = run_cli("policy", "validate", home / "configs" / "p.json", cwd=elsewhere)

        assert result.code == 0, result.stdout
        assert result.stdout.startswith(
            f"{home / 'configs' / 'p.json'}: ok (schema and disk checks)"
        )

    def test_no_disk_checks(self, home: Path, policy_document: dict[str, Any]) -> None:
        policy_document["model_dir"] = "models/run_404"
        write_json(home / "models" / POLICY_NAME, policy_document)

        with_checks = run_cli("policy", "validate", cwd=home)
        schema_only = run_cli("policy", "validate", "--no-disk-checks", cwd=home)

        assert with_checks.code == 1
        assert (
            "[model_dir_exists] Model directory does not exist: models/run_404 "
            in with_checks.stdout
        )
        assert schema_only.code == 0
        assert schema_only.stdout.splitlines() == [
            "models/inference_policy.json: ok (schema)",
            "1 file checked: 1 valid, 0 invalid.",
        ]

    def test_no_disk_checks_still_checks_the_schema(self, home: Path) -> None:
        write_json(home / "models" / POLICY_NAME, {"reject_threshold": 0.5})

        result = run_cli("policy", "validate", "--no-disk-checks", cwd=home)

        assert result.code == 1
        assert 'models/inference_policy.json::/model_dir: "model_dir" is required' in result.stdout

    def test_json(self, home: Path, policy: Path) -> None:
        (home / "configs").mkdir()
        (home / "configs" / "empty.json").write_text("")

        result = run_cli(
            "policy",
            "validate",
            "--format",
            "json",
            "models/inference_policy.json",
            "configs/empty.json",
            cwd=home,
        )

        assert result.code == 1
        assert result.stderr == ""
        report = result.json()
        assert (report["command"], report["ok"]) == ("policy validate", False)
        assert report["summary"] == {"checked": 2, "valid": 1, "invalid": 1}
        good, empty = report["files"]
        assert (good["file"], good["valid"], good["disk_checked"]) == (
            "models/inference_policy.json",
            True,
            True,
        )
        assert empty["read_error"] == "is empty; it must hold a JSON object"
        assert empty["valid"] is False

    def test_validate_does_not_change_anything(self, home: Path, policy: Path) -> None:
        (home / "configs").mkdir()
        (home / "configs" / "bad.json").write_text("[]")
        before = tree_bytes(home)

        run_cli("policy", "validate", "models/inference_policy.json", "configs/bad.json", cwd=home)

        assert tree_bytes(home) == before
