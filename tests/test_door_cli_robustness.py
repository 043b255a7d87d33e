"""Issue 8, findings 12 and 14: the command line never shows a traceback.

Exit codes: 0 ok, 1 invalid / could not complete, 2 usage, 130 interrupted.
"""

from __future__ import annotations

import json
import random
import re
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


def _takeover_line() -> int:
    """The line of the entry module that takes SIGINT over (its first statement that runs code)."""
    source = (Path(taskclf.__file__).parent / "cli" / "entry.py").read_text().splitlines()
    return next(
        number for number, line in enumerate(source, start=1) if line.startswith("_signal.signal(")
    )


_FRAME = re.compile(r'^\s*File "(?P<file>[^"]+)", line (?P<line>\d+), in (?P<where>\S+)')


def _interrupted_inside_taskclf(stderr: str) -> bool:
    """Whether ``stderr`` is Python's report of a Ctrl-C that landed in taskclf's own code.

    A SIGINT in the few milliseconds before taskclf takes SIGINT over is
    Python's to report: while the interpreter and pip's script wrapper start,
    while the two package ``__init__`` modules (a docstring and a version)
    run, and before the entry module's first statement (``line 0``). From
    that statement on, taskclf must handle it. So a traceback counts against
    taskclf only when it has a frame in the package past those.
    """
    package = str(Path(taskclf.__file__).parent)
    takeover = _takeover_line()
    for line in stderr.splitlines():
        frame = _FRAME.match(line)
        if frame is None or not frame["file"].startswith(package):
            continue
        name = Path(frame["file"]).name
        at_module_level = frame["where"] == "<module>"
        if at_module_level and name == "__init__.py":
            continue
        if at_module_level and name == "entry.py" and int(frame["line"]) <= takeover:
            continue
        return True
    return False


class TestInterruptReportFilter:
    """The filter tells Python's start-up reports from a Ctrl-C that taskclf should handle."""

    def test_frames(self) -> None:
        package = Path(taskclf.__file__).parent

        def report(file: Path, line: int, where: str = "<module>") -> str:
            frame = f'  File "{file}", line {line}, in {where}'
            return f"Traceback (most recent call last):\n{frame}\nKeyboardInterrupt\n"

        assert not _interrupted_inside_taskclf(report(package / "cli" / "entry.py", 0))
        assert not _interrupted_inside_taskclf(report(package / "__init__.py", 7))
        assert _interrupted_inside_taskclf(
            report(package / "cli" / "entry.py", _takeover_line() + 1)
        )
        assert _interrupted_inside_taskclf(report(package / "cli" / "main.py", 1, "main"))


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
            if stderr.strip() == "KeyboardInterrupt" or (
                "Traceback" in stderr and not _interrupted_inside_taskclf(stderr)
            ):
                continue  # before taskclf took SIGINT over: Python's own report
            # Death by the signal itself (before Python's handler exists) is what a shell
            # reports as 130 too.
            if child.returncode not in (0, 130, -signal.SIGINT):
                bad.append(f"{args}: exit {child.returncode}: {stderr[-300:]!r}")
            if "Traceback" in stderr or len(stderr.strip().splitlines()) > 1:
                bad.append(f"{args}: stderr {stderr[-300:]!r}")
        assert bad == [], bad[:5]


# A real SIGINT that lands while a class is being created: Python 3.11 wraps the
# KeyboardInterrupt its handler raises in a RuntimeError ("Error calling
# __set_name__ ..."), as when a Ctrl-C arrives while a module defines a dataclass.
_WRAPPED_INTERRUPT = """
import os, signal, sys
import taskclf.cli.entry as entry
import taskclf.cli.main as cli_main

class InterruptedWhileNamed:
    def __set_name__(self, owner, name):
        os.kill(os.getpid(), signal.SIGINT)
        for _ in range(100_000):  # the handler runs here, inside __set_name__
            pass

def define_a_class(*_args):
    class Record:
        field = InterruptedWhileNamed()
    return 0

setattr(cli_main, sys.argv[1], define_a_class)
sys.argv = ["taskclf", "policy", "show"]
entry.entry_point()
"""


class TestCtrlCWrappedByPython:
    """A Ctrl-C that Python delivers inside a RuntimeError is still a Ctrl-C: exit 130, one line."""

    @pytest.mark.parametrize("where", ["main", "run_command"])
    def test_interrupt_while_a_class_is_created(self, home: Path, where: str) -> None:
        import sys

        completed = subprocess.run(
            [sys.executable, "-c", _WRAPPED_INTERRUPT, where], cwd=home, env=cli_env(),
            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert completed.returncode == 130, completed.stderr
        assert completed.stderr == "taskclf: interrupted; nothing more was done\n"

    def test_a_plain_runtime_error_is_still_a_bug(self) -> None:
        from taskclf.cli.output import caused_by_interrupt

        try:
            try:
                raise ValueError("inner")
            except ValueError as inner:
                raise RuntimeError("outer") from inner
        except RuntimeError as exc:
            assert not caused_by_interrupt(exc)


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
