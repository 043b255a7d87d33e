"""``taskclf policy set | diff | apply | history | rollback``: deploying changes to the policy.

Every command that writes validates the policy it would install against the
schema and the files on disk first, and writes through the one writer, which
keeps the version it replaces in ``models/.policy_history/``
(:mod:`taskclf.core.policy_history`); ``history`` lists those versions and
``rollback`` restores one.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from taskclf.cli.common import (
    EXIT_USAGE,
    CommandError,
    Context,
    add_command,
    add_output_options,
    default_stdin,
    parse_source,
    stream_is_interactive,
)
from taskclf.cli.outcomes import disk_check_refusal, schema_refusal
from taskclf.cli.render import FieldChange, failure_lines, field_changes, problem_annotations
from taskclf.cli.report import Annotation, Outcome
from taskclf.cli.terminal import value_text

if TYPE_CHECKING:
    from taskclf.core.errors import DiskCheckFailure
    from taskclf.core.inference_policy import InferencePolicy
    from taskclf.core.json_positions import Position
    from taskclf.core.policy_history import DamagedRecord, PolicyHistory, PolicyVersion

__all__ = [
    "FieldsUpdate",
    "Installation",
    "PolicyComparison",
    "Restoration",
    "StoredVersion",
    "VersionList",
    "register",
]

_CREATE_HINT = "create one with `taskclf policy create --model-dir models/<run_id>`"

_SET_DESCRIPTION = """\
Change fields of the current policy, models/inference_policy.json. KEY is a field
of the policy or per_user_reject_thresholds.<user_id>; VALUE is read as JSON when
it parses as JSON (0.6, null, true, ["a", "b"], "quoted text"), else as plain text.
per_user_reject_thresholds.<user_id>=null removes that user. Setting
calibrator_store_dir without calibration_method sets the method to null (the
store's own method). created_at becomes now, git_commit the current commit, and
source --source (default "manual").

The result is checked against the schema and the files on disk before anything is
written; the changes are printed field by field, and the version replaced is kept
(see `taskclf policy history`)."""

_DIFF_DESCRIPTION = """\
Print the field changes from the current policy to FILE (a policy file anywhere,
such as the one in a pull request). Exit 0 when they are the same policy, 1 when
they differ or FILE is invalid or does not match this home's files (the output says
which), 2 on usage errors."""

_APPLY_DESCRIPTION = """\
Check FILE against the schema and against this home's model bundle and calibrator
store, print the changes, and install it byte for byte (atomically) as
models/inference_policy.json. An invalid FILE changes nothing: every error is
listed. The version replaced is kept (see `taskclf policy history`)."""

_HISTORY_DESCRIPTION = """\
List the versions of models/inference_policy.json that taskclf replaced or removed,
newest first: version 1 is the one the current policy replaced. Each shows when
and by what it was replaced, and its model_dir, reject_threshold, calibrator,
source and created_at (or "no policy"). --show N prints version N's file exactly
as it was. Up to 100 versions are kept in models/.policy_history/; a damaged
record is reported and skipped."""

_ROLLBACK_DESCRIPTION = """\
Restore version N (default 1, the one the current policy replaced) byte for byte,
after checking it against the files on disk now: a version whose bundle or
calibrator store no longer matches is refused, saying why. The version being
replaced is kept first, so a rollback can be rolled back. Rolling back to
"no policy" removes the policy (inference then falls back, as after `remove`).
Asks for confirmation on a terminal; pass --yes in scripts."""


def _version_number(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a version number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"versions are numbered from 1, got {value}")
    return value


def register(commands: Any, shared: argparse.ArgumentParser) -> None:
    """Add the ``set``, ``diff``, ``apply``, ``history`` and ``rollback`` subcommands."""
    setter = add_command(
        commands,
        "set",
        shared,
        help="change fields of the current policy (validated before it is written)",
        description=_SET_DESCRIPTION,
        examples="examples:\n  taskclf policy set reject_threshold=0.6\n"
        "  taskclf policy set per_user_reject_thresholds.alice=0.7 --source tune-by-hand\n"
        "  taskclf policy set calibrator_store_dir=null --dry-run\n\n",
    )
    setter.add_argument(
        "assignments",
        nargs="+",
        metavar="KEY=VALUE",
        help="a field and its new value (VALUE as JSON, else as text)",
    )
    setter.add_argument(
        "--source",
        type=parse_source,
        metavar="S",
        help='what made the change, recorded in the file (default: "manual")',
    )
    setter.add_argument("--dry-run", action="store_true", help="print the changes, write nothing")
    add_output_options(setter)
    setter.set_defaults(handler=run_set, command_name="policy set")

    diff = add_command(
        commands,
        "diff",
        shared,
        help="print the changes from the current policy to FILE",
        description=_DIFF_DESCRIPTION,
        examples="examples:\n  taskclf policy diff reviewed/inference_policy.json\n"
        "  taskclf policy diff candidate.json --format json\n\n",
    )
    diff.add_argument("file", metavar="FILE", type=Path, help="the policy file to compare with")
    add_output_options(diff)
    diff.set_defaults(handler=run_diff, command_name="policy diff")

    apply = add_command(
        commands,
        "apply",
        shared,
        help="check FILE against this home and install it byte for byte",
        description=_APPLY_DESCRIPTION,
        examples="examples:\n  taskclf policy apply reviewed/inference_policy.json --dry-run\n"
        "  taskclf policy apply reviewed/inference_policy.json\n\n",
    )
    apply.add_argument("file", metavar="FILE", type=Path, help="the policy file to install")
    apply.add_argument("--dry-run", action="store_true", help="check and print, write nothing")
    add_output_options(apply)
    apply.set_defaults(handler=run_apply, command_name="policy apply")

    history = add_command(
        commands,
        "history",
        shared,
        help="list the versions taskclf replaced, newest first",
        description=_HISTORY_DESCRIPTION,
        examples="examples:\n  taskclf policy history\n"
        "  taskclf policy history --show 2 > previous.json\n\n",
    )
    history.add_argument(
        "--show",
        type=_version_number,
        metavar="N",
        help="print version N's file exactly as it was",
    )
    add_output_options(history)
    history.set_defaults(handler=run_history, command_name="policy history")

    rollback = add_command(
        commands,
        "rollback",
        shared,
        help="restore a version from the history (checked against the disk first)",
        description=_ROLLBACK_DESCRIPTION,
        examples="examples:\n  taskclf policy rollback --dry-run\n"
        "  taskclf policy rollback 3 --yes\n\n",
    )
    rollback.add_argument(
        "version",
        nargs="?",
        type=_version_number,
        default=1,
        metavar="N",
        help="the version to restore, as numbered by `taskclf policy history` (default: 1)",
    )
    rollback.add_argument("--dry-run", action="store_true", help="check and print, write nothing")
    rollback.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    add_output_options(rollback)
    rollback.set_defaults(handler=run_rollback, command_name="policy rollback")


# --------------------------------------------------------------------------- shared


def _current_bytes(ctx: Context) -> bytes | None:
    """The current policy's bytes, through the home's door; ``None`` when there is none."""
    from taskclf.core.home import Home
    from taskclf.core.jsonio import JSONFileError

    home = Home.at(ctx.home)
    shown = ctx.display(ctx.policy_file)
    try:
        return home.read_bytes(home.display(ctx.policy_file))
    except (FileNotFoundError, NotADirectoryError):
        return None
    except JSONFileError as exc:
        raise CommandError(
            f"{shown}: {exc.reason}; nothing was changed", details={"file": shown}
        ) from exc


def _document_of(data: bytes | None) -> dict[str, Any] | None:
    """The policy's JSON form, normalised when it is valid; ``None`` when not a JSON object."""
    from taskclf.core.inference_policy import InferencePolicy, PolicySchemaError
    from taskclf.core.jsonio import JSONFileError, parse_json_bytes

    if data is None:
        return None
    try:
        document = parse_json_bytes(data, source="policy")
    except JSONFileError:
        return None
    if not isinstance(document, dict):
        return None
    try:
        return InferencePolicy.from_dict(document).to_dict()
    except PolicySchemaError:
        return document


