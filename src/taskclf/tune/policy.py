"""The inference policy that ``tune-reject --write-policy`` writes.

It binds the model bundle and the calibrator store the scores came from to
the tuned thresholds, with ``source`` set to ``"tune-reject"``. Building the
:class:`~taskclf.core.inference_policy.InferencePolicy` validates it against
the schema, so an invalid policy is never returned (and so never written);
checking it against the artifacts on disk
(:func:`~taskclf.core.inference_policy.validate_policy`) and saving it
(:func:`~taskclf.core.inference_policy.save_inference_policy`) are the
caller's next steps.
"""

from __future__ import annotations

from collections.abc import Iterable

from taskclf.core.inference_policy import InferencePolicy, build_inference_policy
from taskclf.tune.sweep import TuneResult

__all__ = ["TUNE_REJECT_SOURCE", "tuned_policy"]

TUNE_REJECT_SOURCE = "tune-reject"
"""The policy's ``source`` when ``tune-reject`` wrote it."""


def tuned_policy(
    result: TuneResult,
    *,
    model_dir: str,
    model_schema_hash: str,
    model_label_set: Iterable[str],
    calibrator_store_dir: str | None = None,
    calibration_method: str | None = None,
) -> InferencePolicy:
    """The policy binding a model bundle and calibrator store to the tuned thresholds.

    ``reject_threshold`` is the global choice; ``per_user_reject_thresholds``
    holds the per-user choices, or is ``None`` when there are none. Labels are
    sorted, ``created_at`` is now (UTC) and ``git_commit`` the current commit,
    as :func:`~taskclf.core.inference_policy.build_inference_policy` does.

    Args:
        result: what :func:`~taskclf.tune.sweep.tune_reject` returned.
        model_dir: the model bundle, relative to TASKCLF_HOME.
        model_schema_hash: ``schema_hash`` from the bundle's ``metadata.json``.
        model_label_set: ``label_set`` from the bundle's ``metadata.json``.
        calibrator_store_dir: the calibrator store, relative to TASKCLF_HOME, or ``None``.
        calibration_method: the store's method (``"temperature"``, ``"isotonic"``) or ``None``.

    Raises:
        PolicySchemaError: the values do not make a valid policy (every issue is listed).
    """
    return build_inference_policy(
        model_dir=model_dir,
        model_schema_hash=model_schema_hash,
        model_label_set=list(model_label_set),
        reject_threshold=result.threshold,
        calibrator_store_dir=calibrator_store_dir,
        calibration_method=calibration_method,
        source=TUNE_REJECT_SOURCE,
        per_user_reject_thresholds=result.per_user_thresholds or None,
    )
