"""``taskclf policy show`` and ``taskclf policy validate``: read a policy and report on it."""

from __future__ import annotations

import argparse
import functools
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from taskclf.cli.common import Context, add_command, add_output_options
from taskclf.cli.fallback import describe_fallback
from taskclf.cli.render import failure_lines, issue_lines, policy_summary, problem_annotations
from taskclf.cli.report import Annotation, Line, Outcome

if TYPE_CHECKING:
    from taskclf.core.home import Home
    from taskclf.core.policy_checks import ArtifactCache

__all__ = ["FileReport", "PolicyShown", "Validation", "check_policy_file", "register"]

_SHOW_DESCRIPTION = """\
Show the current policy, models/inference_policy.json, as a readable summary,
and check it against the schema and the files it points at. When the file is
missing or invalid, say what inference falls back to."""

_VALIDATE_DESCRIPTION = """\
Validate policy files against the schema and, unless --no-disk-checks is given,
against the model bundle and calibrator store they point at. Every schema error
is listed, best first, as FILE::/json/pointer: message; then disk-check failures;
then a summary line. With no FILE, the current policy is checked.

For a FILE given on the command line, its paths are taken relative to the folder
above the file's folder (as for HOME/models/inference_policy.json).
Works as a CI step and as a pre-commit hook (see .pre-commit-hooks.yaml)."""


def register(commands: Any, shared: argparse.ArgumentParser) -> None:
    """Add the ``show`` and ``validate`` subcommands to ``commands``."""
    show = add_command(
        commands,
        "show",
        shared,
        help="show the current policy and what inference will use",
        description=_SHOW_DESCRIPTION,
        examples="examples:\n  taskclf policy show\n  taskclf policy show --format json\n\n",
    )
    add_output_options(show)
    show.set_defaults(handler=run_show, command_name="policy show")

    validate = add_command(
        commands,
        "validate",
        shared,
        help="check policy files against the schema and the files on disk",
        description=_VALIDATE_DESCRIPTION,
        examples="examples:\n  taskclf policy validate\n"
        "  taskclf policy validate --no-disk-checks configs/*.json\n\n",
    )
    validate.add_argument(
        "files",
        nargs="*",
        metavar="FILE",
        help="policy files to check (default: the current policy)",
    )
    validate.add_argument(
        "--files-from",
        metavar="LIST",
        help="also check the files named in LIST, one path per line (- reads standard input): "
        "for more files than a command line holds",
    )
    validate.add_argument(
        "--no-disk-checks",
        action="store_true",
        help="check the schema only, not the model bundle and calibrator store on disk",
    )
    add_output_options(validate)
    validate.set_defaults(handler=run_validate, command_name="policy validate")