def _change_lines(intro: str, changes: Iterable[FieldChange]) -> Iterator[str]:
    """``intro`` with the number of changes, then one line per changed field."""
    changes = tuple(changes)
    if not changes:
        yield f"{intro}: none."
        return
    yield f"{intro} ({len(changes)}):"
    for change in changes:
        yield str(change)


def _write(ctx: Context, data: bytes | None, *, expected: bytes | None) -> None:
    """Install ``data`` (``None``: remove the policy), keeping the version it replaces."""
    from taskclf.core.errors import PolicyFileError
    from taskclf.core.policy_history import PolicyChangedError, change_policy_file

    shown = ctx.display(ctx.policy_file)
    try:
        change_policy_file(
            ctx.models_dir, data, replaced_by=f"taskclf {ctx.command}", expected=expected
        )
    except PolicyChangedError as exc:
        raise CommandError(
            f"{shown} was changed by something else meanwhile; nothing was written. "
            "Run the command again",
            details={"file": shown},
        ) from exc
    except PolicyFileError as exc:
        raise CommandError(f"{shown}: {exc.reason}", details=dict(exc.details)) from exc


def _refusal(intro: str, exc: Exception) -> CommandError:
    """The refusal for a policy that is not valid here (bad JSON, schema or disk)."""
    from taskclf.core.errors import PolicyDiskCheckError, PolicyFileError, PolicySchemaError

    if isinstance(exc, PolicySchemaError):
        return schema_refusal(f"{intro}: it breaks the schema", exc)
    if isinstance(exc, PolicyDiskCheckError):
        return disk_check_refusal(f"{intro}: it does not match the files on disk", exc.failures)
    if isinstance(exc, PolicyFileError):
        return CommandError(f"{intro}: {exc.message}", details=dict(exc.details))
    raise exc


