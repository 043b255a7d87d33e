"""``taskclf policy create``: what it writes, what it prints, and what it refuses to do."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from test_cli_support import POLICY_NAME, run_cli, tree_bytes

from conftest import EXAMPLE_LABELS, EXAMPLE_SCHEMA_HASH, make_store, write_json

RUN_001 = ("--model-dir", "models/run_001")
STORE = ("--calibrator-store", "artifacts/calibrator_store")


def _written(home: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((home / "models" / POLICY_NAME).read_text("utf-8"))
    return document


class TestCreateWrites:
    """A valid bundle (and store) gives a policy file, a summary, and exit 0."""

    def test_example_home_with_calibrator_store(self, home: Path, snapshot: Any) -> None:
        result = run_cli("policy", "create", *RUN_001, *STORE, cwd=home)

        assert result.code == 0
        assert result.stderr == ""
        assert result.stdout.startswith("Wrote models/inference_policy.json\n")
        assert result.seen(home) == snapshot
        document = _written(home)
        assert {
            key: document[key] for key in document if key not in {"created_at", "git_commit"}
        } == {
            "policy_version": "v1",
            "model_dir": "models/run_001",
            "model_schema_hash": EXAMPLE_SCHEMA_HASH,
            "model_label_set": sorted(EXAMPLE_LABELS),
            "calibrator_store_dir": "artifacts/calibrator_store",
            "calibration_method": "temperature",
            "reject_threshold": 0.6,
            "source": "manual",
            "per_user_reject_thresholds": None,
        }
        text = (home / "models" / POLICY_NAME).read_text("utf-8")
        assert text == json.dumps(document, indent=2, ensure_ascii=False) + "\n"
        # What create wrote is what show accepts, disk checks included.
        shown = run_cli("policy", "show", cwd=home)
        assert shown.code == 0
        assert "Disk checks: passed" in shown.stdout

    def test_creates_a_missing_models_folder(self, home: Path) -> None:
        # The bundle may live anywhere inside TASKCLF_HOME, not only under models/.
        shutil.move(home / "models", home / "bundles")

        result = run_cli("policy", "create", "--model-dir", "bundles/run_002", cwd=home)

        assert result.code == 0, result.stderr
        assert (home / "models").is_dir()
        assert _written(home)["model_dir"] == "bundles/run_002"

    def test_absolute_paths_are_stored_relative_to_home(self, home: Path) -> None:
        result = run_cli(
            "policy",
            "create",
            "--model-dir",
            home / "models" / "run_001",
            "--calibrator-store",
            home / "artifacts" / "calibrator_store",
            cwd=home,
        )

        assert result.code == 0, result.stderr
        document = _written(home)
        assert document["model_dir"] == "models/run_001"
        assert document["calibrator_store_dir"] == "artifacts/calibrator_store"

    def test_relative_paths_are_taken_from_the_current_folder(self, home: Path) -> None:
        result = run_cli(
            "policy", "create", "--home", "..", "--model-dir", "run_002", cwd=home / "models"
        )

        assert result.code == 0, result.stderr
        shown = result.stdout.splitlines()[0].removeprefix("Wrote ")
        # Shown relative to the current folder; the ".." of --home is kept as given, so
        # it reads "../models/inference_policy.json" rather than "inference_policy.json".
        assert (home / "models" / shown).resolve() == home / "models" / POLICY_NAME
        assert _written(home)["model_dir"] == "models/run_002"

    def test_relative_paths_fall_back_to_home(self, tmp_path: Path, home: Path) -> None:
        # tmp_path has no models/run_001, so the path is taken from TASKCLF_HOME.
        result = run_cli("policy", "create", "--home", "home", *RUN_001, *STORE, cwd=tmp_path)

        assert result.code == 0, result.stderr
        assert result.stdout.startswith("Wrote home/models/inference_policy.json\n")
        document = _written(home)
        assert document["model_dir"] == "models/run_001"
        assert document["calibrator_store_dir"] == "artifacts/calibrator_store"

    def test_a_symlink_inside_home_is_stored_resolved(self, home: Path) -> None:
        (home / "models" / "current").symlink_to("run_002")

        result = run_cli("policy", "create", "--model-dir", "models/current", cwd=home)

        assert result.code == 0, result.stderr
        assert _written(home)["model_dir"] == "models/run_002"

    @pytest.mark.parametrize(
        ("store", "method"),
        [
            ({"method": "isotonic", "model_bundle_id": "run_002"}, "isotonic"),
            ({"method": "temperature"}, "temperature"),
            ({"model_bundle_id": "run_002"}, None),
        ],
        ids=["isotonic", "temperature", "no-method"],
    )
    def test_store_method_becomes_calibration_method(
        self, home: Path, store: dict[str, Any], method: str | None
    ) -> None:
        make_store(home / "artifacts" / "store_b", store)

        result = run_cli(
            "policy",
            "create",
            "--model-dir",
            "models/run_002",
            "--calibrator-store",
            "artifacts/store_b",
            cwd=home,
        )

        assert result.code == 0, result.stderr
        document = _written(home)
        assert document["calibrator_store_dir"] == "artifacts/store_b"
        assert document["calibration_method"] == method
        shown = f"artifacts/store_b ({method or 'method not named'})"
        assert f"  calibrator         {shown}\n" in result.stdout

    def test_no_calibrator_means_identity(self, home: Path) -> None:
        result = run_cli("policy", "create", *RUN_001, "--no-calibrator", cwd=home)

        assert result.code == 0, result.stderr
        document = _written(home)
        assert document["calibrator_store_dir"] is None
        assert document["calibration_method"] is None
        assert "  calibrator         none (identity)\n" in result.stdout
        assert "  (calibrator: none, as --no-calibrator asks)\n" in result.stdout

    def test_the_store_bound_to_the_bundle_is_attached(self, home: Path) -> None:
        # The example store names run_001: create binds it as tune-reject and edit do.
        result = run_cli("policy", "create", *RUN_001, cwd=home)

        assert result.code == 0, result.stderr
        document = _written(home)
        assert document["calibrator_store_dir"] == "artifacts/calibrator_store"
        assert document["calibration_method"] == "temperature"
        assert (
            "  (calibrator: bound to the bundle under artifacts/ (pass --no-calibrator for none))"
            in result.stdout
        )

    def test_no_bound_store_means_identity(self, home: Path) -> None:
        result = run_cli("policy", "create", "--model-dir", "models/run_002", cwd=home)

        assert result.code == 0, result.stderr
        assert _written(home)["calibrator_store_dir"] is None
        assert (
            "  (calibrator: none (no calibrator store under artifacts/ is bound to this bundle))"
            in result.stdout
        )

    def test_calibrator_flags_exclude_each_other(self, home: Path) -> None:
        result = run_cli(
            "policy", "create", *RUN_001, "--no-calibrator",
            "--calibrator-store", "artifacts/calibrator_store", cwd=home,
        )  # fmt: skip
        assert result.code == 2
        assert "not allowed with argument" in result.stderr

    def test_source_is_recorded(self, home: Path) -> None:
        result = run_cli("policy", "create", *RUN_001, "--source", "tune-reject", cwd=home)

        assert result.code == 0, result.stderr
        assert _written(home)["source"] == "tune-reject"


class TestRejectThresholdPrecedence:
    """--reject-threshold, else the bundle's advisory value, else the schema default (0.55)."""

    @pytest.mark.parametrize(
        ("bundle", "flag", "threshold", "source"),
        [
            ("run_001", ["--reject-threshold", "0.7"], 0.7, "--reject-threshold"),
            ("run_001", ["--reject-threshold", "0"], 0, "--reject-threshold"),
            ("run_002", ["--reject-threshold=1"], 1, "--reject-threshold"),
            ("run_001", [], 0.6, "models/run_001/metadata.json"),
            ("run_002", [], 0.55, "schema default"),
        ],
        ids=["flag-over-bundle", "flag-zero", "flag-one", "bundle-advisory", "schema-default"],
    )
    def test_precedence(
        self, home: Path, bundle: str, flag: list[str], threshold: float, source: str
    ) -> None:
        result = run_cli("policy", "create", "--model-dir", f"models/{bundle}", *flag, cwd=home)

        assert result.code == 0, result.stderr
        assert _written(home)["reject_threshold"] == threshold
        assert f"  reject_threshold   {threshold:g}\n" in result.stdout
        assert result.stdout.endswith(f"  (reject_threshold from {source})\n")

    def test_json_names_where_the_threshold_came_from(self, home: Path) -> None:
        result = run_cli("policy", "create", *RUN_001, "--format", "json", cwd=home)

        assert result.code == 0
        report = result.json()
        assert report["reject_threshold_from"] == "models/run_001/metadata.json"
        assert report["policy"]["reject_threshold"] == 0.6


