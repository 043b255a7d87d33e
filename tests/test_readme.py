"""The README's console blocks are what the commands print.

Every ```console block of README.md is run, in order, in one copy of the tour's home
(``examples/home`` plus the files the set-up line copies beside it). In a block, a line
starting with ``$ `` is a command; the lines after it, up to the next command or the end of
the block, are what it prints, stdout and stderr merged as a terminal shows them (exit codes
are not compared: a block may show a failing command). Commands run through ``bash -c`` in
the copy, with stdin not a terminal and the folder of the ``taskclf`` console script beside
``sys.executable`` first on PATH (a leading ``taskclf`` is replaced by that script's path).

What may differ between the README and a run, and nothing else:

- a line that is exactly ``...`` (indentation allowed) matches any number of lines;
- ``...`` inside a line matches any text within that line;
- timestamps (``2026-12-01T10:34:50+00:00``) match any timestamp;
- the copy's own path is shown as ``/tmp/taskclf-home``, the folder the set-up line names.

``policy set`` stamps ``created_at`` with the current second, and lists it as a change only
when it differs from the old one; a person typing never runs two commands in one second, so
the test starts each ``policy set`` in a later second than the command before it ended.

A console block that is not meant to run is marked by the line ``<!-- not run -->`` just
above its fence; such blocks must stay rare.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import NamedTuple

import pytest

import taskclf
from test_cli_support import cli_env

from conftest import EXAMPLE_HOME, REPO_ROOT, console_script

README = REPO_ROOT / "README.md"
SETUP = (
    "cp -r examples/home /tmp/taskclf-home"
    " && cp examples/heldout.jsonl examples/heldout_raw.jsonl examples/reviewed.json"
    " /tmp/taskclf-home"
    " && cd /tmp/taskclf-home"
)
"""The README's set-up line; the test does the same in tmp_path."""
SHOWN_HOME = "/tmp/taskclf-home"
NOT_RUN = "<!-- not run -->"
_FENCE = re.compile(r"^```(\S*)\s*$")
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})")


class Command(NamedTuple):
    line: int  # README line number of the `$ ` line
    command: str
    expected: list[str]


class Block(NamedTuple):
    line: int  # README line number of the opening fence
    run: bool
    commands: list[Command]


def readme_blocks(text: str) -> list[Block]:
    """Every ```console block of ``text``, with its commands and expected output."""
    blocks: list[Block] = []
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        fence = _FENCE.match(lines[index])
        if not fence:
            index += 1
            continue
        start, language = index, fence.group(1)
        index += 1
        body: list[tuple[int, str]] = []
        while index < len(lines) and lines[index].rstrip() != "```":
            body.append((index + 1, lines[index]))
            index += 1
        index += 1  # the closing fence
        if language != "console":
            continue
        above = [line for line in lines[:start] if line.strip()]
        marked = bool(above) and above[-1].strip() == NOT_RUN
        commands: list[Command] = []
        continued = False
        for number, line in body:
            if continued:  # a command's line ending in a backslash goes on here
                commands[-1] = commands[-1]._replace(
                    command=commands[-1].command[:-1].rstrip() + " " + line.strip()
                )
                continued = line.endswith("\\")
            elif line.startswith("$ "):
                commands.append(Command(number, line[2:], []))
                continued = line.endswith("\\")
            else:
                assert commands, f"README.md:{number}: output before the first `$ ` command"
                commands[-1].expected.append(line)
        blocks.append(Block(start + 1, not marked, commands))
    return blocks


def _pattern(line: str) -> re.Pattern[str]:
    """An expected line as a regex: ``...`` is any text, timestamps any timestamp."""
    parts = []
    for piece in re.split(r"(\.\.\.)", line.rstrip()):
        if piece == "...":
            parts.append(".*?")
        else:
            parts.extend(
                _TIMESTAMP.pattern if index % 2 else re.escape(text)
                for index, text in enumerate(re.split(f"({_TIMESTAMP.pattern})", piece))
            )
    return re.compile("".join(parts))


def matches(expected: list[str], actual: list[str]) -> bool:
    """Whether ``actual`` lines are ``expected``, a line ``...`` standing for any lines."""
    if not expected:
        return not actual
    head, rest = expected[0], expected[1:]
    if head.strip() == "...":
        return any(matches(rest, actual[skip:]) for skip in range(len(actual) + 1))
    return (
        bool(actual)
        and _pattern(head).fullmatch(actual[0].rstrip()) is not None
        and matches(rest, actual[1:])
    )


def _tour_home(tmp_path: Path) -> Path:
    """The copy the set-up line makes (without a policy a Quick start run left behind)."""
    home = tmp_path / "taskclf-home"
    shutil.copytree(
        EXAMPLE_HOME,
        home,
        ignore=shutil.ignore_patterns("inference_policy.json*", ".policy_history"),
    )
    for name in ("heldout.jsonl", "heldout_raw.jsonl", "reviewed.json"):
        shutil.copy(REPO_ROOT / "examples" / name, home / name)
    return home


