"""What inference uses when the policy file is missing or unusable, in one sentence."""

from __future__ import annotations

from taskclf.cli.common import Context

__all__ = ["describe_fallback"]


def describe_fallback(ctx: Context) -> str:
    """Say what inference falls back to without a usable policy in ``ctx.models_dir``."""
    from taskclf.core.layout import ACTIVE_FILENAME

    active = ctx.models_dir / ACTIVE_FILENAME
    if active.exists():
        return (
            f"inference falls back to the legacy pointer {ctx.display(active)} "
            "(deprecated), then to best-model selection"
        )
    return (
        f"inference falls back to best-model selection among the bundles in "
        f"{ctx.display(ctx.models_dir)} (there is no {ACTIVE_FILENAME})"
    )