class TestRejectThresholdUsageErrors:
    """A --reject-threshold that is not a probability is a usage error (exit 2) naming the flag."""

    @pytest.mark.parametrize(
        ("value", "message"),
        [
            ("1.5", "1.5 is greater than the maximum of 1"),
            ("1.0000001", "is greater than the maximum of 1"),
            ("-0.1", "-0.1 is less than the minimum of 0"),
            ("nan", "expected a finite number, got 'nan'"),
            ("NaN", "expected a finite number, got 'NaN'"),
            ("inf", "expected a finite number, got 'inf'"),
            ("-Infinity", "expected a finite number, got '-Infinity'"),
            ("1e400", "expected a finite number, got '1e400'"),
            ("abc", "expected a number, got 'abc'"),
            ("", "expected a number, got ''"),
            ("0,5", "expected a number, got '0,5'"),
        ],
    )
    def test_bad_value(self, home: Path, value: str, message: str) -> None:
        before = tree_bytes(home)

        result = run_cli("policy", "create", *RUN_001, f"--reject-threshold={value}", cwd=home)

        assert result.code == 2
        assert result.stdout == ""
        assert result.stderr.startswith("usage: taskclf policy create")
        last = result.stderr.splitlines()[-1]
        assert last.startswith("taskclf policy create: error: argument --reject-threshold: ")
        assert message in last
        assert "Traceback" not in result.stderr
        assert tree_bytes(home) == before

    def test_snapshot(self, home: Path, snapshot: Any) -> None:
        result = run_cli("policy", "create", *RUN_001, "--reject-threshold", "1.5", cwd=home)

        assert result.seen(home) == snapshot

    def test_negative_value_as_separate_argument(self, home: Path) -> None:
        # "-0.1" looks like an option; argparse must still take it as the value.
        result = run_cli("policy", "create", *RUN_001, "--reject-threshold", "-0.1", cwd=home)

        assert result.code == 2
        assert "argument --reject-threshold: -0.1 is less than the minimum of 0" in result.stderr

    def test_model_dir_is_required(self, home: Path) -> None:
        result = run_cli("policy", "create", cwd=home)

        assert result.code == 2
        assert "the following arguments are required: --model-dir" in result.stderr


