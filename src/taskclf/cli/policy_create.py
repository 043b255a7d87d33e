"""``taskclf policy create``: build a validated policy from a model bundle and write it."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from taskclf.cli.common import (
    Context,
    add_command,
    add_output_options,
    home_relative,
    parse_source,
    parse_threshold,
)
from taskclf.cli.outcomes import (
    bind_bundle_for,
    disk_check_refusal,
    previous_policy,
    schema_refusal,
    write_policy,
)
from taskclf.cli.render import FieldChange, field_changes, policy_summary
from taskclf.cli.report import Outcome

if TYPE_CHECKING:
    from taskclf.core.inference_policy import InferencePolicy

__all__ = ["PolicyCreation", "register"]

_DESCRIPTION = """\
Build a policy for the model bundle at --model-dir and write it atomically to
models/inference_policy.json. The schema hash and label set come from the
bundle's metadata.json; the calibration method comes from the store's store.json.
Without --calibrator-store, the store under artifacts/ whose store.json names
this bundle (or its schema hash) is used, and the output says so; pass
--no-calibrator for none.
The policy is validated against the schema and the files on disk before anything
is written; when a policy already exists, the changes are listed field by field.

The reject threshold is --reject-threshold when given, else the bundle's advisory
reject_threshold in metadata.json, else the schema default.

Paths may be absolute or relative to the current folder, and must lie inside
TASKCLF_HOME; they are stored relative to it."""

_EXAMPLES = """\
examples:
  taskclf policy create --model-dir models/run_001
  taskclf policy create --model-dir models/run_001 \\
      --calibrator-store artifacts/calibrator_store --reject-threshold 0.55
  taskclf policy create --model-dir models/run_002 --dry-run

"""


def register(commands: Any, shared: argparse.ArgumentParser) -> None:
    """Add the ``create`` subcommand to ``commands``."""
    parser = add_command(
        commands,
        "create",
        shared,
        help="build a validated policy from a model bundle and write it",
        description=_DESCRIPTION,
        examples=_EXAMPLES,
    )
    parser.add_argument(
        "--model-dir",
        required=True,
        metavar="PATH",
        help="model bundle folder holding metadata.json, e.g. models/run_001",
    )
    calibrator = parser.add_mutually_exclusive_group()
    calibrator.add_argument(
        "--calibrator-store",
        metavar="PATH",
        help="calibrator store folder holding store.json (default: the store under "
        "artifacts/ bound to the bundle, if any)",
    )
    calibrator.add_argument(
        "--no-calibrator",
        action="store_true",
        help="use no calibrator store (identity calibration), even if one is bound to the bundle",
    )
    parser.add_argument(
        "--reject-threshold",
        type=parse_threshold,
        metavar="X",
        help="reject threshold, a probability in [0, 1] "
        "(default: the bundle's advisory value, else the schema default)",
    )
    parser.add_argument(
        "--source",
        type=parse_source,
        metavar="S",
        help='what created the policy, recorded in the file (default: "manual")',
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="print the policy and the changes, write nothing",
    )
    add_output_options(parser)
    parser.set_defaults(handler=run, command_name="policy create")


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Build, check and (unless ``--dry-run``) write the policy."""
    from taskclf.core.home import Home
    from taskclf.core.inference_policy import DEFAULT_SOURCE, PolicySchemaError

    binding = bind_bundle_for(
        ctx,
        home_relative(ctx, args.model_dir, "--model-dir")[1],
        store_arg=args.calibrator_store,
        no_calibrator=args.no_calibrator,
        reject_threshold=args.reject_threshold,
    )
    try:
        policy = binding.policy(source=DEFAULT_SOURCE if args.source is None else args.source)
    except PolicySchemaError as exc:
        raise schema_refusal("the options do not make a valid policy", exc) from exc

    failures = binding.disk_check(policy, Home.at(ctx.home))
    if failures:
        raise disk_check_refusal(
            "the policy would not match the files on disk; nothing was written", failures
        )

    previous, previous_state = previous_policy(ctx)
    changes = field_changes(previous, policy.to_dict())
    if not args.dry_run:
        write_policy(ctx, policy)
    return ctx.report(
        PolicyCreation(
            policy=policy,
            policy_file=ctx.display(ctx.policy_file),
            dry_run=bool(args.dry_run),
            previous_state=previous_state,
            changes=tuple(changes),
            reject_threshold_from=(
                "--reject-threshold"
                if binding.threshold_from == "given"
                else binding.threshold_from
            ),
            calibrator_from=binding.store_from,
        )
    )


@dataclass(frozen=True, slots=True)
class PolicyCreation(Outcome):
    """What ``policy create`` built, and whether it wrote it.

    ``policy`` is the policy built from the bundle; ``policy_file`` the policy
    file as shown to the person; ``dry_run`` says nothing was written.
    ``previous_state`` is what stood in the policy file before (``"none"``,
    ``"valid"`` or ``"invalid"``) and ``changes`` the fields that differ from
    a valid previous policy (every field when there was none). The last two
    say where values came from: ``reject_threshold_from`` (``--reject-threshold``,
    the bundle's ``metadata.json`` or the schema default) and
    ``calibrator_from`` (the binding's words for how the store was chosen).
    """

    policy: InferencePolicy
    policy_file: str
    dry_run: bool
    previous_state: str
    changes: tuple[FieldChange, ...]
    reject_threshold_from: str
    calibrator_from: str

    @property
    def written(self) -> bool:
        """Whether the policy file was written (every run but a dry run)."""
        return not self.dry_run

    def json_fields(self) -> dict[str, Any]:
        return {
            "written": self.written,
            "dry_run": self.dry_run,
            "previous_policy": None if self.previous_state == "none" else self.previous_state,
            "reject_threshold_from": self.reject_threshold_from,
            "calibrator_from": self.calibrator_from,
            "changes": [change.to_dict() for change in self.changes],
            "policy": self.policy.to_dict(),
        }

    def text_lines(self) -> Iterator[str]:
        if self.dry_run:
            yield f"Dry run: {self.policy_file} would contain:"
            yield self.policy.to_json().rstrip("\n")
        if self.previous_state == "valid" and not self.changes:
            yield "No changes to the existing policy."
        elif self.previous_state == "valid":
            yield f"Changes to the existing policy ({len(self.changes)}):"
            yield from (str(change) for change in self.changes)
        elif self.previous_state == "invalid":
            yield f"Replacing the invalid policy in {self.policy_file}."
        yield "Nothing was written (--dry-run)." if self.dry_run else f"Wrote {self.policy_file}"
        yield from policy_summary(self.policy)
        yield f"  (calibrator: {self._calibrator_origin()})"
        yield f"  (reject_threshold from {self.reject_threshold_from})"

    def _calibrator_origin(self) -> str:
        if self.policy.calibrator_store_dir is None:
            if self.calibrator_from == "--no-calibrator":
                return "none, as --no-calibrator asks"
            return f"none ({self.calibrator_from})"
        if self.calibrator_from == "--calibrator-store":
            return "from --calibrator-store"
        return f"{self.calibrator_from} (pass --no-calibrator for none)"
