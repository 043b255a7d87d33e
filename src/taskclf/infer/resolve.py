"""Inference resolution: which model bundle, calibrator and reject threshold inference uses.

:func:`resolve_inference_config` walks the precedence of the reference
(``core.inference_policy``, "Resolution precedence"), first match wins:

1. ``override``: an explicit ``model_dir_override`` (``--model-dir``). It
   bypasses the policy entirely. A missing or broken override bundle is an
   error, never a reason to fall back: the caller asked for that bundle.
2. ``policy``: ``models/inference_policy.json``, valid against its schema and
   passing :func:`~taskclf.core.inference_policy.validate_policy`.
3. ``active``: the deprecated ``models/active.json`` pointer, plus code defaults.
4. ``best-model``: best-model selection (:func:`~taskclf.model_registry.select_best_model`),
   plus code defaults.

"Code defaults" are the schema's default reject threshold
(:data:`~taskclf.core.inference_policy.DEFAULT_REJECT_THRESHOLD`) and identity
calibration. A bundle's advisory ``metadata.json`` ``reject_threshold`` is
never used: it was not tuned for the calibration in use.

A policy that exists but cannot be used is never silently ignored: the reason
is logged once as a WARNING and recorded in the result's ``trail``. A policy
whose calibrator store is missing is skipped as a whole, because its reject
threshold was tuned on calibrated scores and must not be applied to raw ones.

``reject_threshold_override`` and ``calibrator_store_override`` replace single
fields on top of whichever step won, and the trail says so.

Nothing a policy or ``active.json`` says can make resolution read outside
TASKCLF_HOME (the folder above ``models/``). Overrides come from the person
running taskclf and may name any folder.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path, PurePosixPath
from types import MappingProxyType
from typing import Any

from taskclf.core.artifacts import ArtifactError, CalibratorStore, thaw_json
from taskclf.core.errors import (
    DiskCheckFailure,
    PolicyFileError,
    PolicySchemaError,
    PolicyValidationError,
)
from taskclf.core.home import Home
from taskclf.core.inference_policy import (
    DEFAULT_REJECT_THRESHOLD,
    InferencePolicy,
    read_policy_of,
)
from taskclf.core.jsonio import json_text
from taskclf.core.layout import policy_path
from taskclf.core.policy_checks import inspect_policy_artifacts
from taskclf.core.schemas import POLICY_SCHEMA, validate_value
from taskclf.model_registry import (
    ActivePointerError,
    BundleRecord,
    ExcludedBundle,
    SelectionReport,
    active_path,
    compatibility_reason,
    read_active_pointer,
    read_bundle,
    select_best_model,
)

__all__ = [
    "IDENTITY_CALIBRATION",
    "InvalidOverrideError",
    "ModelResolutionError",
    "Resolution",
    "ResolutionStep",
    "ResolvedInferenceConfig",
    "TrailCode",
    "TrailEntry",
    "resolve_inference_config",
    "resolve_with_warnings",
]

logger = logging.getLogger(__name__)


def __getattr__(name: str) -> Any:
    # The original taskclf exported the reloader from this module too; it
    # lives in taskclf.infer.reloader (which imports this module), so it is
    # looked up on first use rather than imported here.
    if name == "InferencePolicyReloader":
        from taskclf.infer.reloader import InferencePolicyReloader

        return InferencePolicyReloader
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


IDENTITY_CALIBRATION = "identity"
"""``calibration_method`` of a configuration without a calibrator store: raw scores."""


class ResolutionStep(StrEnum):
    """The steps of resolution, highest precedence first."""

    OVERRIDE = "override"
    POLICY = "policy"
    ACTIVE = "active"
    BEST_MODEL = "best-model"

    @property
    def rank(self) -> int:
        """0 for the highest-precedence step (``override``), 3 for ``best-model``."""
        return _STEP_ORDER.index(self)


_STEP_ORDER = tuple(ResolutionStep)


class TrailCode(StrEnum):
    """Why a trail entry was written."""

    NOT_GIVEN = "not-given"
    """No override was given."""
    MISSING = "missing"
    """The step's file does not exist."""
    INVALID = "invalid"
    """The step's file exists but is unreadable, not strict JSON or breaks its schema."""
    DISK_CHECK = "disk-check"
    """The policy is well-formed but does not match the artifacts on disk."""
    INCOMPATIBLE = "incompatible"
    """The step's bundle does not match the required schema hash or label set."""
    UNUSABLE = "unusable"
    """``active.json`` points at a missing or broken bundle, or out of TASKCLF_HOME."""
    NO_BUNDLE = "no-bundle"
    """Best-model selection found no valid, compatible bundle."""
    OVERRIDDEN = "overridden"
    """Not a skip: a single field of the winning step was replaced by an override."""


