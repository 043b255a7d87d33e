"""``taskclf model list`` and ``taskclf model set-active``: the bundles in models/.

``list`` ranks the bundles as best-model selection does and names every excluded
bundle with its reason. ``set-active`` rewrites the legacy ``active.json``,
appends one line per change to ``active_history.jsonl``, refuses a bundle that
cannot be used (writing nothing) and warns when a valid policy overrides it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from test_cli_support import POLICY_NAME, Result, run_cli, tree_bytes

from conftest import write_json

POINTER_LINE = "Legacy active pointer (models/active.json): "
PRECEDENCE_WARNING = (
    "taskclf: warning: models/inference_policy.json takes precedence over "
    "models/active.json: inference keeps using models/run_001 until the policy is changed "
    "(taskclf policy create) or removed (taskclf policy remove)\n"
)


def _list(home: Path, *args: str) -> Result:
    return run_cli("model", "list", *args, cwd=home)


def _set_active(home: Path, *args: str | Path) -> Result:
    return run_cli("model", "set-active", *args, cwd=home)


def _history(models: Path) -> list[dict[str, Any]]:
    text = (models / "active_history.jsonl").read_text(encoding="utf-8")
    assert text.endswith("\n")
    return [json.loads(line) for line in text.splitlines()]


def _active(models: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((models / "active.json").read_text(encoding="utf-8"))
    return document


def _raw(result: Result) -> dict[str, Any]:
    """The run as a snapshot, not normalised: list prints no clock time and no tmp path,
    so the bundles' own created_at values stay visible."""
    return {"exit_code": result.code, "stdout": result.stdout, "stderr": result.stderr}


def _ranked_ids(result: Result) -> list[str]:
    """Bundle ids of the ranking table, in the order printed."""
    lines = result.stdout.splitlines()
    header = lines.index("   #  bundle   macro_f1  weighted_f1  created_at")
    ids = []
    for line in lines[header + 1 :]:
        if not line.startswith("   "):
            break
        ids.append(line.split()[1])
    return ids