@dataclass
class FileReport:
    """What checking one policy file found."""

    file: Path
    exists: bool = True
    policy: Any = None
    read_error: str | None = None
    issues: tuple[Any, ...] = ()
    failures: tuple[Any, ...] = ()
    disk_checked: bool = False
    store_method: str | None = None
    read_position: tuple[int, int] | None = None
    positions: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def note_read_error(self, reason: str, line: int | None, column: int | None) -> None:
        """Record why the file could not be read, and where (for a JSON syntax error)."""
        self.read_error = reason
        if line is not None and column is not None:
            self.read_position = (line, column)

    def where(self, pointer: str) -> tuple[int, int] | None:
        """Line and column of ``pointer`` in the file (or of its nearest ancestor)."""
        from taskclf.core.json_positions import position_of

        found = position_of(self.positions, pointer)
        return None if found is None else (found.line, found.column)

    @property
    def valid(self) -> bool:
        """True when the file exists, parses, fits the schema and passed the disk checks run."""
        return self.exists and self.policy is not None and not self.failures

    def lines(self, shown: str) -> list[str]:
        """Error lines for people, ``FILE::/pointer: message`` first."""
        if not self.exists:
            return [f"{shown}: does not exist"]
        if self.read_error is not None:
            return [f"{shown}: {self.read_error}"]
        return issue_lines(shown, self.issues) + failure_lines(shown, self.failures)

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form for ``--format json``."""
        return {
            "file": str(self.file),
            "exists": self.exists,
            "valid": self.valid,
            "read_error": self.read_error,
            "read_error_line": None if self.read_position is None else self.read_position[0],
            "read_error_column": None if self.read_position is None else self.read_position[1],
            "schema_errors": [
                {**issue.to_dict(), **self._place(issue.pointer)} for issue in self.issues
            ],
            "disk_checked": self.disk_checked,
            "disk_check_failures": [
                {**failure.to_dict(), **self._place(failure.pointer)} for failure in self.failures
            ],
        }

    def _place(self, pointer: str) -> dict[str, int | None]:
        found = self.where(pointer)
        return (
            {"line": None, "column": None}
            if found is None
            else {
                "line": found[0],
                "column": found[1],
            }
        )

    def annotations(self, shown: str) -> list[Annotation]:
        """One annotation per problem of the file, at the line and column of its key."""
        found = []
        if not self.exists:
            found.append(Annotation("does not exist", title="taskclf: missing file", file=shown))
        elif self.read_error is not None:
            line, column = (None, None) if self.read_position is None else self.read_position
            found.append(
                Annotation(self.read_error, title="taskclf: unreadable", file=shown,
                           line=line, column=column)
            )  # fmt: skip
        found.extend(
            problem_annotations(shown, self.positions, issues=self.issues, failures=self.failures)
        )
        return found


@functools.lru_cache(maxsize=1024)
def _home_of(models_dir: str) -> Home:
    # One validate run may check thousands of files in one folder: the home
    # of each folder is resolved once.
    from taskclf.core.home import Home

    return Home.of_models_dir(models_dir)


_MAX_LISTED_NAME = 4096  # bytes: longer than any path the system accepts


def _listed_files(source: str) -> list[str]:
    """The paths listed in ``source`` (a file, or ``-`` for standard input), one per line.

    Raises:
        CommandError: the list cannot be read, or a line is longer than any path.
    """
    import sys

    from taskclf.cli.common import CommandError

    try:
        stream = (
            sys.stdin if source == "-" else open(source, encoding="utf-8", errors="surrogateescape")  # noqa: SIM115
        )
    except OSError as exc:
        raise CommandError(f"--files-from {source}: {exc.strerror or exc}") from exc
    names: list[str] = []
    try:
        for number, line in enumerate(iter(lambda: stream.readline(_MAX_LISTED_NAME + 2), ""), 1):
            name = line.removesuffix("\n").removesuffix("\r")
            if len(name.encode("utf-8", "surrogateescape")) > _MAX_LISTED_NAME:
                raise CommandError(
                    f"--files-from {source}: line {number} is longer than any path "
                    f"({_MAX_LISTED_NAME} bytes); give one path per line"
                )
            if name.strip():
                names.append(name)
    except (OSError, UnicodeDecodeError) as exc:
        raise CommandError(f"--files-from {source}: cannot be read ({exc})") from exc
    finally:
        if stream is not sys.stdin:
            stream.close()
    return names


def check_policy_file(
    path: Path,
    models_dir: Path,
    *,
    disk_checks: bool,
    home_policy: bool = False,
    cache: ArtifactCache | None = None,
) -> FileReport:
    """Read ``path`` as a policy and check it; never raises for bad content.

    ``home_policy`` says ``path`` is the policy of ``models_dir`` itself: it is
    then read from inside TASKCLF_HOME only (a link out of the home is
    refused), as inference reads it. A FILE named on the command line is read
    where it is.
    """
    from taskclf.core.inference_policy import (
        PolicyFileError,
        PolicySchemaError,
        read_inference_policy,
        read_policy_of,
    )
    from taskclf.core.policy_checks import inspect_policy_artifacts

    if not disk_checks and not home_policy:
        return _schema_report(path)
    report = FileReport(file=path)
    try:
        report.policy = read_policy_of(models_dir) if home_policy else read_inference_policy(path)
    except FileNotFoundError:
        report.exists = False
        return report
    except PolicyFileError as exc:
        report.note_read_error(exc.reason, exc.line, exc.column)
        return report
    except PolicySchemaError as exc:
        report.issues = exc.issues
        report.positions = _positions_in(path, models_dir, home_policy)
        return report
    if disk_checks:
        report.disk_checked = True
        found = inspect_policy_artifacts(report.policy, _home_of(str(models_dir)), cache=cache)
        report.failures = found.failures
        report.store_method = None if found.store is None else found.store.method
        if found.failures:
            report.positions = _positions_in(path, models_dir, home_policy)
    return report


def _schema_report(path: Path) -> FileReport:
    """The schema check of a file: read, strictly parsed, validated; no policy object built.

    For a document read from a file, the schema's answer is the typed
    facade's (a parsed file cannot hold what only a Python caller can pass),
    so checking thousands of files needs no facade.
    """
    from taskclf.core.inference_policy import validate_policy_document
    from taskclf.core.jsonio import JSONFileError, parse_json_bytes, read_file_bytes

    report = FileReport(file=path)
    try:
        data = read_file_bytes(path)
        document = parse_json_bytes(data, source=path)
    except FileNotFoundError:
        report.exists = False
        return report
    except JSONFileError as exc:
        report.note_read_error(exc.reason, exc.line, exc.column)
        return report
    report.issues = validate_policy_document(document)
    if report.issues:
        from taskclf.core.json_positions import json_positions

        report.positions = dict(json_positions(data.decode("utf-8")))
    else:
        report.policy = document
    return report


def _positions_in(path: Path, models_dir: Path, home_policy: bool) -> dict[str, Any]:
    """Where each value of the policy file stands (read again: only for reports of problems)."""
    from taskclf.core.home import Home
    from taskclf.core.json_positions import json_positions
    from taskclf.core.jsonio import JSONFileError, read_file_bytes

    try:
        if home_policy:
            home = Home.of_models_dir(models_dir)
            data = home.read_bytes(home.display(path))
        else:
            data = read_file_bytes(path)
        return dict(json_positions(data.decode("utf-8")))
    except (OSError, JSONFileError, UnicodeDecodeError):
        return {}  # changed meanwhile: the report still has every pointer


def run_show(args: argparse.Namespace, ctx: Context) -> int:
    """Report on the current policy, or say why there is no usable one."""
    report = check_policy_file(ctx.policy_file, ctx.models_dir, disk_checks=True, home_policy=True)
    fallback = None if report.valid else describe_fallback(ctx)
    return ctx.report(
        PolicyShown(report=report, policy_file=ctx.display(ctx.policy_file), fallback=fallback)
    )


@dataclass(frozen=True, slots=True)
class PolicyShown(Outcome):
    """What ``policy show`` found: the check of the current policy, and the fallback.

    ``report`` is the check of the policy file (schema and disk checks);
    ``policy_file`` is that file as shown to the person; ``fallback`` says
    what inference uses instead when the policy is missing or unusable
    (``None`` when the policy is valid and used).
    """

    report: FileReport
    policy_file: str
    fallback: str | None

    @property
    def ok(self) -> bool:
        """A missing policy is a state to report; an unusable one is a failure."""
        return not self.report.exists or self.report.valid

    def text_lines(self) -> Iterator[str]:
        report, shown = self.report, self.policy_file
        if not report.exists:
            yield f"No inference policy at {shown}."
            yield f"Without it, {self.fallback}."
            yield "Create one with: taskclf policy create --model-dir models/<run_id>"
            return
        if report.policy is None:
            yield f"{shown} exists but is invalid, so inference ignores it:"
            yield from (f"  {line}" for line in report.lines(shown))
            yield f"Until it is fixed, {self.fallback}."
            yield (
                "Fix it by hand (check with `taskclf policy validate`) or recreate it with "
                "`taskclf policy create`."
            )
            return
        yield f"Inference policy: {shown}"
        yield from policy_summary(report.policy, store_method=report.store_method)
        if report.failures:
            yield f"Disk checks: {len(report.failures)} failed, so inference ignores this policy:"
            yield from (f"  {line}" for line in failure_lines(shown, report.failures))
            yield f"Until it is fixed, {self.fallback}."
        elif report.policy.calibrator_store_dir is None:
            yield "Disk checks: passed (the model bundle matches the policy)."
        else:
            yield "Disk checks: passed (the bundle and calibrator store match the policy)."

    def json_fields(self) -> dict[str, Any]:
        report = self.report
        if not report.exists:
            return {"exists": False, "valid": None, "fallback": self.fallback}
        if report.policy is None:
            return {
                "exists": True,
                "valid": False,
                "report": report.to_dict(),
                "fallback": self.fallback,
            }
        return {
            "exists": True,
            "valid": report.valid,
            "policy": report.policy.to_dict(),
            "report": report.to_dict(),
            "fallback": self.fallback,
        }


def run_validate(args: argparse.Namespace, ctx: Context) -> int:
    """Validate every FILE (default: the current policy); exit 1 when any fails.

    One run reads each bundle and store once, however many files name it.
    """
    from taskclf.core.policy_checks import ArtifactCache

    names = list(args.files)
    if args.files_from is not None:
        names += _listed_files(args.files_from)
    explicit = bool(names) or args.files_from is not None
    if explicit:
        targets = [(Path(name), Path(name).absolute().parent) for name in names]
    else:
        targets = [(ctx.policy_file, ctx.models_dir)]
    cache = ArtifactCache()
    checked = [
        (
            str(path) if explicit else ctx.display(path),
            check_policy_file(
                path,
                models_dir,
                disk_checks=not args.no_disk_checks,
                home_policy=not explicit,
                cache=cache,
            ),
        )
        for path, models_dir in targets
    ]
    return ctx.report(
        Validation(checked=tuple(checked), policy_file=None if explicit else str(ctx.policy_file))
    )


@dataclass(frozen=True, slots=True)
class Validation(Outcome):
    """What ``policy validate`` found: the check of every file, in the order given.

    ``checked`` pairs each file as shown to the person with its
    :class:`FileReport`; ``policy_file`` is the current policy's path when no
    FILE was named, else ``None`` (the JSON report then names each file);
    ``invalid`` is how many of the files failed a check (counted once, when
    the outcome is made: a run may check thousands of files).
    """

    checked: tuple[tuple[str, FileReport], ...]
    policy_file: str | None
    invalid: int = field(init=False)

    def __post_init__(self) -> None:
        invalid = sum(not report.valid for _, report in self.checked)
        object.__setattr__(self, "invalid", invalid)  # frozen: set once, here

    @property
    def ok(self) -> bool:
        """Every file passed."""
        return self.invalid == 0

    def annotations(self) -> Iterator[Annotation]:
        for shown, report in self.checked:
            yield from report.annotations(shown)

    def text_lines(self) -> Iterator[str | Line]:
        for shown, report in self.checked:
            if report.valid:
                done = "schema and disk checks" if report.disk_checked else "schema"
                yield Line(f"{shown}: ok ({done})", itemized=True)
            else:
                yield Line("\n".join(report.lines(shown)), itemized=True)
        total, invalid = len(self.checked), self.invalid
        noun = "file" if total == 1 else "files"
        yield f"{total} {noun} checked: {total - invalid} valid, {invalid} invalid."

    def json_fields(self) -> dict[str, Any]:
        total, invalid = len(self.checked), self.invalid
        return {
            "policy_file": self.policy_file,
            "files": [report.to_dict() for _, report in self.checked],
            "summary": {"checked": total, "valid": total - invalid, "invalid": invalid},
        }
