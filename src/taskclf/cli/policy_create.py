"""``taskclf policy create``: build a validated policy from a model bundle and write it."""

from __future__ import annotations

import argparse
from typing import Any

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
    disk_check_refusal,
    previous_policy,
    read_home_document,
    schema_refusal,
)
from taskclf.cli.render import field_changes, policy_summary

__all__ = ["register"]

_DESCRIPTION = """\
Build a policy for the model bundle at --model-dir and write it atomically to
models/inference_policy.json. The schema hash and label set come from the
bundle's metadata.json; the calibration method comes from the store's store.json.
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
    parser.add_argument(
        "--calibrator-store",
        metavar="PATH",
        help="calibrator store folder holding store.json (default: none, identity calibration)",
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
    from taskclf.core.inference_policy import (
        DEFAULT_REJECT_THRESHOLD,
        DEFAULT_SOURCE,
        PolicySchemaError,
        build_inference_policy,
        check_policy_artifacts,
        save_inference_policy,
    )
    from taskclf.core.schemas import CALIBRATOR_STORE_SCHEMA, MODEL_METADATA_SCHEMA

    bundle, model_dir = home_relative(ctx, args.model_dir, "--model-dir")
    metadata = read_home_document(ctx, bundle / "metadata.json", MODEL_METADATA_SCHEMA)
    store_dir = method = None
    if args.calibrator_store:
        store, store_dir = home_relative(ctx, args.calibrator_store, "--calibrator-store")
        store_doc = read_home_document(ctx, store / "store.json", CALIBRATOR_STORE_SCHEMA)
        method = store_doc.get("method")

    if args.reject_threshold is not None:
        threshold, threshold_from = args.reject_threshold, "--reject-threshold"
    elif "reject_threshold" in metadata:
        threshold = metadata["reject_threshold"]
        threshold_from = f"{model_dir}/metadata.json"
    else:
        threshold, threshold_from = DEFAULT_REJECT_THRESHOLD, "schema default"

    try:
        policy = build_inference_policy(
            model_dir=model_dir,
            model_schema_hash=metadata["schema_hash"],
            model_label_set=list(metadata["label_set"]),
            reject_threshold=threshold,
            calibrator_store_dir=store_dir,
            calibration_method=method,
            source=DEFAULT_SOURCE if args.source is None else args.source,
        )
    except PolicySchemaError as exc:
        raise schema_refusal("the options do not make a valid policy", exc) from exc

    failures = check_policy_artifacts(policy, ctx.models_dir)
    if failures:
        raise disk_check_refusal(
            "the policy would not match the files on disk; nothing was written", failures
        )

    previous, previous_state = previous_policy(ctx)
    changes = field_changes(previous, policy.to_dict())

    written = False
    if not args.dry_run:
        save_inference_policy(policy, ctx.models_dir)
        written = True
    _report(ctx, policy, changes, previous_state, threshold_from, args.dry_run)
    ctx.emit_json(
        True,
        written=written,
        dry_run=bool(args.dry_run),
        previous_policy=previous_state,
        reject_threshold_from=threshold_from,
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
    ctx.out(f"  (reject_threshold from {threshold_from})")