_BROKEN_CODES = frozenset(
    {TrailCode.INVALID, TrailCode.DISK_CHECK, TrailCode.INCOMPATIBLE, TrailCode.UNUSABLE}
)


@dataclass(frozen=True, kw_only=True, slots=True)
class TrailEntry:
    """One line of the resolution trail.

    Attributes:
        step: the step the entry is about.
        code: why it was written (see :class:`TrailCode`).
        reason: the explanation for people, naming files relative to TASKCLF_HOME.
    """

    step: ResolutionStep
    code: TrailCode
    reason: str

    @property
    def skipped(self) -> bool:
        """Whether the step was skipped (every code but ``overridden``)."""
        return self.code is not TrailCode.OVERRIDDEN

    @property
    def broken(self) -> bool:
        """Whether the step's file exists but could not be used (a user error to fix)."""
        return self.code in _BROKEN_CODES

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form, as used by ``--format json`` output."""
        return {"step": str(self.step), "code": str(self.code), "reason": self.reason}

    def __str__(self) -> str:
        return f"{self.step}: {self.reason}"


@dataclass(frozen=True, kw_only=True, slots=True)
class ResolvedInferenceConfig:
    """What inference uses: the outcome of :func:`resolve_inference_config`.

    Attributes:
        step: the step that won.
        models_dir: the ``models/`` folder that was resolved (absolute).
        bundle_id: the model bundle's folder name.
        model_dir: the bundle folder relative to TASKCLF_HOME (as a policy
            writes it), or absolute for an override outside TASKCLF_HOME.
        model_path: the bundle folder, absolute.
        metadata: the bundle's ``metadata.json`` (read-only).
        reject_threshold: the global reject threshold.
        per_user_reject_thresholds: thresholds of single users (from the
            policy; empty otherwise).
        calibrator_store_dir: the calibrator store folder relative to
            TASKCLF_HOME (or absolute), ``None`` for identity calibration.
        calibrator_store_path: the same folder, absolute, or ``None``.
        calibration_method: ``"temperature"``, ``"isotonic"``,
            :data:`IDENTITY_CALIBRATION` without a store, or ``None`` when a
            store is used but neither the policy nor its ``store.json`` names
            the method.
        policy: the policy used, or ``None`` when another step won.
        trail: every higher step that was skipped and why, then every field
            replaced by an override.
        selection: the best-model selection report, when that step won.

    Two configurations are equal when inference behaves the same with both:
    ``policy`` (its provenance fields), ``trail`` and ``selection`` explain a
    configuration and are not compared.
    """

    step: ResolutionStep
    models_dir: Path
    bundle_id: str
    model_dir: str
    model_path: Path
    metadata: Mapping[str, Any] = field(hash=False)
    reject_threshold: float
    per_user_reject_thresholds: Mapping[str, float] = field(hash=False)
    calibrator_store_dir: str | None
    calibrator_store_path: Path | None
    calibration_method: str | None
    policy: InferencePolicy | None = field(compare=False)
    trail: tuple[TrailEntry, ...] = field(compare=False)
    selection: SelectionReport | None = field(default=None, compare=False)

    @property
    def schema_hash(self) -> str:
        """The bundle's feature-schema hash."""
        return str(self.metadata["schema_hash"])

    @property
    def label_set(self) -> tuple[str, ...]:
        """The bundle's labels."""
        return tuple(self.metadata["label_set"])

    def threshold_for(self, user_id: str | None) -> float:
        """The reject threshold for ``user_id``: the user's own when the policy has one."""
        if user_id is None:
            return self.reject_threshold
        return self.per_user_reject_thresholds.get(user_id, self.reject_threshold)

    def _method_origin(self) -> str | None:
        """Where ``calibration_method`` came from: ``None`` for identity calibration."""
        if self.calibrator_store_dir is None:
            return None
        if self.policy is not None and self.policy.calibration_method is not None:
            return "policy"
        return "store.json"

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form, as used by ``--format json`` output.

        ``calibration_method`` is ``null`` without a calibrator store (as in a
        policy); ``calibration`` names what is applied (``"identity"``,
        ``"temperature"``, ...) and ``calibration_method_from`` where the method
        came from (``"policy"``, ``"store.json"``, or ``null``).
        ``per_user_reject_thresholds`` is what inference applies (``{}`` for
        none); ``policy_per_user_reject_thresholds`` is the policy's own value
        (``null`` when the policy has none).
        """
        return {
            "step": str(self.step),
            "models_dir": str(self.models_dir),
            "bundle_id": self.bundle_id,
            "model_dir": self.model_dir,
            "model_path": str(self.model_path),
            "schema_hash": self.schema_hash,
            "label_set": list(self.label_set),
            "reject_threshold": self.reject_threshold,
            "per_user_reject_thresholds": dict(self.per_user_reject_thresholds),
            "calibrator_store_dir": self.calibrator_store_dir,
            "calibrator_store_path": (
                None if self.calibrator_store_path is None else str(self.calibrator_store_path)
            ),
            # JSON says "no calibrator" with null, as a policy does, and says in
            # words which calibration is applied and where the method came from.
            "calibration_method": (
                None if self.calibration_method == IDENTITY_CALIBRATION else self.calibration_method
            ),
            "calibration": self.calibration_method or "the store's (store.json names none)",
            "calibration_method_from": self._method_origin(),
            "policy_per_user_reject_thresholds": (
                None
                if self.policy is None or self.policy.per_user_reject_thresholds is None
                else dict(self.policy.per_user_reject_thresholds)
            ),
            "policy": None if self.policy is None else self.policy.to_dict(),
            "trail": [entry.to_dict() for entry in self.trail],
            "metadata": thaw_json(self.metadata),
            "selection": None if self.selection is None else self.selection.to_dict(),
        }


class ModelResolutionError(Exception):
    """No model bundle could be resolved.

    The message lists the reason of every step and every excluded bundle.

    Attributes:
        message: the full explanation, with the fix.
        models_dir: the ``models/`` folder that was resolved.
        trail: one entry per step tried.
        excluded: the bundles best-model selection left out, with reasons.
    """

    def __init__(
        self,
        message: str,
        *,
        models_dir: Path,
        trail: Iterable[TrailEntry] = (),
        excluded: Iterable[ExcludedBundle] = (),
    ) -> None:
        super().__init__(message)
        self.message = message
        self.models_dir = models_dir
        self.trail = tuple(trail)
        self.excluded = tuple(excluded)

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form, as used by ``--format json`` output."""
        return {
            "message": self.message,
            "models_dir": str(self.models_dir),
            "trail": [entry.to_dict() for entry in self.trail],
            "excluded": [bundle.to_dict() for bundle in self.excluded],
        }


