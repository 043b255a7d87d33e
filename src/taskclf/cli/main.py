"""Entry point of the ``taskclf`` command: the parser and the dispatcher.

:func:`build_parser` is the single definition of the command line; the man
page (``man/taskclf.1``) is generated from it. :func:`main` parses, runs the
chosen command and returns its exit code; the console script only calls
:func:`entry_point`.
"""

from __future__ import annotations

import argparse
import os
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn, TextIO

from taskclf import __version__
from taskclf.cli import (
    completion,
    model_commands,
    policy_create,
    policy_deploy,
    policy_edit,
    policy_files,
    policy_inspect,
    policy_resolve,
    policy_tune,
)
from taskclf.cli.common import (
    EXIT_CODES_EPILOG,
    EXIT_INVALID,
    EXIT_USAGE,
    CommandError,
    Context,
    add_group,
    add_location_options,
    report_error,
    run_command,
    wrap_description,
)
from taskclf.cli.output import OutputUnavailable, caused_by_interrupt

__all__ = ["build_parser", "entry_point", "main", "run"]

# The policy subcommand overview is indented; the man page (about 72 columns of text)
# keeps its lines only when they are no longer than that (71 at 80 columns).
_OVERVIEW_WIDTH = 70

_DESCRIPTION = """\
taskclf binds a classifier's model bundle, calibrator store and reject threshold
in one validated file, models/inference_policy.json, which inference reads first.

Start with:  taskclf policy create --model-dir models/<run_id>

Then check:  taskclf policy show"""

_POLICY_DESCRIPTION = """\
Create, inspect and check the inference policy, models/inference_policy.json.
Paths inside the policy are relative to TASKCLF_HOME (the folder above models/).
Where files live: --home DIR, else $TASKCLF_HOME, else the current folder."""


def build_parser() -> argparse.ArgumentParser:
    """Build the complete ``taskclf`` argument parser (also used for the man page)."""
    parser = CommandParser(
        prog="taskclf",
        description=wrap_description(_DESCRIPTION),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"taskclf {__version__}")
    add_location_options(parser, suppress=False)
    groups = parser.add_subparsers(title="commands", metavar="COMMAND", dest="group")
    groups.required = True
    commands, shared = add_group(
        groups,
        "policy",
        help="create, show, validate, edit, set, apply, roll back or remove the inference policy",
        description=_POLICY_DESCRIPTION,
    )
    policy_create.register(commands, shared)
    policy_inspect.register(commands, shared)
    policy_edit.register(commands, shared)
    policy_deploy.register(commands, shared)
    policy_resolve.register(commands, shared)
    policy_tune.register(commands, shared)
    policy_files.register(commands, shared)
    model_commands.register(groups)
    completion.register(groups)
    parser.epilog = _overview("policy subcommands", commands) + "\n\n" + EXIT_CODES_EPILOG
    return parser


def _overview(title: str, commands: Any) -> str:
    """``title:``, then one line per subcommand of ``commands`` with its help (wrapped)."""
    entries = [(action.dest, action.help or "") for action in commands._choices_actions]
    column = 2 + max(len(name) for name, _help in entries) + 2
    lines = [f"{title} (taskclf policy SUBCOMMAND --help for each):"]
    for name, text in entries:
        lines.extend(
            textwrap.wrap(
                text,
                width=_OVERVIEW_WIDTH,
                initial_indent=f"  {name}".ljust(column),
                subsequent_indent=" " * column,
            )
        )
    return "\n".join(lines)


