"""One binding of bundle + calibrator store + threshold into a policy, with where each came from.

Every command that makes a policy for a bundle (``policy create``,
``tune-reject --write-policy``, ``policy edit`` seeding, and
:func:`taskclf.infer.seed.seed_inference_policy`) binds it here, so the same
bundle gets the same calibrator and threshold whichever command makes it:

- **calibrator**: the store the caller names; else, unless the caller asks for
  none, the store under ``artifacts/`` that explicitly binds to the bundle
  (:func:`~taskclf.model_registry.find_bound_calibrator_store`); else none
  (identity). The store's own rule decides whether it belongs to the bundle
  (:meth:`~taskclf.core.artifacts.CalibratorStore.mismatches`).
- **method**: the store's ``method`` (``null`` without a store).
- **threshold**: the caller's; else the bundle's advisory ``reject_threshold``
  from ``metadata.json``; else the schema's default.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath

from taskclf.core.artifacts import ArtifactError, CalibratorStore, ModelMetadata
from taskclf.core.errors import DiskCheckFailure
from taskclf.core.home import Home
from taskclf.core.inference_policy import (
    DEFAULT_REJECT_THRESHOLD,
    DEFAULT_SOURCE,
    InferencePolicy,
    build_inference_policy,
)
from taskclf.core.policy_checks import inspect_policy_artifacts
from taskclf.model_registry.stores import find_bound_calibrator_store

__all__ = [
    "AUTO",
    "BindingError",
    "PolicyBinding",
    "StoreChoice",
    "bind_bundle",
]


class StoreChoice(enum.Enum):
    """How the calibrator store is chosen when the caller names none."""

    AUTO = "auto"
    """The store under ``artifacts/`` explicitly bound to the bundle, else none."""


AUTO = StoreChoice.AUTO

BOUND_STORE = "bound to the bundle under artifacts/"
NO_STORE_FOUND = "no calibrator store under artifacts/ is bound to this bundle"
GIVEN = "given"
SCHEMA_DEFAULT = "schema default"


class BindingError(Exception):
    """The bundle or the store cannot be bound into a policy.

    Attributes:
        message: what is wrong (naming the file) and how to fix it.
        field: ``"model_dir"`` or ``"calibrator_store_dir"``: which part failed.
    """

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True, kw_only=True, slots=True)
class PolicyBinding:
    """A bundle, its calibrator store and threshold, each with where it came from.

    Attributes:
        model_dir: the bundle folder, relative to TASKCLF_HOME.
        metadata: the bundle's ``metadata.json``.
        store_dir: the calibrator store folder, or ``None`` for identity calibration.
        store: the store's ``store.json``, when there is a store.
        store_from: ``"given"``, :data:`BOUND_STORE`, :data:`NO_STORE_FOUND`,
            ``"none asked for"`` or the caller's own words.
        reject_threshold: the threshold.
        threshold_from: ``"given"``, ``"<model_dir>/metadata.json"`` or
            ``"schema default"``.
    """

    model_dir: str
    metadata: ModelMetadata
    store_dir: str | None
    store: CalibratorStore | None
    store_from: str
    reject_threshold: float
    threshold_from: str

    @property
    def calibration_method(self) -> str | None:
        """The store's method, ``None`` without a store (or when the store names none)."""
        return None if self.store is None else self.store.method_for(None)

    def policy(
        self,
        *,
        source: str = DEFAULT_SOURCE,
        reject_threshold: float | None = None,
        per_user_reject_thresholds: Mapping[str, float] | None = None,
    ) -> InferencePolicy:
        """The policy of this binding (provenance filled in; see ``build_inference_policy``).

        ``reject_threshold`` replaces the bound threshold (a tuned one, say).

        Raises:
            PolicySchemaError: the values do not make a valid policy.
        """
        return build_inference_policy(
            model_dir=self.model_dir,
            model_schema_hash=self.metadata.schema_hash,
            model_label_set=list(self.metadata.label_set),
            reject_threshold=(
                self.reject_threshold if reject_threshold is None else reject_threshold
            ),
            calibrator_store_dir=self.store_dir,
            calibration_method=self.calibration_method,
            source=source,
            per_user_reject_thresholds=per_user_reject_thresholds,
        )

    def disk_check(self, policy: InferencePolicy, home: Home) -> tuple[DiskCheckFailure, ...]:
        """The disk checks of ``policy`` (made from this binding), on the documents read here.

        The bundle's and the store's files were read once, by :func:`bind_bundle`;
        they are checked as read, not read again.
        """
        return inspect_policy_artifacts(
            policy, home, metadata=self.metadata, store=self.store
        ).failures

    def without_store(self, reason: str) -> PolicyBinding:
        """The same binding with identity calibration; ``reason`` says why."""
        return PolicyBinding(
            model_dir=self.model_dir,
            metadata=self.metadata,
            store_dir=None,
            store=None,
            store_from=reason,
            reject_threshold=self.reject_threshold,
            threshold_from=self.threshold_from,
        )


def bind_bundle(
    home: Home,
    model_dir: str,
    *,
    store: str | StoreChoice | None = AUTO,
    store_from: str | None = None,
    reject_threshold: float | None = None,
    metadata: ModelMetadata | None = None,
) -> PolicyBinding:
    """Bind bundle ``model_dir`` (relative to the home) to a store and a threshold.

    Args:
        home: the TASKCLF_HOME.
        model_dir: the bundle folder, relative to the home.
        store: a store folder (relative to the home), ``None`` for identity
            calibration, or :data:`AUTO` (see the module docstring).
        store_from: words for where a named ``store`` came from (default ``"given"``).
        reject_threshold: the caller's threshold, or ``None`` for the bundle's
            advisory one, else the schema default.
        metadata: the bundle's ``metadata.json`` when the caller has read it already.

    Raises:
        BindingError: the bundle's ``metadata.json`` or the store's
            ``store.json`` cannot be read. (Whether the store belongs to the
            bundle is a disk check of the policy made from the binding.)
    """
    if metadata is None:
        try:
            metadata = ModelMetadata.read(home, model_dir)
        except ArtifactError as exc:
            raise BindingError(exc.message, field="model_dir") from exc
    if isinstance(store, StoreChoice):
        bundle_id = PurePosixPath(model_dir).name
        store = find_bound_calibrator_store(home.given, bundle_id, metadata.schema_hash)
        store_from = NO_STORE_FOUND if store is None else BOUND_STORE
    elif store is None:
        store_from = store_from or "none asked for"
    else:
        store_from = store_from or GIVEN
    document = None if store is None else _read_store(home, store)
    if reject_threshold is not None:
        threshold, threshold_from = reject_threshold, GIVEN
    elif metadata.reject_threshold is not None:
        threshold, threshold_from = metadata.reject_threshold, metadata.file
    else:
        threshold, threshold_from = DEFAULT_REJECT_THRESHOLD, SCHEMA_DEFAULT
    return PolicyBinding(
        model_dir=model_dir,
        metadata=metadata,
        store_dir=store,
        store=document,
        store_from=store_from,
        reject_threshold=threshold,
        threshold_from=threshold_from,
    )


def _read_store(home: Home, store_dir: str) -> CalibratorStore:
    # Whether the store belongs to the bundle is a disk check of the policy
    # made from this binding (taskclf.core.policy_checks), worded there once.
    try:
        return CalibratorStore.read(home, store_dir)
    except ArtifactError as exc:
        raise BindingError(exc.message, field="calibrator_store_dir") from exc
