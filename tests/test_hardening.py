"""Hostile and unusual inputs found in review: each must end in a clear message, never a
traceback, a hang, a write outside TASKCLF_HOME, or an invalid policy."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from taskclf.core.inference_policy import InferencePolicy, PolicySchemaError
from taskclf.core.schemas import POLICY_SCHEMA, validate_value
from test_cli_support import run_cli

from conftest import write_json

RUN_001 = ("--model-dir", "models/run_001")


class TestNotesCannotStandInForFields:
    """A note named like a field must not hide the field from the schema."""

    def test_field_named_note_is_refused(self) -> None:
        with pytest.raises(PolicySchemaError) as caught:
            InferencePolicy(
                model_dir="models/a",
                model_schema_hash="h",
                model_label_set=("a",),
                reject_threshold=7.0,
                annotations={"reject_threshold": 0.5},
            )
        pointers = [issue.pointer for issue in caught.value.issues]
        assert "/reject_threshold" in pointers

    def test_bad_field_is_seen_even_when_a_note_repeats_it(self) -> None:
        with pytest.raises(PolicySchemaError) as caught:
            InferencePolicy(
                model_dir="/etc/x",
                model_schema_hash="h",
                model_label_set=("a",),
                annotations={"model_dir": "models/ok"},
            )
        messages = [str(issue) for issue in caught.value.issues]
        assert any(m.startswith('/model_dir: "/etc/x" does not have') for m in messages)


class TestPatternsRefuseLineBreaks:
    """A line break must not let '..' or junk past the schema's patterns."""

    @pytest.mark.parametrize(
        "path", ["models/x\n/../../etc", "models/x\n", "models/\u0000x", "models/x\r"]
    )
    def test_relative_path(self, path: str) -> None:
        assert validate_value(POLICY_SCHEMA, "/properties/model_dir", path)

    def test_plain_relative_paths_still_pass(self) -> None:
        for path in ("models/run_001", "./models/a", "models/..hidden", "artifacts/store v2"):
            assert validate_value(POLICY_SCHEMA, "/properties/model_dir", path) == (), path

    def test_created_at_with_trailing_newline(self) -> None:
        assert validate_value(POLICY_SCHEMA, "/properties/created_at", "2026-01-01T00:00:00Z\n")
        assert validate_value(POLICY_SCHEMA, "/properties/created_at", "2026-01-01T00:00:00Z") == ()

    def test_validate_refuses_the_trick(self, tmp_path: Path) -> None:
        document = {
            "model_dir": "models/x\n/../../../etc",
            "model_schema_hash": "h",
            "model_label_set": ["a"],
            "reject_threshold": 0.5,
        }
        write_json(tmp_path / "models" / "inference_policy.json", document)
        result = run_cli("policy", "validate", "--no-disk-checks", cwd=tmp_path)
        assert result.code == 1
        assert "::/model_dir: " in result.stdout


class TestActiveHistoryStaysHome:
    """set-active never follows a symlink out of TASKCLF_HOME nor blocks on a FIFO."""

    def test_symlinked_history_is_refused(self, home: Path, tmp_path: Path) -> None:
        victim = tmp_path / "outside" / "victim"
        victim.parent.mkdir()
        (home / "models" / "active_history.jsonl").symlink_to(victim)
        result = run_cli("model", "set-active", "--model-dir", "models/run_002", cwd=home)
        assert result.code == 1
        assert "active_history.jsonl: cannot be opened for appending" in result.stderr
        assert not victim.exists()
        assert not (home / "models" / "active.json").exists()

    def test_fifo_history_does_not_hang(self, home: Path) -> None:
        os.mkfifo(home / "models" / "active_history.jsonl")
        result = run_cli("model", "set-active", "--model-dir", "models/run_002", cwd=home)
        assert result.code == 1
        assert "nothing was written" in result.stderr
        assert "Traceback" not in result.stderr


def _bundle_named_with_backslash(home: Path) -> None:
    odd = home / "models" / "run\\x"
    odd.mkdir()
    for name in ("metadata.json", "metrics.json"):
        shutil.copy(home / "models" / "run_001" / name, odd / name)
    # Make it the best bundle, so resolution picks it.
    write_json(odd / "metrics.json", {"macro_f1": 0.99, "weighted_f1": 0.99})


