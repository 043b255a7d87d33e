"""Results and reporters: what one command run found or did, and the formats that print it.

A command states what it did as one frozen :class:`Outcome` of its own (a
dataclass in the command's module): its JSON fields and its text lines are
both rendered from that one object, so they cannot drift apart.

A command run produces one :class:`Result`: its human report line by line,
the fields of its JSON report, its warnings, the problems a CI system can pin
to a file and line (:class:`Annotation`), and the error that ended it, if
any. A :class:`Reporter`, picked by the name given to ``--format``, renders
it:

* ``text`` (:class:`TextReporter`): the report for people, warnings and the
  error on stderr;
* ``json`` (:class:`JsonReporter`): one JSON object on stdout, printed when
  the run is finished;
* ``github`` (:class:`GitHubReporter`): GitHub Actions workflow commands
  (``::error file=F,line=L,col=C,title=T::message``) for every problem,
  warning and error, beside the text report (itemized lines, which the
  annotations replace, are left out).

The text-like reporters print each line as the command produces it, so a
person sees progress, and the lines a question refers to come before the
question; the JSON reporter waits for the finished, frozen :class:`Result`.
A new format is one more class here, registered in :data:`REPORTERS`.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, BinaryIO, ClassVar, Literal, TextIO

from taskclf.cli.output import OutputUnavailable
from taskclf.cli.terminal import json_terminal_text, terminal_text

__all__ = [
    "REPORTERS",
    "Annotation",
    "Failure",
    "GitHubReporter",
    "JsonReporter",
    "Line",
    "Outcome",
    "Reporter",
    "Result",
    "ResultBuilder",
    "TextReporter",
    "reporter_named",
]

Severity = Literal["error", "warning", "notice"]


@dataclass(frozen=True, slots=True)
class Annotation:
    """A problem a CI system can pin to a place: a file, and a line and column in it."""

    message: str
    title: str
    severity: Severity = "error"
    file: str | None = None
    line: int | None = None
    column: int | None = None


@dataclass(frozen=True, slots=True)
class Line:
    """One line of the human report.

    ``itemized`` marks a line that states a problem (or an all-clear) of one
    item that :class:`Annotation` objects state too, such as one file's line
    in ``policy validate``: the GitHub reporter shows the annotations instead.
    """

    text: str
    itemized: bool = False


@dataclass(frozen=True, slots=True)
class Failure:
    """The error that ended a run: its message, and data about it for scripts."""

    message: str
    details: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    def to_dict(self) -> dict[str, Any]:
        """``{"message": ..., "details": {...}}``, as the JSON report has it."""
        return {"message": self.message, "details": _thawed(self.details)}


class Outcome:
    """Base of a command's own frozen result: what it did, from which every format is rendered.

    A subclass is a frozen dataclass holding what the command found or did;
    :meth:`text_lines` (the human report) and :meth:`json_fields` (the JSON
    report's fields) both read only those attributes.
    """

    __slots__ = ()

    @property
    def ok(self) -> bool:
        """Whether the command did what was asked (``ok`` in the JSON report)."""
        return True

    @property
    def exit_code(self) -> int:
        """0 when :attr:`ok`, else 1 (the exit codes every command shares)."""
        return 0 if self.ok else 1

    def text_lines(self) -> Iterable[str | Line]:
        """The human report, line by line."""
        return ()

    def json_fields(self) -> Mapping[str, Any]:
        """The command's fields of the JSON report."""
        return {}

    def annotations(self) -> Iterable[Annotation]:
        """The problems found, each pinned to a place (for ``--format github``)."""
        return ()

    def warnings(self) -> Iterable[str]:
        """What the person should know that did not stop the command."""
        return ()


@dataclass(frozen=True, slots=True)
class Result:
    """Everything one command run reports; every reporter renders this one object.

    ``fields`` are the command's own JSON fields (deeply frozen: mappings are
    read-only views, lists are tuples); ``policy_file`` is the file the run
    worked on (``None`` when it named its own files); ``outcome`` is the
    command's own typed result, when it reported one.
    """

    command: str
    exit_code: int
    ok: bool
    policy_file: str | None
    fields: Mapping[str, Any]
    lines: tuple[Line, ...]
    warnings: tuple[str, ...]
    annotations: tuple[Annotation, ...]
    failure: Failure | None
    outcome: Outcome | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON report: ``command``, ``ok``, ``policy_file``, the fields, ``error``."""
        document: dict[str, Any] = {
            "command": self.command,
            "ok": self.ok,
            "policy_file": self.policy_file,
            **_thawed(self.fields),
        }
        if self.warnings:
            document["warnings"] = list(self.warnings)
        if self.failure is not None:
            document["error"] = self.failure.to_dict()
        return document


class ResultBuilder:
    """Collects one run's result as the command goes, and hands each part to the reporter."""

    def __init__(self, command: str, policy_file: str | None, reporter: Reporter) -> None:
        self.command = command
        self.reporter = reporter
        self._policy_file = policy_file
        self._lines: list[Line] = []
        self._warnings: list[str] = []
        self._annotations: list[Annotation] = []
        self._fields: dict[str, Any] = {}
        self._ok: bool | None = None
        self._failure: Failure | None = None
        self._outcome: Outcome | None = None

    def line(self, text: str | Line, *, itemized: bool = False) -> None:
        """Add a line of the human report (the text-like reporters print it now)."""
        entry = text if isinstance(text, Line) else Line(text, itemized=itemized)
        self._lines.append(entry)
        self.reporter.line(entry)

    def body(self, data: str | bytes) -> None:
        """Print a document itself (a schema, a template, a stored version), byte for byte."""
        self.reporter.body(data)

    def warning(self, text: str) -> None:
        """Add a warning: something the person should know that did not stop the run."""
        self._warnings.append(text)
        self.reporter.warning(text)

    def annotate(self, annotation: Annotation) -> None:
        """Add a problem pinned to a place (the GitHub reporter prints it now)."""
        self._annotations.append(annotation)
        self.reporter.annotation(annotation)

    def conclude(self, ok: bool, fields: Mapping[str, Any]) -> None:
        """Set whether the run succeeded, and the command's own JSON fields."""
        self._ok = ok
        self._fields.update(fields)

    def report(self, outcome: Outcome) -> None:
        """Add everything ``outcome`` says: warnings, annotations, lines and JSON fields."""
        self._outcome = outcome
        for text in outcome.warnings():
            self.warning(text)
        for annotation in outcome.annotations():
            self.annotate(annotation)
        for entry in outcome.text_lines():
            self.line(entry)
        self.conclude(outcome.ok, outcome.json_fields())

    def fail(self, message: str, details: Mapping[str, Any]) -> None:
        """Record the error that ends the run."""
        self._ok = False
        self._failure = Failure(message, _frozen(dict(details)))

    def finish(self, exit_code: int) -> Result:
        """Freeze the result, let the reporter render what is left of it, and return it."""
        fields = dict(self._fields)
        policy_file = fields.pop("policy_file", self._policy_file)  # validate names its own
        result = Result(
            command=self.command,
            exit_code=exit_code,
            ok=(exit_code == 0) if self._ok is None else self._ok,
            policy_file=None if policy_file is None else str(policy_file),
            fields=_frozen(fields),
            lines=tuple(self._lines),
            warnings=tuple(self._warnings),
            annotations=tuple(self._annotations),
            failure=self._failure,
            outcome=self._outcome,
        )
        self.reporter.finish(result)
        return result


class Reporter:
    """Renders a :class:`Result`: the parts as they come, then the finished whole.

    Subclasses override what their format shows; by default a part is not shown.
    """

    name: ClassVar[str]
    help: ClassVar[str]

    def __init__(self, stdout: TextIO, stderr: TextIO) -> None:
        self.stdout = stdout
        self.stderr = stderr

    def line(self, line: Line) -> None:
        """A line of the human report, as the command produced it."""

    def body(self, data: str | bytes) -> None:
        """A document the command prints as it is."""

    def warning(self, text: str) -> None:
        """A warning, as the command produced it."""

    def annotation(self, annotation: Annotation) -> None:
        """A problem pinned to a place, as the command produced it."""

    def finish(self, result: Result) -> None:
        """The finished run."""

    def usage_error(self, prog: str, message: str, usage: str) -> None:
        """The command line was wrong (before any command ran)."""

    def write(self, text: str) -> None:
        """Write ``text`` to stdout; a failure there is :class:`OutputUnavailable`."""
        buffer = getattr(self.stdout, "buffer", None)
        if isinstance(buffer, io.RawIOBase):
            # Unbuffered stdout (PYTHONUNBUFFERED, -u): its text layer drops what
            # a short write leaves over, so a full disk would cut the report short
            # unnoticed. Write the bytes until all are written, or the write fails.
            encoding = getattr(self.stdout, "encoding", None) or "utf-8"
            errors = getattr(self.stdout, "errors", None) or "strict"
            self.write_bytes(text.encode(encoding, errors), buffer)
            return
        with _writing_stdout():
            self.stdout.write(text)

    def write_bytes(self, data: bytes, buffer: BinaryIO | io.RawIOBase) -> None:
        """Write ``data`` to ``buffer``, stdout's bytes, after what was printed before."""
        self.flush()
        with _writing_stdout():
            left = memoryview(data)
            while left:
                left = left[buffer.write(left) or 0 :]  # a raw file may take only part
            buffer.flush()

    def flush(self) -> None:
        """Flush stdout, so that what was printed comes before what stderr says next."""
        with _writing_stdout():
            self.stdout.flush()

    def say(self, text: str) -> None:
        """Print ``taskclf: <text>`` on stderr, terminal-safe."""
        print(terminal_text(f"taskclf: {text}"), file=self.stderr)


class TextReporter(Reporter):
    """The report for people: lines on stdout; warnings and the error on stderr."""

    name = "text"
    help = "text for people (default)"

    def line(self, line: Line) -> None:
        self.write(terminal_text(line.text) + "\n")

    def body(self, data: str | bytes) -> None:
        if isinstance(data, str):
            self.write(data)
            return
        buffer = getattr(self.stdout, "buffer", None)
        if buffer is not None and not _is_terminal(self.stdout):
            self.write_bytes(data, buffer)  # exactly as stored, for `> file` and pipes
        else:
            self.write(terminal_text(data.decode("utf-8", "replace")))

    def warning(self, text: str) -> None:
        self.say(f"warning: {text}")

    def finish(self, result: Result) -> None:
        if result.failure is not None:
            self.flush()  # the report printed so far comes first, even through a pipe
            self.say(f"error: {result.failure.message}")

    def usage_error(self, prog: str, message: str, usage: str) -> None:
        self.stderr.write(usage)
        print(terminal_text(f"{prog}: error: {message}"), file=self.stderr)


class JsonReporter(Reporter):
    """One JSON object on stdout, printed when the run is finished (see :meth:`Result.to_dict`).

    Warnings are in the object and, for a person watching, on stderr too.
    """

    name = "json"
    help = "one JSON object for scripts"

    def warning(self, text: str) -> None:
        self.say(f"warning: {text}")

    def finish(self, result: Result) -> None:
        self._print(result.to_dict())

    def usage_error(self, prog: str, message: str, usage: str) -> None:
        self._print(
            {
                "command": prog.removeprefix("taskclf ").strip() or "taskclf",
                "ok": False,
                "error": {"message": message, "kind": "usage", "usage": usage},
            }
        )

    def _print(self, document: Mapping[str, Any]) -> None:
        text = json.dumps(document, indent=2, ensure_ascii=False, default=str)
        self.write(json_terminal_text(text) + "\n")


class GitHubReporter(TextReporter):
    """GitHub Actions annotations for every problem, warning and error, beside the text report.

    Annotations go to stdout, where the runner reads workflow commands; the
    itemized lines they replace are left out.
    """

    name = "github"
    help = "the text report with a GitHub Actions ::error or ::warning annotation per problem"

    def line(self, line: Line) -> None:
        if line.itemized:
            return
        if any(part.lstrip().startswith("::") for part in line.text.split("\n")):
            # A line that would read as a workflow command (a value from a file
            # or the command line at its start) is printed with commands off.
            with self._commands_off():
                super().line(line)
        else:
            super().line(line)

    def body(self, data: str | bytes) -> None:
        # The runner reads every stdout line as a possible workflow command: a
        # document (a stored policy may hold anything) is printed with them off.
        with self._commands_off():
            super().body(data)
            if data[-1:] not in (b"\n", "\n"):
                self.write("\n")  # the end token must stand on a line of its own

    @contextmanager
    def _commands_off(self) -> Iterator[None]:
        """Print what is written inside with workflow commands off, up to a random token."""
        import secrets  # only here: it costs start-up

        token = secrets.token_hex(16)
        self.write(f"::stop-commands::{token}\n")
        yield
        self.write(f"::{token}::\n")

    def warning(self, text: str) -> None:
        self.annotation(Annotation(text, title="taskclf: warning", severity="warning"))

    def annotation(self, annotation: Annotation) -> None:
        self.write(workflow_command(annotation) + "\n")

    def finish(self, result: Result) -> None:
        if result.failure is not None:
            # With annotations that state each problem at its place, the error's
            # first line says the rest; without, the whole message does.
            message = result.failure.message
            if result.annotations:
                message = message.split("\n", 1)[0]
            self.annotation(Annotation(message, title=f"taskclf {result.command}"))
            super().finish(result)  # and on stderr, as in text, for a person at a terminal

    def usage_error(self, prog: str, message: str, usage: str) -> None:
        super().usage_error(prog, message, usage)
        self.annotation(Annotation(f"{prog}: {message}", title="taskclf: usage error"))


def workflow_command(annotation: Annotation) -> str:
    """``annotation`` as a GitHub Actions workflow command, escaped as GitHub requires.

    In the message ``%``, CR and LF are escaped; in property values ``:`` and
    ``,`` too. Control characters other than those cannot reach the log raw.
    """

    def data(text: str) -> str:
        escaped = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
        return terminal_text(escaped)

    def prop(text: str) -> str:
        return data(text).replace(":", "%3A").replace(",", "%2C")

    properties = []
    if annotation.file is not None:
        properties.append(f"file={prop(annotation.file)}")
        if annotation.line is not None:
            properties.append(f"line={annotation.line}")
            if annotation.column is not None:
                properties.append(f"col={annotation.column}")
    properties.append(f"title={prop(annotation.title)}")
    return f"::{annotation.severity} {','.join(properties)}::{data(annotation.message)}"


REPORTERS: Mapping[str, type[Reporter]] = MappingProxyType(
    {kind.name: kind for kind in (TextReporter, JsonReporter, GitHubReporter)}
)
"""The output formats, by the name ``--format`` takes."""


def reporter_named(name: str, stdout: TextIO, stderr: TextIO) -> Reporter:
    """The reporter for ``--format name``, writing to ``stdout`` and ``stderr``."""
    return REPORTERS[name](stdout, stderr)


@contextmanager
def _writing_stdout() -> Iterator[None]:
    """A failure to write stdout (but a closed reader) becomes :class:`OutputUnavailable`."""
    try:
        yield
    except BrokenPipeError:
        raise
    except OSError as exc:
        raise OutputUnavailable(exc.errno, exc.strerror or str(exc)) from exc


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _frozen(value: Any) -> Any:
    """``value`` with every dict a read-only view and every list a tuple, all the way down."""
    if isinstance(value, Mapping):
        return MappingProxyType({key: _frozen(item) for key, item in value.items()})
    if isinstance(value, list | tuple):
        return tuple(_frozen(item) for item in value)
    return value


def _thawed(value: Any) -> Any:
    """The plain-data form of a :func:`_frozen` value (dicts and lists, for ``json``)."""
    if isinstance(value, Mapping):
        return {key: _thawed(item) for key, item in value.items()}
    if isinstance(value, tuple):
        return [_thawed(item) for item in value]
    return value
