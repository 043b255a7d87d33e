"""Seeding a new inference policy from the model bundle inference would use.

When a person asks to edit a policy that does not exist yet (``taskclf policy
edit``, the tray's "Edit Inference Policy"), a valid policy is seeded first so
they start from something that works:

* the bundle is the explicit override, else the one resolution picks
  (``active.json``, then best-model selection);
* its schema hash and label set come from the bundle's ``metadata.json``, and
  the reject threshold from its advisory ``reject_threshold`` (else the
  schema's default);
* a calibrator store is attached only when one under ``artifacts/`` explicitly
  binds to this bundle or its schema hash
  (:func:`~taskclf.model_registry.find_bound_calibrator_store`), and dropped
  again if the seeded policy then fails the disk checks.

Nothing is written here: the caller saves the policy.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from taskclf.core.inference_policy import (
    DEFAULT_REJECT_THRESHOLD,
    InferencePolicy,
    PolicyDiskCheckError,
    PolicySchemaError,
    build_inference_policy,
    check_policy_artifacts,
)
from taskclf.core.layout import home_of
from taskclf.core.policy_checks import inside_home, read_artifact_document
from taskclf.core.schemas import CALIBRATOR_STORE_SCHEMA
from taskclf.infer.resolve import ResolvedInferenceConfig, resolve_inference_config
from taskclf.model_registry import find_bound_calibrator_store

__all__ = ["EDIT_SOURCE", "SeededPolicy", "seed_inference_policy"]

EDIT_SOURCE = "edit"
"""``source`` of a policy seeded for editing."""


@dataclass(frozen=True, kw_only=True, slots=True)
class SeededPolicy:
    """A seeded policy and how it was found.

    Attributes:
        policy: the policy, valid against the schema and the files on disk.
        config: the resolution that picked the bundle (its ``step`` says how).
        dropped_store: why the calibrator store bound to the bundle was left
            out, or ``None`` when none was found or it was kept.
    """

    policy: InferencePolicy
    config: ResolvedInferenceConfig
    dropped_store: str | None = None


def seed_inference_policy(
    models_dir: Path,
    *,
    model_dir_override: str | os.PathLike[str] | None = None,
    source: str = EDIT_SOURCE,
) -> SeededPolicy:
    """Build a valid policy for the bundle inference would use (see the module docstring).

    Raises:
        ModelResolutionError: no bundle resolves (the message lists each step's reason).
        PolicySchemaError: the bundle cannot be named in a policy.
        PolicyDiskCheckError: even without a calibrator store, the policy does
            not match the files on disk.
    """
    config = resolve_inference_config(models_dir, model_dir_override=model_dir_override)
    home = home_of(models_dir)
    threshold = config.metadata.get("reject_threshold", DEFAULT_REJECT_THRESHOLD)
    store_dir = find_bound_calibrator_store(home, config.bundle_id, config.schema_hash)

    def build(store: str | None) -> InferencePolicy:
        return build_inference_policy(
            model_dir=config.model_dir,
            model_schema_hash=config.schema_hash,
            model_label_set=list(config.label_set),
            reject_threshold=threshold,
            calibrator_store_dir=store,
            calibration_method=None if store is None else _store_method(home, store),
            source=source,
        )

    if store_dir is not None:
        try:
            policy = build(store_dir)
        except PolicySchemaError as exc:  # e.g. a folder name a policy cannot hold
            dropped = f"{store_dir} cannot be named in a policy: {exc.issues[0]}"
        else:
            failures = check_policy_artifacts(policy, models_dir)
            if not failures:
                return SeededPolicy(policy=policy, config=config)
            dropped = f"{store_dir} failed the disk checks: {failures[0].message}"
    else:
        dropped = None
    policy = build(None)
    failures = check_policy_artifacts(policy, models_dir)
    if failures:
        raise PolicyDiskCheckError(failures)
    return SeededPolicy(policy=policy, config=config, dropped_store=dropped)


def _store_method(home: Path, store_dir: str) -> str | None:
    # A store.json that cannot be read leaves the method unset; the disk
    # checks then report (and the seed drops) such a store.
    store_file = inside_home(home, Path(store_dir) / "store.json")
    if store_file is None:
        return None
    document, _reason = read_artifact_document(store_file, CALIBRATOR_STORE_SCHEMA)
    method = None if document is None else document.get("method")
    return method if isinstance(method, str) else None