class TestList:
    """Ranked bundles (best first), then excluded ones with reasons, then the pointer."""

    def test_example_home(self, home: Path, snapshot: Any) -> None:
        result = _list(home)

        assert result.code == 0
        assert result.stderr == ""
        assert result.stdout.splitlines() == [
            "Model bundles in models, best first:",
            "   #  bundle   macro_f1  weighted_f1  created_at",
            "   1  run_001  0.812     0.846        2026-01-15T09:30:00+00:00  <- best",
            "   2  run_002  0.797     0.839        2026-01-29T14:05:00+00:00",
            POINTER_LINE + "none",
        ]
        assert _raw(result) == snapshot

    def test_ties_and_exclusions(
        self, bare_home: Path, make_bundle: Callable[..., Path], snapshot: Any
    ) -> None:
        models = bare_home / "models"
        for name, macro, weighted, created in [
            ("alpha", 0.80, 0.85, "2026-01-01T00:00:00+00:00"),
            ("bravo", 0.80, 0.85, "2026-02-01T00:00:00+00:00"),
            ("charlie", 0.80, 0.86, None),
            ("delta", 0.90, 0.10, None),
            ("echo", 0.80, 0.85, None),
        ]:
            extra = {} if created is None else {"created_at": created}
            make_bundle(models, name, metrics={"macro_f1": macro, "weighted_f1": weighted}, **extra)
        make_bundle(models, "no_metrics")
        (models / "empty").mkdir()

        result = _list(bare_home)

        assert result.code == 0
        assert result.stderr == ""
        # macro_f1 first; weighted_f1 breaks its ties; then the newer created_at, and a
        # bundle without one after those with one.
        assert _ranked_ids(result) == ["delta", "charlie", "bravo", "alpha", "echo"]
        lines = result.stdout.splitlines()
        assert lines[2].endswith("  <- best")
        assert lines[3].endswith("  -")
        assert lines[7:] == [
            "Excluded (2):",
            "  models/empty: models/empty/metadata.json does not exist",
            "  models/no_metrics: models/no_metrics/metrics.json does not exist",
            POINTER_LINE + "none",
        ]
        assert _raw(result) == snapshot

    def test_json(self, home: Path, write_active: Callable[..., Path]) -> None:
        (home / "models" / "broken").mkdir()
        write_active(home / "models", "models/run_002", reason="canary")

        result = _list(home, "--format", "json")

        assert result.code == 0
        assert result.stderr == ""
        report = result.json()
        assert list(report) == [
            "command",
            "ok",
            "policy_file",
            "selection",
            "active",
            "active_error",
        ]
        assert (report["command"], report["ok"]) == ("model list", True)
        assert report["policy_file"] == str(home / "models" / POLICY_NAME)
        selection = report["selection"]
        assert selection["models_dir"] == str(home / "models")
        assert selection["best"]["bundle_id"] == "run_001"
        assert [b["bundle_id"] for b in selection["ranked"]] == ["run_001", "run_002"]
        assert {
            key: selection["ranked"][0][key]
            for key in ("model_dir", "valid", "reason", "macro_f1", "weighted_f1", "created_at")
        } == {
            "model_dir": "models/run_001",
            "valid": True,
            "reason": None,
            "macro_f1": 0.812,
            "weighted_f1": 0.846,
            "created_at": "2026-01-15T09:30:00+00:00",
        }
        assert selection["excluded"] == [
            {
                "bundle_id": "broken",
                "model_dir": "models/broken",
                "reason": "models/broken/metadata.json does not exist",
            }
        ]
        assert report["active"] == {
            "model_dir": "models/run_002",
            "selected_at": "2026-01-31T12:00:00+00:00",
            "policy_version": "v1",
            "reason": "canary",
        }

    def test_nothing_qualifies(self, bare_home: Path) -> None:
        result = _list(bare_home)

        assert result.code == 0
        assert result.stdout.splitlines() == [
            "Model bundles in models, best first:",
            "  (none qualifies)",
            POINTER_LINE + "none",
        ]

    def test_requirements_exclude_with_reasons(self, home: Path) -> None:
        result = _list(home, "--schema-hash", "other", "--label", "code", "--format", "json")

        assert result.code == 0
        selection = result.json()["selection"]
        assert selection["best"] is None
        assert selection["required_schema_hash"] == "other"
        assert selection["required_label_set"] == ["code"]
        assert selection["excluded"][0]["reason"] == (
            'schema_hash "f3a9c2d1e8b7" does not match the required "other"; label_set '
            '["browse", "code", "meeting", "write"] does not match the required ["code"]'
        )

    def test_shows_the_pointer(self, home: Path, write_active: Callable[..., Path]) -> None:
        write_active(home / "models", "models/run_002")

        result = _list(home)

        assert result.stdout.splitlines()[-1] == POINTER_LINE + "models/run_002"

    def test_invalid_pointer_is_not_shown_as_none(self, home: Path) -> None:
        (home / "models" / "active.json").write_text('{"model_dir": 5}', encoding="utf-8")

        result = _list(home)

        last = result.stdout.splitlines()[-1]
        assert last != POINTER_LINE + "none"
        assert "invalid" in last


