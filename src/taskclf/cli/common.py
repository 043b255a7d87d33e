"""What every command shares: where files live, how results are reported, exit codes.

Exit codes are the same for every command:

* ``0`` success;
* ``1`` the policy (or a file it points at) is invalid, a disk check failed,
  or the command could not do what was asked (e.g. the folder is not writable);
* ``2`` usage error (unknown option, bad value for an option).

By default output is for people. With ``--format json`` every command prints
exactly one JSON object on stdout, with at least ``command``, ``ok`` and
``policy_file``; a failure adds ``error`` (``message`` and ``details``).
``--format github`` adds GitHub Actions annotations. Each format is a
reporter of :mod:`taskclf.cli.report`.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import textwrap
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from taskclf.cli.output import OutputUnavailable, caused_by_interrupt
from taskclf.cli.report import REPORTERS, Annotation, Outcome, ResultBuilder, reporter_named

__all__ = [
    "EXIT_CODES_EPILOG",
    "EXIT_INVALID",
    "EXIT_OK",
    "EXIT_USAGE",
    "HELP_WIDTH",
    "CommandError",
    "Context",
    "add_command",
    "add_group",
    "add_location_options",
    "add_output_options",
    "home_relative",
    "parse_probability",
    "parse_source",
    "parse_threshold",
    "wrap_description",
]

EXIT_OK = 0
EXIT_INVALID = 1
EXIT_USAGE = 2

EXIT_CODES_EPILOG = """\
exit codes:
  0  success
  1  the policy or a file it points at is invalid, a disk check failed,
     or the command could not complete
  2  usage error"""


class CommandError(Exception):
    """Aborts a command with a message for the user and an exit code (no traceback).

    ``annotations`` pin the problems behind the error to their files and lines
    (``--format github`` prints them).
    """

    def __init__(
        self,
        message: str,
        *,
        exit_code: int = EXIT_INVALID,
        details: Mapping[str, Any] | None = None,
        annotations: Sequence[Annotation] = (),
    ) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code
        self.details = dict(details or {})
        self.annotations = tuple(annotations)


@dataclass(frozen=True, slots=True)
class Context:
    """The resolved global options of one command run, and the result it is building.

    A command reports only through this object: :meth:`report` hands it the
    command's typed :class:`~taskclf.cli.report.Outcome`; :meth:`out` and
    :meth:`body` print what comes before it (lines a question refers to, a
    document); :meth:`warn` and :meth:`annotate` add to the run's
    :class:`~taskclf.cli.report.Result` directly. The reporter picked by
    ``--format`` renders it (see :mod:`taskclf.cli.report`).
    """

    command: str
    home: Path
    models_dir: Path
    output_format: str
    stdout: TextIO
    stderr: TextIO
    result: ResultBuilder
    debug: bool = False

    @classmethod
    def from_args(cls, args: argparse.Namespace, *, stdout: TextIO, stderr: TextIO) -> Context:
        """Resolve ``--home``/``TASKCLF_HOME``/cwd and ``--models-dir`` from parsed arguments."""
        from taskclf.core.layout import policy_path

        home_flag = getattr(args, "home", None)
        home_arg = home_flag or os.environ.get("TASKCLF_HOME") or "."
        home_name = "--home" if home_flag else "TASKCLF_HOME"
        home = _folder_argument(home_name, home_arg)
        models_arg = getattr(args, "models_dir", None)
        if models_arg:
            # Paths in a policy are relative to the folder above the models folder.
            models_dir = _folder_argument("--models-dir", models_arg)
            home = models_dir.parent
        else:
            models_dir = home / "models"
        command = str(getattr(args, "command_name", "taskclf"))
        output_format = getattr(args, "format", None) or "text"
        reporter = reporter_named(output_format, stdout, stderr)
        return cls(
            command=command,
            home=home,
            models_dir=models_dir,
            output_format=output_format,
            stdout=stdout,
            stderr=stderr,
            result=ResultBuilder(command, str(policy_path(models_dir)), reporter),
            debug=bool(getattr(args, "debug", False)),
        )

    @property
    def policy_file(self) -> Path:
        """The policy file this run works on."""
        from taskclf.core.layout import policy_path

        return policy_path(self.models_dir)

    @property
    def json(self) -> bool:
        """True when ``--format json`` was asked for (the human report is not printed)."""
        return self.output_format == "json"

    def display(self, path: Path) -> str:
        """``path`` as shown to the user: relative to the current folder when inside it."""
        try:
            return str(path.relative_to(Path.cwd()))
        except ValueError:
            return str(path)

    def out(self, text: str = "") -> None:
        """Add a line (or lines) of the human report; it is printed terminal-safe."""
        self.result.line(text)

    def detail(self, text: str) -> None:
        """Add a line about one item that :meth:`annotate` states too (``github`` omits it)."""
        self.result.line(text, itemized=True)

    def warn(self, text: str) -> None:
        """Add a warning (``taskclf: warning: <text>`` on stderr in text format)."""
        self.result.warning(text)

    def annotate(self, annotation: Annotation) -> None:
        """Add a problem pinned to a file, line and column (``github`` prints it)."""
        self.result.annotate(annotation)

    def body(self, data: str | bytes) -> None:
        """Print a document itself (not in JSON format, whose fields carry it)."""
        self.result.body(data)

    def report(self, outcome: Outcome) -> int:
        """Report the command's own typed result; return its exit code.

        Its warnings, annotations, text lines and JSON fields all come from
        ``outcome`` (see :class:`~taskclf.cli.report.Outcome`).
        """
        self.result.report(outcome)
        return outcome.exit_code


def _folder_argument(name: str, value: str) -> Path:
    """``value`` (from ``name``) as an absolute path; ``~`` expanded.

    Raises:
        CommandError: (usage) ``~user`` names no user, or a part of the path is
            longer than the system allows.
    """
    try:
        path = Path(value).expanduser()
    except RuntimeError as exc:
        raise CommandError(
            f"{name} {value}: {exc}; give the folder's path", exit_code=EXIT_USAGE
        ) from exc
    limit = os.pathconf("/", "PC_NAME_MAX") if hasattr(os, "pathconf") else 255
    if any(len(os.fsencode(part)) > limit for part in path.parts):
        raise CommandError(
            f"{name}: a part of {value[:80]}... is longer than the system allows "
            f"({limit} bytes per name); give the folder's path",
            exit_code=EXIT_USAGE,
        )
    return Path(os.path.abspath(path))


def home_relative(ctx: Context, argument: str, flag: str) -> tuple[Path, str]:
    """Turn a user-given folder into (absolute path, POSIX path relative to TASKCLF_HOME).

    ``argument`` may be absolute or relative to the current folder; a relative
    path that does not exist there but does exist under TASKCLF_HOME is taken
    from TASKCLF_HOME. Symlinks are resolved.

    Raises:
        CommandError: the folder does not exist, is not a folder, or lies
            outside TASKCLF_HOME.
    """
    if not argument.strip():
        raise CommandError(f"{flag} must not be empty", exit_code=EXIT_USAGE)
    try:
        given = Path(argument).expanduser()
        candidates = [given] if given.is_absolute() else [Path.cwd() / given, ctx.home / given]
        chosen = next((c for c in candidates if c.exists()), candidates[0])
        resolved = chosen.resolve()
        root = ctx.home.resolve()
        exists, is_dir = resolved.exists(), resolved.is_dir()
    except RuntimeError as exc:  # "~nosuchuser", or a symlink loop
        raise CommandError(
            f"{flag} {argument}: {exc}", exit_code=EXIT_USAGE, details={"flag": flag}
        ) from exc
    except OSError as exc:  # a name too long for the system, ...
        raise CommandError(
            f"{flag} {argument}: {exc.strerror or exc}", details={"flag": flag}
        ) from exc
    if not exists:
        raise CommandError(
            f"{flag} {argument}: {resolved} does not exist; check the path "
            f"(relative paths are taken from the current folder, then from {root})",
            details={"flag": flag, "path": str(resolved)},
        )
    if not is_dir:
        raise CommandError(
            f"{flag} {argument}: {resolved} is a file; expected a folder",
            details={"flag": flag, "path": str(resolved)},
        )
    if not resolved.is_relative_to(root):
        raise CommandError(
            f"{flag} {argument}: {resolved} is outside TASKCLF_HOME ({root}); policies may "
            "only point inside it. Move the folder under TASKCLF_HOME, or pass --home with "
            "the folder that contains both models/ and it",
            details={"flag": flag, "path": str(resolved), "home": str(root)},
        )
    return resolved, resolved.relative_to(root).as_posix()


HELP_WIDTH = 79
"""Longest line of a description or epilog in ``--help`` (an 80-column terminal)."""


def wrap_description(text: str, width: int = HELP_WIDTH) -> str:
    """``text`` with its prose refilled to ``width``; indented lines kept as written.

    Descriptions are shown with :class:`argparse.RawDescriptionHelpFormatter`,
    which keeps line breaks (so lists and example commands stay as written) and
    therefore never wraps a line by itself. Here each run of unindented lines is
    prose, refilled as one paragraph; blank lines separate paragraphs, and an
    indented line (a list item, a command) stays on its own line, as the man
    page shows it too.
    """
    out: list[str] = []
    prose: list[str] = []

    def flush() -> None:
        if prose:
            out.extend(textwrap.wrap(" ".join(prose), width=width, break_on_hyphens=False))
            prose.clear()

    for line in text.splitlines():
        if line and not line[0].isspace():
            prose.append(line.strip())
            continue
        flush()
        out.append(line.rstrip())
    flush()
    return "\n".join(out)


def add_group(
    groups: Any, name: str, *, help: str, description: str
) -> tuple[Any, argparse.ArgumentParser]:
    """Add command group ``name`` (``policy``, ``model``).

    Returns the group's subcommand collection and the parent parser that gives
    each subcommand the location options (accepted before or after it).
    """
    group = groups.add_parser(
        name,
        help=help,
        description=wrap_description(description),
        epilog=EXIT_CODES_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_location_options(group, suppress=True)
    commands = group.add_subparsers(title="subcommands", metavar="SUBCOMMAND", dest="command")
    commands.required = True
    shared = argparse.ArgumentParser(add_help=False)
    add_location_options(shared, suppress=True)
    return commands, shared


def add_command(
    commands: Any,
    name: str,
    shared: argparse.ArgumentParser,
    *,
    help: str,
    description: str,
    examples: str = "",
) -> argparse.ArgumentParser:
    """Add subcommand ``name``: shared options, description kept as written, exit codes last.

    The description keeps its line breaks; lines longer than :data:`HELP_WIDTH`
    are wrapped. ``examples`` (a caption line, then indented commands) goes
    first in the epilog, and the man page's EXAMPLES section is made from it.
    """
    parser: argparse.ArgumentParser = commands.add_parser(
        name,
        parents=[shared],
        help=help,
        description=wrap_description(description),
        epilog=examples + EXIT_CODES_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    return parser


def add_location_options(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    """Add ``--home`` and ``--models-dir`` (accepted before or after the subcommand)."""
    default = argparse.SUPPRESS if suppress else None
    parser.add_argument(
        "--home",
        metavar="DIR",
        default=default,
        help="TASKCLF_HOME, the folder that holds models/ (default: $TASKCLF_HOME, "
        "else the current folder)",
    )
    parser.add_argument(
        "--models-dir",
        metavar="DIR",
        default=default,
        help="the models folder holding inference_policy.json (default: HOME/models)",
    )
    parser.add_argument(
        "--debug",
        action="store_true",
        default=default,
        help="show a traceback when something unexpected fails",
    )


def add_output_options(parser: argparse.ArgumentParser) -> None:
    """Add ``--format``: the reporters of :mod:`taskclf.cli.report`, by name, with their help."""
    default, *others = REPORTERS.values()
    parser.add_argument(
        "--format",
        choices=tuple(REPORTERS),
        default=default.name,
        help="; ".join([default.help, *(f"{kind.name}: {kind.help}" for kind in others)]),
    )


def _not_a_number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value + 0.0  # turns -0.0 into 0.0


def _checked(pointer: str, value: Any) -> Any:
    """``value`` if the policy schema's part at ``pointer`` accepts it, else a usage error."""
    from taskclf.core.schemas import POLICY_SCHEMA, validate_value

    issues = validate_value(POLICY_SCHEMA, pointer, value)
    if issues:
        raise argparse.ArgumentTypeError(issues[0].message_with_hint)
    return value


