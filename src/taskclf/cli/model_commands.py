"""``taskclf model list`` and ``taskclf model set-active``: the bundles in models/."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from taskclf.cli.common import (
    EXIT_INVALID,
    CommandError,
    Context,
    add_command,
    add_group,
    add_output_options,
    home_relative,
)
from taskclf.cli.report import Outcome
from taskclf.cli.terminal import value_text

if TYPE_CHECKING:
    from taskclf.model_registry import ActiveChange, ActivePointer, SelectionReport

__all__ = ["ActiveSet", "BundleListing", "register"]


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
    """Rank the bundles, list the excluded ones, and read the legacy pointer."""
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
    return ctx.report(
        BundleListing(
            selection=report,
            active=active,
            active_problem=active_problem,
            models_dir=ctx.display(ctx.models_dir),
            active_file=ctx.display(active_path(ctx.models_dir)),
        )
    )


@dataclass(frozen=True, slots=True)
class BundleListing(Outcome):
    """What ``model list`` found: the bundles ranked and excluded, and the legacy pointer.

    ``selection`` is best-model selection's report; ``active`` is the legacy
    ``active.json`` pointer (``None`` when there is none or it is invalid),
    ``active_problem`` why it is invalid; ``models_dir`` and ``active_file``
    are the models folder and ``active.json`` as shown to the person.
    """

    selection: SelectionReport
    active: ActivePointer | None
    active_problem: str | None
    models_dir: str
    active_file: str

    def text_lines(self) -> Iterator[str]:
        selection = self.selection
        yield f"Model bundles in {self.models_dir}, best first:"
        if not selection.ranked:
            yield "  (none qualifies)"
        else:
            names = [value_text(bundle.bundle_id) for bundle in selection.ranked]
            width = max(len(name) for name in names)
            yield f"  {'#':>2}  {'bundle':<{width}}  macro_f1  weighted_f1  created_at"
            for number, (name, bundle) in enumerate(
                zip(names, selection.ranked, strict=True), start=1
            ):
                mark = "  <- best" if bundle is selection.best else ""
                yield (
                    f"  {number:>2}  {name:<{width}}  {bundle.macro_f1:<8.4g}  "
                    f"{bundle.weighted_f1:<11.4g}  {value_text(bundle.created_at or '-')}{mark}"
                )
        if selection.excluded:
            yield f"Excluded ({len(selection.excluded)}):"
            for excluded in selection.excluded:
                yield f"  {value_text(excluded)}"
        if self.active_problem is not None:
            pointer = f"invalid, so inference ignores it ({value_text(self.active_problem)})"
        else:
            pointer = "none" if self.active is None else value_text(self.active.model_dir)
        yield f"Legacy active pointer ({self.active_file}): {pointer}"

    def json_fields(self) -> dict[str, Any]:
        return {
            "selection": self.selection.to_dict(),
            "active": None if self.active is None else self.active.to_dict(),
            "active_error": self.active_problem,
        }


def run_set_active(args: argparse.Namespace, ctx: Context) -> int:
    """Write active.json; warn when a valid policy overrides it."""
    from taskclf.infer.resolve import ModelResolutionError, resolve_inference_config
    from taskclf.model_registry import RegistryError, active_path, write_active_atomic

    _, model_dir = home_relative(ctx, args.model_dir, "--model-dir")
    try:
        change = write_active_atomic(ctx.models_dir, model_dir, reason=args.reason)
    except RegistryError as exc:
        raise CommandError(str(exc), exit_code=EXIT_INVALID, details=dict(exc.details)) from exc
    try:
        config = resolve_inference_config(ctx.models_dir)
    except ModelResolutionError:
        config = None
    policy_model_dir = None
    if config is not None and str(config.step) == "policy":
        policy_model_dir = config.model_dir
    return ctx.report(
        ActiveSet(
            change=change,
            active_file=ctx.display(active_path(ctx.models_dir)),
            policy_file=ctx.display(ctx.policy_file),
            policy_model_dir=policy_model_dir,
        )
    )


@dataclass(frozen=True, slots=True)
class ActiveSet(Outcome):
    """What ``model set-active`` did: the change to ``active.json``, and what still wins.

    ``change`` is the pointer replaced and the one written; ``active_file``
    and ``policy_file`` are ``active.json`` and the policy file as shown to
    the person; ``policy_model_dir`` is the bundle inference keeps using
    because a valid policy takes precedence (``None`` when none does).
    """

    change: ActiveChange
    active_file: str
    policy_file: str
    policy_model_dir: str | None

    @property
    def warning(self) -> str | None:
        """That the policy, not the pointer just written, decides (``None`` if it does not)."""
        if self.policy_model_dir is None:
            return None
        return (
            f"{self.policy_file} takes precedence over {self.active_file}: "
            f"inference keeps using {self.policy_model_dir} until the policy is changed "
            "(taskclf policy create) or removed (taskclf policy remove)"
        )

    def warnings(self) -> Iterator[str]:
        if self.warning is not None:
            yield self.warning

    def text_lines(self) -> Iterator[str]:
        old = "nothing" if self.change.old is None else self.change.old.model_dir
        yield f"{self.active_file} now points at {self.change.new.model_dir} (was {old})."

    def json_fields(self) -> dict[str, Any]:
        return {"change": self.change.to_dict(), "warning": self.warning}
