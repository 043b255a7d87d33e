"""The output formats are reporters picked by name over one result (issue 12, item 4).

``text``, ``json`` and ``github`` render the same run: the text report and the
GitHub report have the same lines (GitHub leaves out only the itemized lines
its annotations replace), and every command, usage errors included, speaks
each format.
"""

from __future__ import annotations

import dataclasses
import io
import re
from pathlib import Path

import pytest

from taskclf.cli.report import (
    REPORTERS,
    Annotation,
    Outcome,
    ResultBuilder,
    reporter_named,
    workflow_command,
)
from test_cli_support import run_cli

_ANNOTATION = re.compile(r"::(error|warning|notice) (?P<props>[^:]*)::(?P<message>.*)")


def _annotations(stdout: str) -> list[re.Match[str]]:
    return [found for line in stdout.splitlines() if (found := _ANNOTATION.fullmatch(line))]


class TestWorkflowCommand:
    """Annotations are escaped as GitHub's workflow-command syntax requires."""

    def test_place_and_title(self) -> None:
        text = workflow_command(
            Annotation("bad value", title="taskclf schema: type", file="a.json", line=3, column=5)
        )
        assert text == "::error file=a.json,line=3,col=5,title=taskclf schema%3A type::bad value"

    def test_escaping(self) -> None:
        text = workflow_command(
            Annotation("50% done\nnext\rline", title="a,b:c", file="x,y:z.json", severity="warning")
        )
        assert text == "::warning file=x%2Cy%3Az.json,title=a%2Cb%3Ac::50%25 done%0Anext%0Dline"

    def test_control_characters_cannot_reach_the_log(self) -> None:
        text = workflow_command(Annotation("\x1b[31mred\x07", title="t"))
        assert "\x1b" not in text and "\x07" not in text
        assert text == "::error title=t::\\u001b[31mred\\u0007"

    def test_column_only_with_a_line(self) -> None:
        text = workflow_command(Annotation("m", title="t", file="f", line=None, column=4))
        assert text == "::error file=f,title=t::m"


class _Found(Outcome):
    """A small outcome with two items, one problem and a warning."""

    __slots__ = ()

    @property
    def ok(self) -> bool:
        return False

    def text_lines(self) -> list[str]:
        return ["checked 2 items"]

    def json_fields(self) -> dict[str, object]:
        return {"items": [1, {"a": [2]}]}

    def annotations(self) -> list[Annotation]:
        return [Annotation("item 2 is wrong", title="t", file="f.json", line=2, column=1)]

    def warnings(self) -> list[str]:
        return ["item 1 is old"]


def _run(name: str) -> tuple[str, str, ResultBuilder]:
    stdout, stderr = io.StringIO(), io.StringIO()
    builder = ResultBuilder(
        "demo", "/h/models/inference_policy.json", reporter_named(name, stdout, stderr)
    )
    builder.report(_Found())
    builder.finish(_Found().exit_code)
    return stdout.getvalue(), stderr.getvalue(), builder


class TestReporters:
    """Each reporter renders the one result: the same facts in its own form."""

    def test_names(self) -> None:
        assert sorted(REPORTERS) == ["github", "json", "text"]

    def test_text(self) -> None:
        stdout, stderr, _ = _run("text")
        assert stdout == "checked 2 items\n"
        assert stderr == "taskclf: warning: item 1 is old\n"

    def test_json(self) -> None:
        import json

        stdout, stderr, _ = _run("json")
        assert json.loads(stdout) == {
            "command": "demo",
            "ok": False,
            "policy_file": "/h/models/inference_policy.json",
            "items": [1, {"a": [2]}],
            "warnings": ["item 1 is old"],
        }
        assert stderr == "taskclf: warning: item 1 is old\n"

    def test_github(self) -> None:
        stdout, stderr, _ = _run("github")
        assert stdout.splitlines() == [
            "::warning title=taskclf%3A warning::item 1 is old",
            "::error file=f.json,line=2,col=1,title=t::item 2 is wrong",
            "checked 2 items",
        ]
        assert stderr == ""

    def test_a_line_that_reads_as_a_command_is_printed_with_commands_off(self) -> None:
        stdout, stderr = io.StringIO(), io.StringIO()
        builder = ResultBuilder("demo", None, reporter_named("github", stdout, stderr))
        builder.line("::add-mask::secret.json is already installed")
        builder.line("  ::error::from a value")
        builder.line("the policy file::/reject_threshold: fine")
        lines = stdout.getvalue().splitlines()
        for start in (0, 3):
            token = re.fullmatch(r"::stop-commands::([0-9a-f]{32})", lines[start])
            assert token, lines
            assert lines[start + 2] == f"::{token[1]}::"
        assert lines[1] == "::add-mask::secret.json is already installed"
        assert lines[4] == "  ::error::from a value"
        assert lines[6:] == ["the policy file::/reject_threshold: fine"]  # "::" inside is inert

    def test_the_result_is_frozen(self) -> None:
        stdout, stderr = io.StringIO(), io.StringIO()
        builder = ResultBuilder("demo", None, reporter_named("json", stdout, stderr))
        outcome = _Found()
        builder.report(outcome)
        result = builder.finish(1)
        assert result.outcome is outcome
        with pytest.raises(dataclasses.FrozenInstanceError):
            result.ok = True  # type: ignore[misc]
        with pytest.raises(TypeError):
            result.fields["items"] = []  # type: ignore[index]
        assert isinstance(result.fields["items"], tuple)
        with pytest.raises(TypeError):
            result.fields["items"][1]["a"] = ()  # type: ignore[index]


