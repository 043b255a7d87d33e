"""Seeding a new inference policy from the model bundle inference would use.

When a person asks to edit a policy that does not exist yet (``taskclf policy
edit``, the tray's "Edit Inference Policy"), a valid policy is seeded first so
they start from something that works:

* the bundle is the explicit override, else the one resolution picks
  (``active.json``, then best-model selection);
* the calibrator store and the threshold are bound as every command binds
  them (:func:`taskclf.infer.binding.bind_bundle`): the store under
  ``artifacts/`` explicitly bound to the bundle, and the bundle's advisory
  ``reject_threshold`` (else the schema's default). A bound store is dropped
  again, and the seed says why, if the seeded policy then fails the disk checks.

Nothing is written here: the caller saves the policy.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from taskclf.core.artifacts import ModelMetadata
from taskclf.core.home import Home
from taskclf.core.inference_policy import (
    InferencePolicy,
    PolicyDiskCheckError,
    PolicySchemaError,
)
from taskclf.infer.binding import AUTO, BindingError, bind_bundle
from taskclf.infer.resolve import ResolvedInferenceConfig, resolve_inference_config

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
    home = Home.of_models_dir(models_dir)
    metadata = ModelMetadata.from_document(
        config.metadata, file=f"{config.model_dir}/metadata.json"
    )
    try:
        binding = bind_bundle(home, config.model_dir, store=AUTO, metadata=metadata)
        dropped = None
    except BindingError as exc:  # the bound store cannot be read after all
        binding = bind_bundle(home, config.model_dir, store=None, metadata=metadata)
        dropped = exc.message
    if binding.store_dir is not None:
        try:
            policy = binding.policy(source=source)
        except PolicySchemaError as exc:  # e.g. a folder name a policy cannot hold
            dropped = f"{binding.store_dir} cannot be named in a policy: {exc.issues[0]}"
        else:
            failures = binding.disk_check(policy, home)
            if not failures:
                return SeededPolicy(policy=policy, config=config)
            dropped = f"{binding.store_dir} failed the disk checks: {failures[0].message}"
        binding = binding.without_store(str(dropped))
    policy = binding.policy(source=source)
    failures = binding.disk_check(policy, home)
    if failures:
        raise PolicyDiskCheckError(failures)
    return SeededPolicy(policy=policy, config=config, dropped_store=dropped)