class InvalidOverrideError(ModelResolutionError):
    """An explicit override cannot be used; resolution does not fall back past it.

    Attributes:
        field: the override's name (``model_dir_override``,
            ``reject_threshold_override`` or ``calibrator_store_override``).
        value: the value given.
        reason: what is wrong with it.
    """

    def __init__(self, *, models_dir: Path, field: str, value: Any, reason: str) -> None:
        super().__init__(f"{field} {value!s}: {reason}", models_dir=models_dir)
        self.field = field
        self.value = value
        self.reason = reason

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form: the override's name, value and the reason."""
        result = super().to_dict()
        result.update(field=self.field, value=str(self.value), reason=self.reason)
        return result


# --------------------------------------------------------------------------- internals


@dataclass(frozen=True, slots=True)
class _Choice:
    """The winning step before single-field overrides are applied."""

    step: ResolutionStep
    bundle: BundleRecord
    policy: InferencePolicy | None = None
    store_dir: str | None = None
    store_path: Path | None = None
    method: str | None = IDENTITY_CALIBRATION
    selection: SelectionReport | None = None


@dataclass(frozen=True, slots=True)
class _Requirements:
    schema_hash: str | None
    label_set: tuple[str, ...] | None


@dataclass(frozen=True, slots=True)
class Resolution:
    """A resolved configuration and the warnings it asks to log (logged by the caller).

    Returned by :func:`resolve_with_warnings`, for callers (such as the
    reloader) that decide themselves which warnings to log and when.
    """

    config: ResolvedInferenceConfig
    warnings: tuple[str, ...]