def _run(command: str, home: Path, tmp_path: Path) -> str:
    script = console_script()
    if command == "taskclf" or command.startswith("taskclf "):
        command = shlex.quote(str(script)) + command[len("taskclf") :]
    env = cli_env(
        {
            "PATH": os.pathsep.join((str(script.parent), os.environ.get("PATH", os.defpath))),
            "HOME": str(tmp_path / "user"),  # nothing the tour runs may touch the real one
            "GIT_CEILING_DIRECTORIES": str(tmp_path),  # the copy is in no checkout
            # On a terminal stdout is written line by line, so a report and the error
            # after it appear in that order; a pipe would hold stdout back until exit.
            "PYTHONUNBUFFERED": "1",
        }
    )
    for name in ("VISUAL", "EDITOR", "TZ", "LC_ALL", "LANG"):
        env.pop(name, None)
    completed = subprocess.run(
        ["bash", "-c", command],
        cwd=home,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        check=False,
        timeout=120,
    )
    output = completed.stdout
    for spelling in dict.fromkeys((str(home.resolve()), str(home))):
        output = output.replace(spelling, SHOWN_HOME)
    return output


class TestParsing:
    """The parser and the matcher, on small examples."""

    def test_blocks_commands_and_marking(self) -> None:
        text = (
            "```console\n$ taskclf a\none\n  two\n$ taskclf b\n```\n\n"
            "```sh\n$ not a console block\n```\n"
            "<!-- not run -->\n\n```console\n$ vi x\n```\n"
        )
        first, second = readme_blocks(text)
        assert first.run and [c.command for c in first.commands] == ["taskclf a", "taskclf b"]
        assert first.commands[0].expected == ["one", "  two"]
        assert first.commands[1].expected == []
        assert not second.run

    def test_matcher(self) -> None:
        assert matches(["a", "  ...", "d"], ["a", "b", "c", "d"])
        assert matches(["a", "...", "b"], ["a", "b"])
        assert not matches(["a", "...", "d"], ["a", "b"])
        assert matches(["x (...)"], ["x (anything at all)"])
        assert not matches(["x (...)"], ["y (anything)"])
        assert matches(["at 2026-12-01T10:34:50+00:00"], ["at 2027-01-02T03:04:05+00:00"])
        assert not matches(["a"], ["a", "b"])
        assert not matches(["a [b]"], ["a b"])  # everything else is literal


class TestReadme:
    """README.md's console blocks, the set-up line and the pre-commit snippet."""

    def test_setup_line_is_what_the_test_does(self) -> None:
        assert f"```sh\n{SETUP}\n```" in README.read_text(encoding="utf-8")

    def test_few_blocks_are_not_run(self) -> None:
        blocks = readme_blocks(README.read_text(encoding="utf-8"))
        skipped = [block.line for block in blocks if not block.run]
        assert len(blocks) >= 10
        assert len(skipped) <= 1, f"console blocks marked {NOT_RUN!r} at lines {skipped}"
        assert all(block.commands for block in blocks)

    def test_console_blocks_print_what_the_readme_shows(self, tmp_path: Path) -> None:
        if shutil.which("bash") is None:
            pytest.skip("the README's commands are shell commands; bash is not installed")
        home = _tour_home(tmp_path)
        failures = []
        ended = 0
        for block in readme_blocks(README.read_text(encoding="utf-8")):
            if not block.run:
                continue
            for command in block.commands:
                if " policy set " in f" {command.command} ":
                    while int(time.time()) == ended:
                        time.sleep(0.05)
                actual = _run(command.command, home, tmp_path).splitlines()
                ended = int(time.time())
                if not matches(command.expected, actual):
                    failures.append(
                        f"README.md:{command.line}: $ {command.command}\n"
                        "--- the README shows:\n" + "\n".join(command.expected) + "\n"
                        "--- the command printed:\n" + "\n".join(actual)
                    )
        assert not failures, "\n\n".join(failures)

    def test_pre_commit_rev_is_the_release_tag(self) -> None:
        text = README.read_text(encoding="utf-8")
        snippet = re.search(r"```yaml\n(repos:\n.*?)```", text, re.DOTALL)
        assert snippet is not None, "the README's pre-commit snippet"
        revs = re.findall(r"^\s*rev:\s*(\S+)\s*$", snippet.group(1), re.MULTILINE)
        assert revs == [f"v{taskclf.__version__}"]
        assert "id: taskclf-policy" in snippet.group(1)


class TestHeldout:
    """examples/heldout.jsonl, the tour's scores, is what its generator writes."""

    def test_regenerated_byte_for_byte(self, tmp_path: Path) -> None:
        output = tmp_path / "heldout.jsonl"
        subprocess.run(
            [sys.executable, str(REPO_ROOT / "examples" / "make_heldout.py"), "--output", output],
            check=True,
            capture_output=True,
            timeout=60,
        )
        assert output.read_bytes() == (REPO_ROOT / "examples" / "heldout.jsonl").read_bytes(), (
            "examples/heldout.jsonl is out of date: run `python examples/make_heldout.py`"
        )
