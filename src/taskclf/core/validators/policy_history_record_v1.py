"""Fast "valid?" test of policy_history_record.v1.json: generated, do not edit.

Generated from schemas/policy_history_record.v1.json by tools/generate_validators.py; regenerate
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

SCHEMA = 'policy_history_record.v1.json'
"""The schema this module was generated from."""

_KEYS1 = frozenset(['policy_bytes_b64', 'record_version', 'replaced_at', 'replaced_by', 'sequence', 'sha256'])
_RE2 = re.compile('^(?![\\s\\S]*\\n)[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])[Tt]([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\\.[0-9]+)?([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$').search
_RE3 = re.compile('^(?![\\s\\S]*\\n)[^\\u0000-\\u001f\\u007f]+$').search
_RE4 = re.compile('^(?![\\s\\S]*\\n)[0-9a-f]{64}$').search
_RE5 = re.compile('^(?![\\s\\S]*\\n)[A-Za-z0-9+/]*={0,2}$').search


def _s11(v: Any) -> bool:
    if 'sha256' in v:
        x12 = v['sha256']
        if not (x12 is None):
            return False
    if 'sha256' not in v:
        return False
    return True


def _s13(v: Any) -> bool:
    if not (isinstance(v, str)):
        return False
    if not (v == 'v1'):
        return False
    return True


def _s14(v: Any) -> bool:
    if not ((isinstance(v, int) and not isinstance(v, bool) or isinstance(v, float) and v.is_integer())):
        return False
    if (isinstance(v, float) and _isfinite(v) or isinstance(v, int) and not isinstance(v, bool)):
        if v < 1:
            return False
    return True


def _s15(v: Any) -> bool:
    if not (isinstance(v, str)):
        return False
    if not _RE2(v):
        return False
    return True


def _s16(v: Any) -> bool:
    if not (isinstance(v, str)):
        return False
    if len(v) < 1:
        return False
    if len(v) > 200:
        return False
    if not _RE3(v):
        return False
    return True


def _s17(v: Any) -> bool:
    if not (isinstance(v, str) or v is None):
        return False
    if isinstance(v, str):
        if not _RE4(v):
            return False
    return True


def _s18(v: Any) -> bool:
    if not (isinstance(v, str) or v is None):
        return False
    if isinstance(v, str):
        if len(v) > 1398104:
            return False
        if not _RE5(v):
            return False
    return True


def _s19(v: Any) -> bool:
    if not (isinstance(v, str)):
        return False
    if not _RE2(v):
        return False
    return True


def is_valid(data: Any) -> bool:
    """Whether ``data`` is valid against policy_history_record.v1.json."""
    if not (isinstance(data, dict)):
        return False
    if 'record_version' not in data or 'sequence' not in data or 'replaced_at' not in data or 'replaced_by' not in data or 'sha256' not in data or 'policy_bytes_b64' not in data:
        return False
    if not data.keys() <= _KEYS1:
        for k1, x2 in data.items():
            if k1 in _KEYS1:
                continue
            return False
    if 'record_version' in data:
        x3 = data['record_version']
        if not (isinstance(x3, str)):
            return False
        if not (x3 == 'v1'):
            return False
    if 'sequence' in data:
        x4 = data['sequence']
        if not ((isinstance(x4, int) and not isinstance(x4, bool) or isinstance(x4, float) and x4.is_integer())):
            return False
        if (isinstance(x4, float) and _isfinite(x4) or isinstance(x4, int) and not isinstance(x4, bool)):
            if x4 < 1:
                return False
    if 'replaced_at' in data:
        x5 = data['replaced_at']
        if not (isinstance(x5, str)):
            return False
        if not _RE2(x5):
            return False
    if 'replaced_by' in data:
        x6 = data['replaced_by']
        if not (isinstance(x6, str)):
            return False
        if len(x6) < 1:
            return False
        if len(x6) > 200:
            return False
        if not _RE3(x6):
            return False
    if 'sha256' in data:
        x7 = data['sha256']
        if not (isinstance(x7, str) or x7 is None):
            return False
        if isinstance(x7, str):
            if not _RE4(x7):
                return False
    if 'policy_bytes_b64' in data:
        x8 = data['policy_bytes_b64']
        if not (isinstance(x8, str) or x8 is None):
            return False
        if isinstance(x8, str):
            if len(x8) > 1398104:
                return False
            if not _RE5(x8):
                return False
    if _s11(data):
        if 'policy_bytes_b64' in data:
            x9 = data['policy_bytes_b64']
            if not (x9 is None):
                return False
    else:
        if 'policy_bytes_b64' in data:
            x10 = data['policy_bytes_b64']
            if not (isinstance(x10, str)):
                return False
    return True


PARTS = {
    '/properties/record_version': _s13,
    '/properties/sequence': _s14,
    '/properties/replaced_at': _s15,
    '/properties/replaced_by': _s16,
    '/properties/sha256': _s17,
    '/properties/policy_bytes_b64': _s18,
    '/definitions/date_time': _s19,
}
"""The test of each named part of the schema, by JSON pointer."""
