"""Attacks on the reporters (``--format text|json|github``), run as a user and CI run taskclf.

Each test is one bug that was found: its docstring says what the user saw.
"""

from __future__ import annotations

import json
import os
import pty
import resource
import signal
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from test_cli_support import POLICY_NAME, cli_env, run_cli

from conftest import write_json


def _valid_policy(home: Path, policy_document: dict[str, Any]) -> Path:
    return write_json(home / "models" / POLICY_NAME, policy_document)


def _run(
    *args: str,
    cwd: Path,
    stdin: int | None = subprocess.DEVNULL,
    stdout: Any = subprocess.PIPE,
    stderr: Any = subprocess.PIPE,
    env: Mapping[str, str] | None = None,
    preexec_fn: Any = None,
) -> subprocess.CompletedProcess[bytes]:
    """Run ``python -m taskclf ARGS`` with the given standard streams (bytes, not text)."""
    return subprocess.run(
        [sys.executable, "-m", "taskclf", *args],
        cwd=cwd,
        env=cli_env(env),
        stdin=stdin,
        stdout=stdout,
        stderr=stderr,
        preexec_fn=preexec_fn,
        check=False,
        timeout=120,
    )


class TestUsageErrorFormat:
    """A usage error is reported in the format the command line asked for."""

    def test_abbreviated_format_option(self, home: Path) -> None:
        """``policy show --form json --bogus`` printed the usage error as text, no JSON.

        argparse accepts ``--form`` for ``--format`` (the run without ``--bogus``
        prints JSON), so a script reading stdout got nothing to parse.
        """
        for spelling in (["--form", "json"], ["--fo=json"]):
            result = run_cli("policy", "show", *spelling, "--bogus", cwd=home)

            assert result.code == 2
            report = result.json()
            assert report["ok"] is False
            assert report["error"]["kind"] == "usage"
            assert "--bogus" in report["error"]["message"]

    def test_last_format_wins(self, home: Path) -> None:
        """``--format json --format text --bogus`` printed JSON although text was asked last.

        argparse takes the last ``--format``; the usage error ignored a later ``text``.
        """
        result = run_cli(
            "policy", "show", "--format", "json", "--format", "text", "--bogus", cwd=home
        )

        assert result.code == 2
        assert result.stdout == ""
        assert "error: unrecognized arguments: --bogus" in result.stderr


class TestJsonIsOneObject:
    """``--format json`` prints exactly one JSON object on stdout, whatever else happens."""

    def test_remove_asks_on_stderr(self, home: Path, policy_document: dict[str, Any]) -> None:
        """``policy remove --format json`` on a terminal printed ``Remove ...? [y/N]`` on stdout.

        The question came before the JSON object, so stdout did not parse; the
        rollback question already went to stderr in JSON format.
        """
        policy = _valid_policy(home, policy_document)
        controller, terminal = pty.openpty()
        try:
            os.write(controller, b"n\n")
            completed = _run("policy", "remove", "--format", "json", cwd=home, stdin=terminal)
        finally:
            os.close(terminal)
            os.close(controller)

        assert completed.returncode == 0, completed.stderr
        report = json.loads(completed.stdout)
        assert (report["ok"], report["removed"]) == (True, False)
        assert b"Remove models/inference_policy.json? [y/N] " in completed.stderr
        assert policy.exists()

    def test_warnings_with_stderr_closed(self, home: Path, policy_document: dict[str, Any]) -> None:
        """``policy history --format json 2>&-`` printed its warning on stdout, before the JSON.

        With stderr closed, Python's ``sys.stderr`` is ``None`` and ``print(file=None)``
        writes to stdout: the warning about a damaged record broke the JSON.
        """
        _valid_policy(home, policy_document)
        history = home / "models" / ".policy_history"
        history.mkdir()
        (history / "000001-none.json").write_text("garbage")

        completed = _run(
            "policy", "history", "--format", "json", cwd=home, preexec_fn=lambda: os.close(2)
        )

        assert completed.returncode == 0
        report = json.loads(completed.stdout)
        assert report["warnings"][0].startswith("skipping damaged history record")


