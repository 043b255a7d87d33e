"""Renderings shared by several commands: policy summaries, diffs, error lists, annotations."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from taskclf.cli.report import Annotation
from taskclf.cli.terminal import value_text

if TYPE_CHECKING:
    from taskclf.core.errors import DiskCheckFailure
    from taskclf.core.inference_policy import InferencePolicy
    from taskclf.core.json_positions import Position
    from taskclf.core.schemas import SchemaIssue

__all__ = [
    "FieldChange",
    "failure_lines",
    "field_changes",
    "format_value",
    "issue_lines",
    "policy_summary",
    "problem_annotations",
]

IDENTITY = "none (identity)"


def format_value(value: Any) -> str:
    """A field value as JSON text (``null``, ``"x"``, ``0.55``, ``["a", "b"]``)."""
    return json.dumps(value, ensure_ascii=False)


def policy_summary(policy: InferencePolicy, *, store_method: str | None = None) -> list[str]:
    """Every field of ``policy`` as aligned ``name  value`` lines, for people.

    ``store_method`` is the ``method`` of the policy's calibrator store, when
    known: a policy whose ``calibration_method`` is ``null`` uses it.
    """
    if policy.calibrator_store_dir is None:
        calibrator = IDENTITY
    else:
        if policy.calibration_method is not None:
            method = policy.calibration_method
        elif store_method is not None:
            method = f"{store_method}, the store's own method"
        else:
            method = "method not named"
        calibrator = f"{policy.calibrator_store_dir} ({method})"
    rows = [
        ("policy_version", policy.policy_version),
        ("model_dir", policy.model_dir),
        ("model_schema_hash", policy.model_schema_hash),
        ("model_label_set", ", ".join(policy.model_label_set)),
        ("calibrator", calibrator),
        ("reject_threshold", f"{policy.reject_threshold:g}"),
        ("created_at", policy.created_at),
        ("source", policy.source),
        ("git_commit", policy.git_commit or "(empty)"),
    ]
    width = max(len(name) for name, _ in rows)
    lines = [f"  {name:<{width}}  {value_text(value)}" for name, value in rows]
    per_user = policy.per_user_reject_thresholds
    if not per_user:
        lines.append(f"  {'per-user':<{width}}  none (every user uses reject_threshold)")
    else:
        lines.append(f"  per-user reject thresholds ({len(per_user)}):")
        users = {user: value_text(user) for user in per_user}
        user_width = max(len("user"), *(len(shown) for shown in users.values()))
        lines.append(f"    {'user':<{user_width}}  threshold")
        for user, threshold in sorted(per_user.items()):
            lines.append(f"    {users[user]:<{user_width}}  {threshold:g}")
    return lines


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One top-level key whose value differs between two policy documents."""

    field: str
    old: Any
    new: Any
    added: bool = False
    removed: bool = False

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form for ``--format json``."""
        return {"field": self.field, "old": self.old, "new": self.new}

    def __str__(self) -> str:
        if self.added:
            return f"  + {self.field}: {format_value(self.new)}"
        if self.removed:
            return f"  - {self.field}: {format_value(self.old)}"
        return f"  ~ {self.field}: {format_value(self.old)} -> {format_value(self.new)}"


def field_changes(old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> list[FieldChange]:
    """Top-level differences from ``old`` to ``new`` (every key of ``new`` is "added" if no old)."""
    before = dict(old or {})
    changes = []
    for key, value in new.items():
        if key not in before:
            changes.append(FieldChange(key, None, value, added=True))
        elif before[key] != value:
            changes.append(FieldChange(key, before[key], value))
    for key, value in before.items():
        if key not in new:
            changes.append(FieldChange(key, value, None, removed=True))
    return changes


def issue_lines(file: str, issues: Iterable[SchemaIssue]) -> list[str]:
    """Schema issues as ``FILE::/json/pointer: message (hint)`` lines."""
    return [value_text(f"{file}::{issue}") for issue in issues]


def failure_lines(file: str, failures: Iterable[DiskCheckFailure]) -> list[str]:
    """Disk-check failures as ``FILE::/json/pointer: [check] message`` lines."""
    return [
        value_text(f"{file}::{failure.pointer}: [{failure.check}] {failure.message}")
        for failure in failures
    ]


def problem_annotations(
    file: str,
    positions: Mapping[str, Position],
    *,
    issues: Iterable[SchemaIssue] = (),
    failures: Iterable[DiskCheckFailure] = (),
) -> list[Annotation]:
    """One annotation per schema issue and failed disk check of ``file``, at its key.

    ``positions`` maps the file's JSON pointers to where they stand in its
    text (:func:`taskclf.core.json_positions.json_positions`); a missing key
    is placed at the object that should hold it.
    """
    from taskclf.core.json_positions import position_of

    def at(pointer: str, title: str, message: str) -> Annotation:
        found = position_of(positions, pointer)
        line, column = (None, None) if found is None else (found.line, found.column)
        return Annotation(message, title=title, file=file, line=line, column=column)

    annotations = [
        at(issue.pointer, f"taskclf schema: {issue.keyword}", str(issue)) for issue in issues
    ]
    annotations.extend(
        at(
            failure.pointer,
            f"taskclf disk check: {failure.check}",
            f"{failure.pointer}: {failure.message}",
        )
        for failure in failures
    )
    return annotations
