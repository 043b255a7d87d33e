"""Deploying policy changes: change fields, install a reviewed file, roll back to a kept version.

Each function validates the policy it would install against the schema and
against the artifacts on disk now (the same checks as ``taskclf policy
validate``) before anything is written, and writes through the one writer,
:func:`~taskclf.core.policy_history.change_policy_file`, so the version it
replaces is kept in the history first.
"""

from __future__ import annotations

import copy
import difflib
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from taskclf.core.errors import PolicyDiskCheckError, PolicyFileError, PolicySchemaError
from taskclf.core.inference_policy import InferencePolicy, check_policy_artifacts
from taskclf.core.jsonio import JSONFileError, parse_json_bytes
from taskclf.core.policy_history import (
    ANY_CURRENT,
    PolicyChange,
    PolicyVersion,
    change_policy_file,
    policy_history,
)
from taskclf.core.provenance import current_git_commit, utc_now_iso
from taskclf.core.schemas import POLICY_SCHEMA, load_schema

__all__ = [
    "PER_USER_PREFIX",
    "PROVENANCE_FIELDS",
    "Rollback",
    "UnknownPolicyKeyError",
    "apply_inference_policy",
    "check_policy_bytes",
    "check_settable_key",
    "rollback_inference_policy",
    "settable_keys",
    "updated_policy_document",
]

PER_USER_PREFIX = "per_user_reject_thresholds."
"""Prefix of a key naming one user's threshold: ``per_user_reject_thresholds.<user_id>``."""

PROVENANCE_FIELDS = ("created_at", "git_commit", "source")
"""Fields :func:`updated_policy_document` sets itself (``source`` from its argument)."""


class UnknownPolicyKeyError(Exception):
    """A key to set is not a field of the policy, or is one set by taskclf itself.

    Attributes:
        key: the key as given.
        suggestion: the closest settable key, or ``None``.
        message: what is wrong and what to write instead.
    """

    def __init__(self, key: str, message: str, suggestion: str | None = None) -> None:
        super().__init__(message)
        self.key = key
        self.message = message
        self.suggestion = suggestion


def settable_keys() -> list[str]:
    """The keys :func:`updated_policy_document` accepts, in schema order (user ids aside)."""
    names = load_schema(POLICY_SCHEMA)["properties"]
    return [name for name in names if name not in PROVENANCE_FIELDS]


def check_settable_key(key: str) -> None:
    """Refuse ``key`` unless :func:`updated_policy_document` can set it.

    Raises:
        UnknownPolicyKeyError: it is not a field (the message names the
            closest one), or it is a provenance field.
    """
    if key.startswith(PER_USER_PREFIX) and key != PER_USER_PREFIX:
        return
    if key in PROVENANCE_FIELDS:
        how = "pass --source" if key == "source" else "it is set to now / the current commit"
        raise UnknownPolicyKeyError(
            key, f"{key} is set by taskclf itself when the policy changes ({how})"
        )
    keys = settable_keys()
    if key in keys:
        return
    close = difflib.get_close_matches(key, [*keys, PER_USER_PREFIX + "<user_id>"], n=1)
    suggestion = close[0] if close else None
    hint = f"did you mean {suggestion}?" if suggestion else "known keys: " + ", ".join(keys)
    raise UnknownPolicyKeyError(
        key,
        f"unknown key {key!r}: {hint} (keys are the policy's fields, or "
        f"{PER_USER_PREFIX}<user_id> for one user's threshold)",
        suggestion,
    )


def updated_policy_document(
    document: Mapping[str, Any],
    assignments: Sequence[tuple[str, Any]],
    *,
    source: str = "manual",
) -> dict[str, Any]:
    """``document`` (a policy's JSON form) with ``assignments`` applied; not validated.

    Each assignment is ``(key, value)``: a field of the policy, or
    ``per_user_reject_thresholds.<user_id>`` (a value of ``None`` removes
    that user; the map becomes ``None`` when it is empty). Setting
    ``calibrator_store_dir`` without ``calibration_method`` sets the method to
    ``None`` (the store's own method, as the binding does). ``created_at``
    becomes now, ``git_commit`` the current commit and ``source`` ``source``.
    Notes (``_help``, ``$schema``) are kept.

    Raises:
        UnknownPolicyKeyError: a key is not a field (with the closest one),
            or is a provenance field.
    """
    result = copy.deepcopy(dict(document))
    given = set()
    for key, value in assignments:
        check_settable_key(key)
        given.add(key)
        if key.startswith(PER_USER_PREFIX):
            user = key[len(PER_USER_PREFIX) :]
            users = result.get("per_user_reject_thresholds")
            users = dict(users) if isinstance(users, Mapping) else {}
            if value is None:
                users.pop(user, None)
            else:
                users[user] = value
            result["per_user_reject_thresholds"] = users or None
        else:
            result[key] = copy.deepcopy(value)
    if "calibrator_store_dir" in given and "calibration_method" not in given:
        result["calibration_method"] = None
    result["created_at"] = utc_now_iso()
    result["git_commit"] = current_git_commit()
    result["source"] = source
    return result


