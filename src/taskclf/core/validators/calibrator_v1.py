"""Fast "valid?" test of calibrator.v1.json: generated, do not edit.

Generated from schemas/calibrator.v1.json by tools/generate_validators.py; regenerate
with ``.venv/bin/python tools/generate_validators.py``.

It answers as jsonschema's draft-07 validator with taskclf's type checker
does, but only whether the document is valid; the reasons for a document
that is not come from taskclf.core.schemas.
"""

from __future__ import annotations

from math import isfinite as _isfinite
from typing import Any

__all__ = ["PARTS", "SCHEMA", "is_valid"]

SCHEMA = 'calibrator.v1.json'
"""The schema this module was generated from."""

_KEYS1 = frozenset(['X_max_', 'X_min_', 'X_thresholds_', 'increasing_', 'out_of_bounds', 'y_thresholds_'])
_KEYS2 = frozenset(['regressors', 'temperature', 'type'])


def _s16(v: Any) -> bool:
    if 'type' in v:
        x17 = v['type']
        if not ((isinstance(x17, str) and x17 == 'temperature')):
            return False
    if 'type' not in v:
        return False
    return True


def _s19(v: Any) -> bool:
    if 'type' in v:
        x20 = v['type']
        if not ((isinstance(x20, str) and x20 == 'isotonic')):
            return False
    if 'type' not in v:
        return False
    return True


def _s23(v: Any) -> bool:
    if not (isinstance(v, str)):
        return False
    if not (v == 'identity' or v == 'temperature' or v == 'isotonic'):
        return False
    return True


def _s24(v: Any) -> bool:
    if not ((isinstance(v, float) and _isfinite(v) or isinstance(v, int) and not isinstance(v, bool))):
        return False
    if v <= 0:
        return False
    return True


def _s25(v: Any) -> bool:
    if not (isinstance(v, list)):
        return False
    if len(v) < 1:
        return False
    for x26 in v:
        if not (isinstance(x26, dict)):
            return False
        if 'X_thresholds_' in x26:
            x27 = x26['X_thresholds_']
            if not (isinstance(x27, list)):
                return False
            if len(x27) < 1:
                return False
            for x28 in x27:
                if not ((isinstance(x28, float) and _isfinite(x28) or isinstance(x28, int) and not isinstance(x28, bool))):
                    return False
        if 'y_thresholds_' in x26:
            x29 = x26['y_thresholds_']
            if not (isinstance(x29, list)):
                return False
            if len(x29) < 1:
                return False
            for x30 in x29:
                if not ((isinstance(x30, float) and _isfinite(x30) or isinstance(x30, int) and not isinstance(x30, bool))):
                    return False
                if x30 < 0:
                    return False
                if x30 > 1:
                    return False
        if 'X_min_' in x26:
            x31 = x26['X_min_']
            if not ((isinstance(x31, float) and _isfinite(x31) or isinstance(x31, int) and not isinstance(x31, bool))):
                return False
        if 'X_max_' in x26:
            x32 = x26['X_max_']
            if not ((isinstance(x32, float) and _isfinite(x32) or isinstance(x32, int) and not isinstance(x32, bool))):
                return False
        if 'increasing_' in x26:
            x33 = x26['increasing_']
            if not (isinstance(x33, bool)):
                return False
        if 'out_of_bounds' in x26:
            x34 = x26['out_of_bounds']
            if not (isinstance(x34, str)):
                return False
            if not (x34 == 'clip' or x34 == 'nan' or x34 == 'raise'):
                return False
        if 'X_thresholds_' not in x26 or 'y_thresholds_' not in x26 or 'X_min_' not in x26 or 'X_max_' not in x26 or 'increasing_' not in x26 or 'out_of_bounds' not in x26:
            return False
        if not x26.keys() <= _KEYS1:
            for k35, x36 in x26.items():
                if k35 in _KEYS1:
                    continue
                return False
    return True


def _s37(v: Any) -> bool:
    if not ((isinstance(v, float) and _isfinite(v) or isinstance(v, int) and not isinstance(v, bool))):
        return False
    if v < 0:
        return False
    if v > 1:
        return False
    return True


def is_valid(data: Any) -> bool:
    """Whether ``data`` is valid against calibrator.v1.json."""
    if not (isinstance(data, dict)):
        return False
    if 'type' in data:
        x1 = data['type']
        if not (isinstance(x1, str)):
            return False
        if not (x1 == 'identity' or x1 == 'temperature' or x1 == 'isotonic'):
            return False
    if 'temperature' in data:
        x2 = data['temperature']
        if not ((isinstance(x2, float) and _isfinite(x2) or isinstance(x2, int) and not isinstance(x2, bool))):
            return False
        if x2 <= 0:
            return False
    if 'regressors' in data:
        x3 = data['regressors']
        if not (isinstance(x3, list)):
            return False
        if len(x3) < 1:
            return False
        for x4 in x3:
            if not (isinstance(x4, dict)):
                return False
            if 'X_thresholds_' in x4:
                x5 = x4['X_thresholds_']
                if not (isinstance(x5, list)):
                    return False
                if len(x5) < 1:
                    return False
                for x6 in x5:
                    if not ((isinstance(x6, float) and _isfinite(x6) or isinstance(x6, int) and not isinstance(x6, bool))):
                        return False
            if 'y_thresholds_' in x4:
                x7 = x4['y_thresholds_']
                if not (isinstance(x7, list)):
                    return False
                if len(x7) < 1:
                    return False
                for x8 in x7:
                    if not ((isinstance(x8, float) and _isfinite(x8) or isinstance(x8, int) and not isinstance(x8, bool))):
                        return False
                    if x8 < 0:
                        return False
                    if x8 > 1:
                        return False
            if 'X_min_' in x4:
                x9 = x4['X_min_']
                if not ((isinstance(x9, float) and _isfinite(x9) or isinstance(x9, int) and not isinstance(x9, bool))):
                    return False
            if 'X_max_' in x4:
                x10 = x4['X_max_']
                if not ((isinstance(x10, float) and _isfinite(x10) or isinstance(x10, int) and not isinstance(x10, bool))):
                    return False
            if 'increasing_' in x4:
                x11 = x4['increasing_']
                if not (isinstance(x11, bool)):
                    return False
            if 'out_of_bounds' in x4:
                x12 = x4['out_of_bounds']
                if not (isinstance(x12, str)):
                    return False
                if not (x12 == 'clip' or x12 == 'nan' or x12 == 'raise'):
                    return False
            if 'X_thresholds_' not in x4 or 'y_thresholds_' not in x4 or 'X_min_' not in x4 or 'X_max_' not in x4 or 'increasing_' not in x4 or 'out_of_bounds' not in x4:
                return False
            if not x4.keys() <= _KEYS1:
                for k13, x14 in x4.items():
                    if k13 in _KEYS1:
                        continue
                    return False
    if 'temperature' in data and ('type' not in data):
        return False
    if 'regressors' in data and ('type' not in data):
        return False
    if _s16(data):
        if 'temperature' not in data:
            return False
    if _s19(data):
        if 'regressors' not in data:
            return False
    if not data.keys() <= _KEYS2:
        for k21, x22 in data.items():
            if k21 in _KEYS2:
                continue
            return False
    return True


PARTS = {
    '/properties/type': _s23,
    '/properties/temperature': _s24,
    '/properties/regressors': _s25,
    '/definitions/probability': _s37,
}
"""The test of each named part of the schema, by JSON pointer."""
