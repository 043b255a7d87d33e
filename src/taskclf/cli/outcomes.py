"""Outcomes shared by the commands that write a policy: refusals and the policy they replace."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from taskclf.cli.common import CommandError, Context

if TYPE_CHECKING:
    from taskclf.core.errors import DiskCheckFailure, PolicySchemaError

__all__ = ["disk_check_refusal", "previous_policy", "schema_refusal"]


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