def _read_file(ctx: Context, path: Path) -> bytes:
    from taskclf.core.jsonio import JSONFileError, read_file_bytes

    try:
        return read_file_bytes(path)
    except FileNotFoundError as exc:
        raise CommandError(
            f"{path} does not exist; give the path of a policy file", details={"file": str(path)}
        ) from exc
    except JSONFileError as exc:
        raise CommandError(f"{path}: {exc.reason}", details={"file": str(path)}) from exc


# --------------------------------------------------------------------------- set


def _assignments(texts: list[str]) -> list[tuple[str, Any]]:
    """``KEY=VALUE`` arguments as (key, value); VALUE as strict JSON, else as text.

    Raises:
        CommandError: (usage) an argument has no ``=`` or an unknown key.
    """
    from taskclf.core.jsonio import JSONFileError, parse_json_bytes
    from taskclf.core.policy_deploy import UnknownPolicyKeyError, check_settable_key

    result: list[tuple[str, Any]] = []
    for text in texts:
        key, equals, raw = text.partition("=")
        if not equals or not key:
            raise CommandError(
                f"expected KEY=VALUE, got {value_text(text)!s}; for example reject_threshold=0.6",
                exit_code=EXIT_USAGE,
            )
        try:
            check_settable_key(key)
        except UnknownPolicyKeyError as exc:
            raise CommandError(
                value_text(exc.message),
                exit_code=EXIT_USAGE,
                details={"key": key, "suggestion": exc.suggestion},
            ) from exc
        value: Any
        try:
            value = parse_json_bytes(raw.encode("utf-8", "surrogateescape"), source=key)
        except JSONFileError:
            value = raw
        result.append((key, value))
    return result


def run_set(args: argparse.Namespace, ctx: Context) -> int:
    """Apply KEY=VALUE changes to the current policy, validated before it is written."""
    from taskclf.core.inference_policy import (
        InferencePolicy,
        PolicySchemaError,
        check_policy_artifacts,
    )
    from taskclf.core.jsonio import JSONFileError, encode_json_document, parse_json_bytes
    from taskclf.core.policy_deploy import updated_policy_document

    assignments = _assignments(args.assignments)
    shown = ctx.display(ctx.policy_file)
    current = _current_bytes(ctx)
    if current is None:
        raise CommandError(
            f"there is no policy at {shown} to change; {_CREATE_HINT}",
            details={"file": shown},
        )
    try:
        document = parse_json_bytes(current, source=shown)
    except JSONFileError as exc:
        raise CommandError(
            f"{exc}; fix it with `taskclf policy edit`, or {_CREATE_HINT}; nothing was written",
            details={"file": shown},
        ) from exc
    if not isinstance(document, dict):
        raise CommandError(
            f"{shown} does not hold a JSON object; fix it with `taskclf policy edit`, or "
            f"{_CREATE_HINT}; nothing was written",
            details={"file": shown},
        )
    updated = updated_policy_document(
        document, assignments, source="manual" if args.source is None else args.source
    )
    try:
        policy = InferencePolicy.from_dict(updated)
    except PolicySchemaError as exc:
        raise schema_refusal(
            "the changes do not make a valid policy; nothing was written", exc
        ) from exc
    failures = check_policy_artifacts(policy, ctx.models_dir)
    if failures:
        raise disk_check_refusal(
            "the changed policy would not match the files on disk; nothing was written", failures
        )
    try:
        data = encode_json_document(policy.to_dict(), shown)
    except JSONFileError as exc:
        raise CommandError(f"{exc}; nothing was written", details={"file": shown}) from exc
    changes = field_changes(_document_of(current), policy.to_dict())
    if not args.dry_run:
        _write(ctx, data, expected=current)
    return ctx.report(
        FieldsUpdate(
            policy_file=shown,
            changes=tuple(changes),
            policy=policy,
            dry_run=bool(args.dry_run),
        )
    )


