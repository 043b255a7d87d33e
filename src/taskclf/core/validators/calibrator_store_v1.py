"""Fast "valid?" test of calibrator_store.v1.json: generated, do not edit.

Generated from schemas/calibrator_store.v1.json by tools/generate_validators.py; regenerate
with ``.venv/bin/python tools/generate_validators.py``.

It answers as jsonschema's draft-07 validator with taskclf's type checker
does, but only whether the document is valid; the reasons for a document
that is not come from taskclf.core.schemas.
"""

from __future__ import annotations

import re
from math import isfinite as _isfinite
from typing import Any

__all__ = ["PARTS", "SCHEMA", "is_valid"]

SCHEMA = 'calibrator_store.v1.json'
"""The schema this module was generated from."""

_RE1 = re.compile('^(?![\\s\\S]*\\n)[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])[Tt]([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\\.[0-9]+)?([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$').search


def _s10(v: Any) -> bool:
    if not (isinstance(v, str) or v is None):
        return False
    if not (v == 'temperature' or v == 'isotonic' or v is None):
        return False
    return True


def _s11(v: Any) -> bool:
    if not (isinstance(v, str)):
        return False
    if len(v) < 1:
        return False
    return True


def _s12(v: Any) -> bool:
    if not (isinstance(v, str)):
        return False
    if len(v) < 1:
        return False
    return True


def _s13(v: Any) -> bool:
    if not (isinstance(v, str)):
        return False
    if not _RE1(v):
        return False
    return True


def _s14(v: Any) -> bool:
    if not ((isinstance(v, int) and not isinstance(v, bool) or isinstance(v, float) and v.is_integer())):
        return False
    if (isinstance(v, float) and _isfinite(v) or isinstance(v, int) and not isinstance(v, bool)):
        if v < 0:
            return False
    return True


def _s15(v: Any) -> bool:
    if not (isinstance(v, list)):
        return False
    for x16 in v:
        if not (isinstance(x16, str)):
            return False
        if len(x16) < 1:
            return False
    if len(set(v)) != len(v):
        return False
    return True


def _s17(v: Any) -> bool:
    if not (isinstance(v, str)):
        return False
    if not _RE1(v):
        return False
    return True


def _s18(v: Any) -> bool:
    if not (isinstance(v, str) or v is None):
        return False
    if not (v == 'temperature' or v == 'isotonic' or v is None):
        return False
    return True


def is_valid(data: Any) -> bool:
    """Whether ``data`` is valid against calibrator_store.v1.json."""
    if not (isinstance(data, dict)):
        return False
    if 'method' in data:
        x1 = data['method']
        if not (isinstance(x1, str) or x1 is None):
            return False
        if not (x1 == 'temperature' or x1 == 'isotonic' or x1 is None):
            return False
    if 'model_schema_hash' in data:
        x2 = data['model_schema_hash']
        if not (isinstance(x2, str)):
            return False
        if len(x2) < 1:
            return False
    if 'model_bundle_id' in data:
        x3 = data['model_bundle_id']
        if not (isinstance(x3, str)):
            return False
        if len(x3) < 1:
            return False
    if 'created_at' in data:
        x4 = data['created_at']
        if not (isinstance(x4, str)):
            return False
        if not _RE1(x4):
            return False
    if 'user_count' in data:
        x5 = data['user_count']
        if not ((isinstance(x5, int) and not isinstance(x5, bool) or isinstance(x5, float) and x5.is_integer())):
            return False
        if (isinstance(x5, float) and _isfinite(x5) or isinstance(x5, int) and not isinstance(x5, bool)):
            if x5 < 0:
                return False
    if 'user_ids' in data:
        x6 = data['user_ids']
        if not (isinstance(x6, list)):
            return False
        for x7 in x6:
            if not (isinstance(x7, str)):
                return False
            if len(x7) < 1:
                return False
        if len(set(x6)) != len(x6):
            return False
    return True


PARTS = {
    '/properties/method': _s10,
    '/properties/model_schema_hash': _s11,
    '/properties/model_bundle_id': _s12,
    '/properties/created_at': _s13,
    '/properties/user_count': _s14,
    '/properties/user_ids': _s15,
    '/definitions/date_time': _s17,
    '/definitions/calibration_method': _s18,
}
"""The test of each named part of the schema, by JSON pointer."""
