"""Fast "valid?" test of calibrator_store.v1.json: generated, do not edit.

Generated from schemas/calibrator_store.v1.json by tools/generate_validators.py; regenerate
with ``.venv/bin/python tools/generate_validators.py``.

It answers as jsonschema's draft-07 validator with taskclf's type checker
does, but only whether the document is valid; the reasons for a document
that is not come from taskclf.core.schemas.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["PARTS", "SCHEMA", "is_valid"]

SCHEMA = 'calibrator_store.v1.json'
"""The schema this module was generated from."""

_RE1 = re.compile('^(?![\\s\\S]*\\n)[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])[Tt]([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\\.[0-9]+)?([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$').search


def _s7(v: Any) -> bool:
    if not (isinstance(v, str) or v is None):
        return False
    if not (v == 'temperature' or v == 'isotonic' or v is None):
        return False
    return True


def _s8(v: Any) -> bool:
    if not (isinstance(v, str)):
        return False
    if len(v) < 1:
        return False
    return True


def _s9(v: Any) -> bool:
    if not (isinstance(v, str)):
        return False
    if len(v) < 1:
        return False
    return True


def _s10(v: Any) -> bool:
    if not (isinstance(v, str)):
        return False
    if not _RE1(v):
        return False
    return True


def _s11(v: Any) -> bool:
    if not (isinstance(v, str)):
        return False
    if not _RE1(v):
        return False
    return True


def _s12(v: Any) -> bool:
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
    return True


PARTS = {
    '/properties/method': _s7,
    '/properties/model_schema_hash': _s8,
    '/properties/model_bundle_id': _s9,
    '/properties/created_at': _s10,
    '/definitions/date_time': _s11,
    '/definitions/calibration_method': _s12,
}
"""The test of each named part of the schema, by JSON pointer."""
