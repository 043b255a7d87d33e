"""The ``taskclf`` command as a whole: entry points, help, where files live, output formats."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import taskclf
from taskclf.cli.main import build_parser
from test_cli_support import POLICY_NAME, Result, cli_env, run_cli

from conftest import console_script, write_json

# The subcommands this suite covers in detail (test_cli_create/inspect/files/cases).
POLICY_SUBCOMMANDS = (
    *("create", "show", "validate", "remove", "init", "template", "schema"),
    *("set", "diff", "apply", "history", "rollback"),
)


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _command_paths() -> list[tuple[str, ...]]:
    """Every command of the real parser, e.g. ("policy",), ("policy", "show"), ..."""
    paths = []
    for group, group_parser in _subcommands(build_parser()).items():
        paths.append((group,))
        paths.extend((group, name) for name in _subcommands(group_parser))
    return paths


def _help_cases() -> list[Any]:
    return [pytest.param(path, id=" ".join(path)) for path in _command_paths()]


def _run_script(*args: str, cwd: Path) -> Result:
    """Run the installed ``taskclf`` console script (not ``python -m``)."""
    completed = subprocess.run(
        [str(console_script()), *args],
        cwd=cwd,
        env=cli_env(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    return Result(completed.stdout, completed.stderr, completed.returncode)


@pytest.fixture
def policy(home: Path, policy_document: dict[str, Any]) -> Path:
    """A valid policy in the example home."""
    return write_json(home / "models" / POLICY_NAME, policy_document)


class TestEntryPoints:
    """``taskclf`` and ``python -m taskclf`` are the same program."""

    def test_version(self, tmp_path: Path) -> None:
        result = run_cli("--version", cwd=tmp_path)

        assert result == Result(f"taskclf {taskclf.__version__}\n", "", 0)

    def test_console_script_version(self, tmp_path: Path) -> None:
        assert _run_script("--version", cwd=tmp_path) == run_cli("--version", cwd=tmp_path)

    def test_console_script_runs_a_command_the_same_way(self, home: Path, policy: Path) -> None:
        script = _run_script("policy", "show", cwd=home)

        assert script.code == 0
        assert script == run_cli("policy", "show", cwd=home)

    def test_console_script_exit_code_on_failure(self, home: Path) -> None:
        (home / "models" / POLICY_NAME).write_text("[]")

        script = _run_script("policy", "validate", cwd=home)

        assert script.code == 1
        assert script == run_cli("policy", "validate", cwd=home)


class TestHelp:
    """--help lists every command and subcommand, and exits 0."""

    def test_top_level_lists_every_group(self, tmp_path: Path) -> None:
        result = run_cli("--help", cwd=tmp_path)

        assert result.code == 0
        assert result.stderr == ""
        assert result.stdout.startswith("usage: taskclf ")
        groups = [path[0] for path in _command_paths() if len(path) == 1]
        assert "policy" in groups
        for group in groups:
            assert f"\n    {group} " in result.stdout
        assert "exit codes:\n  0  success" in result.stdout

    def test_policy_help_lists_every_subcommand(self, tmp_path: Path) -> None:
        result = run_cli("policy", "--help", cwd=tmp_path)

        assert result.code == 0
        listed = result.stdout.split("subcommands:\n", 1)[1].split("\n\n", 1)[0]
        # After the SUBCOMMAND line, a name sits at column 4; wrapped help is indented further.
        names = [line.split()[0] for line in listed.splitlines()[1:] if line[4:5].strip()]
        parsed = [
            path[1] for path in _command_paths() if path[:1] == ("policy",) and len(path) == 2
        ]
        assert names == parsed
        assert set(POLICY_SUBCOMMANDS) <= set(names)

    @pytest.mark.parametrize("path", _help_cases())
    def test_every_command_has_help(self, tmp_path: Path, path: tuple[str, ...]) -> None:
        result = run_cli(*path, "--help", cwd=tmp_path)

        assert result.code == 0
        assert result.stderr == ""
        assert result.stdout.startswith(f"usage: taskclf {' '.join(path)} ")
        # The exit-code table keeps its layout (one code per line).
        assert "\nexit codes:\n  0  success\n  1  " in result.stdout

    @pytest.mark.parametrize("name", POLICY_SUBCOMMANDS)
    def test_policy_subcommand_help_text(self, tmp_path: Path, name: str, snapshot: Any) -> None:
        assert run_cli("policy", name, "--help", cwd=tmp_path).seen(tmp_path / "home") == snapshot


class TestUsageErrors:
    """Mistakes on the command line: exit 2, usage on stderr, nothing on stdout."""

    @pytest.mark.parametrize(
        ("args", "message"),
        [
            ((), "the following arguments are required: COMMAND"),
            (("policy",), "the following arguments are required: SUBCOMMAND"),
            (("policy", "destroy"), "invalid choice: 'destroy'"),
            (("polcy", "show"), "invalid choice: 'polcy'"),
            (("policy", "show", "--colour"), "unrecognized arguments: --colour"),
            (("policy", "show", "--format", "xml"), "argument --format: invalid choice: 'xml'"),
            (("policy", "remove", "--yes", "extra"), "unrecognized arguments: extra"),
        ],
        ids=[
            "no-command",
            "no-subcommand",
            "unknown-sub",
            "typo-group",
            "unknown-flag",
            "bad-format",
            "extra-argument",
        ],
    )
    def test_usage_error(self, home: Path, args: tuple[str, ...], message: str) -> None:
        result = run_cli(*args, cwd=home)

        assert result.code == 2
        assert result.stdout == ""
        assert result.stderr.startswith("usage: taskclf")
        assert message in result.stderr
        assert "Traceback" not in result.stderr


class TestDebug:
    """--debug adds a traceback to unexpected failures only; user errors stay one message."""

    def test_user_error_has_no_traceback(self, home: Path) -> None:
        result = run_cli("policy", "create", "--model-dir", "models/run_999", "--debug", cwd=home)

        assert result.code == 1
        assert result.stderr.startswith("taskclf: error: --model-dir models/run_999: ")
        assert "Traceback" not in result.stderr

    def test_os_error_shows_the_traceback(self, home: Path) -> None:
        (home / "models" / POLICY_NAME).mkdir()
        plain = run_cli("policy", "create", "--model-dir", "models/run_001", cwd=home)

        debug = run_cli("--debug", "policy", "create", "--model-dir", "models/run_001", cwd=home)

        assert (plain.code, debug.code) == (1, 1)
        assert "Traceback" not in plain.stderr
        assert debug.stderr.startswith("Traceback (most recent call last):\n")
        assert "UnsafeTargetError" in debug.stderr


# Ways to point taskclf at the example home: (current folder, arguments, environment).
# "@" stands for "policy show"; {home}, {tmp} and {other} are filled in by the test.
LOCATIONS = [
    pytest.param("{home}", ["@"], {}, id="cwd-default"),
    pytest.param("{tmp}", ["--home", "{home}", "@"], {}, id="home-before-command"),
    pytest.param("{tmp}", ["@", "--home", "{home}"], {}, id="home-after-subcommand"),
    pytest.param("{tmp}", ["@", "--home", "home"], {}, id="home-relative"),
    pytest.param("{tmp}", ["@", "--home", "~/home"], {"HOME": "{tmp}"}, id="home-tilde"),
    pytest.param("{tmp}", ["@"], {"TASKCLF_HOME": "{home}"}, id="env"),
    pytest.param("{tmp}", ["@"], {"TASKCLF_HOME": "home"}, id="env-relative"),
    pytest.param(
        "{tmp}", ["@", "--home", "{home}"], {"TASKCLF_HOME": "{other}"}, id="home-beats-env"
    ),
    pytest.param("{other}", ["@"], {"TASKCLF_HOME": "{home}"}, id="env-beats-cwd"),
    pytest.param("{tmp}", ["--models-dir", "{home}/models", "@"], {}, id="models-dir-before"),
    pytest.param("{tmp}", ["@", "--models-dir", "home/models"], {}, id="models-dir-after"),
    pytest.param(
        "{tmp}",
        ["@", "--home", "{other}", "--models-dir", "{home}/models"],
        {},
        id="models-dir-beats-home",
    ),
]


class TestWhereFilesLive:
    """--home, then $TASKCLF_HOME, then the current folder; --models-dir overrides both."""

    @pytest.mark.parametrize(("cwd", "args", "env"), LOCATIONS)
    def test_show_finds_the_policy(
        self, home: Path, policy: Path, cwd: str, args: list[str], env: dict[str, str]
    ) -> None:
        places = {"home": home, "tmp": home.parent, "other": home.parent / "other"}
        (places["other"] / "models").mkdir(parents=True)

        def fill(text: str) -> str:
            return text.format(**{name: str(path) for name, path in places.items()})

        argv = [
            part for arg in args for part in (["policy", "show"] if arg == "@" else [fill(arg)])
        ]
        result = run_cli(
            *argv,
            "--format",
            "json",
            cwd=Path(fill(cwd)),
            env={name: fill(value) for name, value in env.items()},
        )

        assert result.code == 0, result.stdout
        report = result.json()
        assert report["policy_file"] == str(policy)
        assert report["exists"] is True

    def test_models_dir_with_another_name(
        self, home: Path, policy_document: dict[str, Any]
    ) -> None:
        # Paths in the policy stay relative to the folder above the models folder.
        write_json(home / "deploy" / POLICY_NAME, policy_document)

        result = run_cli("policy", "show", "--models-dir", "deploy", cwd=home)

        assert result.code == 0, result.stdout
        assert result.stdout.startswith("Inference policy: deploy/inference_policy.json\n")
        assert "Disk checks: passed" in result.stdout

    def test_create_writes_into_taskclf_home(self, tmp_path: Path, home: Path) -> None:
        result = run_cli(
            "policy",
            "create",
            "--model-dir",
            "models/run_002",
            cwd=tmp_path,
            env={"TASKCLF_HOME": str(home)},
        )

        assert result.code == 0, result.stderr
        assert result.stdout.startswith("Wrote home/models/inference_policy.json\n")
        assert (home / "models" / POLICY_NAME).is_file()
        assert not (tmp_path / "models").exists()

    def test_create_with_models_dir(self, home: Path) -> None:
        result = run_cli(
            "--models-dir",
            home / "deploy",
            "policy",
            "create",
            "--model-dir",
            "models/run_002",
            cwd=home,
        )

        assert result.code == 0, result.stderr
        assert (home / "deploy" / POLICY_NAME).is_file()
        assert not (home / "models" / POLICY_NAME).exists()

    def test_home_that_does_not_exist(self, tmp_path: Path) -> None:
        result = run_cli("policy", "show", "--home", "nowhere", cwd=tmp_path)

        assert result.code == 2
        assert result.stderr == (
            f"taskclf: error: TASKCLF_HOME {tmp_path / 'nowhere'} does not exist; pass --home "
            "with the folder that holds models/ (or set TASKCLF_HOME)\n"
        )
        assert not (tmp_path / "nowhere").exists()


class TestEveryCommandNamesThePolicyFile:
    """Every command that works on the policy says which file it used."""

    @pytest.mark.parametrize(
        "args",
        [
            ("create", "--model-dir", "models/run_002"),
            ("create", "--model-dir", "models/run_002", "--dry-run"),
            ("show",),
            ("validate",),
            ("remove", "--yes"),
            ("init", "--force"),
        ],
        ids=" ".join,
    )
    def test_names_it(
        self, tmp_path: Path, home: Path, policy: Path, args: tuple[str, ...]
    ) -> None:
        result = run_cli("policy", *args, "--home", "home", cwd=tmp_path)

        assert result.code == 0, result.stderr
        assert "home/models/inference_policy.json" in result.stdout

    def test_absolute_when_outside_the_current_folder(
        self, tmp_path: Path, home: Path, policy: Path
    ) -> None:
        elsewhere = tmp_path / "elsewhere"
        elsewhere.mkdir()

        result = run_cli("policy", "validate", "--home", home, cwd=elsewhere)

        assert result.stdout.startswith(f"{policy}: ok")


# Each command with --format json, and whether it succeeds on the example home with a policy.
JSON_RUNS = [
    (("create", "--model-dir", "models/run_002"), 0),
    (("create", "--model-dir", "models/run_002", "--dry-run"), 0),
    (("create", "--model-dir", "models/run_999"), 1),
    (("show",), 0),
    (("validate",), 0),
    (("validate", "models/inference_policy.json", "missing.json"), 1),
    (("remove", "--yes"), 0),
    (("remove",), 2),
    (("init",), 1),
    (("init", "--force"), 0),
    (("template", "--output", "t.json"), 0),
    (("template", "--check", "--output", "models/inference_policy.json"), 1),
]


class TestJsonFormat:
    """--format json prints one JSON object with command, ok and policy_file, and nothing else."""

    @pytest.mark.parametrize(("args", "code"), JSON_RUNS, ids=[" ".join(a) for a, _ in JSON_RUNS])
    def test_envelope(self, home: Path, policy: Path, args: tuple[str, ...], code: int) -> None:
        result = run_cli("policy", *args, "--format", "json", cwd=home)

        assert result.code == code
        assert result.stderr == ""
        report = result.json()
        assert isinstance(report, dict)
        assert report["command"] == f"policy {args[0]}"
        assert report["ok"] is (code == 0)
        # validate with FILE arguments checks those files, not the current policy
        files_given = args[0] == "validate" and len(args) > 1
        assert report["policy_file"] == (None if files_given else str(policy))
        if code != 0 and "error" in report:
            assert set(report["error"]) == {"message", "details"}

    def test_json_output_is_parseable_before_the_subcommand_too(
        self, home: Path, policy: Path
    ) -> None:
        result = run_cli("--home", home, "policy", "show", "--format", "json", cwd=home.parent)

        assert result.json()["policy_file"] == str(policy)


def _write_to_closed_pipe(args: list[str], cwd: Path, *, unbuffered: bool) -> Result:
    """Run taskclf with stdout a pipe whose reader has already gone (``taskclf ... | head``)."""
    reader, writer = os.pipe()
    os.close(reader)
    env = {key: value for key, value in cli_env().items() if key != "PYTHONUNBUFFERED"}
    if unbuffered:
        env["PYTHONUNBUFFERED"] = "1"
    try:
        completed = subprocess.run(
            [sys.executable, "-m", "taskclf", *args],
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=writer,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
            timeout=120,
        )
    finally:
        os.close(writer)
    return Result("", completed.stderr, completed.returncode)


class TestClosedPipe:
    """A reader that leaves early (``| head``) is not an error: exit 0, nothing on stderr."""

    @pytest.mark.parametrize(
        "args", [["--version"], ["policy", "show"], ["policy", "template"]], ids=" ".join
    )
    def test_quiet(self, home: Path, policy: Path, args: list[str]) -> None:
        assert _write_to_closed_pipe(args, home, unbuffered=False) == Result("", "", 0)

    @pytest.mark.parametrize(
        ("args", "unbuffered"),
        [
            (["policy", "schema"], False),
            (["policy", "show"], True),
            (["policy", "template"], True),
        ],
        ids=["schema", "show-unbuffered", "template-unbuffered"],
    )
    def test_quiet_when_the_write_fails_inside_the_command(
        self, home: Path, policy: Path, args: list[str], unbuffered: bool
    ) -> None:
        assert _write_to_closed_pipe(args, home, unbuffered=unbuffered) == Result("", "", 0)