class TestCreateOverExistingPolicy:
    """With a policy in place, create lists the changes field by field."""

    def test_changes_are_listed(
        self, home: Path, policy_document: dict[str, Any], snapshot: Any
    ) -> None:
        write_json(home / "models" / POLICY_NAME, policy_document)

        result = run_cli("policy", "create", "--model-dir", "models/run_002", cwd=home)

        assert result.code == 0, result.stderr
        lines = result.stdout.splitlines()
        assert lines[:4] == [
            "Changes to the existing policy (4):",
            '  ~ model_dir: "models/run_001" -> "models/run_002"',
            '  ~ calibrator_store_dir: "artifacts/calibrator_store" -> null',
            '  ~ calibration_method: "temperature" -> null',
        ]
        assert lines[4].startswith('  ~ created_at: "2026-01-31T12:00:00+00:00" -> "')
        assert lines[5] == "Wrote models/inference_policy.json"
        assert result.seen(home) == snapshot
        assert _written(home)["model_dir"] == "models/run_002"

    def test_json_lists_changes(self, home: Path, policy_document: dict[str, Any]) -> None:
        write_json(home / "models" / POLICY_NAME, policy_document)

        result = run_cli("policy", "create", *RUN_001, *STORE, "--format", "json", cwd=home)

        assert result.code == 0
        report = result.json()
        assert report["previous_policy"] == "valid"
        changed = {change["field"]: change for change in report["changes"]}
        assert changed["reject_threshold"] == {"field": "reject_threshold", "old": 0.55, "new": 0.6}
        assert "model_dir" not in changed

    def test_an_invalid_policy_is_replaced(self, home: Path, snapshot: Any) -> None:
        (home / "models" / POLICY_NAME).write_text('{"reject_threshold": NaN}\n')

        result = run_cli("policy", "create", *RUN_001, cwd=home)

        assert result.code == 0, result.stderr
        assert result.stdout.startswith(
            "Replacing the invalid policy in models/inference_policy.json.\n"
            "Wrote models/inference_policy.json\n"
        )
        assert _written(home)["reject_threshold"] == 0.6
        assert result.seen(home) == snapshot


