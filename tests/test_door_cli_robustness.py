"""Issue 8, findings 12 and 14: the command line never shows a traceback.

Exit codes: 0 ok, 1 invalid / could not complete, 2 usage, 130 interrupted.
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

import taskclf
from door_support import assert_clean, run_taskclf
from taskclf.core.inference_policy import validate_policy_document
from test_cli_support import cli_env

from conftest import console_script, write_json


class TestHomeValues:
    """Unusable --home / TASKCLF_HOME values are usage errors with a message."""

    def test_home_component_over_255_bytes(self, tmp_path: Path) -> None:
        result = run_taskclf("--home", tmp_path / ("h" * 300), "policy", "show", cwd=tmp_path)
        assert_clean(result)
        assert result.code == 2
        assert "--home" in result.stderr

    def test_models_dir_component_over_255_bytes(self, home: Path) -> None:
        result = run_taskclf("--models-dir", home / ("m" * 300), "policy", "show", cwd=home)
        assert_clean(result)
        assert result.code == 2
        assert "--models-dir" in result.stderr

    @pytest.mark.parametrize("value", ["~nosuchuser", "~nosuchuser/models"])
    def test_taskclf_home_with_unknown_user(self, tmp_path: Path, value: str) -> None:
        result = run_taskclf("policy", "show", cwd=tmp_path, env={"TASKCLF_HOME": value})
        assert_clean(result)
        assert result.code in (1, 2)
        assert "TASKCLF_HOME" in result.stderr


class TestClosedStdout:
    """With stdout closed, create still writes the policy, says so on stderr and exits 1."""

    def test_create_with_stdout_closed(self, home: Path) -> None:
        completed = subprocess.run(
            ["bash", "-c", 'exec "$0" policy create --model-dir models/run_001 >&-',
             str(console_script())],
            cwd=home, env=cli_env(), stdin=subprocess.DEVNULL, capture_output=True,
            text=True, timeout=60, check=False,
        )  # fmt: skip
        assert "Traceback" not in completed.stderr, completed.stderr
        assert "internal error" not in completed.stderr
        assert completed.returncode == 1
        assert "stdout" in completed.stderr
        written = json.loads((home / "models" / "inference_policy.json").read_text())
        assert written["model_dir"] == "models/run_001"

    @pytest.mark.parametrize("args", [("policy", "show"), ("policy", "schema")])
    def test_read_only_commands_with_stdout_closed(self, home: Path, args: tuple[str, ...]) -> None:
        completed = subprocess.run(
            ["bash", "-c", 'exec "$0" "$@" >&-', str(console_script()), *args],
            cwd=home, env=cli_env(), stdin=subprocess.DEVNULL, capture_output=True,
            text=True, timeout=60, check=False,
        )  # fmt: skip
        assert "Traceback" not in completed.stderr, completed.stderr
        assert completed.returncode == 1
        assert len(completed.stderr.strip().splitlines()) == 1


def _traceback_through_taskclf(stderr: str) -> bool:
    """Whether ``stderr`` holds a traceback with a frame in taskclf's own code.

    A SIGINT in the few milliseconds before taskclf's first line runs (the
    interpreter's start-up and pip's script wrapper importing ``re``) is
    reported by Python itself; from the entry module's first line on, taskclf
    must handle it. A traceback whose frames are all outside the package is
    the former.
    """
    if "Traceback" not in stderr:
        return False
    frames = [line for line in stderr.splitlines() if line.strip().startswith('File "')]
    package = str(Path(taskclf.__file__).parent)
    return any(package in frame for frame in frames)


class TestCtrlCDuringStartUp:
    """SIGINT at any moment of a run ends it with 130 (or 0 when it had finished), quietly."""

    RUNS = 40

    def test_interrupted_runs(self, home: Path) -> None:
        rng = random.Random(8)
        bad: list[str] = []
        env = cli_env()
        for attempt in range(self.RUNS):
            args = ("policy", "show") if attempt % 2 == 0 else ("--help",)
            child = subprocess.Popen(
                [str(console_script()), *args], cwd=home, env=env, stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            )  # fmt: skip
            try:
                time.sleep(rng.uniform(0, 0.150))
                child.send_signal(signal.SIGINT)
                _, stderr = child.communicate(timeout=30)
            finally:
                if child.poll() is None:
                    child.kill()
                    child.communicate()
            if "Traceback" in stderr and not _traceback_through_taskclf(stderr):
                continue  # before taskclf's first line: Python's own report
            # Death by the signal itself (before Python's handler exists) is what a shell
            # reports as 130 too.
            if child.returncode not in (0, 130, -signal.SIGINT):
                bad.append(f"{args}: exit {child.returncode}: {stderr[-300:]!r}")
            if "Traceback" in stderr or len(stderr.strip().splitlines()) > 1:
                bad.append(f"{args}: stderr {stderr[-300:]!r}")
        assert bad == [], bad[:5]


class TestSchemaKeyPattern:
    """Only the exact key "$schema" is allowed: "$schema\\n" is an unknown key."""

    def test_library(self, policy_document: dict[str, Any]) -> None:
        assert validate_policy_document({**policy_document, "$schema": "x"}) == ()
        issues = validate_policy_document({**policy_document, "$schema\n": "x"})
        assert issues

    def test_validate_exit_1(self, home: Path, policy_document: dict[str, Any]) -> None:
        write_json(home / "models" / "inference_policy.json", {**policy_document, "$schema\n": "x"})
        result = run_taskclf("policy", "validate", "--no-disk-checks", cwd=home)
        assert_clean(result)
        assert result.code == 1
        assert "unknown key" in result.stdout