class TestEveryCommandSpeaksGithub:
    """``--format github`` works on every command: errors and warnings become annotations."""

    def test_command_error(self, home: Path) -> None:
        result = run_cli("policy", "create", "--model-dir", "models/run_404", "--format", "github",
                         cwd=home)  # fmt: skip
        assert result.code == 1
        (annotation,) = _annotations(result.stdout)
        assert annotation[1] == "error"
        assert annotation["props"] == "title=taskclf policy create"
        assert "run_404" in annotation["message"]
        # A person running it at a terminal sees the error as in text, too.
        assert result.stderr.startswith("taskclf: error: --model-dir models/run_404")

    def test_warning(self, home: Path) -> None:
        assert run_cli("policy", "create", "--model-dir", "models/run_001", cwd=home).code == 0
        result = run_cli("model", "set-active", "--model-dir", "models/run_002",
                         "--format", "github", cwd=home)  # fmt: skip
        assert result.code == 0
        (annotation,) = _annotations(result.stdout)
        assert annotation[1] == "warning"
        assert "takes precedence" in annotation["message"]
        text = run_cli("model", "set-active", "--model-dir", "models/run_002", cwd=home)
        # The same report for people otherwise (the second run replaces run_002
        # itself); the warning went to stderr there.
        assert [
            line.replace("(was nothing)", "(was models/run_002)")
            for line in result.stdout.splitlines()
            if not line.startswith("::")
        ] == text.stdout.splitlines()
        assert "takes precedence" in text.stderr

    def test_success_has_the_text_report(self, home: Path) -> None:
        text = run_cli("policy", "resolve", "--explain", cwd=home)
        github = run_cli("policy", "resolve", "--explain", "--format", "github", cwd=home)
        assert (text.code, github.code) == (0, 0)
        assert github.stdout == text.stdout
        assert _annotations(github.stdout) == []

    def test_usage_error(self, home: Path) -> None:
        result = run_cli("policy", "create", "--format", "github", "--reject-threshold", "2",
                         cwd=home)  # fmt: skip
        assert result.code == 2
        (annotation,) = _annotations(result.stdout)
        assert annotation["props"] == "title=taskclf%3A usage error"
        assert "--reject-threshold" in annotation["message"]
        assert result.stderr.startswith("usage: taskclf policy create")


class TestJsonEverywhere:
    """A run that fails before any command runs still prints one JSON object."""

    def test_unusable_home_option(self, tmp_path: Path) -> None:
        result = run_cli("policy", "show", "--format", "json", "--home", "~nosuchuser-taskclf",
                         cwd=tmp_path)  # fmt: skip
        assert result.code == 2
        document = result.json()
        assert document["ok"] is False
        assert document["command"] == "policy show"
        assert "--home" in document["error"]["message"]
        assert result.stderr == ""

    def test_warnings_are_in_the_object(self, home: Path) -> None:
        assert run_cli("policy", "create", "--model-dir", "models/run_001", cwd=home).code == 0
        result = run_cli("model", "set-active", "--model-dir", "models/run_002",
                         "--format", "json", cwd=home)  # fmt: skip
        document = result.json()
        (warning,) = document["warnings"]
        assert "takes precedence" in warning
        assert document["warning"] == warning
