"""Outcomes shared by the commands that write a policy: refusals and the policy they replace."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from taskclf.cli.common import CommandError, Context, home_relative

if TYPE_CHECKING:
    from taskclf.core.artifacts import ModelMetadata
    from taskclf.core.errors import DiskCheckFailure, PolicySchemaError
    from taskclf.core.inference_policy import InferencePolicy
    from taskclf.infer.binding import PolicyBinding, StoreChoice

__all__ = [
    "bind_bundle_for",
    "disk_check_refusal",
    "policy_file_kind",
    "previous_policy",
    "schema_refusal",
    "write_policy",
]


def schema_refusal(intro: str, exc: PolicySchemaError) -> CommandError:
    """A refusal listing every schema issue, one per line, after ``intro``."""
    return CommandError(
        f"{intro}:\n" + "\n".join(f"  {issue}" for issue in exc.issues),
        details=dict(exc.details),
    )


def disk_check_refusal(intro: str, failures: Sequence[DiskCheckFailure]) -> CommandError:
    """A refusal listing every failed disk check as ``[check] message`` after ``intro``."""
    return CommandError(
        f"{intro}:\n" + "\n".join(f"  [{f.check}] {f.message}" for f in failures),
        details={"failures": [f.to_dict() for f in failures]},
    )


def previous_policy(ctx: Context) -> tuple[dict[str, Any] | None, str]:
    """The policy about to be replaced, as a dict, and its state: none, valid or invalid."""
    from taskclf.core.inference_policy import PolicyValidationError, read_policy_of

    try:
        return read_policy_of(ctx.models_dir).to_dict(), "valid"
    except FileNotFoundError:
        return None, "none"
    except PolicyValidationError:
        return None, "invalid"


def policy_file_kind(ctx: Context) -> str:
    """What stands at this run's policy path itself, looked at from inside TASKCLF_HOME.

    Returns ``"file"``, ``"link"``, ``"folder"``, ``"other"`` or ``"nothing"``
    (a link is not followed: it may be removed or replaced, never written through).

    Raises:
        CommandError: the path leads outside TASKCLF_HOME (``models/`` is a link
            out of it, say), is too long, or loops; nothing was changed.
    """
    from taskclf.core.home import Home, HomePathError

    home = Home.at(ctx.home)
    try:
        return home.entry_kind(home.display(ctx.policy_file))
    except HomePathError as exc:
        raise CommandError(
            f"{ctx.display(ctx.policy_file)}: {exc.reason}; nothing was changed",
            details={"file": str(ctx.policy_file)},
        ) from exc


def bind_bundle_for(
    ctx: Context,
    model_dir: str,
    *,
    store_arg: str | None,
    no_calibrator: bool,
    reject_threshold: float | None = None,
    metadata: ModelMetadata | None = None,
    default_store: str | StoreChoice | None = None,
    default_store_from: str | None = None,
) -> PolicyBinding:
    """Bind bundle ``model_dir`` (relative to TASKCLF_HOME) as every command does.

    ``--calibrator-store`` names the store; ``--no-calibrator`` asks for none;
    with neither, ``default_store`` (worded ``default_store_from``) is used,
    by default the store under ``artifacts/`` bound to the bundle (see
    :mod:`taskclf.infer.binding`).

    Raises:
        CommandError: a folder is missing or outside TASKCLF_HOME, or a file
            cannot be read or belongs to another model.
    """
    from taskclf.core.home import Home
    from taskclf.infer.binding import AUTO, BindingError, bind_bundle

    store: str | StoreChoice | None = AUTO if default_store is None else default_store
    store_from = default_store_from
    if no_calibrator:
        store, store_from = None, "--no-calibrator"
    elif store_arg is not None:
        store = home_relative(ctx, store_arg, "--calibrator-store")[1]
        store_from = "--calibrator-store"
    try:
        return bind_bundle(
            Home.at(ctx.home),
            model_dir,
            store=store,
            store_from=store_from,
            reject_threshold=reject_threshold,
            metadata=metadata,
        )
    except BindingError as exc:
        flag = "--model-dir" if exc.field == "model_dir" else "--calibrator-store"
        raise CommandError(
            f"{flag}: {exc.message}; nothing was written", details={"flag": flag}
        ) from exc


def write_policy(ctx: Context, policy: InferencePolicy) -> None:
    """Save ``policy`` as this run's policy file, through the one writer.

    The policy it replaces is kept in the history, replaced by ``taskclf <command>``.

    Raises:
        CommandError: it cannot be written (too large for the reader, a
            non-regular file or a link in the way, ...); the old file is intact.
    """
    from taskclf.core.inference_policy import PolicyFileError, save_inference_policy
    from taskclf.core.jsonio import JSONFileError

    try:
        save_inference_policy(policy, ctx.models_dir, replaced_by=f"taskclf {ctx.command}")
    except PolicyFileError as exc:
        raise CommandError(
            f"{ctx.display(ctx.policy_file)} {exc.reason}; the previous file is unchanged",
            details=dict(exc.details),
        ) from exc
    except JSONFileError as exc:  # a path that cannot be used (outside the home, ...)
        raise _write_refusal(ctx, str(exc.path), exc.reason) from exc
    except OSError as exc:  # a folder or FIFO in the way, a full disk, ...
        if exc.filename is None or ctx.debug:
            raise
        raise _write_refusal(ctx, str(exc.filename), exc.strerror or str(exc)) from exc


def _write_refusal(ctx: Context, file: str, reason: str) -> CommandError:
    # The writer names files relative to TASKCLF_HOME; show them as the other
    # messages do, relative to the current folder.
    shown = ctx.display(ctx.home / file)
    if "nothing was written" not in reason:
        reason += "; nothing was written"
    return CommandError(f"{shown}: {reason}", details={"file": shown})