class TestSetActive:
    """active.json points at the bundle; every change is one line of active_history.jsonl."""

    def test_first_pointer(self, home: Path, snapshot: Any) -> None:
        models = home / "models"

        result = _set_active(home, "--model-dir", "models/run_002", "--reason", "canary")

        assert result.code == 0, result.stderr
        assert result.stderr == ""
        assert result.stdout == ("models/active.json now points at models/run_002 (was nothing).\n")
        assert result.seen(home) == snapshot
        pointer = _active(models)
        assert pointer == {
            "model_dir": "models/run_002",
            "selected_at": pointer["selected_at"],
            "policy_version": "v1",
            "model_id": "run_002",
            "reason": "canary",
        }
        assert _history(models) == [{"at": pointer["selected_at"], "old": None, "new": pointer}]

    def test_history_has_one_line_per_change(self, home: Path) -> None:
        models = home / "models"

        first = _set_active(home, "--model-dir", "models/run_002")
        second = _set_active(home, "--model-dir", "models/run_001")

        assert (first.code, second.code) == (0, 0)
        assert second.stdout == (
            "models/active.json now points at models/run_001 (was models/run_002).\n"
        )
        history = _history(models)
        assert len(history) == 2
        assert [list(line) for line in history] == [["at", "old", "new"]] * 2
        assert history[0]["old"] is None
        assert history[1]["old"] == history[0]["new"]
        assert history[1]["new"] == _active(models)
        assert history[1]["at"] == history[1]["new"]["selected_at"]
        assert history[1]["new"]["model_dir"] == "models/run_001"
        # Inference now follows the pointer (no policy in this home).
        resolved = run_cli("policy", "resolve", "--format", "json", cwd=home).json()["resolved"]
        assert (resolved["step"], resolved["model_dir"]) == ("active", "models/run_001")

    def test_an_invalid_old_pointer_is_logged_as_null(self, home: Path) -> None:
        (home / "models" / "active.json").write_text("nope", encoding="utf-8")

        result = _set_active(home, "--model-dir", "models/run_002")

        assert result.code == 0
        assert "(was nothing)" in result.stdout
        assert _history(home / "models")[0]["old"] is None

    def test_absolute_path_is_stored_relative(self, tmp_path: Path, home: Path) -> None:
        result = run_cli(
            "model",
            "set-active",
            "--home",
            home,
            "--model-dir",
            home / "models" / "run_001",
            cwd=tmp_path,
        )

        assert result.code == 0, result.stderr
        assert _active(home / "models")["model_dir"] == "models/run_001"

    def test_json(self, home: Path) -> None:
        result = _set_active(home, "--model-dir", "models/run_002", "--format", "json")

        assert result.code == 0
        assert result.stderr == ""
        report = result.json()
        assert list(report) == ["command", "ok", "policy_file", "change", "warning"]
        assert (report["command"], report["ok"], report["warning"]) == (
            "model set-active",
            True,
            None,
        )
        assert report["change"] == _history(home / "models")[0]

    def test_model_dir_is_required(self, home: Path) -> None:
        result = _set_active(home)

        assert result.code == 2
        assert "the following arguments are required: --model-dir" in result.stderr
        assert not (home / "models" / "active.json").exists()


class TestSetActiveWithPolicy:
    """A valid policy takes precedence: set-active still writes, and warns about it."""

    def test_warns(self, home: Path, write_policy: Callable[..., Path], snapshot: Any) -> None:
        write_policy(home / "models")

        result = _set_active(home, "--model-dir", "models/run_002")

        assert result.code == 0
        assert result.stdout == ("models/active.json now points at models/run_002 (was nothing).\n")
        assert result.stderr == PRECEDENCE_WARNING
        assert _active(home / "models")["model_dir"] == "models/run_002"
        assert len(_history(home / "models")) == 1
        assert result.seen(home) == snapshot

    def test_warning_in_json(self, home: Path, write_policy: Callable[..., Path]) -> None:
        write_policy(home / "models")

        result = _set_active(home, "--model-dir", "models/run_002", "--format", "json")

        assert result.code == 0
        assert result.stderr == PRECEDENCE_WARNING
        assert result.json()["warning"] == PRECEDENCE_WARNING.removeprefix(
            "taskclf: warning: "
        ).removesuffix("\n")

    def test_no_warning_for_a_policy_that_is_not_json(self, home: Path) -> None:
        (home / "models" / POLICY_NAME).write_text("{", encoding="utf-8")

        result = _set_active(home, "--model-dir", "models/run_002")

        assert result.code == 0
        assert result.stderr == ""

    def test_no_precedence_claim_for_a_policy_failing_disk_checks(
        self, home: Path, write_policy: Callable[..., Path]
    ) -> None:
        write_policy(home / "models", model_schema_hash="deadbeef")

        result = _set_active(home, "--model-dir", "models/run_002")
        resolved = run_cli("policy", "resolve", "--format", "json", cwd=home).json()["resolved"]

        assert result.code == 0
        assert (resolved["step"], resolved["model_dir"]) == ("active", "models/run_002")
        assert "inference keeps using models/run_001" not in result.stderr