@dataclass(frozen=True, slots=True)
class FieldsUpdate(Outcome):
    """What ``policy set`` did: the field changes, and the policy written.

    ``policy_file`` is the policy file as shown to the person; with
    ``dry_run`` the policy was checked and nothing was written.
    """

    policy_file: str
    changes: tuple[FieldChange, ...]
    policy: InferencePolicy
    dry_run: bool

    def text_lines(self) -> Iterator[str]:
        yield from _change_lines(f"Changes to {self.policy_file}", self.changes)
        if self.dry_run:
            yield "Nothing was written (--dry-run)."
        else:
            yield f"Wrote {self.policy_file} (undo: taskclf policy rollback)."

    def json_fields(self) -> dict[str, Any]:
        return {
            "written": not self.dry_run,
            "dry_run": self.dry_run,
            "changes": [change.to_dict() for change in self.changes],
            "policy": self.policy.to_dict(),
        }


# --------------------------------------------------------------------------- diff and apply


def _checked_file(ctx: Context, path: Path, *, disk: bool) -> tuple[bytes, InferencePolicy]:
    from taskclf.core.errors import PolicyValidationError
    from taskclf.core.policy_deploy import check_policy_bytes

    data = _read_file(ctx, path)
    try:
        return data, check_policy_bytes(data, ctx.models_dir, source=path, disk=disk)
    except PolicyValidationError as exc:
        refusal = _refusal(f"{path} is not a valid policy; nothing was changed", exc)
        refusal.annotations = tuple(
            problem_annotations(
                str(path),
                _positions(data),
                issues=getattr(exc, "issues", ()),
                failures=getattr(exc, "failures", ()),
            )
        )
        raise refusal from exc


def _positions(data: bytes) -> dict[str, Position]:
    """Where each JSON pointer of the policy file ``data`` stands (for annotations)."""
    from taskclf.core.json_positions import json_positions

    return json_positions(data.decode("utf-8", "replace"))


def run_diff(args: argparse.Namespace, ctx: Context) -> int:
    """Print the changes from the current policy to FILE; exit 1 when they differ."""
    from taskclf.core.inference_policy import check_policy_artifacts

    path: Path = args.file
    data, policy = _checked_file(ctx, path, disk=False)
    current = _current_bytes(ctx)
    failures = tuple(check_policy_artifacts(policy, ctx.models_dir))
    return ctx.report(
        PolicyComparison(
            file=str(path),
            policy_file=ctx.display(ctx.policy_file),
            has_current=current is not None,
            changes=tuple(field_changes(_document_of(current), policy.to_dict())),
            failures=failures,
            positions=_positions(data) if failures else {},
        )
    )


@dataclass(frozen=True, slots=True)
class PolicyComparison(Outcome):
    """What ``policy diff`` found: the changes from the current policy to FILE.

    ``file`` is FILE as given; ``policy_file`` the current policy file as
    shown to the person, and ``has_current`` whether there is one (without
    it, every field of FILE is a change). ``failures`` are the checks against
    the files on disk that FILE fails (``apply`` would refuse it), and
    ``positions`` where FILE's keys stand, to pin them. Not :attr:`ok`
    (exit 1) when anything differs or fails.
    """

    file: str
    policy_file: str
    has_current: bool
    changes: tuple[FieldChange, ...]
    failures: tuple[DiskCheckFailure, ...]
    positions: Mapping[str, Position] = field(default_factory=dict)

    def annotations(self) -> list[Annotation]:
        return problem_annotations(self.file, self.positions, failures=self.failures)

    @property
    def ok(self) -> bool:
        return not self.changes and not self.failures

    def text_lines(self) -> Iterator[str]:
        if not self.has_current:
            yield f"There is no policy at {self.policy_file}; {self.file} would add every field."
        if self.changes:
            yield from _change_lines(
                f"Changes from {self.policy_file} to {self.file}", self.changes
            )
        else:
            yield f"No differences: {self.file} is the same policy as {self.policy_file}."
        if self.failures:
            yield f"{self.file} does not match the files on disk (apply would refuse it):"
            for line in failure_lines(self.file, self.failures):
                yield f"  {line}"

    def json_fields(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "same": not self.changes,
            "changes": [change.to_dict() for change in self.changes],
            "failures": [failure.to_dict() for failure in self.failures],
        }


