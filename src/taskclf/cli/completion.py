"""``taskclf completion bash|zsh|fish``: print the shell completion script.

The scripts are generated from :func:`taskclf.cli.main.build_parser` by
``completions/generate.py`` and ship as package data (``taskclf/completions``),
so printing one needs neither shtab nor any validation library.
"""

from __future__ import annotations

import argparse
from typing import Any

from taskclf.cli.common import EXIT_CODES_EPILOG, EXIT_OK, CommandError, Context, wrap_description

__all__ = ["SHELLS", "completion_script", "register"]

SHELLS = ("bash", "zsh", "fish")

_DESCRIPTION = """\
Print the completion script for SHELL on standard output. Try it in the current
bash with:

  source <(taskclf completion bash)

To install it, save it where your shell looks for completions:

  bash:  taskclf completion bash \\
           > ~/.local/share/bash-completion/completions/taskclf
  zsh:   taskclf completion zsh > ~/.zfunc/_taskclf
         (with fpath+=(~/.zfunc) before compinit in ~/.zshrc)
  fish:  taskclf completion fish \\
           > ~/.config/fish/completions/taskclf.fish

The scripts complete commands, subcommands, options, their fixed choices, and
file and folder names where a path is expected."""

_EXAMPLES = """\
examples:
  source <(taskclf completion bash)
  taskclf completion zsh > ~/.zfunc/_taskclf

"""


def register(groups: Any) -> None:
    """Add the ``completion`` command."""
    parser: argparse.ArgumentParser = groups.add_parser(
        "completion",
        help="print a shell completion script (bash, zsh or fish)",
        description=wrap_description(_DESCRIPTION),
        epilog=_EXAMPLES + EXIT_CODES_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("shell", choices=SHELLS, metavar="SHELL", help="bash, zsh or fish")
    parser.set_defaults(handler=run_completion, command_name="completion", needs_home=False)


def completion_script(shell: str) -> str:
    """The shipped completion script for ``shell`` (one of :data:`SHELLS`).

    Raises:
        CommandError: the script is missing from this installation.
    """
    from importlib.resources import files  # only here: it costs start-up

    try:
        return (files("taskclf") / "completions" / f"taskclf.{shell}").read_text(encoding="utf-8")
    except (FileNotFoundError, NotADirectoryError) as exc:
        raise CommandError(
            f"the {shell} completion script is missing from the taskclf installation "
            "(package data taskclf/completions); reinstall taskclf"
        ) from exc


def run_completion(args: argparse.Namespace, ctx: Context) -> int:
    """Print the script for ``args.shell``."""
    ctx.body(completion_script(args.shell))
    return EXIT_OK