def parse_probability(text: str) -> float:
    """argparse ``type`` for a rate or probability: a number in the schema's probability range."""
    return float(_checked("/definitions/probability", _not_a_number(text)))


def parse_threshold(text: str) -> float:
    """argparse ``type`` for a reject threshold: a number the policy schema accepts."""
    return float(_checked("/properties/reject_threshold", _not_a_number(text)))


def parse_source(text: str) -> str:
    """argparse ``type`` for ``--source``: a value the policy schema accepts."""
    return str(_checked("/properties/source", text))


def run_command(
    handler: Callable[[argparse.Namespace, Context], int],
    args: argparse.Namespace,
    ctx: Context,
) -> int:
    """Run ``handler`` and let the reporter render its result; return the exit code.

    A :class:`CommandError` or an OS error becomes the result's error (a
    message, no traceback).
    """
    try:
        code = handler(args, ctx)
    except CommandError as exc:
        for annotation in exc.annotations:
            ctx.annotate(annotation)
        return report_error(ctx, exc.message, exc.exit_code, exc.details)
    except (BrokenPipeError, OutputUnavailable):
        raise  # our output cannot be written: entry_point says so, in one line
    except OSError as exc:
        if caused_by_interrupt(exc):
            raise KeyboardInterrupt from exc  # cleaning up after a Ctrl-C failed too
        if ctx.debug:
            raise
        where = f"{exc.filename}: " if exc.filename else ""
        return report_error(ctx, f"{where}{exc.strerror or exc}", EXIT_INVALID, {})
    ctx.result.finish(code)
    return code


def report_error(ctx: Context, message: str, exit_code: int, details: Mapping[str, Any]) -> int:
    """End the run with ``message`` as its error; return ``exit_code``."""
    ctx.result.fail(message, details)
    ctx.result.finish(exit_code)
    return exit_code


def stream_is_interactive(stream: TextIO) -> bool:
    """True when ``stream`` is a terminal (used to decide whether to ask questions)."""
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def default_stdin() -> TextIO:
    """The process's standard input (indirection so tests can pass their own)."""
    return sys.stdin