def _policy_reason_for(failure: DiskCheckFailure, policy: InferencePolicy) -> str:
    if failure.check == "model_dir_exists" and failure.found == "nothing":
        return f"policy's model_dir {policy.model_dir} does not exist"
    if failure.check == "calibrator_store_exists" and failure.found == "nothing":
        return f"policy's calibrator_store_dir {policy.calibrator_store_dir} does not exist"
    return failure.message


def _policy_step(models_dir: Path, home: Home, required: _Requirements) -> _Choice | TrailEntry:
    display = home.display(policy_path(models_dir))

    def skip(code: TrailCode, reason: str) -> TrailEntry:
        return TrailEntry(step=ResolutionStep.POLICY, code=code, reason=reason)

    try:
        policy = read_policy_of(models_dir)
    except FileNotFoundError:
        return skip(TrailCode.MISSING, f"{display} does not exist")
    except PolicySchemaError as exc:
        listed = "; ".join(str(issue) for issue in exc.issues)
        return skip(TrailCode.INVALID, f"{display} is invalid: {listed}")
    except PolicyFileError as exc:
        return skip(TrailCode.INVALID, f"{display} {exc.reason}")
    except PolicyValidationError as exc:
        return skip(TrailCode.INVALID, f"{display} is invalid: {exc.message}")
    # Every file the policy names is read once, here; the documents are used as read.
    found = inspect_policy_artifacts(policy, home)
    if found.failures or found.metadata is None:
        reasons = [_policy_reason_for(failure, policy) for failure in found.failures]
        if any(failure.check.startswith("calibrator_store") for failure in found.failures):
            # Threshold and calibration go together: never keep the threshold
            # while dropping the calibration it was tuned on.
            reasons.append(
                f"its reject_threshold {policy.reject_threshold} was tuned on calibrated "
                "scores, so the policy is not used without its calibrator store"
            )
        return skip(TrailCode.DISK_CHECK, "; ".join(reasons))
    bundle = BundleRecord(
        bundle_id=PurePosixPath(policy.model_dir).name,
        model_dir=policy.model_dir,
        path=home.path_of(policy.model_dir),
        valid=True,
        metadata=found.metadata.document,
    )
    problem = compatibility_reason(
        bundle, schema_hash=required.schema_hash, label_set=required.label_set
    )
    if problem is not None:
        return skip(
            TrailCode.INCOMPATIBLE,
            f"policy's model {policy.model_dir} is incompatible: {problem}",
        )
    if found.store is None or policy.calibrator_store_dir is None:
        return _Choice(ResolutionStep.POLICY, bundle, policy)
    return _Choice(
        ResolutionStep.POLICY,
        bundle,
        policy,
        store_dir=policy.calibrator_store_dir,
        store_path=home.path_of(policy.calibrator_store_dir),
        method=found.store.method_for(policy.calibration_method),
    )


