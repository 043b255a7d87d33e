"""Help a person can read: wrapped descriptions, every subcommand listed, an example for each.

Also pins how the man page renders them (with groff, when it is installed):
argparse-manpage copies a description as it is, and troff fills it, so the
paragraphs and the indented lines of a description must survive that.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from taskclf.cli.common import EXIT_CODES_EPILOG, HELP_WIDTH
from taskclf.cli.main import build_parser
from test_cli_support import run_cli

from conftest import REPO_ROOT

MAN_PAGE = REPO_ROOT / "man" / "taskclf.1"


def _parsers(
    parser: argparse.ArgumentParser,
) -> Iterator[tuple[argparse.ArgumentParser, bool]]:
    """Every parser under ``parser`` (itself included), and whether it runs a command."""
    children = [
        sub
        for action in parser._actions
        if isinstance(action, argparse._SubParsersAction)
        for sub in action.choices.values()
    ]
    yield parser, not children
    for child in children:
        yield from _parsers(child)


ALL = list(_parsers(build_parser()))
COMMANDS = [parser for parser, leaf in ALL if leaf]


def _policy_subcommands() -> dict[str, str]:
    (policy,) = [p for p, _leaf in ALL if p.prog == "taskclf policy"]
    (action,) = [a for a in policy._actions if isinstance(a, argparse._SubParsersAction)]
    return {choice.dest: str(choice.help) for choice in action._choices_actions}


def _examples(parser: argparse.ArgumentParser) -> list[str]:
    examples = (parser.epilog or "").removesuffix(EXIT_CODES_EPILOG)
    return [line.strip() for line in examples.splitlines() if line.startswith("  ")]


class TestHelpText:
    """`--help` is wrapped, lists the policy subcommands, and shows examples."""

    def test_top_level_help_lists_every_policy_subcommand(self, tmp_path: Path) -> None:
        result = run_cli("--help", cwd=tmp_path)
        assert result.code == 0
        listed = result.stdout.split("policy subcommands", 1)[1]
        for name, text in _policy_subcommands().items():
            first_words = " ".join(text.split()[:3])
            assert re.search(rf"^  {re.escape(name)} +{re.escape(first_words)}", listed, re.M), name

    @pytest.mark.parametrize("parser", [p for p, _leaf in ALL], ids=lambda p: p.prog)
    def test_descriptions_and_epilogs_are_wrapped(self, parser: argparse.ArgumentParser) -> None:
        for text in (parser.description or "", parser.epilog or ""):
            for line in text.splitlines():
                assert len(line) <= HELP_WIDTH, f"{parser.prog}: {line!r}"

    @pytest.mark.parametrize("parser", COMMANDS, ids=lambda p: p.prog)
    def test_every_command_has_examples(self, parser: argparse.ArgumentParser) -> None:
        examples = _examples(parser)
        assert examples, f"{parser.prog} has no examples"
        assert any(parser.prog in line for line in examples), examples

    def test_help_shows_the_examples(self, tmp_path: Path) -> None:
        result = run_cli("policy", "show", "--help", cwd=tmp_path)
        assert "examples:\n  taskclf policy show\n" in result.stdout


def _man_sections(page: str) -> dict[str, str]:
    sections: dict[str, str] = {}
    for block in page.split("\n.SH ")[1:]:
        heading, _, body = block.partition("\n")
        sections[heading.strip()] = body
    return sections


class TestManPageExamples:
    """The man page has an EXAMPLES section with every command's examples."""

    def test_an_example_per_command(self) -> None:
        examples = _man_sections(MAN_PAGE.read_text(encoding="utf-8"))["EXAMPLES"]
        plain = examples.replace("\\-", "-").replace("\\e", "\\")
        for parser in COMMANDS:
            assert f".SS {parser.prog}\n.nf\n" in plain, parser.prog
            for line in _examples(parser):
                assert line in plain, line


def _rendered_lines() -> list[str]:
    groff = shutil.which("groff")
    if groff is None:
        pytest.skip("groff is not installed (apt-get install groff-base)")
    # An 80-column terminal, as `man` lays it out (line length 78n); plain text, no
    # hyphenation, so that a line can be compared word for word.
    result = subprocess.run(
        [groff, "-man", "-Tutf8", "-rLL=78n", "-rHY=0", "-P-cbou", str(MAN_PAGE)],
        capture_output=True,
        text=True,
        check=True,
        env={"LC_ALL": "C.UTF-8", "PATH": "/usr/bin:/bin"},
    )
    assert "warning" not in result.stderr, result.stderr
    # groff may use a Unicode hyphen or minus for "-"; compare them as ASCII.
    text = result.stdout.replace("\u2010", "-").replace("\u2212", "-").replace("\u2019", "'")
    return [" ".join(line.split()) for line in text.splitlines()]


class TestManPageRendering:
    """Rendered by groff, every paragraph starts its own line and indented lines stay whole."""

    @pytest.mark.parametrize("parser", [p for p, _leaf in ALL], ids=lambda p: p.prog)
    def test_description_layout_survives(self, parser: argparse.ArgumentParser) -> None:
        rendered = _rendered_lines()
        description = parser.description or ""
        previous_blank = True
        for line in description.splitlines():
            words = " ".join(line.split())
            if not words:
                previous_blank = True
                continue
            if line[0].isspace():
                # A list item or a command: shown as written, on a line of its own.
                assert words in rendered, f"{parser.prog}: {line!r} is not on a line of its own"
            elif previous_blank:
                first = " ".join(line.split()[:4])
                assert any(r.startswith(first) for r in rendered), (
                    f"{parser.prog}: the paragraph {first!r}... does not start a line"
                )
            previous_blank = False

    def test_top_level_epilog_lines_stay_whole(self) -> None:
        # The policy subcommand overview and the exit codes: indented lines, each kept.
        rendered = _rendered_lines()
        epilog = build_parser().epilog or ""
        indented = [line for line in epilog.splitlines() if line.startswith(" ")]
        assert len(indented) > len(_policy_subcommands())
        for line in indented:
            assert " ".join(line.split()) in rendered, f"{line!r} is not on a line of its own"
