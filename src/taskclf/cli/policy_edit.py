"""``taskclf policy edit``: edit the policy in your editor, with validation before it is saved.

The editor works on a temporary copy, never on the live file. The live file is
replaced (atomically, byte for byte as you left the copy) only when the copy is
a valid policy; otherwise the errors are shown and you can re-open the copy or
abort, and the copy is kept so no work is lost. When there is no policy yet,
one is seeded from the model bundle inference would use, and written before the
editor opens.
"""

from __future__ import annotations

import argparse
import os
import shlex
import signal
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from taskclf.cli.common import (
    EXIT_USAGE,
    CommandError,
    Context,
    add_command,
    add_output_options,
    default_stdin,
    home_relative,
)
from taskclf.cli.outcomes import disk_check_refusal, policy_file_kind, schema_refusal
from taskclf.cli.policy_inspect import FileReport
from taskclf.cli.render import FieldChange, field_changes
from taskclf.cli.report import Outcome
from taskclf.cli.terminal import terminal_text

if TYPE_CHECKING:
    from taskclf.core.inference_policy import InferencePolicy

__all__ = ["DEFAULT_EDITOR", "EditAborted", "EditLeft", "EditSaved", "register"]

DEFAULT_EDITOR = "vi"
"""Editor used when neither $VISUAL nor $EDITOR is set."""

_DESCRIPTION = f"""\
Open models/inference_policy.json in your editor ($VISUAL, else $EDITOR, else
{DEFAULT_EDITOR}) on a temporary copy. When you close the editor, the copy is checked
against the schema and the files on disk; a valid copy replaces the policy exactly
as you wrote it (your key order and your own _notes survive) and the changes are
listed. An invalid copy is not saved: the errors are shown and you can re-open it
or abort (the copy is kept and its path printed). Leave it unchanged to cancel;
empty it to cancel too.

Without a policy, one is seeded first from --model-dir, else from the bundle
inference would use (models/active.json, then best-model selection): schema hash
and label set from the bundle's metadata.json, its advisory reject_threshold, and a
calibrator store under artifacts/ that is bound to that bundle or its schema."""


