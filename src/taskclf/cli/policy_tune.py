"""``taskclf policy tune-reject``: tune the reject threshold on held-out scores."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from taskclf.cli.common import (
    CommandError,
    Context,
    add_command,
    add_output_options,
    home_relative,
    parse_probability,
)
from taskclf.cli.outcomes import (
    bind_bundle_for,
    disk_check_refusal,
    previous_policy,
    schema_refusal,
    write_policy,
)
from taskclf.cli.render import FieldChange, field_changes
from taskclf.cli.report import Outcome

if TYPE_CHECKING:
    from taskclf.core.calibration import StoreCalibrators
    from taskclf.core.inference_policy import InferencePolicy
    from taskclf.core.policy_checks import PolicyArtifacts
    from taskclf.infer.binding import PolicyBinding
    from taskclf.tune.scores import RowError
    from taskclf.tune.sweep import TuneResult

__all__ = ["RejectTuning", "register"]

_DESCRIPTION = """\
Tune the reject threshold on held-out predictions of the (calibrated) model and,
with --write-policy, write a validated policy binding the model bundle, the
calibrator store and the tuned threshold(s) (source "tune-reject").

Scores file (JSON Lines, CSV or Parquet, by extension or --input-format): one
row per held-out example with the true "label", and either "predicted" plus
"confidence" (the top calibrated probability) or "probabilities" (label ->
probability; in CSV and Parquet one p_<label> column per label); optional
"user_id". Every row is validated (schema score_row.v1.json, labels from the
bundle's label set); "probabilities" must be a distribution over exactly the
bundle's labels, summing to 1 within 1e-4. Parquet needs pyarrow
(pip install "taskclf[parquet]").

Without --apply-calibrator the scores are taken as already calibrated. With
it, "probabilities" are the model's raw outputs, and the calibrator store's
calibrator (the user's own where the store has one, else the global one) is
applied to each row as inference applies it; rows with only "predicted" and
"confidence" are refused.

Each candidate threshold is evaluated in one pass: reject rate, coverage,
accuracy and macro-F1 on the accepted rows. The chosen threshold has the best
accuracy on accepted rows among those whose reject rate is within
[--reject-rate-min, --reject-rate-max] (ties: the lower threshold); when none
is, nothing is chosen and the exit code is 1.

Certified choice, --target-accuracy A [--delta D]: each threshold gets the
one-sided Clopper-Pearson lower bound, at level 1 - D, of its accuracy on
accepted rows. From the highest threshold down, thresholds are certified
while the bound is at least A; the first that is not stops the sequence; the
lowest certified threshold is chosen (within --reject-rate-max when that is
given; --reject-rate-min does not apply). Then, if the held-out rows are
exchangeable with the rows met in deployment, with probability at least
1 - D the chosen threshold's accuracy on accepted rows is at least A. When
nothing is certified, the exit code is 1. With --per-user each user is
certified on their own rows alone (same A and D), so the guarantee holds per
user; a user with nothing certified keeps the global threshold.

Model bundle: --model-dir, else the one inference would use (see `taskclf policy
resolve`). Calibrator store: --calibrator-store, else the one of the policy in
use (when the bundle came from it), else a store under artifacts/ bound to the
bundle; --no-calibrator for raw scores. The scores must come from that same
calibration."""

_EXAMPLES = """\
examples:
  taskclf policy tune-reject --scores heldout.jsonl --model-dir models/run_001
  taskclf policy tune-reject --scores heldout.csv --model-dir models/run_001 \\
      --calibrator-store artifacts/calibrator_store --reject-rate-max 0.2 \\
      --write-policy
  taskclf policy tune-reject --scores heldout.jsonl --per-user \\
      --min-user-samples 200
  taskclf policy tune-reject --scores heldout_raw.jsonl --apply-calibrator \\
      --target-accuracy 0.9 --delta 0.05

"""


def register(commands: Any, shared: argparse.ArgumentParser) -> None:
    """Add the ``tune-reject`` subcommand to ``commands``."""
    from taskclf.tune.defaults import (
        DEFAULT_DELTA,
        DEFAULT_MIN_USER_SAMPLES,
        DEFAULT_REJECT_RATE_MAX,
        DEFAULT_REJECT_RATE_MIN,
        DEFAULT_THRESHOLD_SPEC,
    )

    parser = add_command(
        commands,
        "tune-reject",
        shared,
        help="tune the reject threshold on held-out scores (and write it as a policy)",
        description=_DESCRIPTION,
        examples=_EXAMPLES,
    )
    parser.add_argument(
        "--scores",
        required=True,
        metavar="FILE",
        type=Path,
        help="held-out predictions (.jsonl/.ndjson, .csv or .parquet)",
    )
    parser.add_argument(
        "--input-format",
        choices=("jsonl", "csv", "parquet"),
        help="format of --scores when its extension does not say",
    )
    parser.add_argument(
        "--apply-calibrator",
        action="store_true",
        help="the rows' probabilities are raw model outputs: apply the store's calibrators",
    )
    parser.add_argument(
        "--model-dir", metavar="PATH", help="model bundle (default: the one inference would use)"
    )
    store = parser.add_mutually_exclusive_group()
    store.add_argument(
        "--calibrator-store",
        metavar="PATH",
        help="calibrator store the scores were calibrated with",
    )
    store.add_argument(
        "--no-calibrator", action="store_true", help="the scores are raw (identity calibration)"
    )
    parser.add_argument(
        "--reject-rate-min",
        type=parse_probability,
        metavar="A",
        help=f"lowest acceptable reject rate (default {DEFAULT_REJECT_RATE_MIN:g})",
    )
    parser.add_argument(
        "--reject-rate-max",
        type=parse_probability,
        metavar="B",
        help=f"highest acceptable reject rate (default {DEFAULT_REJECT_RATE_MAX:g}; "
        "with --target-accuracy, no limit unless given)",
    )
    parser.add_argument(
        "--target-accuracy",
        type=_open_probability,
        metavar="A",
        help="choose the lowest threshold certified to reach this accuracy on accepted rows "
        "(0 < A < 1)",
    )
    parser.add_argument(
        "--delta",
        type=_open_probability,
        metavar="D",
        help=f"with --target-accuracy, the chance the guarantee may fail "
        f"(default {DEFAULT_DELTA:g})",
    )
    parser.add_argument(
        "--thresholds",
        type=_threshold_spec,
        metavar="SPEC",
        help=f"candidates as start:stop:step or a comma list (default {DEFAULT_THRESHOLD_SPEC})",
    )
    parser.add_argument(
        "--per-user", action="store_true", help="also tune a threshold per user (rows with user_id)"
    )
    parser.add_argument(
        "--min-user-samples",
        type=_positive_int,
        metavar="N",
        default=DEFAULT_MIN_USER_SAMPLES,
        help=f"fewest rows a user needs for a threshold of their own "
        f"(default {DEFAULT_MIN_USER_SAMPLES})",
    )
    parser.add_argument(
        "--skip-invalid-rows",
        action="store_true",
        help="skip invalid rows (and count them) instead of failing",
    )
    parser.add_argument(
        "--write-policy",
        action="store_true",
        help="write the tuned policy (default: only show what would be written)",
    )
    add_output_options(parser)
    parser.set_defaults(handler=run, command_name="policy tune-reject")


def _threshold_spec(text: str) -> tuple[float, ...]:
    from taskclf.tune.sweep import ThresholdSpecError, parse_thresholds

    try:
        return parse_thresholds(text)
    except ThresholdSpecError as exc:
        raise argparse.ArgumentTypeError(exc.reason) from None


def _open_probability(text: str) -> float:
    """argparse ``type`` for --target-accuracy and --delta: a number strictly between 0 and 1."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(f"expected a number strictly between 0 and 1, got {text}")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected at least 1, got {value}")
    return value


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Read the scores, sweep, choose, and show or write the policy."""
    from taskclf.core.inference_policy import (
        PolicySchemaError,
        check_policy_artifacts,
    )
    from taskclf.tune.defaults import (
        DEFAULT_DELTA,
        DEFAULT_REJECT_RATE_MAX,
        DEFAULT_REJECT_RATE_MIN,
    )
    from taskclf.tune.policy import tuned_policy
    from taskclf.tune.report import format_sweep_table
    from taskclf.tune.scores import ScoreReader, ScoresError
    from taskclf.tune.sweep import (
        NothingCertified,
        NoThresholdInBounds,
        TuneRejectError,
        tune_reject,
    )

    certified = args.target_accuracy is not None
    if not certified and args.delta is not None:
        raise CommandError("--delta needs --target-accuracy", exit_code=2)
    if certified and args.reject_rate_min is not None:
        raise CommandError(
            "--reject-rate-min does not apply with --target-accuracy (the lowest certified "
            "threshold is chosen); leave it out",
            exit_code=2,
        )
    if args.apply_calibrator and args.no_calibrator:
        raise CommandError(
            "--apply-calibrator needs a calibrator store to apply; leave out --no-calibrator",
            exit_code=2,
        )
    rate_min = DEFAULT_REJECT_RATE_MIN if args.reject_rate_min is None else args.reject_rate_min
    rate_max = DEFAULT_REJECT_RATE_MAX if args.reject_rate_max is None else args.reject_rate_max
    if rate_min > rate_max:
        raise CommandError(
            f"--reject-rate-min {rate_min:g} is above --reject-rate-max {rate_max:g}",
            exit_code=2,
        )
    tuned = _binding(ctx, args)
    binding = tuned.binding
    artifacts = _check_binding(ctx, tuned)  # before reading a possibly large scores file
    calibrators = _calibrators(args, tuned, artifacts) if args.apply_calibrator else None
    try:
        reader = ScoreReader(
            args.scores,
            input_format=args.input_format,
            label_set=binding.metadata.label_set,
            skip_invalid=args.skip_invalid_rows,
            calibrators=calibrators,
        )
        result = tune_reject(
            reader,
            args.thresholds,
            reject_rate_min=rate_min,
            reject_rate_max=rate_max,
            per_user=args.per_user,
            min_user_samples=args.min_user_samples,
            target_accuracy=args.target_accuracy,
            delta=DEFAULT_DELTA if args.delta is None else args.delta,
            limit_reject_rate=not certified or args.reject_rate_max is not None,
        )
    except (NoThresholdInBounds, NothingCertified) as exc:
        ctx.out(format_sweep_table(exc.sweep))
        raise CommandError(str(exc), details={"sweep": exc.sweep.to_dict()}) from exc
    except (ScoresError, TuneRejectError) as exc:
        details = exc.to_dict() if hasattr(exc, "to_dict") else {}
        raise CommandError(str(exc), details=details) from exc

    try:
        policy = tuned_policy(
            result,
            model_dir=binding.model_dir,
            model_schema_hash=binding.metadata.schema_hash,
            model_label_set=binding.metadata.label_set,
            calibrator_store_dir=binding.store_dir,
            calibration_method=binding.calibration_method,
        )
    except PolicySchemaError as exc:
        raise schema_refusal(
            "the tuned values do not make a valid policy; nothing was written", exc
        ) from exc
    # Checked again on the files as they are now: reading the scores may take long.
    failures = check_policy_artifacts(policy, ctx.models_dir)
    if failures:
        raise disk_check_refusal(
            "the tuned policy does not match the files on disk; nothing was written", failures
        )

    previous, previous_state = previous_policy(ctx)
    changes = field_changes(previous, policy.to_dict())
    if args.write_policy:
        write_policy(ctx, policy)
    return ctx.report(
        RejectTuning(
            scores_file=str(args.scores),
            rows_used=reader.rows_read,
            rows_skipped=reader.rows_skipped,
            skipped=reader.skipped,
            model_dir=binding.model_dir,
            model_from=tuned.model_from,
            calibrator=tuned.store_description,
            calibrator_store_dir=binding.store_dir,
            calibrator_applied=calibrators is not None,
            users_with_own_calibrator=()
            if calibrators is None
            else tuple(sorted(calibrators.users)),
            result=result,
            policy=policy,
            policy_file=ctx.display(ctx.policy_file),
            previous_policy=previous_state,
            changes=tuple(changes),
            written=bool(args.write_policy),
        )
    )


@dataclass(frozen=True, slots=True)
class RejectTuning(Outcome):
    """What ``policy tune-reject`` did: the scores it read, what it chose, the policy it made.

    ``scores_file`` is ``--scores`` as given; ``rows_used`` and
    ``rows_skipped`` count the rows read and the invalid rows skipped, and
    ``skipped`` holds the first of those (``rows_skipped`` may be more).
    ``model_dir`` is the bundle and ``model_from`` why it was chosen;
    ``calibrator`` says in words which calibration the scores are taken to
    have, ``calibrator_store_dir`` is the store (``None``: identity).
    ``calibrator_applied`` is true when the rows were calibrated here
    (``--apply-calibrator``), with the store's own calibrators of
    ``users_with_own_calibrator``. ``result`` is the sweep and the chosen
    threshold(s), ``policy`` the tuned policy; ``policy_file`` is the policy
    file as shown to the person; ``previous_policy`` says what stood there
    before (``"none"``, ``"valid"`` or ``"invalid"``) and ``changes`` how the
    tuned policy differs from a valid one. ``written`` is true when the policy
    was written (``--write-policy``), else it is only shown.
    """

    scores_file: str
    rows_used: int
    rows_skipped: int
    skipped: tuple[RowError, ...]
    model_dir: str
    model_from: str
    calibrator: str
    calibrator_store_dir: str | None
    calibrator_applied: bool
    users_with_own_calibrator: tuple[str, ...]
    result: TuneResult
    policy: InferencePolicy
    policy_file: str
    previous_policy: str
    changes: tuple[FieldChange, ...]
    written: bool

    def json_fields(self) -> dict[str, Any]:
        return {
            "written": self.written,
            "previous_policy": None if self.previous_policy == "none" else self.previous_policy,
            "scores": {
                "file": self.scores_file,
                "rows_used": self.rows_used,
                "rows_skipped": self.rows_skipped,
                "skipped": [error.to_dict() for error in self.skipped],
            },
            "model_dir": self.model_dir,
            "calibrator_store_dir": self.calibrator_store_dir,
            "calibrator_applied": self.calibrator_applied,
            "result": self.result.to_dict(),
            "policy": self.policy.to_dict(),
            "changes": [change.to_dict() for change in self.changes],
        }

    def text_lines(self) -> Iterator[str]:
        from taskclf.tune.report import format_tune_report

        used = f"{self.rows_used} row{'' if self.rows_used == 1 else 's'} used"
        skipped = f", {self.rows_skipped} invalid skipped" if self.rows_skipped else ""
        yield f"Scores: {self.scores_file} ({used}{skipped})"
        for error in self.skipped:
            yield f"  skipped {error}"
        unlisted = self.rows_skipped - len(self.skipped)
        if unlisted > 0:
            yield f"  ... and {unlisted} more skipped rows"
        yield f"Model bundle: {self.model_dir} ({self.model_from})"
        yield f"Calibrator: {self.calibrator}"
        yield self._calibration_line()
        yield ""
        yield format_tune_report(self.result)
        yield ""
        if self.previous_policy == "invalid":
            yield f"The existing {self.policy_file} is invalid; the tuned policy replaces it."
        replaces_valid = self.previous_policy == "valid"
        if self.written:
            count = f"{len(self.changes)} change{'' if len(self.changes) == 1 else 's'}"
            yield f"Wrote {self.policy_file}" + (f" ({count}):" if replaces_valid else "")
        else:
            yield f"Would write {self.policy_file} (pass --write-policy to write it):"
            yield self.policy.to_json().rstrip("\n")
            if replaces_valid:
                yield f"Changes to the existing policy ({len(self.changes)}):"
        if replaces_valid:
            yield "\n".join(str(change) for change in self.changes)

    def _calibration_line(self) -> str:
        """One line saying whether the rows were calibrated here or taken as calibrated."""
        if not self.calibrator_applied:
            return (
                "Scores: taken as already calibrated (pass --apply-calibrator if their "
                "probabilities are the model's raw outputs)"
            )
        own = self.users_with_own_calibrator
        users = f"; users with their own calibrator: {', '.join(own)}" if own else ""
        return (
            f"Scores: raw model outputs, calibrated here with {self.calibrator_store_dir} "
            f"(global calibrator{users})"
        )


def _calibrators(
    args: argparse.Namespace, tuned: _Tuned, artifacts: PolicyArtifacts
) -> StoreCalibrators:
    """The store's calibrators for --apply-calibrator, or a usage error when there is no store."""
    from taskclf.core.calibration import StoreCalibrators

    if tuned.binding.store_dir is None or artifacts.global_calibrator is None:
        raise CommandError(
            f"--apply-calibrator needs a calibrator store, and none is used "
            f"({tuned.store_description}); name one with --calibrator-store",
            exit_code=2,
        )
    return StoreCalibrators(
        global_calibrator=artifacts.global_calibrator, users=artifacts.user_calibrators
    )


def _check_binding(ctx: Context, tuned: _Tuned) -> PolicyArtifacts:
    """Fail early when the bundle and store do not fit, before any scores are read.

    Returns what the checks read, the store's calibrators among it.
    """
    from taskclf.core.home import Home
    from taskclf.core.inference_policy import PolicySchemaError
    from taskclf.core.policy_checks import inspect_policy_artifacts

    try:
        provisional = tuned.binding.policy()
    except PolicySchemaError as exc:
        raise schema_refusal(
            "the model bundle and calibrator store cannot be named in a policy; nothing was "
            "read or written",
            exc,
        ) from exc
    binding = tuned.binding
    artifacts = inspect_policy_artifacts(
        provisional, Home.at(ctx.home), metadata=binding.metadata, store=binding.store
    )
    if artifacts.failures:
        raise disk_check_refusal(
            "the model bundle and calibrator store do not fit together; nothing was read "
            "or written",
            artifacts.failures,
        )
    return artifacts


@dataclass(frozen=True, slots=True)
class _Tuned:
    """The binding the scores are tuned for, and how its bundle was chosen."""

    binding: PolicyBinding
    model_from: str

    @property
    def store_description(self) -> str:
        """One line saying which calibration the scores are taken to have, and why."""
        binding = self.binding
        if binding.store_dir is not None:
            method = binding.calibration_method or "method not named"
            return f"{binding.store_dir} ({method}; {binding.store_from})"
        if binding.store_from == "--no-calibrator":
            return "none, raw scores (--no-calibrator)"
        if binding.store_from == _FROM_POLICY:
            return "none, raw scores (the policy in use has no calibrator store)"
        return (
            f"none, raw scores: {binding.store_from} "
            "(pass --calibrator-store if the scores were calibrated)"
        )


_FROM_POLICY = "from the policy in use"


def _binding(ctx: Context, args: argparse.Namespace) -> _Tuned:
    from taskclf.core.artifacts import ModelMetadata
    from taskclf.infer.resolve import ModelResolutionError, resolve_inference_config

    if args.model_dir:
        model_dir = home_relative(ctx, args.model_dir, "--model-dir")[1]
        binding = bind_bundle_for(
            ctx, model_dir, store_arg=args.calibrator_store, no_calibrator=args.no_calibrator
        )
        return _Tuned(binding, "--model-dir")
    try:
        config = resolve_inference_config(ctx.models_dir)
    except ModelResolutionError as exc:
        raise CommandError(
            f"no model bundle given and none resolves; pass --model-dir.\n{exc.message}",
            details=exc.to_dict(),
        ) from exc
    in_use = config.policy is not None
    binding = bind_bundle_for(
        ctx,
        config.model_dir,
        store_arg=args.calibrator_store,
        no_calibrator=args.no_calibrator,
        metadata=ModelMetadata.from_document(
            config.metadata, file=f"{config.model_dir}/metadata.json"
        ),
        default_store=config.calibrator_store_dir if in_use else None,
        default_store_from=_FROM_POLICY if in_use else None,
    )
    return _Tuned(binding, f"resolved by {config.step}")
