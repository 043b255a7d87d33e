"""Fast "valid?" test of model_metadata.v1.json: generated, do not edit.

Generated from schemas/model_metadata.v1.json by tools/generate_validators.py; regenerate
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

SCHEMA = 'model_metadata.v1.json'
"""The schema this module was generated from."""

_RE1 = re.compile('^(?![\\s\\S]*\\n)[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])[Tt]([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\\.[0-9]+)?([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$').search


def _s8(v: Any) -> bool:
    if not (isinstance(v, str)):
        return False
    if len(v) < 1:
        return False
    return True


def _s9(v: Any) -> bool:
    if not (isinstance(v, list)):
        return False
    if len(v) < 1:
        return False
    for x10 in v:
        if not (isinstance(x10, str)):
            return False
        if len(x10) < 1:
            return False
    if len(set(v)) != len(v):
        return False
    return True


def _s11(v: Any) -> bool:
    if not ((isinstance(v, float) and _isfinite(v) or isinstance(v, int) and not isinstance(v, bool))):
        return False
    if v < 0:
        return False
    if v > 1:
        return False
    return True


def _s12(v: Any) -> bool:
    if not (isinstance(v, str)):
        return False
    if not _RE1(v):
        return False
    return True


def _s13(v: Any) -> bool:
    if not ((isinstance(v, float) and _isfinite(v) or isinstance(v, int) and not isinstance(v, bool))):
        return False
    if v < 0:
        return False
    if v > 1:
        return False
    return True


def _s14(v: Any) -> bool:
    if not (isinstance(v, str)):
        return False
    if not _RE1(v):
        return False
    return True


def _s15(v: Any) -> bool:
    if not (isinstance(v, list)):
        return False
    if len(v) < 1:
        return False
    for x16 in v:
        if not (isinstance(x16, str)):
            return False
        if len(x16) < 1:
            return False
    if len(set(v)) != len(v):
        return False
    return True


def is_valid(data: Any) -> bool:
    """Whether ``data`` is valid against model_metadata.v1.json."""
    if not (isinstance(data, dict)):
        return False
    if 'schema_hash' in data:
        x1 = data['schema_hash']
        if not (isinstance(x1, str)):
            return False
        if len(x1) < 1:
            return False
    if 'label_set' in data:
        x2 = data['label_set']
        if not (isinstance(x2, list)):
            return False
        if len(x2) < 1:
            return False
        for x3 in x2:
            if not (isinstance(x3, str)):
                return False
            if len(x3) < 1:
                return False
        if len(set(x2)) != len(x2):
            return False
    if 'reject_threshold' in data:
        x4 = data['reject_threshold']
        if not ((isinstance(x4, float) and _isfinite(x4) or isinstance(x4, int) and not isinstance(x4, bool))):
            return False
        if x4 < 0:
            return False
        if x4 > 1:
            return False
    if 'created_at' in data:
        x5 = data['created_at']
        if not (isinstance(x5, str)):
            return False
        if not _RE1(x5):
            return False
    if 'schema_hash' not in data or 'label_set' not in data:
        return False
    return True


PARTS = {
    '/properties/schema_hash': _s8,
    '/properties/label_set': _s9,
    '/properties/reject_threshold': _s11,
    '/properties/created_at': _s12,
    '/definitions/probability': _s13,
    '/definitions/date_time': _s14,
    '/definitions/label_set': _s15,
}
"""The test of each named part of the schema, by JSON pointer."""