def run(args: argparse.Namespace, *, stdout: TextIO, stderr: TextIO) -> int:
    """Run the command chosen in ``args``; return its exit code."""
    try:
        ctx = Context.from_args(args, stdout=stdout, stderr=stderr)
    except CommandError as exc:  # --home or --models-dir cannot be used
        from taskclf.cli.report import ResultBuilder, reporter_named

        reporter = reporter_named(getattr(args, "format", None) or "text", stdout, stderr)
        failed = ResultBuilder(str(getattr(args, "command_name", "taskclf")), None, reporter)
        failed.fail(exc.message, exc.details)
        failed.finish(exc.exit_code)
        return exc.exit_code
    _configure_logging(ctx.debug)
    problem = _why_not_a_home(ctx.home) if getattr(args, "needs_home", True) else None
    if problem is not None:
        where = "--models-dir's parent" if getattr(args, "models_dir", None) else "TASKCLF_HOME"
        return report_error(
            ctx,
            f"{where} {ctx.home} {problem}; pass --home with the folder that holds "
            "models/ (or set TASKCLF_HOME)",
            EXIT_USAGE,
            {"home": str(ctx.home)},
        )
    try:
        return run_command(args.handler, args, ctx)
    except BrokenPipeError:
        raise  # the reader went away; entry_point handles it quietly
    except (KeyboardInterrupt, OutputUnavailable):
        raise  # entry_point says what happened, in one line
    except Exception as exc:
        if caused_by_interrupt(exc):
            raise KeyboardInterrupt from exc  # a Ctrl-C Python delivered wrapped
        if ctx.debug:
            raise
        print(
            f"taskclf: internal error: {type(exc).__name__}: {exc}\n"
            "This is a bug in taskclf; run again with --debug for a traceback.",
            file=stderr,
        )
        return EXIT_INVALID


def _why_not_a_home(path: Path) -> str | None:
    """Why ``path`` cannot be TASKCLF_HOME, or ``None`` when it is a folder."""
    try:
        os.stat(path)
    except FileNotFoundError:
        return "does not exist"
    except OSError as exc:
        return f"cannot be used ({exc.strerror or exc})"
    except ValueError:  # a NUL byte in the path
        return "holds a NUL character"
    return None if os.path.isdir(path) else "is not a folder"


def _configure_logging(debug: bool) -> None:
    import logging

    # The library logs each skipped policy or pointer as a WARNING; the commands
    # already report those reasons in their own output, so they are shown only
    # with --debug instead of twice.
    if debug:
        logging.basicConfig(level=logging.DEBUG, format="taskclf: %(levelname)s: %(message)s")
    else:
        logging.getLogger("taskclf").addHandler(logging.NullHandler())


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` (default: the process arguments), run the command, return the exit code."""
    parser = build_parser()
    arguments = list(sys.argv[1:] if argv is None else argv)
    try:
        args = parser.parse_args(arguments)
    except UsageError as exc:
        return _report_usage_error(exc, arguments)
    except SystemExit as exc:  # --help or --version
        return exc.code if isinstance(exc.code, int) else EXIT_INVALID
    return run(args, stdout=sys.stdout, stderr=sys.stderr)


class UsageError(Exception):
    """The command line is wrong: what argparse would print, and the parser that found it."""

    def __init__(self, message: str, parser: argparse.ArgumentParser) -> None:
        super().__init__(message)
        self.message = message
        self.parser = parser


class CommandParser(argparse.ArgumentParser):
    """``argparse.ArgumentParser`` whose usage errors are raised, so ``--format json`` can
    report them as JSON (every subcommand's parser is one of these too)."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message, self)


def _report_usage_error(exc: UsageError, arguments: list[str]) -> int:
    from taskclf.cli.report import reporter_named

    reporter = reporter_named(_wanted_format(arguments), sys.stdout, sys.stderr)
    reporter.usage_error(exc.parser.prog, exc.message, exc.parser.format_usage())
    return EXIT_USAGE


def _wanted_format(arguments: list[str]) -> str:
    """The ``--format`` asked for on a command line that did not parse (``text`` if none).

    As argparse does, ``--format`` may be abbreviated (``--form json``, ``--fo=json``).
    """
    wanted = "text"
    for index, argument in enumerate(arguments):
        if argument == "--":
            break
        option, equals, value = argument.partition("=")
        if len(option) < 3 or not "--format".startswith(option):
            continue
        if not equals:
            value = next(iter(arguments[index + 1 : index + 2]), "")
        if value in ("text", "json", "github"):
            wanted = value  # the last one counts, as in argparse
    return wanted


def entry_point() -> None:
    """Console-script entry (kept for callers of ``taskclf.cli.main:entry_point``).

    See :func:`taskclf.cli.entry.entry_point`.
    """
    from taskclf.cli.entry import entry_point as run_entry_point

    run_entry_point()
