"""``taskclf policy create``: build a validated policy from a model bundle and write it."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from taskclf.cli.common import (
    EXIT_OK,
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
from taskclf.cli.render import field_changes, policy_summary

if TYPE_CHECKING:
    from taskclf.infer.binding import PolicyBinding

__all__ = ["register"]

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
    threshold_from = (
        "--reject-threshold" if binding.threshold_from == "given" else binding.threshold_from
    )
    written = False
    if not args.dry_run:
        write_policy(ctx, policy)
        written = True
    _report(ctx, policy, changes, previous_state, threshold_from, binding, args.dry_run)
    ctx.conclude(
        True,
        written=written,
        dry_run=bool(args.dry_run),
        previous_policy=None if previous_state == "none" else previous_state,
        reject_threshold_from=threshold_from,
        calibrator_from=binding.store_from,
        changes=[change.to_dict() for change in changes],
        policy=policy.to_dict(),
    )
    return EXIT_OK


def _report(
    ctx: Context,
    policy: Any,
    changes: list[Any],
    previous_state: str,
    threshold_from: str,
    binding: PolicyBinding,
    dry_run: bool,
) -> None:
    shown = ctx.display(ctx.policy_file)
    if dry_run:
        ctx.out(f"Dry run: {shown} would contain:")
        ctx.out(policy.to_json().rstrip("\n"))
    if previous_state == "valid" and not changes:
        ctx.out("No changes to the existing policy.")
    elif previous_state == "valid":
        ctx.out(f"Changes to the existing policy ({len(changes)}):")
        ctx.out("\n".join(str(change) for change in changes))
    elif previous_state == "invalid":
        ctx.out(f"Replacing the invalid policy in {shown}.")
    ctx.out("Nothing was written (--dry-run)." if dry_run else f"Wrote {shown}")
    ctx.out("\n".join(policy_summary(policy)))
    ctx.out(f"  (calibrator: {_calibrator_origin(binding)})")
    ctx.out(f"  (reject_threshold from {threshold_from})")


def _calibrator_origin(binding: PolicyBinding) -> str:
    if binding.store_dir is None:
        if binding.store_from == "--no-calibrator":
            return "none, as --no-calibrator asks"
        return f"none ({binding.store_from})"
    if binding.store_from == "--calibrator-store":
        return "from --calibrator-store"
    return f"{binding.store_from} (pass --no-calibrator for none)"