def _no_folder(models: Path, make_bundle: Callable[..., Path]) -> None:
    pass


def _no_metadata(models: Path, make_bundle: Callable[..., Path]) -> None:
    (models / "bad").mkdir()


def _no_metrics(models: Path, make_bundle: Callable[..., Path]) -> None:
    make_bundle(models, "bad")


def _bad_metadata(models: Path, make_bundle: Callable[..., Path]) -> None:
    write_json(models / "bad" / "metadata.json", {"schema_hash": "h", "label_set": []})
    write_json(models / "bad" / "metrics.json", {"macro_f1": 0.5, "weighted_f1": 0.5})


def _a_file(models: Path, make_bundle: Callable[..., Path]) -> None:
    (models / "bad").write_text("not a folder\n", encoding="utf-8")


class TestSetActiveRefuses:
    """A bundle that cannot be used: exit 1 with the reason, and nothing is written."""

    @pytest.mark.parametrize(
        ("breaks", "message"),
        [
            pytest.param(
                _no_folder, "--model-dir models/bad: {home}/models/bad does not exist", id="none"
            ),
            pytest.param(
                _no_metadata,
                "models/bad is not a usable model bundle: models/bad/metadata.json does not exist",
                id="no-metadata",
            ),
            pytest.param(
                _no_metrics,
                "models/bad is not a usable model bundle: models/bad/metrics.json does not exist",
                id="no-metrics",
            ),
            pytest.param(
                _bad_metadata,
                "models/bad is not a usable model bundle: models/bad/metadata.json is invalid "
                "against model_metadata.v1.json: /label_set: [] should be non-empty",
                id="invalid-metadata",
            ),
            pytest.param(
                _a_file,
                "--model-dir models/bad: {home}/models/bad is a file; expected a folder",
                id="a-file",
            ),
        ],
    )
    def test_invalid_bundle(
        self,
        home: Path,
        make_bundle: Callable[..., Path],
        write_active: Callable[..., Path],
        breaks: Callable[..., None],
        message: str,
    ) -> None:
        write_active(home / "models", "models/run_001")
        breaks(home / "models", make_bundle)
        before = tree_bytes(home)

        result = _set_active(home, "--model-dir", "models/bad")

        assert result.code == 1
        assert result.stdout == ""
        assert result.stderr.startswith("taskclf: error: " + message.format(home=home))
        assert "Traceback" not in result.stderr
        assert tree_bytes(home) == before

    def test_outside_home(
        self, tmp_path: Path, home: Path, make_bundle: Callable[..., Path]
    ) -> None:
        make_bundle(tmp_path / "elsewhere", "run_x", metrics={"macro_f1": 1, "weighted_f1": 1})
        before = tree_bytes(home)

        result = _set_active(home, "--model-dir", tmp_path / "elsewhere" / "run_x")

        assert result.code == 1
        assert "is outside TASKCLF_HOME" in result.stderr
        assert tree_bytes(home) == before

    def test_reason_spells_values_as_json(self, home: Path) -> None:
        write_json(
            home / "models" / "bad" / "metadata.json", {"schema_hash": "", "label_set": ["a"]}
        )
        write_json(home / "models" / "bad" / "metrics.json", {"macro_f1": 0.5, "weighted_f1": 0.5})

        result = _set_active(home, "--model-dir", "models/bad")

        assert result.code == 1
        assert '/schema_hash: ""' in result.stderr

    def test_json(self, home: Path) -> None:
        (home / "models" / "bad").mkdir()
        before = tree_bytes(home)

        result = _set_active(home, "--model-dir", "models/bad", "--format", "json")

        assert result.code == 1
        assert result.stderr == ""
        report = result.json()
        assert report["ok"] is False
        assert report["error"] == {
            "message": "models/bad is not a usable model bundle: "
            "models/bad/metadata.json does not exist",
            "details": {
                "model_dir": "models/bad",
                "reason": "models/bad/metadata.json does not exist",
            },
        }
        assert tree_bytes(home) == before
