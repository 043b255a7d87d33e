"""Fast "valid?" test of inference_policy.v1.json: generated, do not edit.

Generated from schemas/inference_policy.v1.json by tools/generate_validators.py; regenerate
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

SCHEMA = 'inference_policy.v1.json'
"""The schema this module was generated from."""

_RE1 = re.compile('^(?![\\s\\S]*[\\u0000-\\u001f])(?![A-Za-z]:)(?!/)(?!\\.\\.(/|$))(?![\\s\\S]*/\\.\\.(/|$))[^\\\\]+$').search
_RE2 = re.compile('^(?![\\s\\S]*\\n)[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])[Tt]([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\\.[0-9]+)?([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$').search
_RE3 = re.compile('^_').search
_RE4 = re.compile('^\\$schema(?![\\s\\S])').search
_KEYS5 = frozenset(['calibration_method', 'calibrator_store_dir', 'created_at', 'git_commit', 'model_dir', 'model_label_set', 'model_schema_hash', 'per_user_reject_thresholds', 'policy_version', 'reject_threshold', 'source'])


def _s7(v: Any) -> bool:
    if not (isinstance(v, str)):
        return False
    return True


def _s19(v: Any) -> bool:
    if 'calibration_method' in v:
        x20 = v['calibration_method']
        if not (isinstance(x20, str)):
            return False
    if 'calibration_method' not in v:
        return False
    return True


def _s21(v: Any) -> bool:
    if not (isinstance(v, str)):
        return False
    if not (v == 'v1'):
        return False
    return True


def _s22(v: Any) -> bool:
    if not (isinstance(v, str)):
        return False
    if len(v) < 1:
        return False
    if not _RE1(v):
        return False
    return True


def _s23(v: Any) -> bool:
    if not (isinstance(v, str)):
        return False
    if len(v) < 1:
        return False
    return True


def _s24(v: Any) -> bool:
    if not (isinstance(v, list)):
        return False
    if len(v) < 1:
        return False
    for x25 in v:
        if not (isinstance(x25, str)):
            return False
        if len(x25) < 1:
            return False
    if len(set(v)) != len(v):
        return False
    return True


def _s27(v: Any) -> bool:
    if not (isinstance(v, str)):
        return False
    return True


def _s26(v: Any) -> bool:
    if not (isinstance(v, str) or v is None):
        return False
    if _s27(v):
        if not (isinstance(v, str)):
            return False
        if len(v) < 1:
            return False
        if not _RE1(v):
            return False
    return True


def _s28(v: Any) -> bool:
    if not (isinstance(v, str) or v is None):
        return False
    if not (v == 'temperature' or v == 'isotonic' or v is None):
        return False
    return True


def _s29(v: Any) -> bool:
    if not ((isinstance(v, float) and _isfinite(v) or isinstance(v, int) and not isinstance(v, bool))):
        return False
    if v < 0:
        return False
    if v > 1:
        return False
    return True


def _s30(v: Any) -> bool:
    if not (isinstance(v, str)):
        return False
    if not _RE2(v):
        return False
    return True


def _s31(v: Any) -> bool:
    if not (isinstance(v, str)):
        return False
    if len(v) < 1:
        return False
    return True


def _s32(v: Any) -> bool:
    if not (isinstance(v, str)):
        return False
    return True


def _s33(v: Any) -> bool:
    if not (isinstance(v, dict) or v is None):
        return False
    if isinstance(v, dict):
        for k34, x35 in v.items():
            if isinstance(k34, str):
                if len(k34) < 1:
                    return False
            if not ((isinstance(x35, float) and _isfinite(x35) or isinstance(x35, int) and not isinstance(x35, bool))):
                return False
            if x35 < 0:
                return False
            if x35 > 1:
                return False
    return True


def _s36(v: Any) -> bool:
    if not ((isinstance(v, float) and _isfinite(v) or isinstance(v, int) and not isinstance(v, bool))):
        return False
    if v < 0:
        return False
    if v > 1:
        return False
    return True


def _s37(v: Any) -> bool:
    if not (isinstance(v, str)):
        return False
    if len(v) < 1:
        return False
    if not _RE1(v):
        return False
    return True


def _s38(v: Any) -> bool:
    if not (isinstance(v, str)):
        return False
    if not _RE2(v):
        return False
    return True


def _s39(v: Any) -> bool:
    if not (isinstance(v, list)):
        return False
    if len(v) < 1:
        return False
    for x40 in v:
        if not (isinstance(x40, str)):
            return False
        if len(x40) < 1:
            return False
    if len(set(v)) != len(v):
        return False
    return True


def _s41(v: Any) -> bool:
    if not (isinstance(v, str) or v is None):
        return False
    if not (v == 'temperature' or v == 'isotonic' or v is None):
        return False
    return True


def is_valid(data: Any) -> bool:
    """Whether ``data`` is valid against inference_policy.v1.json."""
    if not (isinstance(data, dict)):
        return False
    if 'policy_version' in data:
        x1 = data['policy_version']
        if not (isinstance(x1, str)):
            return False
        if not (x1 == 'v1'):
            return False
    if 'model_dir' in data:
        x2 = data['model_dir']
        if not (isinstance(x2, str)):
            return False
        if len(x2) < 1:
            return False
        if not _RE1(x2):
            return False
    if 'model_schema_hash' in data:
        x3 = data['model_schema_hash']
        if not (isinstance(x3, str)):
            return False
        if len(x3) < 1:
            return False
    if 'model_label_set' in data:
        x4 = data['model_label_set']
        if not (isinstance(x4, list)):
            return False
        if len(x4) < 1:
            return False
        for x5 in x4:
            if not (isinstance(x5, str)):
                return False
            if len(x5) < 1:
                return False
        if len(set(x4)) != len(x4):
            return False
    if 'calibrator_store_dir' in data:
        x6 = data['calibrator_store_dir']
        if not (isinstance(x6, str) or x6 is None):
            return False
        if _s7(x6):
            if not (isinstance(x6, str)):
                return False
            if len(x6) < 1:
                return False
            if not _RE1(x6):
                return False
    if 'calibration_method' in data:
        x8 = data['calibration_method']
        if not (isinstance(x8, str) or x8 is None):
            return False
        if not (x8 == 'temperature' or x8 == 'isotonic' or x8 is None):
            return False
    if 'reject_threshold' in data:
        x9 = data['reject_threshold']
        if not ((isinstance(x9, float) and _isfinite(x9) or isinstance(x9, int) and not isinstance(x9, bool))):
            return False
        if x9 < 0:
            return False
        if x9 > 1:
            return False
    if 'created_at' in data:
        x10 = data['created_at']
        if not (isinstance(x10, str)):
            return False
        if not _RE2(x10):
            return False
    if 'source' in data:
        x11 = data['source']
        if not (isinstance(x11, str)):
            return False
        if len(x11) < 1:
            return False
    if 'git_commit' in data:
        x12 = data['git_commit']
        if not (isinstance(x12, str)):
            return False
    if 'per_user_reject_thresholds' in data:
        x13 = data['per_user_reject_thresholds']
        if not (isinstance(x13, dict) or x13 is None):
            return False
        if isinstance(x13, dict):
            for k14, x15 in x13.items():
                if isinstance(k14, str):
                    if len(k14) < 1:
                        return False
                if not ((isinstance(x15, float) and _isfinite(x15) or isinstance(x15, int) and not isinstance(x15, bool))):
                    return False
                if x15 < 0:
                    return False
                if x15 > 1:
                    return False
    if 'model_dir' not in data or 'model_schema_hash' not in data or 'model_label_set' not in data or 'reject_threshold' not in data:
        return False
    if not data.keys() <= _KEYS5:
        for k16, x17 in data.items():
            if k16 in _KEYS5:
                continue
            if _RE4(k16):
                if not (isinstance(x17, str)):
                    return False
            if not (_RE3(k16) or _RE4(k16)):
                return False
    if _s19(data):
        if 'calibrator_store_dir' in data:
            x18 = data['calibrator_store_dir']
            if not (isinstance(x18, str)):
                return False
        if 'calibrator_store_dir' not in data:
            return False
    return True


PARTS = {
    '/properties/policy_version': _s21,
    '/properties/model_dir': _s22,
    '/properties/model_schema_hash': _s23,
    '/properties/model_label_set': _s24,
    '/properties/calibrator_store_dir': _s26,
    '/properties/calibration_method': _s28,
    '/properties/reject_threshold': _s29,
    '/properties/created_at': _s30,
    '/properties/source': _s31,
    '/properties/git_commit': _s32,
    '/properties/per_user_reject_thresholds': _s33,
    '/definitions/probability': _s36,
    '/definitions/relative_path': _s37,
    '/definitions/date_time': _s38,
    '/definitions/label_set': _s39,
    '/definitions/calibration_method': _s41,
}
"""The test of each named part of the schema, by JSON pointer."""