class TestDryRun:
    """--dry-run prints the policy and the changes and writes nothing."""

    def test_fresh_home(self, home: Path, snapshot: Any) -> None:
        before = tree_bytes(home)

        result = run_cli("policy", "create", *RUN_001, *STORE, "--dry-run", cwd=home)

        assert result.code == 0, result.stderr
        assert tree_bytes(home) == before
        assert result.stdout.startswith("Dry run: models/inference_policy.json would contain:\n{")
        assert "Nothing was written (--dry-run).\n" in result.stdout
        # The JSON block printed is the document create would write.
        block = result.stdout.split("would contain:\n", 1)[1].split("\n}\n", 1)[0] + "\n}"
        assert json.loads(block)["calibration_method"] == "temperature"
        assert result.seen(home) == snapshot

    def test_existing_policy_is_untouched(
        self, home: Path, policy_document: dict[str, Any]
    ) -> None:
        write_json(home / "models" / POLICY_NAME, policy_document)
        before = tree_bytes(home)

        result = run_cli("policy", "create", "--model-dir", "models/run_002", "--dry-run", cwd=home)

        assert result.code == 0, result.stderr
        assert tree_bytes(home) == before
        assert "Changes to the existing policy (4):" in result.stdout
        assert '  ~ model_dir: "models/run_001" -> "models/run_002"' in result.stdout

    def test_json(self, home: Path) -> None:
        result = run_cli("policy", "create", *RUN_001, "--dry-run", "--format", "json", cwd=home)

        assert result.code == 0
        report = result.json()
        # previous_policy is null when there was none (a JSON null, not the string "none").
        assert (report["written"], report["dry_run"], report["previous_policy"]) == (
            False,
            True,
            None,
        )
        assert not (home / "models" / POLICY_NAME).exists()


# Each refusal: how to set the home up, the arguments, and what the message must say.
Setup = Callable[[Path], list[str]]


def _missing_bundle(home: Path) -> list[str]:
    return ["--model-dir", "models/run_999"]


def _bundle_is_a_file(home: Path) -> list[str]:
    return ["--model-dir", "models/run_001/metrics.json"]


def _bundle_without_metadata(home: Path) -> list[str]:
    (home / "models" / "run_003").mkdir()
    return ["--model-dir", "models/run_003"]


def _metadata_not_json(home: Path) -> list[str]:
    (home / "models" / "run_002" / "metadata.json").write_text('{"schema_hash": "f3a9c2d1e8b7",')
    return ["--model-dir", "models/run_002"]


