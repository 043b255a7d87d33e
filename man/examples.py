"""Print the man page's EXAMPLES section, as an argparse-manpage ``--include`` file.

argparse-manpage leaves out the epilogs of subcommands, which is where each
command's examples are (``add_command(..., examples=...)``). man/generate.sh runs
this script and includes its output, so the page has an example per subcommand,
taken from the same ``build_parser()``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator

from taskclf.cli.common import EXIT_CODES_EPILOG
from taskclf.cli.main import build_parser

__all__ = ["examples_section", "leaf_commands"]


def leaf_commands(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    """Every parser under ``parser`` that runs a command (has no subcommands), in order."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                has_subcommands = any(
                    isinstance(a, argparse._SubParsersAction) for a in sub._actions
                )
                if has_subcommands:
                    yield from leaf_commands(sub)
                else:
                    yield sub


def _roff(text: str) -> str:
    return text.replace("\\", "\\e").replace("-", "\\-")


def examples_section() -> str:
    """The ``[EXAMPLES]`` include section: one ``.SS`` per command, its examples unfilled."""
    lines = ["[EXAMPLES]"]
    for command in leaf_commands(build_parser()):
        examples = (command.epilog or "").removesuffix(EXIT_CODES_EPILOG).strip("\n")
        body = [line for line in examples.splitlines() if line.strip() != "examples:"]
        if not body:
            raise SystemExit(f"man/examples.py: {command.prog} has no examples")
        lines.append(f".SS {_roff(command.prog)}")
        lines.append(".nf")
        lines.extend(_roff(line) for line in body)
        lines.append(".fi")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(examples_section())