def run_apply(args: argparse.Namespace, ctx: Context) -> int:
    """Check FILE against the schema and this home, then install it byte for byte."""
    path: Path = args.file
    data, policy = _checked_file(ctx, path, disk=True)
    current = _current_bytes(ctx)
    same = current == data
    if not same and not args.dry_run:
        _write(ctx, data, expected=current)
    return ctx.report(
        Installation(
            file=str(path),
            policy_file=ctx.display(ctx.policy_file),
            same=same,
            dry_run=bool(args.dry_run),
            changes=tuple(field_changes(_document_of(current), policy.to_dict())),
            policy=policy,
        )
    )


@dataclass(frozen=True, slots=True)
class Installation(Outcome):
    """What ``policy apply`` did: FILE checked, then installed as the policy file.

    ``file`` is FILE as given, ``policy_file`` the policy file as shown to
    the person. ``same``: FILE already was the policy file, byte for byte, so
    nothing was written; with ``dry_run`` nothing was written either.
    ``changes`` go from the policy replaced to ``policy``, FILE's policy.
    """

    file: str
    policy_file: str
    same: bool
    dry_run: bool
    changes: tuple[FieldChange, ...]
    policy: InferencePolicy

    @property
    def written(self) -> bool:
        """Whether FILE was installed by this run."""
        return not self.same and not self.dry_run

    def text_lines(self) -> Iterator[str]:
        if self.same:
            yield (
                f"{self.file} is already installed as {self.policy_file}, byte for byte; "
                "nothing to do."
            )
            return
        yield from _change_lines(f"Changes to {self.policy_file}", self.changes)
        if self.dry_run:
            yield "Nothing was written (--dry-run)."
        else:
            yield f"Installed {self.file} as {self.policy_file} (undo: taskclf policy rollback)."

    def json_fields(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "written": self.written,
            "dry_run": self.dry_run,
            "changes": [change.to_dict() for change in self.changes],
            "policy": self.policy.to_dict(),
        }


# --------------------------------------------------------------------------- history


def _version_lines(entry: PolicyVersion) -> list[str]:
    """The second line of a history entry: what the version held."""
    from taskclf.core.inference_policy import InferencePolicy, PolicySchemaError

    if entry.data is None:
        return ["no policy"]
    problem = entry.problem()
    document = entry.document()
    if problem is not None or not isinstance(document, dict):
        return [f"not a policy file: {problem or 'not a JSON object'}"]
    try:
        policy = InferencePolicy.from_dict(document)
    except PolicySchemaError as exc:
        model = value_text(document.get("model_dir", "?"))
        return [f"model_dir {model}; invalid: {len(exc.issues)} schema error(s)"]
    if policy.calibrator_store_dir is None:
        calibrator = "no calibrator"
    else:
        method = policy.calibration_method or "the store's method"
        calibrator = f"calibrator {policy.calibrator_store_dir} ({method})"
    return [
        f"model_dir {value_text(policy.model_dir)}, reject_threshold {policy.reject_threshold:g}",
        value_text(calibrator),
        f"source {value_text(policy.source)}, created_at {value_text(policy.created_at)}",
    ]


def run_history(args: argparse.Namespace, ctx: Context) -> int:
    """List the kept versions, or print one of them as it was."""
    from taskclf.core.policy_history import PolicyHistoryError, policy_history

    history = policy_history(ctx.models_dir)
    if args.show is None:
        return ctx.report(VersionList(policy_file=ctx.display(ctx.policy_file), history=history))
    try:
        entry = history.get(args.show)
    except PolicyHistoryError as exc:
        # The error ends the run, so no outcome reports the damaged records: say them here.
        for text in _damaged_warnings(history.damaged):
            ctx.warn(text)
        raise CommandError(exc.message, details={"version": args.show}) from exc
    code = ctx.report(StoredVersion(version=entry, damaged=history.damaged))
    if entry.data is not None:
        ctx.body(entry.data)  # exactly as it was, for `> file` and pipes
    return code


