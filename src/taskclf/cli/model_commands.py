"""``taskclf model list`` and ``taskclf model set-active``: the bundles in models/."""

from __future__ import annotations

import argparse
from typing import Any

from taskclf.cli.common import (
    EXIT_INVALID,
    EXIT_OK,
    CommandError,
    Context,
    add_command,
    add_group,
    add_output_options,
    home_relative,
)
from taskclf.cli.terminal import value_text

__all__ = ["register"]


def register(groups: Any) -> None:
    """Add the ``model`` command group with ``list`` and ``set-active``."""
    commands, shared = add_group(
        groups,
        "model",
        help="list model bundles, set the legacy active pointer",
        description="Work with the model bundles in models/ (one folder per bundle, holding "
        "metadata.json and metrics.json).",
    )

    listing = add_command(
        commands,
        "list",
        shared,
        help="rank the bundles as best-model selection does, with reasons for exclusions",
        description="List the model bundles ranked as best-model selection ranks them "
        "(macro_f1, then weighted_f1, then newest created_at), and every excluded bundle "
        "with the reason.",
        examples="examples:\n  taskclf model list\n"
        "  taskclf model list --label code --format json\n\n",
    )
    listing.add_argument("--schema-hash", metavar="HASH", help="required feature-schema hash")
    listing.add_argument(
        "--label", action="append", metavar="LABEL", help="required label (repeat for each)"
    )
    add_output_options(listing)
    listing.set_defaults(handler=run_list, command_name="model list")

    set_active = add_command(
        commands,
        "set-active",
        shared,
        help="point the legacy models/active.json at a bundle",
        description="Point models/active.json (the deprecated legacy pointer) at a bundle and "
        "append the change to models/active_history.jsonl. An inference policy, when present "
        "and valid, still takes precedence.",
        examples="examples:\n"
        "  taskclf model set-active --model-dir models/run_002 --reason rollback\n\n",
    )
    set_active.add_argument(
        "--model-dir", required=True, metavar="PATH", help="bundle folder, e.g. models/run_002"
    )
    set_active.add_argument("--reason", metavar="TEXT", help="why, recorded in active.json")
    add_output_options(set_active)
    set_active.set_defaults(handler=run_set_active, command_name="model set-active")


def run_list(args: argparse.Namespace, ctx: Context) -> int:
    """Print the ranked bundles and the excluded ones."""
    from taskclf.model_registry import (
        ActivePointerError,
        active_path,
        read_active_pointer,
        select_best_model,
    )

    report = select_best_model(ctx.models_dir, schema_hash=args.schema_hash, label_set=args.label)
    active = None
    active_problem = None
    try:
        active = read_active_pointer(active_path(ctx.models_dir))
    except FileNotFoundError:
        pass
    except ActivePointerError as exc:
        active_problem = exc.reason
    ctx.out(f"Model bundles in {ctx.display(ctx.models_dir)}, best first:")
    if not report.ranked:
        ctx.out("  (none qualifies)")
    else:
        names = {id(b): value_text(b.bundle_id) for b in report.ranked}
        width = max(len(name) for name in names.values())
        ctx.out(f"  {'#':>2}  {'bundle':<{width}}  macro_f1  weighted_f1  created_at")
        for number, bundle in enumerate(report.ranked, start=1):
            mark = "  <- best" if bundle is report.best else ""
            ctx.out(
                f"  {number:>2}  {names[id(bundle)]:<{width}}  {bundle.macro_f1:<8.4g}  "
                f"{bundle.weighted_f1:<11.4g}  {value_text(bundle.created_at or '-')}{mark}"
            )
    if report.excluded:
        ctx.out(f"Excluded ({len(report.excluded)}):")
        for excluded in report.excluded:
            ctx.out(f"  {value_text(excluded)}")
    if active_problem is not None:
        pointer = f"invalid, so inference ignores it ({value_text(active_problem)})"
    else:
        pointer = "none" if active is None else value_text(active.model_dir)
    ctx.out(f"Legacy active pointer ({ctx.display(active_path(ctx.models_dir))}): {pointer}")
    ctx.conclude(
        True,
        selection=report.to_dict(),
        active=None if active is None else active.to_dict(),
        active_error=active_problem,
    )
    return EXIT_OK


def run_set_active(args: argparse.Namespace, ctx: Context) -> int:
    """Write active.json; warn when a valid policy overrides it."""
    from taskclf.infer.resolve import ModelResolutionError, resolve_inference_config
    from taskclf.model_registry import RegistryError, active_path, write_active_atomic

    _, model_dir = home_relative(ctx, args.model_dir, "--model-dir")
    try:
        change = write_active_atomic(ctx.models_dir, model_dir, reason=args.reason)
    except RegistryError as exc:
        raise CommandError(str(exc), exit_code=EXIT_INVALID, details=dict(exc.details)) from exc
    old = "nothing" if change.old is None else change.old.model_dir
    shown = ctx.display(active_path(ctx.models_dir))
    ctx.out(f"{shown} now points at {change.new.model_dir} (was {old}).")
    warning = None
    try:
        config = resolve_inference_config(ctx.models_dir)
    except ModelResolutionError:
        config = None
    if config is not None and str(config.step) == "policy":
        warning = (
            f"{ctx.display(ctx.policy_file)} takes precedence over {shown}: "
            f"inference keeps using {config.model_dir} until the policy is changed "
            "(taskclf policy create) or removed (taskclf policy remove)"
        )
        ctx.warn(warning)
    ctx.conclude(True, change=change.to_dict(), warning=warning)
    return EXIT_OK