def _active_step(models_dir: Path, home: Home, required: _Requirements) -> _Choice | TrailEntry:
    path = active_path(models_dir)
    display = home.display(path)

    def skip(code: TrailCode, reason: str) -> TrailEntry:
        return TrailEntry(step=ResolutionStep.ACTIVE, code=code, reason=reason)

    try:
        pointer = read_active_pointer(path)
    except FileNotFoundError:
        return skip(TrailCode.MISSING, f"{display} does not exist")
    except ActivePointerError as exc:
        return skip(TrailCode.INVALID, f"{display} {exc.reason}")
    bundle = read_bundle(Path(pointer.model_dir), home=home.given)
    if not bundle.valid:
        return skip(
            TrailCode.UNUSABLE,
            f"{display} points at {pointer.model_dir}, which is not a usable bundle: "
            f"{bundle.reason}",
        )
    problem = compatibility_reason(
        bundle, schema_hash=required.schema_hash, label_set=required.label_set
    )
    if problem is not None:
        return skip(
            TrailCode.INCOMPATIBLE,
            f"{display} points at {pointer.model_dir}, which is incompatible: {problem}",
        )
    return _Choice(ResolutionStep.ACTIVE, bundle)


def _override_path(home: Home, value: str | os.PathLike[str]) -> Path:
    path = Path(value)
    return Path(os.path.abspath(path if path.is_absolute() else home.given / path))


def _override_step(
    models_dir: Path, home: Home, value: str | os.PathLike[str], required: _Requirements
) -> _Choice:
    bundle = read_bundle(
        _override_path(home, value), home=home.given, confine=False, require_metrics=False
    )

    def fail(reason: str) -> InvalidOverrideError:
        return InvalidOverrideError(
            models_dir=models_dir, field="model_dir_override", value=value, reason=reason
        )

    if not bundle.valid:
        raise fail(
            f"{bundle.reason}; give an existing model bundle folder (models/<run_id>) "
            "or leave the override out"
        )
    problem = compatibility_reason(
        bundle, schema_hash=required.schema_hash, label_set=required.label_set
    )
    if problem is not None:
        raise fail(f"the bundle is incompatible: {problem}")
    return _Choice(ResolutionStep.OVERRIDE, bundle)


def _check_threshold(models_dir: Path, value: float) -> None:
    # The schema says what a reject threshold may be; ask it rather than
    # restating the range here.
    issues = validate_value(POLICY_SCHEMA, "/properties/reject_threshold", value)
    if issues:
        raise InvalidOverrideError(
            models_dir=models_dir,
            field="reject_threshold_override",
            value=value,
            reason="; ".join(str(issue).removeprefix("(root): ") for issue in issues),
        )


def _store_override(
    models_dir: Path, home: Home, value: str | os.PathLike[str], bundle: BundleRecord
) -> tuple[str, Path, str | None]:
    path = _override_path(home, value)
    display = home.display(path)

    def fail(reason: str) -> InvalidOverrideError:
        return InvalidOverrideError(
            models_dir=models_dir, field="calibrator_store_override", value=value, reason=reason
        )

    # An override names its folder itself, inside the home or not; the
    # store's own files are read from inside that folder.
    try:
        store = CalibratorStore.read(Home.at(path), ".")
    except ArtifactError as exc:
        if exc.missing and not path.is_dir():
            raise fail(f"{display} is not a calibrator store folder") from exc
        raise fail(f"{display}/{exc.message}") from exc
    mismatches = store.mismatches(bundle_id=bundle.bundle_id, schema_hash=str(bundle.schema_hash))
    for mismatch in mismatches:
        if mismatch.field == "model_bundle_id":
            raise fail(
                f"the store was fitted for model bundle {json_text(mismatch.store_value)}, "
                f"not {json_text(mismatch.expected)}"
            )
        raise fail(
            f"the store was fitted for model_schema_hash {json_text(mismatch.store_value)}, "
            f"not {json_text(mismatch.expected)}"
        )
    # The override replaces the store, so its own method is the one used.
    return display, path, store.method_for(None)


