"""Fast "valid?" test of active_pointer.v1.json: generated, do not edit.

Generated from schemas/active_pointer.v1.json by tools/generate_validators.py; regenerate
with ``.venv/bin/python tools/generate_validators.py``.

It answers as jsonschema's draft-07 validator with taskclf's type checker
does, but only whether the document is valid; the reasons for a document
that is not come from taskclf.core.schemas.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["PARTS", "SCHEMA", "is_valid"]

SCHEMA = 'active_pointer.v1.json'
"""The schema this module was generated from."""

_RE1 = re.compile('^(?![\\s\\S]*[\\u0000-\\u001f])(?![A-Za-z]:)(?!/)(?!\\.\\.(/|$))(?![\\s\\S]*/\\.\\.(/|$))[^\\\\]+$').search
_RE2 = re.compile('^(?![\\s\\S]*\\n)[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])[Tt]([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\\.[0-9]+)?([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$').search


def _s8(v: Any) -> bool:
    if not (isinstance(v, str)):
        return False
    if len(v) < 1:
        return False
    if not _RE1(v):
        return False
    return True


def _s9(v: Any) -> bool:
    if not (isinstance(v, str)):
        return False
    if not _RE2(v):
        return False
    return True


def _s10(v: Any) -> bool:
    if not (isinstance(v, str)):
        return False
    if len(v) < 1:
        return False
    return True


def _s11(v: Any) -> bool:
    if not (isinstance(v, str)):
        return False
    return True


def _s12(v: Any) -> bool:
    if not (isinstance(v, str)):
        return False
    return True


def _s13(v: Any) -> bool:
    if not (isinstance(v, str)):
        return False
    if len(v) < 1:
        return False
    if not _RE1(v):
        return False
    return True


def _s14(v: Any) -> bool:
    if not (isinstance(v, str)):
        return False
    if not _RE2(v):
        return False
    return True


def is_valid(data: Any) -> bool:
    """Whether ``data`` is valid against active_pointer.v1.json."""
    if not (isinstance(data, dict)):
        return False
    if 'model_dir' in data:
        x1 = data['model_dir']
        if not (isinstance(x1, str)):
            return False
        if len(x1) < 1:
            return False
        if not _RE1(x1):
            return False
    if 'selected_at' in data:
        x2 = data['selected_at']
        if not (isinstance(x2, str)):
            return False
        if not _RE2(x2):
            return False
    if 'policy_version' in data:
        x3 = data['policy_version']
        if not (isinstance(x3, str)):
            return False
        if len(x3) < 1:
            return False
    if 'model_id' in data:
        x4 = data['model_id']
        if not (isinstance(x4, str)):
            return False
    if 'reason' in data:
        x5 = data['reason']
        if not (isinstance(x5, str)):
            return False
    if 'model_dir' not in data or 'selected_at' not in data or 'policy_version' not in data:
        return False
    return True


PARTS = {
    '/properties/model_dir': _s8,
    '/properties/selected_at': _s9,
    '/properties/policy_version': _s10,
    '/properties/model_id': _s11,
    '/properties/reason': _s12,
    '/definitions/relative_path': _s13,
    '/definitions/date_time': _s14,
}
"""The test of each named part of the schema, by JSON pointer."""