def _stdout_holds(limit: int) -> Any:
    """A ``preexec_fn`` after which the child's files, stdout among them, hold ``limit`` bytes.

    Writing past the limit fails with EFBIG (SIGXFSZ is ignored), as a full disk fails.
    """

    def limited() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return limited


def _with_one_version(home: Path, policy_document: dict[str, Any]) -> None:
    """A policy whose history keeps one version (the policy before a ``policy set``)."""
    _valid_policy(home, policy_document)
    assert run_cli("policy", "set", "reject_threshold=0.7", cwd=home).code == 0


class TestFullStdout:
    """A stdout that cannot take the report is said in one line, whatever the format."""

    def test_history_show_to_a_full_file(
        self, home: Path, policy_document: dict[str, Any], tmp_path: Path
    ) -> None:
        """``policy history --show 1 > full-file`` said ``taskclf: error: File too large``.

        With PYTHONUNBUFFERED=1 (as many CI images set) the stored file is
        written straight to stdout's bytes; that failure was reported as the
        command's own error, not as the report that could not be written.
        """
        _with_one_version(home, policy_document)
        with (tmp_path / "out").open("wb") as out:
            completed = _run(
                "policy",
                "history",
                "--show",
                "1",
                cwd=home,
                stdout=out,
                env={"PYTHONUNBUFFERED": "1"},
                preexec_fn=_stdout_holds(0),
            )

        assert completed.returncode == 1
        assert completed.stderr.decode() == (
            "taskclf: could not write the report to stdout (File too large); "
            "whatever the command did before is done\n"
        )

    @pytest.mark.parametrize("output_format", ["text", "json", "github"])
    def test_report_cut_short_is_not_success(
        self, home: Path, policy_document: dict[str, Any], tmp_path: Path, output_format: str
    ) -> None:
        """With PYTHONUNBUFFERED=1, a stdout file that filled up mid-report gave exit 0.

        The file held the first 50 bytes of the report (half a JSON object) and
        nothing said the rest was lost: Python's unbuffered text stdout drops
        what a short write leaves over.
        """
        _valid_policy(home, policy_document)
        with (tmp_path / "out").open("wb") as out:
            completed = _run(
                "policy",
                "show",
                "--format",
                output_format,
                cwd=home,
                stdout=out,
                env={"PYTHONUNBUFFERED": "1"},
                preexec_fn=_stdout_holds(50),
            )

        assert (tmp_path / "out").stat().st_size == 50
        assert completed.returncode == 1
        assert completed.stderr.decode() == (
            "taskclf: could not write the report to stdout (File too large); "
            "whatever the command did before is done\n"
        )


class TestGitHubWorkflowCommands:
    """Under ``--format github`` no text from a file reaches the runner as a workflow command."""

    def test_history_show_does_not_run_a_stored_files_commands(self, home: Path) -> None:
        """``policy history --show 1 --format github`` ran the stored file's lines as commands.

        A broken policy holding ``::error file=...::forged`` (or ``::add-mask::``)
        was replaced and kept in the history; printing it raw under ``--format
        github`` made the runner turn its lines into annotations and commands.
        """
        policy = home / "models" / POLICY_NAME
        stored = b"{\n::error file=models/run_001/metadata.json,line=1::forged\n::add-mask::x\n}\n"
        policy.write_bytes(stored)
        assert run_cli("policy", "create", "--model-dir", "models/run_001", cwd=home).code == 0

        text = _run("policy", "history", "--show", "1", cwd=home)
        github = _run("policy", "history", "--show", "1", "--format", "github", cwd=home)

        assert text.stdout == stored  # text keeps the file byte for byte
        assert github.returncode == 0, github.stderr
        lines = github.stdout.decode().splitlines()
        start, token = lines[0].split("::stop-commands::")
        assert start == "" and len(token) >= 16 and token not in stored.decode()
        assert lines[1:-1] == stored.decode().splitlines()
        assert lines[-1] == f"::{token}::"
