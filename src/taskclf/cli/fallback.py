"""What inference uses when the policy file is missing or unusable, in one sentence."""

from __future__ import annotations

from typing import TYPE_CHECKING

from taskclf.cli.common import Context

if TYPE_CHECKING:
    from taskclf.infer.resolve import ResolvedInferenceConfig

__all__ = ["describe_fallback", "describe_resolution"]

_VIA = {
    "override": "the --model-dir override",
    "policy": "the inference policy",
    "active": "the legacy models/active.json pointer (deprecated)",
    "best-model": "best-model selection",
}


def describe_resolution(config: ResolvedInferenceConfig) -> str:
    """``models/run_001 via best-model selection, no calibrator, reject threshold 0.55``."""
    calibrator = config.calibrator_store_dir or "no calibrator"
    return (
        f"{config.model_dir} via {_VIA.get(str(config.step), str(config.step))}, "
        f"{calibrator}, reject threshold {config.reject_threshold:g}"
    )


def describe_fallback(ctx: Context) -> str:
    """Say what inference uses now, resolved as inference resolves it.

    Callers use it when the policy is missing or unusable, so the answer is the
    fallback (``active.json``, then best-model selection).
    """
    from taskclf.infer.resolve import ModelResolutionError, resolve_inference_config

    try:
        config = resolve_inference_config(ctx.models_dir)
    except ModelResolutionError as exc:
        return (
            "inference cannot resolve any model: there is no usable active.json and no "
            f"valid model bundle in {ctx.display(ctx.models_dir)} "
            f"({len(exc.excluded)} excluded)"
        )
    return f"inference uses {describe_resolution(config)}"