def _no_model_error(
    models_dir: Path, home: Home, trail: list[TrailEntry], selection: SelectionReport
) -> ModelResolutionError:
    lines = [f"no model bundle could be resolved in {models_dir}:"]
    lines += [f"  {entry}" for entry in trail]
    if selection.excluded:
        lines.append("excluded bundles:")
        lines += [f"  {excluded}" for excluded in selection.excluded]
    models = home.display(models_dir)
    lines.append(
        f"fix: train a model bundle into {models}/<run_id>/ (metadata.json and metrics.json), "
        f"or repair the files above; then `taskclf policy create --model-dir {models}/<run_id>`"
    )
    return ModelResolutionError(
        "\n".join(lines), models_dir=models_dir, trail=trail, excluded=selection.excluded
    )


def resolve_with_warnings(
    models_dir: Path,
    *,
    model_dir_override: str | os.PathLike[str] | None = None,
    reject_threshold_override: float | None = None,
    calibrator_store_override: str | os.PathLike[str] | None = None,
    required_schema_hash: str | None = None,
    required_label_set: Iterable[str] | None = None,
) -> Resolution:
    """Resolve as :func:`resolve_inference_config` does, without logging.

    Returns the configuration and the warnings it would log; raises what
    :func:`resolve_inference_config` raises.
    """
    models_dir = Path(os.path.abspath(models_dir))
    home = Home.of_models_dir(models_dir)
    required = _Requirements(
        required_schema_hash,
        None if required_label_set is None else tuple(sorted(set(required_label_set))),
    )
    if reject_threshold_override is not None:
        _check_threshold(models_dir, reject_threshold_override)
    trail: list[TrailEntry] = []
    if model_dir_override is not None:
        choice = _override_step(models_dir, home, model_dir_override, required)
    else:
        trail.append(
            TrailEntry(
                step=ResolutionStep.OVERRIDE,
                code=TrailCode.NOT_GIVEN,
                reason="no model_dir override given",
            )
        )
        found: _Choice | None = None
        for step in (_policy_step, _active_step):
            result = step(models_dir, home, required)
            if isinstance(result, _Choice):
                found = result
                break
            trail.append(result)
        if found is None:
            selection = select_best_model(
                models_dir, schema_hash=required.schema_hash, label_set=required.label_set
            )
            if selection.best is None:
                how_many = len(selection.excluded)
                trail.append(
                    TrailEntry(
                        step=ResolutionStep.BEST_MODEL,
                        code=TrailCode.NO_BUNDLE,
                        reason=(
                            f"no valid, compatible model bundle in {home.display(models_dir)}"
                            + (f" ({how_many} excluded)" if how_many else "")
                        ),
                    )
                )
                raise _no_model_error(models_dir, home, trail, selection)
            found = _Choice(ResolutionStep.BEST_MODEL, selection.best, selection=selection)
        choice = found
    return _finish(
        choice,
        models_dir,
        home,
        trail,
        reject_threshold_override,
        calibrator_store_override,
    )