def check_policy_bytes(
    data: bytes, models_dir: Path, *, source: str | Path, disk: bool = True
) -> InferencePolicy:
    """The policy in ``data``, checked as strict JSON, against the schema and (``disk``) the disk.

    ``source`` names the bytes in messages (a file, ``version 2``, ...).

    Raises:
        PolicyFileError: ``data`` is not acceptable JSON.
        PolicySchemaError: it breaks the schema (every issue is listed).
        PolicyDiskCheckError: it does not match the artifacts in
            ``models_dir``'s TASKCLF_HOME (every failure is listed).
    """
    shown = Path(os.fspath(source))
    try:
        document = parse_json_bytes(data, source=shown)
    except JSONFileError as exc:
        raise PolicyFileError(shown, exc.reason) from exc
    try:
        policy = InferencePolicy.from_dict(document)
    except PolicySchemaError as exc:
        raise PolicySchemaError(exc.issues, shown) from exc
    if disk:
        failures = check_policy_artifacts(policy, models_dir)
        if failures:
            raise PolicyDiskCheckError(failures)
    return policy


def apply_inference_policy(
    models_dir: Path,
    data: bytes,
    *,
    replaced_by: str = "apply_inference_policy",
    expected: bytes | None = ANY_CURRENT,
) -> PolicyChange:
    """Install ``data`` byte for byte as ``models_dir/inference_policy.json``, after checking it.

    The bytes are checked as :func:`check_policy_bytes` does (schema and
    disk); the version replaced is kept in the history.

    Raises:
        PolicyFileError, PolicySchemaError, PolicyDiskCheckError: ``data`` is
            not a valid policy for this home; nothing was written.
        PolicyChangedError: ``expected`` was given and the file differs.
        OSError: it cannot be written; the previous file is intact.
    """
    check_policy_bytes(data, models_dir, source="the policy to apply")
    return change_policy_file(models_dir, data, replaced_by=replaced_by, expected=expected)


@dataclass(frozen=True, slots=True)
class Rollback:
    """What :func:`rollback_inference_policy` restored (or would restore).

    Attributes:
        version: the version restored.
        policy: the restored policy, ``None`` when the version is "no policy".
        change: what was written, ``None`` for a dry run.
    """

    version: PolicyVersion
    policy: InferencePolicy | None
    change: PolicyChange | None


def rollback_inference_policy(
    models_dir: Path,
    version: int = 1,
    *,
    replaced_by: str = "rollback_inference_policy",
    dry_run: bool = False,
    expected: bytes | None = ANY_CURRENT,
) -> Rollback:
    """Restore version ``version`` of the policy (1: the one the current policy replaced).

    The version's bytes are checked against the schema and against the
    artifacts on disk now; a version that no longer matches (its bundle is
    gone, say) is refused. Restoring "no policy" removes the policy. The
    version being replaced is recorded first, so a rollback can be rolled
    back. With ``dry_run`` nothing is written. ``expected``, when given, is
    the policy's bytes as the caller last read them (``None``: no policy).

    Raises:
        PolicyHistoryError: there is no such version, or its record is damaged.
        PolicyChangedError: ``expected`` was given and the file differs.
        PolicyFileError, PolicySchemaError, PolicyDiskCheckError: the version
            is not a valid policy for this home now; nothing was written.
        OSError: it cannot be written; the previous file is intact.
    """
    target = policy_history(models_dir).get(version)
    policy = None
    if target.data is not None:
        policy = check_policy_bytes(
            target.data, models_dir, source=f"version {version} ({target.file})"
        )
    change = None
    if not dry_run:
        change = change_policy_file(
            models_dir, target.data, replaced_by=replaced_by, expected=expected
        )
    return Rollback(target, policy, change)
