"""Outcomes shared by the commands that write a policy: refusals and the policy they replace."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from taskclf.cli.common import CommandError, Context

if TYPE_CHECKING:
    from taskclf.core.errors import DiskCheckFailure, PolicySchemaError

__all__ = ["disk_check_refusal", "previous_policy", "read_home_document", "schema_refusal"]


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
    from taskclf.core.inference_policy import PolicyValidationError, read_inference_policy

    try:
        return read_inference_policy(ctx.policy_file).to_dict(), "valid"
    except FileNotFoundError:
        return None, "none"
    except PolicyValidationError:
        return None, "invalid"


def read_home_document(ctx: Context, path: Path, schema_name: str) -> dict[str, Any]:
    """Read a bundle's or store's JSON file, valid against ``schema_name``, from inside HOME.

    Raises:
        CommandError: the file leads outside TASKCLF_HOME (a symbolic link), is
            missing, unreadable, not strict JSON or breaks its schema.
    """
    from taskclf.core.policy_checks import inside_home, read_artifact_document

    resolved = inside_home(ctx.home, path)
    if resolved is None:
        raise CommandError(
            f"{path} is a symbolic link leading outside TASKCLF_HOME ({ctx.home}); replace it "
            "with the file itself. Nothing was written",
            details={"file": str(path)},
        )
    document, reason = read_artifact_document(resolved, schema_name)
    if document is None:
        raise CommandError(f"{reason}; nothing was written", details={"file": str(path)})
    return dict(document)
