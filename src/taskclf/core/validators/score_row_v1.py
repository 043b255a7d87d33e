"""Fast "valid?" test of score_row.v1.json: generated, do not edit.

Generated from schemas/score_row.v1.json by tools/generate_validators.py; regenerate
with ``.venv/bin/python tools/generate_validators.py``.

It answers as jsonschema's draft-07 validator with taskclf's type checker
does, but only whether the document is valid; the reasons for a document
that is not come from taskclf.core.schemas.
"""

from __future__ import annotations

from math import isfinite as _isfinite
from typing import Any

__all__ = ["PARTS", "SCHEMA", "is_valid"]

SCHEMA = 'score_row.v1.json'
"""The schema this module was generated from."""


def _s8(v: Any) -> bool:
    if 'predicted' not in v:
        return False
    return True


def _s10(v: Any) -> bool:
    if 'probabilities' not in v:
        return False
    return True


def _s14(v: Any) -> bool:
    if not (isinstance(v, str)):
        return False
    if len(v) < 1:
        return False
    return True


def _s15(v: Any) -> bool:
    if not (isinstance(v, str)):
        return False
    if len(v) < 1:
        return False
    return True


def _s16(v: Any) -> bool:
    if not ((isinstance(v, float) and _isfinite(v) or isinstance(v, int) and not isinstance(v, bool))):
        return False
    if v < 0:
        return False
    if v > 1:
        return False
    return True


def _s17(v: Any) -> bool:
    if not (isinstance(v, dict)):
        return False
    if len(v) < 1:
        return False
    for k18, x19 in v.items():
        if isinstance(k18, str):
            if len(k18) < 1:
                return False
        if not ((isinstance(x19, float) and _isfinite(x19) or isinstance(x19, int) and not isinstance(x19, bool))):
            return False
        if x19 < 0:
            return False
        if x19 > 1:
            return False
    return True


def _s20(v: Any) -> bool:
    if not (isinstance(v, str)):
        return False
    if len(v) < 1:
        return False
    return True


def _s21(v: Any) -> bool:
    if not ((isinstance(v, float) and _isfinite(v) or isinstance(v, int) and not isinstance(v, bool))):
        return False
    if v < 0:
        return False
    if v > 1:
        return False
    return True


def is_valid(data: Any) -> bool:
    """Whether ``data`` is valid against score_row.v1.json."""
    if not (isinstance(data, dict)):
        return False
    if 'label' in data:
        x1 = data['label']
        if not (isinstance(x1, str)):
            return False
        if len(x1) < 1:
            return False
    if 'predicted' in data:
        x2 = data['predicted']
        if not (isinstance(x2, str)):
            return False
        if len(x2) < 1:
            return False
    if 'confidence' in data:
        x3 = data['confidence']
        if not ((isinstance(x3, float) and _isfinite(x3) or isinstance(x3, int) and not isinstance(x3, bool))):
            return False
        if x3 < 0:
            return False
        if x3 > 1:
            return False
    if 'probabilities' in data:
        x4 = data['probabilities']
        if not (isinstance(x4, dict)):
            return False
        if len(x4) < 1:
            return False
        for k5, x6 in x4.items():
            if isinstance(k5, str):
                if len(k5) < 1:
                    return False
            if not ((isinstance(x6, float) and _isfinite(x6) or isinstance(x6, int) and not isinstance(x6, bool))):
                return False
            if x6 < 0:
                return False
            if x6 > 1:
                return False
    if 'user_id' in data:
        x7 = data['user_id']
        if not (isinstance(x7, str)):
            return False
        if len(x7) < 1:
            return False
    if 'label' not in data:
        return False
    if 'predicted' in data and ('confidence' not in data):
        return False
    if 'confidence' in data and ('predicted' not in data):
        return False
    if (_s8(data)) + (_s10(data)) != 1:
        return False
    return True


PARTS = {
    '/properties/label': _s14,
    '/properties/predicted': _s15,
    '/properties/confidence': _s16,
    '/properties/probabilities': _s17,
    '/properties/user_id': _s20,
    '/definitions/probability': _s21,
}
"""The test of each named part of the schema, by JSON pointer."""