def _damaged_warnings(damaged: Iterable[DamagedRecord]) -> Iterator[str]:
    for bad in damaged:
        yield f"skipping damaged history record {bad.file}: {bad.reason}"


@dataclass(frozen=True, slots=True)
class VersionList(Outcome):
    """What ``policy history`` found: the kept versions and the damaged records.

    ``policy_file`` is the policy file as shown to the person.
    """

    policy_file: str
    history: PolicyHistory

    def warnings(self) -> Iterator[str]:
        return _damaged_warnings(self.history.damaged)

    def text_lines(self) -> Iterator[str]:
        from taskclf.core.policy_history import HISTORY_DIRNAME

        rows: list[tuple[int, list[str]]] = []
        for entry in self.history.versions:
            head = f"replaced {entry.replaced_at} by {value_text(entry.replaced_by)}"
            rows.append((entry.version, [head, *_version_lines(entry)]))
        for bad in self.history.damaged:
            rows.append((bad.version, [f"damaged record {bad.file} (skipped): {bad.reason}"]))
        if not rows:
            yield (
                f"No versions of {self.policy_file} are kept yet (models/{HISTORY_DIRNAME}/ is "
                "empty): taskclf keeps each version it replaces from now on."
            )
            return
        yield f"Versions of {self.policy_file} that taskclf replaced, newest first"
        yield "(1 is the version the current policy replaced):"
        width = len(str(max(number for number, _lines in rows)))
        for number, lines in sorted(rows):
            yield f"  {number:>{width}}  {value_text(lines[0])}"
            for line in lines[1:]:
                yield f"  {'':>{width}}  {line}"
        yield "Show one: taskclf policy history --show N; restore it: taskclf policy rollback N"

    def json_fields(self) -> dict[str, Any]:
        return {
            "versions": [entry.to_dict() for entry in self.history.versions],
            "damaged": [bad.to_dict() for bad in self.history.damaged],
        }


@dataclass(frozen=True, slots=True)
class StoredVersion(Outcome):
    """What ``policy history --show N`` found: version N, and the records that are damaged.

    The text report has a line only for "no policy"; a file is printed as it
    is (``ctx.body``), and JSON carries it as ``file_text``.
    """

    version: PolicyVersion
    damaged: tuple[DamagedRecord, ...]

    def warnings(self) -> Iterator[str]:
        return _damaged_warnings(self.damaged)

    def text_lines(self) -> Iterator[str]:
        if self.version.data is None:
            yield f'Version {self.version.version} is "no policy": there was no policy file.'

    def json_fields(self) -> dict[str, Any]:
        data = self.version.data
        return {
            "version": self.version.to_dict(),
            "file_text": None if data is None else data.decode("utf-8", "replace"),
        }


# --------------------------------------------------------------------------- rollback


RollbackStep = Literal["unchanged", "checked", "declined", "restored"]
"""How far ``policy rollback`` went: the policy already was the version; the version was
checked (``--dry-run``); the person said no; the version was restored."""


def run_rollback(args: argparse.Namespace, ctx: Context) -> int:
    """Restore version N after checking it against the disk now; ask first on a terminal."""
    from taskclf.core.errors import PolicyValidationError
    from taskclf.core.policy_deploy import rollback_inference_policy
    from taskclf.core.policy_history import PolicyHistoryError

    shown = ctx.display(ctx.policy_file)
    current = _current_bytes(ctx)
    try:
        check = rollback_inference_policy(ctx.models_dir, args.version, dry_run=True)
    except PolicyHistoryError as exc:
        raise CommandError(exc.message, details={"version": args.version}) from exc
    except PolicyValidationError as exc:
        raise _refusal(f"not restoring version {args.version}; nothing was changed", exc) from exc
    target, policy = check.version, check.policy
    changes = (
        () if policy is None else tuple(field_changes(_document_of(current), policy.to_dict()))
    )

    def report(step: RollbackStep, *, previewed: bool = False, fallback: str | None = None) -> int:
        return ctx.report(
            Restoration(
                policy_file=shown,
                version=target,
                policy=policy,
                changes=changes,
                step=step,
                dry_run=bool(args.dry_run),
                previewed=previewed,
                fallback=fallback,
            )
        )

    if current == target.data:
        return report("unchanged")
    if args.dry_run:
        return report("checked")
    asked = not args.yes
    if asked:
        for line in _restoring_lines(shown, target, policy, changes):
            ctx.out(line)  # the question refers to these lines: they come first
        if not _confirmed(ctx, f"Restore {_described(target)}? [y/N] "):
            return report("declined", previewed=True)
    try:
        rollback_inference_policy(
            ctx.models_dir,
            args.version,
            replaced_by=f"taskclf {ctx.command}",
            expected=current,
        )
    except PolicyHistoryError as exc:
        raise CommandError(exc.message, details={"version": args.version}) from exc
    except PolicyValidationError as exc:
        raise _refusal(f"not restoring version {args.version}; nothing was changed", exc) from exc
    except Exception as exc:
        _translate_write_error(ctx, exc)
        raise
    fallback = None
    if policy is None:
        from taskclf.cli.fallback import describe_fallback

        fallback = describe_fallback(ctx)
    return report("restored", previewed=asked, fallback=fallback)


