"""``taskclf policy remove | init | template | schema``: whole-file commands."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from test_cli_support import (
    EXAMPLE_FALLBACK,
    POLICY_NAME,
    REPO_ROOT,
    Result,
    cli_env,
    run_cli,
    tree_bytes,
)

from conftest import write_json

TEMPLATE_FILE = REPO_ROOT / "configs" / "inference_policy.template.json"
SCHEMA_FILE = REPO_ROOT / "schemas" / "inference_policy.v1.json"
TEMPLATE_PATH = "configs/inference_policy.template.json"


@pytest.fixture
def policy(home: Path, policy_document: dict[str, Any]) -> Path:
    """A valid policy in the example home."""
    return write_json(home / "models" / POLICY_NAME, policy_document)


def _run_on_a_terminal(*args: str, cwd: Path, answer: str) -> Result:
    """Run taskclf with a pseudo-terminal as stdin, with ``answer`` already typed."""
    controller, terminal = pty.openpty()
    try:
        os.write(controller, answer.encode())
        completed = subprocess.run(
            [sys.executable, "-m", "taskclf", *args],
            cwd=cwd,
            env=cli_env(),
            stdin=terminal,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
    finally:
        os.close(terminal)
        os.close(controller)
    return Result(completed.stdout, completed.stderr, completed.returncode)


class TestRemove:
    """remove deletes the policy only when confirmed, and says what inference uses next."""

    @pytest.mark.parametrize("flag", ["--yes", "-y"])
    def test_with_yes(self, home: Path, policy: Path, flag: str, snapshot: Any) -> None:
        result = run_cli("policy", "remove", flag, cwd=home)

        assert result.code == 0
        assert result.stderr == ""
        assert not policy.exists()
        assert result.stdout.splitlines() == [
            "Removed models/inference_policy.json.",
            f"Now {EXAMPLE_FALLBACK}.",
        ]
        assert result.seen(home) == snapshot

    def test_refuses_without_yes_when_stdin_is_not_a_terminal(
        self, home: Path, policy: Path, snapshot: Any
    ) -> None:
        before = policy.read_bytes()

        result = run_cli("policy", "remove", cwd=home)

        assert result.code == 2
        assert result.stdout == ""
        assert result.stderr == (
            "taskclf: error: not removing models/inference_policy.json without confirmation; "
            "pass --yes\n"
        )
        assert policy.read_bytes() == before
        assert result.seen(home) == snapshot

    def test_a_piped_yes_is_not_a_confirmation(self, home: Path, policy: Path) -> None:
        result = run_cli("policy", "remove", cwd=home, input="y\n")

        assert result.code == 2
        assert policy.exists()

    def test_terminal_answer_yes(self, home: Path, policy: Path) -> None:
        result = _run_on_a_terminal("policy", "remove", cwd=home, answer="y\n")

        assert result.code == 0, result.stderr
        assert result.stdout.startswith(
            "Remove models/inference_policy.json? [y/N] Removed models/inference_policy.json.\n"
        )
        assert not policy.exists()

    @pytest.mark.parametrize("answer", ["n\n", "\n", "maybe\n"])
    def test_terminal_answer_other(self, home: Path, policy: Path, answer: str) -> None:
        before = policy.read_bytes()

        result = _run_on_a_terminal("policy", "remove", cwd=home, answer=answer)

        assert result.code == 0, result.stderr
        assert result.stdout == "Remove models/inference_policy.json? [y/N] Not removed.\n"
        assert policy.read_bytes() == before

    def test_missing_file(self, home: Path) -> None:
        result = run_cli("policy", "remove", "--yes", cwd=home)

        assert result.code == 0
        assert (
            result.stdout
            == "No inference policy at models/inference_policy.json; nothing to remove.\n"
        )

    def test_missing_file_needs_no_confirmation(self, home: Path) -> None:
        result = run_cli("policy", "remove", cwd=home)

        assert result.code == 0
        assert "nothing to remove" in result.stdout

    def test_removes_an_invalid_policy(self, home: Path) -> None:
        policy = home / "models" / POLICY_NAME
        policy.write_bytes(b"\xff not json")

        result = run_cli("policy", "remove", "--yes", cwd=home)

        assert result.code == 0
        assert not policy.exists()

    def test_removes_a_symlink_loop(self, home: Path) -> None:
        policy = home / "models" / POLICY_NAME
        policy.symlink_to(POLICY_NAME)

        result = run_cli("policy", "remove", "--yes", cwd=home)

        assert result.code == 0
        assert not policy.is_symlink()

    def test_folder_at_the_path_is_not_removed(self, home: Path) -> None:
        folder = home / "models" / POLICY_NAME
        folder.mkdir()
        (folder / "keep.txt").write_text("keep me\n")
        before = tree_bytes(home)

        result = run_cli("policy", "remove", "--yes", cwd=home)

        assert result.code == 1
        assert result.stderr == (
            "taskclf: error: models/inference_policy.json is a folder, not a policy file; "
            "nothing was removed. Look inside it and remove it by hand if it does not belong "
            "there\n"
        )
        assert tree_bytes(home) == before

    def test_json(self, home: Path, policy: Path) -> None:
        result = run_cli("policy", "remove", "--yes", "--format", "json", cwd=home)

        assert result.code == 0
        assert result.json() == {
            "command": "policy remove",
            "ok": True,
            "policy_file": str(policy),
            "removed": True,
            "fallback": EXAMPLE_FALLBACK,
        }

    def test_json_refusal(self, home: Path, policy: Path) -> None:
        result = run_cli("policy", "remove", "--format", "json", cwd=home)

        assert result.code == 2
        assert result.stderr == ""
        report = result.json()
        assert report["ok"] is False
        assert "pass --yes" in report["error"]["message"]


class TestInit:
    """init writes a schema-valid starter policy with placeholders, never over an existing one."""

    def test_writes_starter(self, home: Path, snapshot: Any) -> None:
        result = run_cli("policy", "init", cwd=home)

        assert result.code == 0
        assert result.stderr == ""
        assert result.seen(home) == snapshot
        document = json.loads((home / "models" / POLICY_NAME).read_text("utf-8"))
        assert document["model_dir"] == "models/<run_id>"
        assert document["model_schema_hash"] == "<schema_hash>"
        assert document["source"] == "starter-template"
        assert document["_help"]["paths_are_relative_to"] == str(home)
        # The starter is a valid policy; only its placeholders fail the disk checks.
        assert run_cli("policy", "validate", "--no-disk-checks", cwd=home).code == 0
        checked = run_cli("policy", "validate", cwd=home)
        assert checked.code == 1
        assert (
            "[model_dir_exists] Model directory does not exist: models/<run_id>" in checked.stdout
        )

    def test_refuses_to_overwrite(self, home: Path, policy: Path, snapshot: Any) -> None:
        before = policy.read_bytes()

        result = run_cli("policy", "init", cwd=home)

        assert result.code == 1
        assert result.stdout == ""
        assert "Pass --force to replace it" in result.stderr
        assert policy.read_bytes() == before
        assert result.seen(home) == snapshot

    def test_force_overwrites(self, home: Path, policy: Path) -> None:
        result = run_cli("policy", "init", "--force", cwd=home)

        assert result.code == 0
        assert json.loads(policy.read_text("utf-8"))["source"] == "starter-template"

    def test_refuses_to_overwrite_an_invalid_policy_too(self, home: Path) -> None:
        policy = home / "models" / POLICY_NAME
        policy.write_text("{")

        result = run_cli("policy", "init", cwd=home)

        assert result.code == 1
        assert policy.read_text() == "{"

    def test_creates_the_models_folder(self, tmp_path: Path) -> None:
        result = run_cli("policy", "init", "--home", "fresh", cwd=tmp_path)

        assert result.code == 0
        assert (tmp_path / "fresh" / "models" / POLICY_NAME).is_file()

    def test_json(self, home: Path) -> None:
        result = run_cli("policy", "init", "--format", "json", cwd=home)

        assert result.code == 0
        assert result.json() == {
            "command": "policy init",
            "ok": True,
            "policy_file": str(home / "models" / POLICY_NAME),
            "written": True,
        }


class TestTemplate:
    """template prints the canonical template; --output writes it; --check reports drift."""

    def test_prints_the_checked_in_template(self, tmp_path: Path) -> None:
        result = run_cli("policy", "template", cwd=tmp_path)

        assert result.code == 0
        assert result.stderr == ""
        assert result.stdout == TEMPLATE_FILE.read_text("utf-8")

    def test_output(self, tmp_path: Path) -> None:
        result = run_cli("policy", "template", "--output", "out/template.json", cwd=tmp_path)

        assert result.code == 0
        assert result.stdout == "Wrote the template to out/template.json.\n"
        assert (tmp_path / "out" / "template.json").read_bytes() == TEMPLATE_FILE.read_bytes()

    def test_check_up_to_date(self, tmp_path: Path) -> None:
        (tmp_path / "configs").mkdir()
        (tmp_path / TEMPLATE_PATH).write_bytes(TEMPLATE_FILE.read_bytes())

        result = run_cli("policy", "template", "--check", cwd=tmp_path)

        assert result.code == 0
        assert result.stdout == f"{TEMPLATE_PATH}: up to date.\n"

    def test_check_drift(self, tmp_path: Path, snapshot: Any) -> None:
        (tmp_path / "configs").mkdir()
        drifted = TEMPLATE_FILE.read_text("utf-8").replace(
            '"reject_threshold": 0.55,', '"reject_threshold": 0.5,'
        )
        (tmp_path / TEMPLATE_PATH).write_text(drifted, encoding="utf-8")

        result = run_cli("policy", "template", "--check", cwd=tmp_path)

        assert result.code == 1
        assert result.stderr == ""
        lines = result.stdout.splitlines()
        assert lines[0] == f"{TEMPLATE_PATH} differs from the rendered template:"
        assert f"--- {TEMPLATE_PATH}" in lines
        assert "+++ rendered template" in lines
        assert '-  "reject_threshold": 0.5,' in lines
        assert '+  "reject_threshold": 0.55,' in lines
        assert lines[-1] == f"Regenerate it with: taskclf policy template --output {TEMPLATE_PATH}"
        assert (tmp_path / TEMPLATE_PATH).read_text("utf-8") == drifted  # check only reads
        assert result.seen(tmp_path / "home") == snapshot

    def test_check_then_regenerate(self, tmp_path: Path) -> None:
        target = tmp_path / "t.json"
        target.write_text("{}\n")

        assert run_cli("policy", "template", "--check", "--output", target, cwd=tmp_path).code == 1
        assert run_cli("policy", "template", "--output", target, cwd=tmp_path).code == 0
        assert run_cli("policy", "template", "--check", "--output", target, cwd=tmp_path).code == 0

    def test_check_missing_file(self, tmp_path: Path) -> None:
        result = run_cli("policy", "template", "--check", cwd=tmp_path)

        assert result.code == 1
        assert result.stdout == ""
        assert result.stderr == (
            f"taskclf: error: {TEMPLATE_PATH} does not exist; create it with: "
            f"taskclf policy template --output {TEMPLATE_PATH}\n"
        )

    def test_check_json(self, tmp_path: Path) -> None:
        target = tmp_path / "t.json"
        target.write_text("{}\n")

        result = run_cli(
            "policy", "template", "--check", "--output", target, "--format", "json", cwd=tmp_path
        )

        assert result.code == 1
        report = result.json()
        assert (report["command"], report["ok"], report["up_to_date"]) == (
            "policy template",
            False,
            False,
        )
        assert report["diff"].startswith(f"--- {target}\n+++ rendered template\n")

    def test_in_the_repository_is_up_to_date(self) -> None:
        # The same drift check CI runs, on the repository's own checked-in copy.
        result = run_cli("policy", "template", "--check", cwd=REPO_ROOT)

        assert result.code == 0, result.stdout


class TestSchema:
    """schema prints (or writes) the exact bytes of schemas/inference_policy.v1.json."""

    def test_prints(self, tmp_path: Path) -> None:
        result = run_cli("policy", "schema", cwd=tmp_path)

        assert result.code == 0
        assert result.stderr == ""
        assert result.stdout.encode("utf-8") == SCHEMA_FILE.read_bytes()

    def test_output(self, tmp_path: Path) -> None:
        result = run_cli("policy", "schema", "--output", "editor/policy.schema.json", cwd=tmp_path)

        assert result.code == 0
        assert result.stdout == "Wrote the policy schema to editor/policy.schema.json.\n"
        written = tmp_path / "editor" / "policy.schema.json"
        assert written.read_bytes() == SCHEMA_FILE.read_bytes()

    def test_output_replaces_an_existing_file(self, tmp_path: Path) -> None:
        target = tmp_path / "schema.json"
        target.write_text("old")

        result = run_cli("policy", "schema", "--output", target, cwd=tmp_path)

        assert result.code == 0
        assert target.read_bytes() == SCHEMA_FILE.read_bytes()

    def test_output_into_a_file_instead_of_a_folder(self, tmp_path: Path) -> None:
        (tmp_path / "blocker").write_text("a file, not a folder\n")

        result = run_cli("policy", "schema", "--output", "blocker/schema.json", cwd=tmp_path)

        assert result.code == 1
        assert result.stdout == ""
        assert result.stderr.startswith("taskclf: error: ")
        assert "blocker" in result.stderr
        assert "Traceback" not in result.stderr
        assert (tmp_path / "blocker").read_text() == "a file, not a folder\n"
