"""Defaults of the inference policy, read from its schema (as ``taskclf.core.defaults``).

The values are the schema's own ``default`` keywords: ``DEFAULT_REJECT_THRESHOLD``
is ``inference_policy.v1.json``'s ``properties.reject_threshold.default``. They
are importable from here (as with the original taskclf) and from
:mod:`taskclf.core.inference_policy`.
"""

from __future__ import annotations

from typing import Any

from taskclf.core.schemas import POLICY_SCHEMA, load_schema

__all__ = ["DEFAULT_REJECT_THRESHOLD", "DEFAULT_SOURCE"]


def _schema_default(name: str) -> Any:
    return load_schema(POLICY_SCHEMA)["properties"][name]["default"]


DEFAULT_REJECT_THRESHOLD: float = _schema_default("reject_threshold")
"""Reject threshold used when none is given: the schema's default."""

DEFAULT_SOURCE: str = _schema_default("source")
"""``source`` used when none is given: the schema's default."""