def _metadata_breaks_schema(home: Path) -> list[str]:
    write_json(home / "models" / "run_002" / "metadata.json", {"schema_hash": ""})
    return ["--model-dir", "models/run_002"]


def _metadata_threshold_out_of_range(home: Path) -> list[str]:
    write_json(
        home / "models" / "run_002" / "metadata.json",
        {"schema_hash": "h", "label_set": ["a"], "reject_threshold": 1.5},
    )
    return ["--model-dir", "models/run_002"]


def _store_missing(home: Path) -> list[str]:
    return [*RUN_001, "--calibrator-store", "artifacts/no_such_store"]


def _store_without_manifest(home: Path) -> list[str]:
    (home / "artifacts" / "empty_store").mkdir()
    return [*RUN_001, "--calibrator-store", "artifacts/empty_store"]


def _store_not_json(home: Path) -> list[str]:
    (home / "artifacts" / "calibrator_store" / "store.json").write_bytes(b"\xff\xfe{}")
    return [*RUN_001, *STORE]


def _store_breaks_schema(home: Path) -> list[str]:
    write_json(home / "artifacts" / "calibrator_store" / "store.json", {"method": "platt"})
    return [*RUN_001, *STORE]


def _store_bound_to_other_bundle(home: Path) -> list[str]:
    return ["--model-dir", "models/run_002", *STORE]


def _store_bound_to_other_schema(home: Path) -> list[str]:
    make_store(
        home / "artifacts" / "other_store", {"method": "isotonic", "model_schema_hash": "0000aaaa"}
    )
    return [*RUN_001, "--calibrator-store", "artifacts/other_store"]


def _outside(home: Path) -> Path:
    outside = home.parent / "elsewhere"
    shutil.copytree(home / "models" / "run_002", outside / "run_002", dirs_exist_ok=True)
    shutil.copytree(home / "artifacts" / "calibrator_store", outside / "store", dirs_exist_ok=True)
    return outside


def _bundle_outside_home(home: Path) -> list[str]:
    return ["--model-dir", str(_outside(home) / "run_002")]


def _bundle_linked_outside_home(home: Path) -> list[str]:
    (home / "models" / "linked").symlink_to(_outside(home) / "run_002")
    return ["--model-dir", "models/linked"]


def _store_outside_home(home: Path) -> list[str]:
    _outside(home)
    return [*RUN_001, "--calibrator-store", "../elsewhere/store"]


REFUSALS: list[tuple[str, Setup, str]] = [
    ("missing-bundle", _missing_bundle, "--model-dir models/run_999: <HOME>/models/run_999 does"),
    ("bundle-is-a-file", _bundle_is_a_file, "metrics.json is a file; expected a folder"),
    ("bundle-without-metadata", _bundle_without_metadata, "run_003/metadata.json does not exist"),
    ("metadata-not-json", _metadata_not_json, "run_002/metadata.json is not valid JSON"),
    ("metadata-breaks-schema", _metadata_breaks_schema, '/schema_hash: "" should be non-empty'),
    ("metadata-threshold", _metadata_threshold_out_of_range, "/reject_threshold: 1.5 is greater"),
    ("store-missing", _store_missing, "artifacts/no_such_store does not exist"),
    ("store-without-manifest", _store_without_manifest, "empty_store/store.json does not exist"),
    ("store-not-json", _store_not_json, "store.json is not UTF-8 text"),
    ("store-breaks-schema", _store_breaks_schema, '/method: "platt" is not one of'),
    ("store-other-bundle", _store_bound_to_other_bundle, "[store_bundle_matches]"),
    ("store-other-schema", _store_bound_to_other_schema, "[store_schema_hash_matches]"),
    ("bundle-outside-home", _bundle_outside_home, "is outside TASKCLF_HOME (<HOME>)"),
    ("bundle-linked-outside", _bundle_linked_outside_home, "is outside TASKCLF_HOME (<HOME>)"),
    ("store-outside-home", _store_outside_home, "is outside TASKCLF_HOME (<HOME>)"),
]


