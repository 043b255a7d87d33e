"""``taskclf policy resolve``: what inference would use right now, and why."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from taskclf.cli.common import (
    EXIT_INVALID,
    CommandError,
    Context,
    add_command,
    add_output_options,
    parse_threshold,
)
from taskclf.cli.report import Outcome
from taskclf.cli.terminal import value_text

if TYPE_CHECKING:
    from taskclf.infer.resolve import ResolvedInferenceConfig

__all__ = ["Resolution", "register", "user_path"]

_DESCRIPTION = """\
Resolve the configuration inference would start with, exactly as inference does:
  1. an explicit --model-dir override (bypasses the policy);
  2. models/inference_policy.json, when it is valid and matches the
     files on disk;
  3. models/active.json plus code defaults (deprecated legacy pointer);
  4. best-model selection plus code defaults (highest macro_f1, then
     weighted_f1, then newest created_at).

Print the model bundle, calibrator, reject threshold and the step that won;
--explain also prints why each higher step was skipped. --reject-threshold and
--calibrator-store replace single fields of whichever step wins."""


def register(commands: Any, shared: argparse.ArgumentParser) -> None:
    """Add the ``resolve`` subcommand to ``commands``."""
    parser = add_command(
        commands,
        "resolve",
        shared,
        help="show what inference would use (model, calibrator, threshold) and why",
        description=_DESCRIPTION,
        examples="examples:\n  taskclf policy resolve --explain\n"
        "  taskclf policy resolve --model-dir models/run_002 --format json\n\n",
    )
    parser.add_argument("--model-dir", metavar="PATH", help="bundle override (step 1)")
    parser.add_argument(
        "--reject-threshold", type=parse_threshold, metavar="X", help="threshold override"
    )
    parser.add_argument("--calibrator-store", metavar="PATH", help="calibrator store override")
    parser.add_argument(
        "--schema-hash", metavar="HASH", help="only accept bundles with this feature-schema hash"
    )
    parser.add_argument(
        "--label",
        action="append",
        metavar="LABEL",
        help="only accept bundles with exactly these labels (repeat for each label)",
    )
    parser.add_argument(
        "--explain", action="store_true", help="also print why each higher step was skipped"
    )
    add_output_options(parser)
    parser.set_defaults(handler=run, command_name="policy resolve")


_FLAG_OF_OVERRIDE = {
    "model_dir_override": "--model-dir",
    "reject_threshold_override": "--reject-threshold",
    "calibrator_store_override": "--calibrator-store",
}


def user_path(argument: str | None) -> str | None:
    """A path as the user meant it: relative to the current folder when it exists there.

    Otherwise it is passed on unchanged and taken relative to TASKCLF_HOME.
    """
    if argument is None:
        return None
    given = Path(argument).expanduser()
    if not given.is_absolute() and given.exists():
        return str(given.absolute())
    return str(given)


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Resolve and print the configuration (and the trail with ``--explain``)."""
    from taskclf.infer.resolve import (
        InvalidOverrideError,
        ModelResolutionError,
        resolve_inference_config,
    )

    try:
        config = resolve_inference_config(
            ctx.models_dir,
            model_dir_override=user_path(args.model_dir),
            reject_threshold_override=args.reject_threshold,
            calibrator_store_override=user_path(args.calibrator_store),
            required_schema_hash=args.schema_hash,
            required_label_set=args.label,
        )
    except InvalidOverrideError as exc:
        flag = _FLAG_OF_OVERRIDE.get(exc.field, exc.field)
        raise CommandError(
            f"{flag} {exc.value}: {exc.reason}", exit_code=EXIT_INVALID, details=exc.to_dict()
        ) from exc
    except ModelResolutionError as exc:
        raise CommandError(exc.message, exit_code=EXIT_INVALID, details=exc.to_dict()) from exc

    return ctx.report(
        Resolution(config=config, policy_file=ctx.display(ctx.policy_file), explain=args.explain)
    )


@dataclass(frozen=True, slots=True)
class Resolution(Outcome):
    """What ``policy resolve`` found: the configuration inference would start with.

    ``policy_file`` is the policy file as shown to the person; ``explain``
    asks for the whole trail in the text report (JSON always has it).
    """

    config: ResolvedInferenceConfig
    policy_file: str
    explain: bool

    def json_fields(self) -> dict[str, Any]:
        return {"resolved": self.config.to_dict()}

    def text_lines(self) -> Iterator[str]:
        config = self.config
        rows = [
            ("resolved by", str(config.step)),
            ("model_dir", config.model_dir),
            ("schema_hash", config.schema_hash),
            ("labels", ", ".join(map(value_text, config.label_set))),
            ("calibrator", _calibrator(config)),
            ("reject_threshold", f"{config.reject_threshold:g}"),
        ]
        width = max(len(name) for name, _ in rows)
        yield f"Inference would use (policy file: {self.policy_file}):"
        for name, value in rows:
            yield f"  {name:<{width}}  {value_text(value)}"
        per_user = config.per_user_reject_thresholds
        if per_user:
            yield f"  per-user reject thresholds ({len(per_user)}):"
            for user, threshold in sorted(per_user.items()):
                yield f"    {value_text(user)}  {threshold:g}"
        if str(config.step) == "active":
            yield (
                "Note: models/active.json is a deprecated legacy pointer; make this choice a "
                f"policy with `taskclf policy create --model-dir {config.model_dir}`."
            )
        if self.explain:
            yield "Resolution trail:"
            if not config.trail:
                yield "  (the first step won; nothing was skipped)"
            for number, entry in enumerate(config.trail, start=1):
                yield f"  {number}. {value_text(entry)}"
        elif any(entry.broken for entry in config.trail):
            yield "Note: a higher-precedence file exists but was skipped; see --explain."


def _calibrator(config: Any) -> str:
    if config.calibrator_store_dir is None:
        return "none (identity)"
    return f"{config.calibrator_store_dir} ({config.calibration_method or 'method not named'})"
