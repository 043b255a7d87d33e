"""Fast "valid?" test of model_metrics.v1.json: generated, do not edit.

Generated from schemas/model_metrics.v1.json by tools/generate_validators.py; regenerate
with ``.venv/bin/python tools/generate_validators.py``.

It answers as jsonschema's draft-07 validator with taskclf's type checker
does, but only whether the document is valid; the reasons for a document
that is not come from taskclf.core.schemas.
"""

from __future__ import annotations

from math import isfinite as _isfinite
from typing import Any

__all__ = ["PARTS", "SCHEMA", "is_valid"]

SCHEMA = 'model_metrics.v1.json'
"""The schema this module was generated from."""


def _s5(v: Any) -> bool:
    if not ((isinstance(v, float) and _isfinite(v) or isinstance(v, int) and not isinstance(v, bool))):
        return False
    if v < 0:
        return False
    if v > 1:
        return False
    return True


def _s6(v: Any) -> bool:
    if not ((isinstance(v, float) and _isfinite(v) or isinstance(v, int) and not isinstance(v, bool))):
        return False
    if v < 0:
        return False
    if v > 1:
        return False
    return True


def _s7(v: Any) -> bool:
    if not ((isinstance(v, float) and _isfinite(v) or isinstance(v, int) and not isinstance(v, bool))):
        return False
    if v < 0:
        return False
    if v > 1:
        return False
    return True


def is_valid(data: Any) -> bool:
    """Whether ``data`` is valid against model_metrics.v1.json."""
    if not (isinstance(data, dict)):
        return False
    if 'macro_f1' in data:
        x1 = data['macro_f1']
        if not ((isinstance(x1, float) and _isfinite(x1) or isinstance(x1, int) and not isinstance(x1, bool))):
            return False
        if x1 < 0:
            return False
        if x1 > 1:
            return False
    if 'weighted_f1' in data:
        x2 = data['weighted_f1']
        if not ((isinstance(x2, float) and _isfinite(x2) or isinstance(x2, int) and not isinstance(x2, bool))):
            return False
        if x2 < 0:
            return False
        if x2 > 1:
            return False
    if 'macro_f1' not in data or 'weighted_f1' not in data:
        return False
    return True


PARTS = {
    '/properties/macro_f1': _s5,
    '/properties/weighted_f1': _s6,
    '/definitions/probability': _s7,
}
"""The test of each named part of the schema, by JSON pointer."""