class TestCreateRefuses:
    """Every refusal: exit 1, one clear message, no traceback, and nothing in the home changed."""

    @pytest.mark.parametrize(
        ("setup", "expected"),
        [pytest.param(setup, expected, id=name) for name, setup, expected in REFUSALS],
    )
    def test_refusal(
        self,
        home: Path,
        policy_document: dict[str, Any],
        setup: Setup,
        expected: str,
        snapshot: Any,
    ) -> None:
        write_json(home / "models" / POLICY_NAME, policy_document)
        args = setup(home)
        before = tree_bytes(home)

        result = run_cli("policy", "create", *args, cwd=home)

        assert result.code == 1
        assert result.stdout == ""
        assert result.stderr.startswith("taskclf: error: ")
        assert "Traceback" not in result.stderr
        assert expected in result.seen(home)["stderr"]
        assert tree_bytes(home) == before  # the existing policy is byte-for-byte the same
        assert result.seen(home) == snapshot

    def test_json_error(self, home: Path) -> None:
        result = run_cli("policy", "create", *_missing_bundle(home), "--format", "json", cwd=home)

        assert result.code == 1
        assert result.stderr == ""
        report = result.json()
        assert report["ok"] is False
        assert report["command"] == "policy create"
        assert report["policy_file"] == str(home / "models" / POLICY_NAME)
        assert "models/run_999" in report["error"]["message"]
        assert report["error"]["details"]["flag"] == "--model-dir"


class TestUnwritableModelsFolder:
    """When the policy cannot be written, create says so and leaves everything as it was."""

    @pytest.fixture
    def blocked_home(self, home: Path) -> Path:
        # As root, permission bits do not stop a write; a file where the models
        # folder should be does.
        shutil.move(home / "models", home / "bundles")
        (home / "models").write_text("a file where the models folder should be\n")
        return home

    def test_file_in_place_of_models_folder(self, blocked_home: Path) -> None:
        before = tree_bytes(blocked_home)

        result = run_cli("policy", "create", "--model-dir", "bundles/run_001", cwd=blocked_home)

        assert result.code == 1
        assert result.stdout == ""
        assert result.stderr.startswith("taskclf: error: ")
        assert "taskclf: error: models: " in result.stderr  # relative to the current folder
        assert "Traceback" not in result.stderr
        assert tree_bytes(blocked_home) == before

    def test_file_in_place_of_models_folder_message(self, blocked_home: Path) -> None:
        result = run_cli("policy", "create", "--model-dir", "bundles/run_001", cwd=blocked_home)

        assert "models: is a file where a folder should be; nothing was written" in result.stderr

    def test_folder_in_place_of_policy_file(self, home: Path) -> None:
        target = home / "models" / POLICY_NAME
        target.mkdir()
        (target / "keep.txt").write_text("a folder where the policy file should be\n")
        before = tree_bytes(home)

        result = run_cli("policy", "create", *RUN_001, cwd=home)

        assert result.code == 1
        assert result.stdout == ""
        assert "Traceback" not in result.stderr
        assert tree_bytes(home) == before  # no temporary file left behind either

    def test_folder_in_place_of_policy_file_message(self, home: Path) -> None:
        (home / "models" / POLICY_NAME).mkdir()

        result = run_cli("policy", "create", *RUN_001, cwd=home)

        assert ".tmp" not in result.stderr
        assert f"taskclf: error: models/{POLICY_NAME}: is not a regular file" in result.stderr


def test_policy_file_gets_the_usual_permissions(tmp_path: Path, home: Path) -> None:
    probe = tmp_path / "probe.txt"
    probe.write_text("an ordinary new file\n")

    result = run_cli("policy", "create", *RUN_001, cwd=home)

    assert result.code == 0
    mode = (home / "models" / POLICY_NAME).stat().st_mode & 0o777
    assert mode == probe.stat().st_mode & 0o777