class TestUnnameableBundle:
    """A bundle folder whose name a policy cannot hold is never chosen; the next best is."""

    def test_tune_reject(self, home: Path) -> None:
        _bundle_named_with_backslash(home)
        scores = home / "s.jsonl"
        scores.write_text('{"label": "code", "predicted": "code", "confidence": 0.9}\n')
        result = run_cli("policy", "tune-reject", "--scores", "s.jsonl", cwd=home)
        assert result.code == 0, result.stderr
        assert "Model bundle: models/run_001 (resolved by best-model)" in result.stdout
        assert "run\\x" not in result.stdout
        assert "internal error" not in result.stderr

    def test_edit_seed(self, home: Path) -> None:
        _bundle_named_with_backslash(home)
        result = run_cli("policy", "edit", cwd=home, env={"EDITOR": "true"})
        assert result.code == 0, result.stderr
        assert "Seeded models/inference_policy.json from models/run_001" in result.stdout
        assert "internal error" not in result.stderr

    def test_model_list_says_why(self, home: Path) -> None:
        _bundle_named_with_backslash(home)
        result = run_cli("model", "list", cwd=home)
        assert result.code == 0
        assert "models/run\\x: its folder name cannot be named in a policy" in result.stdout


class TestEditReadsSafely:
    """edit reads the live policy without blocking and within the size limit."""

    def test_fifo_at_the_policy_path(self, home: Path) -> None:
        os.mkfifo(home / "models" / "inference_policy.json")
        result = run_cli("policy", "edit", cwd=home, env={"EDITOR": "true"})
        assert result.code == 1
        assert "is not a regular file" in result.stderr

    def test_interrupted_editor_keeps_the_copy(self, home: Path, tmp_path: Path) -> None:
        assert run_cli("policy", "create", *RUN_001, cwd=home).code == 0
        live = home / "models" / "inference_policy.json"
        before = live.read_bytes()
        editor = tmp_path / "interrupting-editor"
        editor.write_text('#!/bin/sh\nsed -i "s/0.6/0.7/" "$1"\nkill -INT $$\n')
        editor.chmod(0o755)
        result = run_cli("policy", "edit", cwd=home, env={"EDITOR": str(editor)})
        assert result.code == 1
        assert "Traceback" not in result.stderr
        assert "Your copy is kept at" in result.stderr
        kept = Path(result.stderr.split("Your copy is kept at ", 1)[1].split()[0])
        assert b'"reject_threshold": 0.7' in kept.read_bytes()
        assert live.read_bytes() == before
        shutil.rmtree(kept.parent)


class TestOptionValues:
    """Option values the schema refuses are usage errors naming the flag."""

    def test_empty_source(self, home: Path) -> None:
        result = run_cli("policy", "create", *RUN_001, "--source", "", cwd=home)
        assert result.code == 2
        assert "argument --source: " in result.stderr
        assert not (home / "models" / "inference_policy.json").exists()

    def test_negative_zero_threshold_is_written_as_zero(self, home: Path) -> None:
        result = run_cli("policy", "create", *RUN_001, "--reject-threshold", "-0", cwd=home)
        assert result.code == 0
        written = json.loads((home / "models" / "inference_policy.json").read_text())
        assert str(written["reject_threshold"]) == "0.0"

    @pytest.mark.parametrize("home_arg", ["does-not-exist", "a-file"])
    def test_home_must_be_a_folder(self, tmp_path: Path, home_arg: str) -> None:
        (tmp_path / "a-file").write_text("not a folder\n")
        result = run_cli("--home", home_arg, "policy", "show", cwd=tmp_path)
        assert result.code == 2
        problem = "does not exist" if home_arg == "does-not-exist" else "is not a folder"
        assert f"{problem}; pass --home" in result.stderr

    def test_schema_needs_no_home(self, tmp_path: Path) -> None:
        result = run_cli("--home", "does-not-exist", "policy", "schema", cwd=tmp_path)
        assert result.code == 0
        assert json.loads(result.stdout)["title"]


class TestRemove:
    """remove refuses a folder standing at the policy path."""

    def test_folder_at_policy_path(self, home: Path) -> None:
        (home / "models" / "inference_policy.json").mkdir()
        result = run_cli("policy", "remove", "--yes", cwd=home)
        assert result.code == 1
        assert "is a folder, not a policy file; nothing was removed" in result.stderr
        assert (home / "models" / "inference_policy.json").is_dir()


def _modules_after(argv: list[str]) -> set[str]:
    code = (
        "import sys, contextlib, io\n"
        "from taskclf.cli.main import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    main({argv!r})\n"
        "print('\\n'.join(sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    return set(result.stdout.split())


class TestStartUpImports:
    """--help, --version, completion and printing a schema import no validation library."""

    @pytest.mark.parametrize(
        "argv",
        [
            ["--help"],
            ["--version"],
            ["policy", "--help"],
            ["policy", "schema"],
            ["policy", "schema", "--list"],
            ["policy", "schema", "model_metadata.v1", "--bundled"],
            ["completion", "bash"],
        ],
    )
    def test_no_validation_library(self, argv: list[str]) -> None:
        modules = _modules_after(argv)
        assert "taskclf.cli.main" in modules
        assert not {"jsonschema", "referencing"} & modules