def _described(version: PolicyVersion) -> str:
    """``version N (replaced AT by WHAT)``, as rollback names the version it restores."""
    return (
        f"version {version.version} (replaced {version.replaced_at} by "
        f"{value_text(version.replaced_by)})"
    )


def _restoring_lines(
    policy_file: str,
    version: PolicyVersion,
    policy: InferencePolicy | None,
    changes: Iterable[FieldChange],
) -> Iterator[str]:
    """What restoring ``version`` (holding ``policy``) does to ``policy_file``."""
    if policy is None:
        yield f"Restoring {_described(version)} removes {policy_file}: there was no policy then."
        return
    yield f"Restoring {_described(version)}."
    yield from _change_lines(f"Changes to {policy_file}", changes)


@dataclass(frozen=True, slots=True)
class Restoration(Outcome):
    """What ``policy rollback`` did with version N: how far it went (``step``), and the changes.

    ``policy_file`` is the policy file as shown to the person; ``policy`` is
    the version's policy, ``None`` for "no policy" (restoring it removes the
    file, and ``fallback`` then says what inference uses). ``changes`` go from
    the current policy to ``policy``. ``previewed``: what restoring does was
    printed before the question, so the report does not repeat it.
    """

    policy_file: str
    version: PolicyVersion
    policy: InferencePolicy | None
    changes: tuple[FieldChange, ...]
    step: RollbackStep
    dry_run: bool
    previewed: bool = False
    fallback: str | None = None

    def text_lines(self) -> Iterator[str]:
        if self.step == "unchanged":
            yield f"{self.policy_file} already is {_described(self.version)}; nothing to do."
            return
        if not self.previewed:
            yield from _restoring_lines(self.policy_file, self.version, self.policy, self.changes)
        if self.step == "checked":
            yield "Nothing was written (--dry-run)."
        elif self.step == "declined":
            yield "Not restored."
        elif self.policy is None:
            yield f"Removed {self.policy_file}."
            yield f"Now {self.fallback}."
        else:
            yield f"Restored {self.policy_file}; the version it replaced is now version 1."

    def json_fields(self) -> dict[str, Any]:
        fields: dict[str, Any] = {
            "written": self.step == "restored",
            "dry_run": self.dry_run,
            "version": self.version.to_dict(),
        }
        if self.step in ("checked", "restored"):
            fields["changes"] = [change.to_dict() for change in self.changes]
        if self.step == "restored":
            fields["fallback"] = self.fallback
        return fields


def _translate_write_error(ctx: Context, exc: Exception) -> None:
    from taskclf.core.errors import PolicyFileError
    from taskclf.core.policy_history import PolicyChangedError

    shown = ctx.display(ctx.policy_file)
    if isinstance(exc, PolicyChangedError):
        raise CommandError(
            f"{shown} was changed by something else meanwhile; nothing was written. "
            "Run the command again",
            details={"file": shown},
        ) from exc
    if isinstance(exc, PolicyFileError):
        raise CommandError(f"{shown}: {exc.reason}", details=dict(exc.details)) from exc


def _confirmed(ctx: Context, question: str) -> bool:
    stdin = default_stdin()
    if not stream_is_interactive(stdin):
        raise CommandError(
            "not rolling back without confirmation; pass --yes", exit_code=EXIT_USAGE
        )
    print(question, end="", file=sys.stderr if ctx.json else ctx.stdout, flush=True)
    return stdin.readline().strip().lower() in {"y", "yes"}
