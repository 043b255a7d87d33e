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
from pathlib import Path
from typing import TYPE_CHECKING, Any

from taskclf.cli.common import (
    EXIT_INVALID,
    EXIT_OK,
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
from taskclf.cli.render import FieldChange, failure_lines, field_changes
from taskclf.cli.terminal import value_text

if TYPE_CHECKING:
    from taskclf.core.inference_policy import InferencePolicy
    from taskclf.core.policy_history import PolicyVersion

__all__ = ["register"]

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


def _print_changes(ctx: Context, intro: str, changes: list[FieldChange]) -> None:
    if not changes:
        ctx.out(f"{intro}: none.")
        return
    ctx.out(f"{intro} ({len(changes)}):")
    for change in changes:
        ctx.out(str(change))


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
    _print_changes(ctx, f"Changes to {shown}", changes)
    ctx.out(
        "Nothing was written (--dry-run)."
        if args.dry_run
        else f"Wrote {shown} (undo: taskclf policy rollback)."
    )
    ctx.conclude(
        True,
        written=not args.dry_run,
        dry_run=bool(args.dry_run),
        changes=[change.to_dict() for change in changes],
        policy=policy.to_dict(),
    )
    return EXIT_OK


# --------------------------------------------------------------------------- diff and apply


def _checked_file(ctx: Context, path: Path, *, disk: bool) -> tuple[bytes, InferencePolicy]:
    from taskclf.core.errors import PolicyValidationError
    from taskclf.core.policy_deploy import check_policy_bytes

    data = _read_file(ctx, path)
    try:
        return data, check_policy_bytes(data, ctx.models_dir, source=path, disk=disk)
    except PolicyValidationError as exc:
        raise _refusal(f"{path} is not a valid policy; nothing was changed", exc) from exc


def run_diff(args: argparse.Namespace, ctx: Context) -> int:
    """Print the changes from the current policy to FILE; exit 1 when they differ."""
    from taskclf.core.inference_policy import check_policy_artifacts

    path: Path = args.file
    _data, policy = _checked_file(ctx, path, disk=False)
    shown = ctx.display(ctx.policy_file)
    current = _current_bytes(ctx)
    changes = field_changes(_document_of(current), policy.to_dict())
    failures = check_policy_artifacts(policy, ctx.models_dir)
    if current is None:
        ctx.out(f"There is no policy at {shown}; {path} would add every field.")
    if changes:
        _print_changes(ctx, f"Changes from {shown} to {path}", changes)
    else:
        ctx.out(f"No differences: {path} is the same policy as {shown}.")
    if failures:
        ctx.out(f"{path} does not match the files on disk (apply would refuse it):")
        for line in failure_lines(str(path), failures):
            ctx.out(f"  {line}")
    ctx.conclude(
        not changes and not failures,
        file=str(path),
        same=not changes,
        changes=[change.to_dict() for change in changes],
        failures=[failure.to_dict() for failure in failures],
    )
    return EXIT_INVALID if changes or failures else EXIT_OK


def run_apply(args: argparse.Namespace, ctx: Context) -> int:
    """Check FILE against the schema and this home, then install it byte for byte."""
    path: Path = args.file
    data, policy = _checked_file(ctx, path, disk=True)
    shown = ctx.display(ctx.policy_file)
    current = _current_bytes(ctx)
    changes = field_changes(_document_of(current), policy.to_dict())
    same = current == data
    if same:
        ctx.out(f"{path} is already installed as {shown}, byte for byte; nothing to do.")
    else:
        _print_changes(ctx, f"Changes to {shown}", changes)
        if args.dry_run:
            ctx.out("Nothing was written (--dry-run).")
        else:
            _write(ctx, data, expected=current)
            ctx.out(f"Installed {path} as {shown} (undo: taskclf policy rollback).")
    ctx.conclude(
        True,
        file=str(path),
        written=not same and not args.dry_run,
        dry_run=bool(args.dry_run),
        changes=[change.to_dict() for change in changes],
        policy=policy.to_dict(),
    )
    return EXIT_OK


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
    from taskclf.core.policy_history import HISTORY_DIRNAME, PolicyHistoryError, policy_history

    history = policy_history(ctx.models_dir)
    for bad in history.damaged:
        ctx.warn(f"skipping damaged history record {bad.file}: {bad.reason}")
    if args.show is not None:
        try:
            entry = history.get(args.show)
        except PolicyHistoryError as exc:
            raise CommandError(exc.message, details={"version": args.show}) from exc
        return _show(ctx, entry)
    shown = ctx.display(ctx.policy_file)
    rows: list[tuple[int, list[str]]] = []
    for entry in history.versions:
        head = f"replaced {entry.replaced_at} by {value_text(entry.replaced_by)}"
        rows.append((entry.version, [head, *_version_lines(entry)]))
    for bad in history.damaged:
        rows.append((bad.version, [f"damaged record {bad.file} (skipped): {bad.reason}"]))
    if not rows:
        ctx.out(
            f"No versions of {shown} are kept yet (models/{HISTORY_DIRNAME}/ is empty): taskclf "
            "keeps each version it replaces from now on."
        )
    else:
        ctx.out(f"Versions of {shown} that taskclf replaced, newest first")
        ctx.out("(1 is the version the current policy replaced):")
        width = len(str(max(number for number, _lines in rows)))
        for number, lines in sorted(rows):
            ctx.out(f"  {number:>{width}}  {value_text(lines[0])}")
            for line in lines[1:]:
                ctx.out(f"  {'':>{width}}  {line}")
        ctx.out("Show one: taskclf policy history --show N; restore it: taskclf policy rollback N")
    ctx.conclude(
        True,
        versions=[entry.to_dict() for entry in history.versions],
        damaged=[bad.to_dict() for bad in history.damaged],
    )
    return EXIT_OK


def _show(ctx: Context, entry: PolicyVersion) -> int:
    text = None if entry.data is None else entry.data.decode("utf-8", "replace")
    if entry.data is None:
        ctx.out(f'Version {entry.version} is "no policy": there was no policy file.')
    else:
        ctx.body(entry.data)  # exactly as it was, for `> file` and pipes
    ctx.conclude(True, version=entry.to_dict(), file_text=text)
    return EXIT_OK


# --------------------------------------------------------------------------- rollback


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
    target = check.version
    described = f"version {target.version} (replaced {target.replaced_at} by "
    described += f"{value_text(target.replaced_by)})"
    if current == target.data:
        ctx.out(f"{shown} already is {described}; nothing to do.")
        ctx.conclude(True, written=False, dry_run=bool(args.dry_run), version=target.to_dict())
        return EXIT_OK
    new = None if check.policy is None else check.policy.to_dict()
    changes = [] if new is None else field_changes(_document_of(current), new)
    if new is None:
        ctx.out(f"Restoring {described} removes {shown}: there was no policy then.")
    else:
        ctx.out(f"Restoring {described}.")
        _print_changes(ctx, f"Changes to {shown}", changes)
    if args.dry_run:
        ctx.out("Nothing was written (--dry-run).")
        ctx.conclude(
            True,
            written=False,
            dry_run=True,
            version=target.to_dict(),
            changes=[change.to_dict() for change in changes],
        )
        return EXIT_OK
    if not args.yes and not _confirmed(ctx, f"Restore {described}? [y/N] "):
        ctx.out("Not restored.")
        ctx.conclude(True, written=False, dry_run=False, version=target.to_dict())
        return EXIT_OK
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
    if new is None:
        from taskclf.cli.fallback import describe_fallback

        fallback = describe_fallback(ctx)
        ctx.out(f"Removed {shown}.")
        ctx.out(f"Now {fallback}.")
    else:
        ctx.out(f"Restored {shown}; the version it replaced is now version 1.")
    ctx.conclude(
        True,
        written=True,
        dry_run=False,
        version=target.to_dict(),
        changes=[change.to_dict() for change in changes],
        fallback=fallback,
    )
    return EXIT_OK


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