def _finish(
    choice: _Choice,
    models_dir: Path,
    home: Home,
    trail: list[TrailEntry],
    threshold_override: float | None,
    store_override: str | os.PathLike[str] | None,
) -> Resolution:
    policy = choice.policy
    origin = "the policy" if policy is not None else "the code default"
    threshold = DEFAULT_REJECT_THRESHOLD if policy is None else policy.reject_threshold
    per_user: Mapping[str, float] = (
        {} if policy is None else dict(policy.per_user_reject_thresholds or {})
    )
    store_dir, store_path, method = choice.store_dir, choice.store_path, choice.method
    if threshold_override is not None:
        reason = (
            f"reject_threshold {threshold_override} from the override replaces "
            f"{threshold} from {origin}"
        )
        if per_user:
            users = f"{len(per_user)} user{'' if len(per_user) == 1 else 's'}"
            reason += f"; the policy's per-user thresholds ({users}) are not used"
        trail.append(TrailEntry(step=choice.step, code=TrailCode.OVERRIDDEN, reason=reason))
        threshold, per_user = float(threshold_override), {}
    if store_override is not None:
        new_dir, new_path, new_method = _store_override(
            models_dir, home, store_override, choice.bundle
        )
        replaced = "identity calibration" if store_dir is None else f"calibrator store {store_dir}"
        trail.append(
            TrailEntry(
                step=choice.step,
                code=TrailCode.OVERRIDDEN,
                reason=f"calibrator store {new_dir} from the override replaces {replaced} "
                f"from {origin}",
            )
        )
        store_dir, store_path, method = new_dir, new_path, new_method
    config = ResolvedInferenceConfig(
        step=choice.step,
        models_dir=models_dir,
        bundle_id=choice.bundle.bundle_id,
        model_dir=choice.bundle.model_dir,
        model_path=choice.bundle.path,
        metadata=choice.bundle.metadata or MappingProxyType({}),
        reject_threshold=float(threshold),
        per_user_reject_thresholds=MappingProxyType(
            {user: float(value) for user, value in per_user.items()}
        ),
        calibrator_store_dir=store_dir,
        calibrator_store_path=store_path,
        calibration_method=method,
        policy=policy,
        trail=tuple(trail),
        selection=choice.selection,
    )
    return Resolution(config, _warnings_for(config, home, models_dir))


def _warnings_for(config: ResolvedInferenceConfig, home: Home, models_dir: Path) -> tuple[str, ...]:
    used = f"using {config.model_dir} ({config.step})"
    warnings = [
        f"{'inference policy' if entry.step is ResolutionStep.POLICY else 'active pointer'} "
        f"not used: {entry.reason}; {used} instead"
        for entry in config.trail
        if entry.broken
    ]
    if config.step is ResolutionStep.ACTIVE:
        active = home.display(active_path(models_dir))
        warnings.append(
            f"{active} is deprecated: {used}; make it the inference policy with "
            f"`taskclf policy create --model-dir {config.model_dir}`"
        )
    return tuple(warnings)


def resolve_inference_config(
    models_dir: Path,
    *,
    model_dir_override: str | os.PathLike[str] | None = None,
    reject_threshold_override: float | None = None,
    calibrator_store_override: str | os.PathLike[str] | None = None,
    required_schema_hash: str | None = None,
    required_label_set: Iterable[str] | None = None,
) -> ResolvedInferenceConfig:
    """Decide which model bundle, calibrator store and reject threshold inference uses.

    See the module docstring for the precedence. Each policy or
    ``active.json`` that exists but cannot be used is logged once as a
    WARNING and recorded in the trail; using ``active.json`` logs its
    deprecation.

    Args:
        models_dir: the ``models/`` folder; TASKCLF_HOME is its parent.
        model_dir_override: a bundle folder, absolute or relative to
            TASKCLF_HOME, that bypasses the policy. Threshold and calibration
            then take the code defaults unless overridden too.
        reject_threshold_override: replaces the winning step's reject
            threshold; the policy's per-user thresholds are then not used.
        calibrator_store_override: a calibrator store folder, absolute or
            relative to TASKCLF_HOME, replacing the winning step's; its
            ``store.json`` must not bind to another model.
        required_schema_hash: the feature-schema hash the caller computes
            features with; a bundle with another hash is skipped (or, for the
            override, refused). ``None`` accepts any.
        required_label_set: the labels the caller expects (compared as a
            set); ``None`` accepts any.

    Returns:
        An immutable :class:`ResolvedInferenceConfig`.

    Raises:
        InvalidOverrideError: an override is missing, broken, incompatible or
            out of range (resolution never falls back past an explicit override).
        ModelResolutionError: no step resolved a bundle; the message lists
            each step's reason and every excluded bundle.
    """
    outcome = resolve_with_warnings(
        models_dir,
        model_dir_override=model_dir_override,
        reject_threshold_override=reject_threshold_override,
        calibrator_store_override=calibrator_store_override,
        required_schema_hash=required_schema_hash,
        required_label_set=required_label_set,
    )
    for message in outcome.warnings:
        logger.warning("%s", message)
    return outcome.config
