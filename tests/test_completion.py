"""`taskclf completion SHELL`: scripts made from build_parser(), shipped, and working in bash."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from taskclf.cli.main import build_parser
from taskclf.core.schemas import schema_names
from test_cli_support import run_cli

from conftest import REPO_ROOT

SHIPPED = REPO_ROOT / "src" / "taskclf" / "completions"
SHELLS = ("bash", "zsh", "fish")


def _policy_subcommands() -> list[str]:
    import argparse

    groups = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    policy = groups.choices["policy"]
    commands = next(a for a in policy._actions if isinstance(a, argparse._SubParsersAction))
    return list(commands.choices)


class TestScripts:
    """The checked-in scripts are what completions/generate.py makes from today's parser."""

    def test_checked_in_scripts_match_regenerated(self, tmp_path: Path) -> None:
        subprocess.run(
            [sys.executable, str(REPO_ROOT / "completions" / "generate.py"), str(tmp_path)],
            check=True,
            capture_output=True,
        )
        for shell in SHELLS:
            regenerated = (tmp_path / f"taskclf.{shell}").read_text(encoding="utf-8")
            assert regenerated == (SHIPPED / f"taskclf.{shell}").read_text(encoding="utf-8"), (
                f"src/taskclf/completions/taskclf.{shell} is out of date: "
                "run `python completions/generate.py`"
            )
        assert sorted(p.name for p in SHIPPED.iterdir()) == sorted(f"taskclf.{s}" for s in SHELLS)

    @pytest.mark.parametrize("shell", SHELLS)
    def test_command_prints_the_shipped_script(self, shell: str, tmp_path: Path) -> None:
        result = run_cli("completion", shell, cwd=tmp_path)
        assert (result.code, result.stderr) == (0, "")
        assert result.stdout == (SHIPPED / f"taskclf.{shell}").read_text(encoding="utf-8")

    def test_needs_no_home(self, tmp_path: Path) -> None:
        result = run_cli("--home", "does-not-exist", "completion", "bash", cwd=tmp_path)
        assert result.code == 0

    def test_unknown_shell_is_a_usage_error(self, tmp_path: Path) -> None:
        result = run_cli("completion", "powershell", cwd=tmp_path)
        assert result.code == 2
        assert "invalid choice: 'powershell'" in result.stderr
        assert result.stdout == ""

    @pytest.mark.parametrize("shell", SHELLS)
    def test_every_policy_subcommand_is_offered(self, shell: str) -> None:
        script = (SHIPPED / f"taskclf.{shell}").read_text(encoding="utf-8")
        for name in _policy_subcommands():
            assert name in script, (shell, name)


def _bash_complete(words: list[str]) -> list[str]:
    """Ask the shipped bash completion what it offers for ``words`` (the last is being typed)."""
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("bash is not installed")
    line = " ".join(words)
    program = "\n".join(
        [
            f"source {shlex.quote(str(SHIPPED / 'taskclf.bash'))}",
            # What bash sets before it calls a completion function.
            f"COMP_WORDS=({' '.join(shlex.quote(w) for w in words)})",
            f"COMP_CWORD={len(words) - 1}",
            f"COMP_LINE={shlex.quote(line)}",
            f"COMP_POINT={len(line)}",
            # The function bash would call, as `complete -p taskclf` names it.
            "function=$(complete -p taskclf | sed -E 's/.* -F ([^ ]+) .*/\\1/')",
            f'"$function" taskclf {shlex.quote(words[-1])} {shlex.quote(words[-2])}',
            'printf "%s\\n" "${COMPREPLY[@]}"',
        ]
    )
    result = subprocess.run(
        [bash, "--norc", "--noprofile", "-c", program],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "LC_ALL": "C"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    return result.stdout.split()


class TestBash:
    """The bash script, sourced in a real bash, completes commands, subcommands and choices."""

    def test_command_from_a_prefix(self) -> None:
        assert _bash_complete(["taskclf", "po"]) == ["policy"]

    def test_top_level_commands(self) -> None:
        assert _bash_complete(["taskclf", ""]) == ["policy", "model", "completion"]

    def test_policy_subcommands(self) -> None:
        assert _bash_complete(["taskclf", "policy", ""]) == _policy_subcommands()

    def test_subcommand_from_a_prefix(self) -> None:
        assert _bash_complete(["taskclf", "policy", "tu"]) == ["tune-reject"]

    def test_options_of_a_subcommand(self) -> None:
        offered = _bash_complete(["taskclf", "policy", "show", "--f"])
        assert offered == ["--format"]

    def test_choices_of_an_option(self) -> None:
        assert _bash_complete(["taskclf", "policy", "show", "--format", ""]) == [
            "text",
            "json",
            "github",
        ]

    def test_schema_names(self) -> None:
        offered = _bash_complete(["taskclf", "policy", "schema", ""])
        assert offered == [name.removesuffix(".json") for name in schema_names()]

    def test_shells(self) -> None:
        assert _bash_complete(["taskclf", "completion", ""]) == list(SHELLS)


class TestOtherShells:
    """zsh and fish parse their scripts without running them, when they are installed."""

    @pytest.mark.parametrize(("shell", "check"), [("zsh", ["-n"]), ("fish", ["--no-execute"])])
    def test_syntax(self, shell: str, check: list[str]) -> None:
        program = shutil.which(shell)
        if program is None:
            pytest.skip(f"{shell} is not installed")
        result = subprocess.run(
            [program, *check, str(SHIPPED / f"taskclf.{shell}")],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
