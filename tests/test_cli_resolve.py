"""``taskclf policy resolve``: which step wins, why the others were skipped, and the output.

Each test builds a TASKCLF_HOME on disk, runs the command as a user does and
reads what it printed. The precedence is: an explicit --model-dir override,
then a policy that is valid and matches the disk, then the legacy active.json,
then best-model selection; --reject-threshold and --calibrator-store replace
single fields of whichever step won.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from test_cli_support import POLICY_NAME, Result, run_cli, tree_bytes

from conftest import EXAMPLE_LABELS, EXAMPLE_SCHEMA_HASH, write_json

NO_OVERRIDE = "override: no model_dir override given"
NO_POLICY = "policy: models/inference_policy.json does not exist"
NO_ACTIVE = "active: models/active.json does not exist"
SKIPPED_NOTE = "Note: a higher-precedence file exists but was skipped; see --explain."
STORE = "artifacts/calibrator_store"


def _resolve(home: Path, *args: str | Path) -> Result:
    return run_cli("policy", "resolve", *args, cwd=home)


def _rows(result: Result) -> dict[str, str]:
    """The ``name  value`` rows of the text report."""
    lines = result.stdout.splitlines()
    assert lines[0] == "Inference would use (policy file: models/inference_policy.json):"
    rows = {}
    for line in lines[1:7]:
        name, value = line.strip().split("  ", 1)
        rows[name] = value.strip()
    return rows


def _trail(result: Result) -> list[str]:
    """The numbered lines printed by --explain, without their numbers."""
    lines = result.stdout.split("Resolution trail:\n", 1)[1].splitlines()
    entries = []
    for number, line in enumerate(lines, start=1):
        prefix = f"  {number}. "
        assert line.startswith(prefix), line
        entries.append(line.removeprefix(prefix))
    return entries


def _resolved(home: Path, *args: str | Path) -> dict[str, Any]:
    result = _resolve(home, *args, "--format", "json")
    assert result.code == 0, result.stdout + result.stderr
    resolved: dict[str, Any] = result.json()["resolved"]
    return resolved


BEST_MODEL_ROWS = {
    "resolved by": "best-model",
    "model_dir": "models/run_001",
    "schema_hash": EXAMPLE_SCHEMA_HASH,
    "labels": ", ".join(EXAMPLE_LABELS),
    "calibrator": "none (identity)",
    "reject_threshold": "0.55",
}


class TestOverrideStep:
    """--model-dir wins over everything and never falls back when it cannot be used."""

    def test_bypasses_a_valid_policy(self, home: Path, write_policy: Callable[..., Path]) -> None:
        write_policy(home / "models")

        result = _resolve(home, "--model-dir", "models/run_002", "--explain")

        assert result.code == 0, result.stderr
        assert result.stderr == ""
        assert _rows(result) == {
            **BEST_MODEL_ROWS,
            "resolved by": "override",
            "model_dir": "models/run_002",
        }
        assert result.stdout.endswith(
            "Resolution trail:\n  (the first step won; nothing was skipped)\n"
        )

    def test_absolute_path_outside_the_current_folder(self, tmp_path: Path, home: Path) -> None:
        result = run_cli(
            "policy",
            "resolve",
            "--home",
            home,
            "--model-dir",
            home / "models" / "run_002",
            "--format",
            "json",
            cwd=tmp_path,
        )

        assert result.code == 0, result.stderr
        assert result.json()["resolved"]["model_dir"] == "models/run_002"

    def test_missing_bundle_is_an_error_not_a_fallback(
        self, home: Path, write_policy: Callable[..., Path]
    ) -> None:
        write_policy(home / "models")
        before = tree_bytes(home)

        result = _resolve(home, "--model-dir", "models/nope", "--explain")

        assert result.code == 1
        assert result.stdout == ""
        assert result.stderr.startswith("taskclf: error: ")
        assert "models/nope does not exist" in result.stderr
        assert "give an existing model bundle folder (models/<run_id>)" in result.stderr
        assert "Traceback" not in result.stderr
        assert tree_bytes(home) == before

    def test_bundle_without_metadata_is_refused(self, home: Path) -> None:
        (home / "models" / "empty").mkdir()

        result = _resolve(home, "--model-dir", "models/empty")

        assert result.code == 1
        assert "models/empty/metadata.json does not exist" in result.stderr

    def test_missing_bundle_json(self, home: Path) -> None:
        result = _resolve(home, "--model-dir", "models/nope", "--format", "json")

        assert result.code == 1
        assert result.stderr == ""
        report = result.json()
        assert {key: report[key] for key in ("command", "ok", "policy_file")} == {
            "command": "policy resolve",
            "ok": False,
            "policy_file": str(home / "models" / POLICY_NAME),
        }
        assert "resolved" not in report
        assert "models/nope does not exist" in report["error"]["message"]
        assert report["error"]["details"]["field"] == "model_dir_override"
        assert report["error"]["details"]["value"] == "models/nope"

    @pytest.mark.parametrize(
        ("option", "value"),
        [("--model-dir", "models/nope"), ("--calibrator-store", "artifacts/nope")],
    )
    def test_error_names_the_option(self, home: Path, option: str, value: str) -> None:
        result = _resolve(home, option, value)

        assert result.code == 1
        assert result.stderr.startswith(f"taskclf: error: {option} {value}: ")


class TestPolicyStep:
    """A valid policy that matches the disk wins when no override is given."""

    def test_valid_policy(
        self, home: Path, write_policy: Callable[..., Path], snapshot: Any
    ) -> None:
        write_policy(home / "models")

        result = _resolve(home, "--explain")

        assert result.code == 0
        assert result.stderr == ""
        assert _rows(result) == {
            **BEST_MODEL_ROWS,
            "resolved by": "policy",
            "calibrator": f"{STORE} (temperature)",
            "reject_threshold": "0.62",
        }
        assert _trail(result) == [NO_OVERRIDE]
        assert SKIPPED_NOTE not in result.stdout
        assert result.seen(home) == snapshot

    def test_without_explain_there_is_no_trail(
        self, home: Path, write_policy: Callable[..., Path]
    ) -> None:
        write_policy(home / "models")

        result = _resolve(home)

        assert result.code == 0
        assert len(result.stdout.splitlines()) == 7
        assert "Resolution trail:" not in result.stdout

    def test_identity_calibration(self, home: Path, write_policy: Callable[..., Path]) -> None:
        write_policy(home / "models", calibrator_store_dir=None, calibration_method=None)

        result = _resolve(home)

        assert result.code == 0
        assert _rows(result)["calibrator"] == "none (identity)"
        assert _rows(result)["reject_threshold"] == "0.62"

    def test_per_user_thresholds_are_listed(
        self, home: Path, write_policy: Callable[..., Path]
    ) -> None:
        write_policy(home / "models", per_user_reject_thresholds={"zoe": 0.5, "alice": 0.7})

        result = _resolve(home)

        assert result.code == 0
        assert result.stdout.splitlines()[7:] == [
            "  per-user reject thresholds (2):",
            "    alice  0.7",
            "    zoe  0.5",
        ]

    def test_policy_beats_active_json(
        self,
        home: Path,
        write_policy: Callable[..., Path],
        write_active: Callable[..., Path],
    ) -> None:
        write_policy(home / "models")
        write_active(home / "models", "models/run_002")

        resolved = _resolved(home)

        assert (resolved["step"], resolved["model_dir"]) == ("policy", "models/run_001")


class TestSingleFieldOverrides:
    """--reject-threshold and --calibrator-store replace one field of the winning step."""

    def test_both_on_top_of_a_policy(
        self, home: Path, write_policy: Callable[..., Path], snapshot: Any
    ) -> None:
        write_policy(home / "models", per_user_reject_thresholds={"alice": 0.7, "bob": 0.4})

        result = _resolve(
            home, "--reject-threshold", "0.3", "--calibrator-store", STORE, "--explain"
        )

        assert result.code == 0, result.stderr
        assert _rows(result)["resolved by"] == "policy"
        assert _rows(result)["reject_threshold"] == "0.3"
        assert "per-user reject thresholds" not in result.stdout
        assert _trail(result) == [
            NO_OVERRIDE,
            "policy: reject_threshold 0.3 from the override replaces 0.62 from the policy; "
            "the policy's per-user thresholds (2 users) are not used",
            f"policy: calibrator store {STORE} from the override replaces calibrator store "
            f"{STORE} from the policy",
        ]
        assert result.seen(home) == snapshot

    def test_store_on_top_of_best_model(self, home: Path) -> None:
        result = _resolve(home, "--calibrator-store", STORE, "--explain")

        assert result.code == 0, result.stderr
        assert _rows(result) == {**BEST_MODEL_ROWS, "calibrator": f"{STORE} (temperature)"}
        assert _trail(result) == [
            NO_OVERRIDE,
            NO_POLICY,
            NO_ACTIVE,
            f"best-model: calibrator store {STORE} from the override replaces identity "
            "calibration from the code default",
        ]

    def test_threshold_on_top_of_the_model_dir_override(self, home: Path) -> None:
        result = _resolve(
            home, "--model-dir", "models/run_002", "--reject-threshold", "1", "--explain"
        )

        assert result.code == 0, result.stderr
        assert _rows(result)["reject_threshold"] == "1"
        assert _trail(result) == [
            "override: reject_threshold 1.0 from the override replaces 0.55 from the code default"
        ]

    def test_json_trail_marks_overrides(self, home: Path) -> None:
        resolved = _resolved(home, "--reject-threshold", "0.4")

        assert resolved["reject_threshold"] == 0.4
        assert resolved["trail"][-1] == {
            "step": "best-model",
            "code": "overridden",
            "reason": "reject_threshold 0.4 from the override replaces 0.55 from the code default",
        }

    def test_store_bound_to_another_bundle_is_refused(self, home: Path) -> None:
        result = _resolve(home, "--model-dir", "models/run_002", "--calibrator-store", STORE)

        assert result.code == 1
        assert result.stdout == ""
        assert 'the store was fitted for model bundle "run_001", not "run_002"' in result.stderr

    def test_missing_store_is_refused(self, home: Path) -> None:
        result = _resolve(home, "--calibrator-store", "artifacts/nope")

        assert result.code == 1
        assert result.stdout == ""
        assert "artifacts/nope is not a calibrator store folder" in result.stderr

    def test_threshold_out_of_range_is_a_usage_error(self, home: Path) -> None:
        result = _resolve(home, "--reject-threshold", "1.5")

        assert result.code == 2
        assert result.stdout == ""
        assert result.stderr.splitlines()[-1] == (
            "taskclf policy resolve: error: argument --reject-threshold: 1.5 is greater than "
            "the maximum of 1 (expected a probability between 0 and 1)"
        )


def _invalid_json(models: Path, write_policy: Callable[..., Path]) -> None:
    (models / POLICY_NAME).write_text('{"policy_version": "v1",\n', encoding="utf-8")


def _schema_error(models: Path, write_policy: Callable[..., Path]) -> None:
    write_policy(models, reject_threshold=1.5)


def _missing_bundle(models: Path, write_policy: Callable[..., Path]) -> None:
    write_policy(
        models, model_dir="models/run_009", calibrator_store_dir=None, calibration_method=None
    )


def _hash_mismatch(models: Path, write_policy: Callable[..., Path]) -> None:
    write_policy(
        models, model_schema_hash="deadbeef", calibrator_store_dir=None, calibration_method=None
    )


def _missing_store(models: Path, write_policy: Callable[..., Path]) -> None:
    write_policy(models, calibrator_store_dir="artifacts/gone")


BROKEN_POLICIES = [
    pytest.param(
        _invalid_json,
        "invalid",
        "policy: models/inference_policy.json is not valid JSON: Expecting property name "
        "enclosed in double quotes at line 2 column 1",
        id="invalid-json",
    ),
    pytest.param(
        _schema_error,
        "invalid",
        "policy: models/inference_policy.json is invalid: /reject_threshold: 1.5 is greater "
        "than the maximum of 1 (expected a probability between 0 and 1)",
        id="schema-error",
    ),
    pytest.param(
        _missing_bundle,
        "disk-check",
        "policy: policy's model_dir models/run_009 does not exist",
        id="missing-bundle",
    ),
    pytest.param(
        _hash_mismatch,
        "disk-check",
        'policy: Schema hash mismatch: policy has "deadbeef", bundle has "f3a9c2d1e8b7" '
        "(schema_hash in {home}/models/run_001/metadata.json); recreate the policy with "
        "`taskclf policy create --model-dir models/run_001 --no-calibrator "
        "--reject-threshold 0.62`",
        id="hash-mismatch",
    ),
    pytest.param(
        _missing_store,
        "disk-check",
        "policy: policy's calibrator_store_dir artifacts/gone does not exist; its "
        "reject_threshold 0.62 was tuned on calibrated scores, so the policy is not used "
        "without its calibrator store",
        id="missing-store",
    ),
]


class TestPolicyFallbacks:
    """A policy that cannot be used is skipped as a whole; the trail says why."""

    @pytest.mark.parametrize(("breaks", "code", "reason"), BROKEN_POLICIES)
    def test_falls_back_to_best_model(
        self,
        home: Path,
        write_policy: Callable[..., Path],
        breaks: Callable[..., None],
        code: str,
        reason: str,
    ) -> None:
        breaks(home / "models", write_policy)
        before = tree_bytes(home)

        resolved = _resolved(home)

        # Threshold and calibration come from the code defaults, never half from the policy.
        assert (resolved["step"], resolved["model_dir"]) == ("best-model", "models/run_001")
        assert resolved["reject_threshold"] == 0.55
        assert (resolved["calibrator_store_dir"], resolved["calibration_method"]) == (None, None)
        assert (resolved["calibration"], resolved["calibration_method_from"]) == ("identity", None)
        assert resolved["policy"] is None
        assert [f"{e['step']}: {e['reason']}" for e in resolved["trail"]] == [
            NO_OVERRIDE,
            reason.format(home=home),
            NO_ACTIVE,
        ]
        assert resolved["trail"][1]["code"] == code
        assert tree_bytes(home) == before

    def test_explain_prints_the_reason(self, home: Path, write_policy: Callable[..., Path]) -> None:
        _schema_error(home / "models", write_policy)

        result = _resolve(home, "--explain")

        assert result.code == 0
        assert result.stderr == ""
        assert _rows(result) == BEST_MODEL_ROWS
        assert _trail(result) == [
            NO_OVERRIDE,
            "policy: models/inference_policy.json is invalid: /reject_threshold: 1.5 is greater "
            "than the maximum of 1 (expected a probability between 0 and 1)",
            NO_ACTIVE,
        ]
        assert SKIPPED_NOTE not in result.stdout

    def test_missing_store_falls_back_to_active_json(
        self,
        home: Path,
        write_policy: Callable[..., Path],
        write_active: Callable[..., Path],
    ) -> None:
        _missing_store(home / "models", write_policy)
        write_active(home / "models", "models/run_002")

        result = _resolve(home, "--explain")

        assert result.code == 0
        assert _rows(result) == {
            **BEST_MODEL_ROWS,
            "resolved by": "active",
            "model_dir": "models/run_002",
        }
        assert _trail(result)[1].startswith("policy: policy's calibrator_store_dir artifacts/gone")
        assert len(_trail(result)) == 2

    def test_missing_store_snapshot(
        self, home: Path, write_policy: Callable[..., Path], snapshot: Any
    ) -> None:
        _missing_store(home / "models", write_policy)

        assert _resolve(home).seen(home) == snapshot

    def test_store_fitted_for_another_bundle(
        self, home: Path, write_policy: Callable[..., Path]
    ) -> None:
        write_policy(home / "models", model_dir="models/run_002")

        result = _resolve(home, "--explain")

        assert result.code == 0
        assert _rows(result) == BEST_MODEL_ROWS
        assert _trail(result)[1] == (
            'policy: Calibrator store was fitted for another model bundle: store has "run_001", '
            f"policy's model_dir is models/run_002 ({home / STORE / 'store.json'}); use the "
            "calibrator store fitted for this model"
        )


class TestActiveStep:
    """Without a usable policy, a valid active.json wins; a broken one is skipped."""

    def test_valid_pointer(self, home: Path, write_active: Callable[..., Path]) -> None:
        write_active(home / "models", "models/run_002")

        result = _resolve(home, "--explain")

        assert result.code == 0
        assert result.stderr == ""
        assert _rows(result) == {
            **BEST_MODEL_ROWS,
            "resolved by": "active",
            "model_dir": "models/run_002",
        }
        assert _trail(result) == [NO_OVERRIDE, NO_POLICY]

    def test_says_the_pointer_is_deprecated(
        self, home: Path, write_active: Callable[..., Path]
    ) -> None:
        write_active(home / "models", "models/run_002")

        result = _resolve(home)

        assert "deprecated" in result.stdout + result.stderr

    @pytest.mark.parametrize(
        ("content", "code", "reason"),
        [
            pytest.param(
                "nope",
                "invalid",
                "active: models/active.json is not valid JSON: Expecting value at line 1 column 1",
                id="not-json",
            ),
            pytest.param(
                '{"model_dir": "models/run_002"}',
                "invalid",
                'active: models/active.json is invalid: /selected_at: "selected_at" is required '
                "but missing",
                id="schema-error",
            ),
            pytest.param(
                '{"model_dir": "models/run_009", "selected_at": "2026-01-31T12:00:00+00:00", '
                '"policy_version": "v1"}',
                "unusable",
                "active: models/active.json points at models/run_009, which is not a usable "
                "bundle: models/run_009 does not exist",
                id="missing-bundle",
            ),
        ],
    )
    def test_broken_pointer_falls_back_to_best_model(
        self, home: Path, content: str, code: str, reason: str
    ) -> None:
        (home / "models" / "active.json").write_text(content, encoding="utf-8")

        resolved = _resolved(home)

        assert (resolved["step"], resolved["model_dir"]) == ("best-model", "models/run_001")
        trail = [f"{e['step']}: {e['reason']}" for e in resolved["trail"]]
        assert trail[:2] == [NO_OVERRIDE, NO_POLICY]
        assert trail[2].startswith(reason)
        assert len(trail) == 3
        assert resolved["trail"][2]["code"] == code


def _bundle(
    models: Path, make_bundle: Callable[..., Path], name: str, spec: tuple[Any, ...]
) -> None:
    macro, weighted, created = spec
    extra = {} if created is None else {"created_at": created}
    make_bundle(models, name, metrics={"macro_f1": macro, "weighted_f1": weighted}, **extra)


class TestBestModelStep:
    """Highest macro_f1, then weighted_f1, then the newer created_at; broken bundles skipped."""

    # The winner is always "run_b": the folder-name fallback alone would pick run_a.
    @pytest.mark.parametrize(
        ("run_a", "run_b"),
        [
            pytest.param(
                (0.80, 0.99, "2026-03-01T00:00:00+00:00"),
                (0.81, 0.10, "2026-01-01T00:00:00+00:00"),
                id="macro-f1",
            ),
            pytest.param(
                (0.80, 0.85, "2026-03-01T00:00:00+00:00"),
                (0.80, 0.86, "2026-01-01T00:00:00+00:00"),
                id="weighted-f1-breaks-a-macro-tie",
            ),
            pytest.param(
                (0.80, 0.85, "2026-01-01T00:00:00+00:00"),
                (0.80, 0.85, "2026-02-01T00:00:00+00:00"),
                id="created-at-breaks-a-full-tie",
            ),
            pytest.param(
                (0.80, 0.85, "2026-02-01T00:30:00+01:00"),
                (0.80, 0.85, "2026-01-31T23:45:00Z"),
                id="created-at-compared-as-instants",
            ),
            pytest.param(
                (0.80, 0.85, None),
                (0.80, 0.85, "2020-01-01T00:00:00+00:00"),
                id="created-at-beats-none",
            ),
        ],
    )
    def test_ranking(
        self,
        bare_home: Path,
        make_bundle: Callable[..., Path],
        run_a: tuple[Any, ...],
        run_b: tuple[Any, ...],
    ) -> None:
        models = bare_home / "models"
        _bundle(models, make_bundle, "run_a", run_a)
        _bundle(models, make_bundle, "run_b", run_b)

        resolved = _resolved(bare_home)

        assert resolved["step"] == "best-model"
        assert resolved["model_dir"] == "models/run_b"
        assert [b["bundle_id"] for b in resolved["selection"]["ranked"]] == ["run_b", "run_a"]

    def test_broken_bundles_among_good_ones(
        self, bare_home: Path, make_bundle: Callable[..., Path]
    ) -> None:
        models = bare_home / "models"
        _bundle(models, make_bundle, "good", (0.5, 0.5, None))
        (models / "empty").mkdir()
        (models / "not_json").mkdir()
        (models / "not_json" / "metadata.json").write_text("{", encoding="utf-8")
        make_bundle(models, "no_metrics")
        make_bundle(models, "bad_metrics", metrics={"macro_f1": 1.5, "weighted_f1": 0.99})
        (models / ".partial").mkdir()  # hidden: an unfinished write, not a bundle
        (models / "notes.txt").write_text("not a bundle\n", encoding="utf-8")

        result = _resolve(bare_home)
        resolved = _resolved(bare_home)

        assert result.code == 0
        assert result.stderr == ""
        assert _rows(result)["model_dir"] == "models/good"
        excluded = {e["bundle_id"]: e["reason"] for e in resolved["selection"]["excluded"]}
        assert excluded == {
            "bad_metrics": "models/bad_metrics/metrics.json is invalid against "
            "model_metrics.v1.json: /macro_f1: 1.5 is greater than the maximum of 1 (expected "
            "a probability between 0 and 1)",
            "empty": "models/empty/metadata.json does not exist",
            "no_metrics": "models/no_metrics/metrics.json does not exist",
            "not_json": "models/not_json/metadata.json is not valid JSON: Expecting property "
            "name enclosed in double quotes at line 1 column 2",
        }

    def test_no_bundles_at_all(self, bare_home: Path, snapshot: Any) -> None:
        before = tree_bytes(bare_home)

        result = _resolve(bare_home, "--explain")

        assert result.code == 1
        assert result.stdout == ""
        assert result.stderr.splitlines() == [
            f"taskclf: error: no model bundle could be resolved in {bare_home / 'models'}:",
            f"  {NO_OVERRIDE}",
            f"  {NO_POLICY}",
            f"  {NO_ACTIVE}",
            "  best-model: no valid, compatible model bundle in models",
            "fix: train a model bundle into models/<run_id>/ (metadata.json and metrics.json), "
            "or repair the files above; then "
            "`taskclf policy create --model-dir models/<run_id>`",
        ]
        assert result.seen(bare_home) == snapshot
        assert tree_bytes(bare_home) == before

    def test_no_models_folder(self, tmp_path: Path) -> None:
        result = _resolve(tmp_path)

        assert result.code == 1
        assert "no model bundle could be resolved" in result.stderr
        assert not (tmp_path / "models").exists()

    def test_only_broken_things_lists_every_reason(
        self,
        bare_home: Path,
        make_bundle: Callable[..., Path],
        write_policy: Callable[..., Path],
        write_active: Callable[..., Path],
    ) -> None:
        models = bare_home / "models"
        make_bundle(models, "no_metrics")
        write_policy(models)
        write_active(models, "models/run_001")

        text = _resolve(bare_home)
        report = _resolve(bare_home, "--format", "json").json()

        assert text.code == 1
        assert text.stderr.splitlines()[1:6] == [
            f"  {NO_OVERRIDE}",
            "  policy: policy's model_dir models/run_001 does not exist; policy's "
            "calibrator_store_dir artifacts/calibrator_store does not exist; its "
            "reject_threshold 0.62 was tuned on calibrated scores, so the policy is not used "
            "without its calibrator store",
            "  active: models/active.json points at models/run_001, which is not a usable "
            "bundle: models/run_001 does not exist",
            "  best-model: no valid, compatible model bundle in models (1 excluded)",
            "excluded bundles:",
        ]
        assert "  models/no_metrics: models/no_metrics/metrics.json does not exist" in (
            text.stderr.splitlines()
        )
        assert report["ok"] is False
        details = report["error"]["details"]
        assert [(e["step"], e["code"]) for e in details["trail"]] == [
            ("override", "not-given"),
            ("policy", "disk-check"),
            ("active", "unusable"),
            ("best-model", "no-bundle"),
        ]
        assert [e["bundle_id"] for e in details["excluded"]] == ["no_metrics"]


class TestJsonOutput:
    """--format json prints one object: command, ok, policy_file and the resolved config."""

    def test_shape_for_a_policy(self, home: Path, write_policy: Callable[..., Path]) -> None:
        write_policy(home / "models")

        result = _resolve(home, "--format", "json", "--explain")

        assert result.code == 0
        assert result.stderr == ""
        report = result.json()
        assert list(report) == ["command", "ok", "policy_file", "resolved"]
        assert report["command"] == "policy resolve"
        assert report["ok"] is True
        assert report["policy_file"] == str(home / "models" / POLICY_NAME)
        resolved = report["resolved"]
        assert {
            key: resolved[key]
            for key in (
                "step",
                "bundle_id",
                "model_dir",
                "schema_hash",
                "label_set",
                "reject_threshold",
                "per_user_reject_thresholds",
                "calibrator_store_dir",
                "calibration_method",
            )
        } == {
            "step": "policy",
            "bundle_id": "run_001",
            "model_dir": "models/run_001",
            "schema_hash": EXAMPLE_SCHEMA_HASH,
            "label_set": EXAMPLE_LABELS,
            "reject_threshold": 0.62,
            "per_user_reject_thresholds": {},
            "calibrator_store_dir": STORE,
            "calibration_method": "temperature",
        }
        assert resolved["models_dir"] == str(home / "models")
        assert resolved["model_path"] == str(home / "models" / "run_001")
        assert resolved["calibrator_store_path"] == str(home / STORE)
        assert resolved["policy"]["model_dir"] == "models/run_001"
        assert resolved["trail"] == [
            {"step": "override", "code": "not-given", "reason": "no model_dir override given"}
        ]
        assert resolved["selection"] is None

    def test_shape_for_best_model(self, home: Path) -> None:
        resolved = _resolved(home)

        assert resolved["step"] == "best-model"
        assert resolved["policy"] is None
        assert resolved["calibration_method"] is None
        assert resolved["calibration"] == "identity"
        assert resolved["policy_per_user_reject_thresholds"] is None
        assert resolved["calibrator_store_dir"] is None
        assert [(e["step"], e["code"]) for e in resolved["trail"]] == [
            ("override", "not-given"),
            ("policy", "missing"),
            ("active", "missing"),
        ]
        assert resolved["selection"]["best"]["bundle_id"] == "run_001"
        # The bundle's advisory threshold (0.6) is not used without a policy.
        assert resolved["metadata"]["reject_threshold"] == 0.6
        assert resolved["reject_threshold"] == 0.55

    def test_json_for_active(self, home: Path, write_active: Callable[..., Path]) -> None:
        write_active(home / "models", "models/run_002")

        resolved = _resolved(home)

        assert (resolved["step"], resolved["model_dir"]) == ("active", "models/run_002")

    def test_policy_file_follows_models_dir(self, tmp_path: Path, home: Path) -> None:
        result = run_cli(
            "policy", "resolve", "--models-dir", home / "models", "--format", "json", cwd=tmp_path
        )

        assert result.code == 0
        assert result.json()["policy_file"] == str(home / "models" / POLICY_NAME)

    def test_nothing_is_written(self, home: Path, policy_document: dict[str, Any]) -> None:
        write_json(home / "models" / POLICY_NAME, policy_document)
        before = tree_bytes(home)

        assert _resolve(home, "--explain").code == 0
        assert tree_bytes(home) == before