def register(commands: Any, shared: argparse.ArgumentParser) -> None:
    """Add the ``edit`` subcommand to ``commands``."""
    parser = add_command(
        commands,
        "edit",
        shared,
        help="edit the policy in your editor, validated before it is saved",
        description=_DESCRIPTION,
        examples="examples:\n  taskclf policy edit\n"
        "  EDITOR=nano taskclf policy edit --model-dir models/run_001\n\n",
    )
    parser.add_argument(
        "--model-dir",
        metavar="PATH",
        help="bundle to seed a new policy from, when there is none yet",
    )
    parser.add_argument(
        "--no-validate-disk",
        action="store_true",
        help="check the edited policy against the schema only (for editing away "
        "from the model artifacts)",
    )
    add_output_options(parser)
    parser.set_defaults(handler=run, command_name="policy edit")


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Seed the policy if needed, then run the edit loop."""
    import json
    import shutil
    import tempfile

    live = ctx.policy_file
    live_exists = policy_file_kind(ctx) != "nothing"
    if args.model_dir and live_exists:
        raise CommandError(
            f"--model-dir only seeds a new policy, and {ctx.display(live)} exists: change "
            "model_dir in the editor, or rebuild the policy with "
            f"`taskclf policy create --model-dir {args.model_dir}`",
            exit_code=EXIT_USAGE,
        )
    editor = _editor_command()  # before anything is written: a bad $EDITOR leaves no trace
    seeded_from: str | None = None
    if live_exists:
        original = _read_live(ctx)
    else:
        # The seeded policy is only a copy until the person saves it: an
        # aborted edit leaves the home exactly as it was.
        seeded_from, original = _seed_policy(ctx, args.model_dir)
    workdir = Path(tempfile.mkdtemp(prefix="taskclf-edit-"))
    copy = workdir / live.name
    copy.write_bytes(original)
    say = _Speaker(ctx)
    while True:
        failure = _run_editor(editor, copy)
        edited = _read_copy(copy, ctx, workdir)
        if failure is not None:
            if edited == original:  # nothing of the user's to keep
                shutil.rmtree(workdir, ignore_errors=True)
                raise CommandError(f"{failure}; the policy was not modified")
            raise CommandError(
                f"{failure}; the policy was not modified. Your copy is kept at {copy}",
                details={"kept_copy": str(copy)},
            )
        if edited == original and seeded_from is None:
            shutil.rmtree(workdir, ignore_errors=True)
            return _report(ctx, say, EditLeft("unchanged", ctx.display(live), seeded_from))
        if not edited.strip():
            shutil.rmtree(workdir, ignore_errors=True)
            return _report(ctx, say, EditLeft("cancelled", ctx.display(live), seeded_from))
        report, policy = _check_copy(copy, edited, ctx, disk=not args.no_validate_disk)
        problems = report.lines(ctx.display(live))
        if policy is not None and report.valid:
            break
        say(
            f"The edited policy is not valid ({len(problems)} problem"
            f"{'s' if len(problems) != 1 else ''}):"
        )
        for line in problems:
            say(f"  {line}")
        if not _ask(say, "Re-open the editor to fix it? [Y/n] "):
            aborted = EditAborted(
                policy_file=ctx.display(live),
                seeded=seeded_from is not None,
                kept_copy=str(copy),
                problems=tuple(problems),
                report=report.to_dict(),
            )
            return _report(ctx, say, aborted)

    try:
        now = policy_file_kind(ctx)
        changed = (now != "nothing") != live_exists or (live_exists and _read_live(ctx) != original)
    except CommandError:  # something that cannot be read now stands there
        changed = True
    if changed:
        raise CommandError(
            f"{ctx.display(live)} was changed by something else while you were editing; "
            f"not overwriting it. Your edited copy is kept at {copy}: compare and merge by hand",
            details={"kept_copy": str(copy)},
        )
    from taskclf.core.inference_policy import PolicyValidationError, read_policy_of

    before: dict[str, Any] | None
    if seeded_from is not None:
        before = json.loads(original)  # the changes are the person's, to the seeded policy
    else:
        try:
            before = read_policy_of(ctx.models_dir).to_dict()
        except (FileNotFoundError, PolicyValidationError):
            before = None  # the user is repairing an invalid policy
    from taskclf.core.policy_history import PolicyChangedError, change_policy_file

    try:
        # Byte for byte, as the person wrote it; the version it replaces is kept.
        change_policy_file(
            ctx.models_dir,
            edited,
            replaced_by="taskclf policy edit",
            expected=original if live_exists else None,
        )
    except PolicyChangedError as exc:
        raise CommandError(
            f"{ctx.display(live)} was changed by something else while you were editing; "
            f"not overwriting it. Your edited copy is kept at {copy}: compare and merge by hand",
            details={"kept_copy": str(copy)},
        ) from exc
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise CommandError(
            f"{ctx.display(live)} could not be written ({reason}). Your edited copy is kept "
            f"at {copy}",
            details={"kept_copy": str(copy)},
        ) from exc
    shutil.rmtree(workdir, ignore_errors=True)
    unedited_seed = seeded_from is not None and edited == original
    changes = None if unedited_seed else tuple(field_changes(before, policy.to_dict()))
    return _report(ctx, say, EditSaved(ctx.display(live), seeded_from, changes, policy))


@dataclass(frozen=True, slots=True)
class EditLeft(Outcome):
    """A ``policy edit`` that wrote nothing: the copy came back ``unchanged``, or emptied.

    ``policy_file`` is the policy file as shown; ``seeded_from`` the bundle a
    new policy was seeded from (``None`` when a policy existed).
    """

    case: Literal["unchanged", "cancelled"]
    policy_file: str
    seeded_from: str | None

    def json_fields(self) -> dict[str, Any]:
        return {"written": False, "outcome": self.case, "seeded_from": self.seeded_from}

    def text_lines(self) -> Iterator[str]:
        if self.case == "unchanged":
            yield f"No changes; {self.policy_file} was not modified."
        else:
            yield f"Cancelled: the copy was emptied; {self.policy_file} was not modified."


@dataclass(frozen=True, slots=True)
class EditSaved(Outcome):
    """A ``policy edit`` that wrote the policy file: the policy saved, and what changed.

    ``policy_file`` is the policy file as shown; ``seeded_from`` the bundle a
    new policy was seeded from (``None`` when a policy existed). ``changes``
    are the fields the person changed, or ``None`` when a seeded policy was
    saved as it was seeded (the person changed nothing).
    """

    policy_file: str
    seeded_from: str | None
    changes: tuple[FieldChange, ...] | None
    policy: InferencePolicy

    def json_fields(self) -> dict[str, Any]:
        if self.changes is None:
            return {
                "written": True,
                "outcome": "unchanged",
                "seeded_from": self.seeded_from,
                "policy": self.policy.to_dict(),
            }
        return {
            "written": True,
            "outcome": "saved",
            "seeded_from": self.seeded_from,
            "changes": [change.to_dict() for change in self.changes],
            "policy": self.policy.to_dict(),
        }

    def text_lines(self) -> Iterator[str]:
        if self.changes is None:
            yield f"No changes to the seeded policy; {self.policy_file} keeps it."
            return
        count = len(self.changes)
        yield f"Saved {self.policy_file} ({count} field{'s' if count != 1 else ''} changed):"
        yield from (str(change) for change in self.changes)


@dataclass(frozen=True, slots=True)
class EditAborted(Outcome):
    """A ``policy edit`` the person gave up on with an invalid copy, which is kept (exit 1).

    ``policy_file`` is the policy file as shown; ``seeded`` says a new policy
    was being seeded (so nothing was written at all). ``kept_copy`` is the
    edited copy's path, ``problems`` the problem lines shown to the person and
    ``report`` the same check structured as ``policy validate`` reports it.
    """

    policy_file: str
    seeded: bool
    kept_copy: str
    problems: tuple[str, ...]
    report: Mapping[str, Any]

    @property
    def ok(self) -> bool:
        """Never: the edit was not saved."""
        return False

    def json_fields(self) -> dict[str, Any]:
        return {
            "written": False,
            "outcome": "aborted",
            "kept_copy": self.kept_copy,
            "problems": list(self.problems),
            "report": self.report,
            "error": {"message": "the edited policy is not valid", "details": {}},
        }

    def text_lines(self) -> Iterator[str]:
        if self.seeded:
            yield f"Aborted: nothing was written to {self.policy_file}."
        else:
            yield f"Aborted: {self.policy_file} was not modified."
        yield f"Your edited copy is kept at {self.kept_copy}"


def _report(ctx: Context, say: _Speaker, outcome: EditLeft | EditSaved | EditAborted) -> int:
    """Report how the edit ended; return the exit code.

    With ``--format json`` the person still reads the ending where the
    dialogue was, on stderr (stdout carries the one JSON document).
    """
    if ctx.json:
        for line in outcome.text_lines():
            say(line)
    return ctx.report(outcome)


def _read_live(ctx: Context) -> bytes:
    """The live policy's bytes, read through TASKCLF_HOME's door (bounded, never blocking)."""
    from taskclf.core.home import Home
    from taskclf.core.jsonio import JSONFileError

    home = Home.at(ctx.home)
    shown = ctx.display(ctx.policy_file)
    try:
        return home.read_bytes(home.display(ctx.policy_file))
    except (FileNotFoundError, NotADirectoryError):
        return b""
    except JSONFileError as exc:
        raise CommandError(
            f"{shown}: {exc.reason}; nothing was written", details={"file": shown}
        ) from exc


def _read_copy(copy: Path, ctx: Context, workdir: Path) -> bytes:
    """The edited copy's bytes, bounded as every policy read is; the editor may have replaced it.

    Raises:
        CommandError: the copy is gone, is not a regular file (a FIFO, say) or
            is over the size limit; the live policy is untouched.
    """
    import shutil

    from taskclf.core.jsonio import JSONFileError, read_file_bytes

    live = ctx.display(ctx.policy_file)
    try:
        return read_file_bytes(copy)
    except FileNotFoundError as exc:
        shutil.rmtree(workdir, ignore_errors=True)
        raise CommandError(
            f"the edited copy {copy} is gone (did the editor delete it?); {live} was not modified"
        ) from exc
    except JSONFileError as exc:
        raise CommandError(
            f"the edited copy {copy} {exc.reason}; {live} was not modified "
            "(the copy is left as the editor made it)",
            details={"kept_copy": str(copy)},
        ) from exc


class _Speaker:
    """Talks to the person at the terminal: stdout, or stderr when stdout carries JSON."""

    def __init__(self, ctx: Context) -> None:
        self._stream = ctx.stderr if ctx.json else ctx.stdout

    def __call__(self, text: str, *, end: str = "\n") -> None:
        print(terminal_text(text), end=end, file=self._stream, flush=True)


def _ask(say: _Speaker, question: str) -> bool:
    say(question, end="")
    try:
        answer = default_stdin().readline()
    except KeyboardInterrupt:  # Ctrl-C at the prompt means "no": abort, keep the copy
        answer = ""
    if not answer:  # end of input: nobody to answer, so do not loop
        say("")
        return False
    return answer.strip().lower() in {"", "y", "yes"}


def _editor_command() -> list[str]:
    raw = os.environ.get("VISUAL") or os.environ.get("EDITOR") or DEFAULT_EDITOR
    try:
        words = shlex.split(raw)
    except ValueError as exc:
        raise CommandError(
            f"cannot parse the editor command {raw!r} ($VISUAL or $EDITOR): {exc}; "
            "nothing was written"
        ) from exc
    return words or [DEFAULT_EDITOR]


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _run_editor(editor: list[str], copy: Path) -> str | None:
    """Run the editor on ``copy``; return why it failed, or ``None`` when it succeeded."""
    import subprocess

    command = [*editor, str(copy)]
    # Ctrl-C in the editor belongs to the editor (as with git): taskclf ignores
    # it meanwhile, and the editor gets the default handling back.
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        result = subprocess.run(command, check=False, preexec_fn=_default_sigint)
    except OSError as exc:
        return (
            f"cannot start the editor {command[0]!r} ({exc.strerror or exc}); set $VISUAL or "
            "$EDITOR to your editor"
        )
    finally:
        signal.signal(signal.SIGINT, previous)
    if result.returncode != 0:
        return f"the editor {command[0]!r} exited with status {result.returncode}"
    return None


def _check_copy(
    copy: Path, edited: bytes, ctx: Context, *, disk: bool
) -> tuple[FileReport, InferencePolicy | None]:
    """Check the edited bytes as ``policy validate`` checks a file; the same report comes back."""
    from taskclf.core.home import Home
    from taskclf.core.inference_policy import InferencePolicy, PolicySchemaError
    from taskclf.core.json_positions import json_positions
    from taskclf.core.jsonio import JSONFileError, parse_json_bytes
    from taskclf.core.policy_checks import inspect_policy_artifacts

    report = FileReport(file=ctx.policy_file)
    try:
        document = parse_json_bytes(edited, source=ctx.display(ctx.policy_file))
        policy = InferencePolicy.from_dict(document)
    except JSONFileError as exc:
        report.note_read_error(exc.reason, exc.line, exc.column)
        return report, None
    except PolicySchemaError as exc:
        report.issues = exc.issues
        report.positions = dict(json_positions(edited.decode("utf-8")))
        return report, None
    report.policy = policy
    if disk:
        report.disk_checked = True
        report.failures = inspect_policy_artifacts(policy, Home.at(ctx.home)).failures
        if report.failures:
            report.positions = dict(json_positions(edited.decode("utf-8")))
    return report, policy


def _seed_policy(ctx: Context, model_dir_arg: str | None) -> tuple[str, bytes]:
    """A validated policy for the bundle inference would use: where it came from, its bytes.

    Nothing is written: the seeded policy becomes the policy file only when
    the person saves the edit.
    """
    from taskclf.core.inference_policy import PolicyDiskCheckError, PolicySchemaError
    from taskclf.core.jsonio import JSONFileError, encode_json_document
    from taskclf.infer.resolve import ModelResolutionError
    from taskclf.infer.seed import seed_inference_policy

    override = home_relative(ctx, model_dir_arg, "--model-dir")[1] if model_dir_arg else None
    try:
        seeded = seed_inference_policy(ctx.models_dir, model_dir_override=override)
    except ModelResolutionError as exc:
        raise CommandError(
            f"there is no policy at {ctx.display(ctx.policy_file)} and no model bundle to seed "
            f"one from, so nothing was written.\n{exc.message}",
            details={"resolution": exc.to_dict()},
        ) from exc
    except PolicySchemaError as exc:
        raise schema_refusal(
            "cannot seed a policy from the resolved bundle; nothing was written", exc
        ) from exc
    except PolicyDiskCheckError as exc:
        raise disk_check_refusal(
            "cannot seed a valid policy from the resolved bundle; nothing was written",
            exc.failures,
        ) from exc
    policy, config = seeded.policy, seeded.config
    try:
        data = encode_json_document(policy.to_dict(), ctx.display(ctx.policy_file))
    except JSONFileError as exc:
        raise CommandError(f"cannot seed a policy: {exc}; nothing was written") from exc
    via = "--model-dir" if override else f"{config.step} resolution"
    calibrator = policy.calibrator_store_dir or "no calibrator store"
    message = (
        f"Seeded {ctx.display(ctx.policy_file)} from {config.model_dir} ({via}; "
        f"{calibrator}; reject_threshold {policy.reject_threshold:g})."
    )
    if seeded.dropped_store is not None:
        message += f"\nThe calibrator store bound to it was left out: {seeded.dropped_store}."
    _Speaker(ctx)(message)
    return config.model_dir, data
