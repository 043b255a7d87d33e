"""Exceptions raised by the inference-policy library.

Every exception carries its facts as data (``details``) beside a message that
names the file, the offending value and the fix, so a command line can print
the message and a program can inspect the data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from taskclf.core.schemas import SchemaIssue

__all__ = [
    "DiskCheckFailure",
    "PolicyDiskCheckError",
    "PolicyFileError",
    "PolicySchemaError",
    "PolicyValidationError",
]


class PolicyValidationError(Exception):
    """An inference policy, or a file it depends on, is not valid.

    Attributes:
        message: a human-readable explanation, including how to fix it.
        details: the same facts as plain data (file, pointer, expected, found, ...).
    """

    def __init__(self, message: str, details: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: Mapping[str, Any] = dict(details or {})


class PolicyFileError(PolicyValidationError):
    """A policy file exists but cannot be read or is not acceptable JSON."""

    def __init__(
        self, path: Path, reason: str, *, line: int | None = None, column: int | None = None
    ) -> None:
        details: dict[str, Any] = {"file": str(path), "reason": reason}
        if line is not None:
            details.update(line=line, column=column)
        super().__init__(f"{path}: {reason}", details)
        self.path = path
        self.reason = reason
        self.line = line
        """Where a JSON syntax error is (1-based line), else ``None``."""
        self.column = column
        """Where a JSON syntax error is (1-based column), else ``None``."""


class PolicySchemaError(PolicyValidationError):
    """A policy document breaks the schema; ``issues`` lists every problem, best first."""

    def __init__(self, issues: Sequence[SchemaIssue], path: Path | None = None) -> None:
        self.issues = tuple(issues)
        self.path = path
        where = str(path) if path is not None else "inference policy"
        count = len(self.issues)
        lines = [f"{where}: {count} schema error{'s' if count != 1 else ''}:"]
        lines += [f"  {issue}" for issue in self.issues]
        super().__init__(
            "\n".join(lines),
            {
                "file": None if path is None else str(path),
                "errors": [issue.to_dict() for issue in self.issues],
            },
        )


@dataclass(frozen=True, slots=True)
class DiskCheckFailure:
    """One failed check of a policy against the artifacts on disk.

    Attributes:
        check: short name of the check (``model_dir_exists``, ``schema_hash_matches``, ...).
        file: the file or folder that was checked.
        expected: what the policy (or the check) requires.
        found: what is actually there.
        message: one sentence saying all of the above and how to fix it.
        pointer: JSON pointer of the policy field the check is about
            (``/model_dir``, ``/calibrator_store_dir``, ...).
    """

    check: str
    file: str
    expected: Any
    found: Any
    message: str
    pointer: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form, as used by ``--format json`` output."""
        return {
            "check": self.check,
            "pointer": self.pointer,
            "file": self.file,
            "expected": self.expected,
            "found": self.found,
            "message": self.message,
        }


class PolicyDiskCheckError(PolicyValidationError):
    """A policy is well-formed but does not match the artifacts it points at."""

    def __init__(self, failures: Sequence[DiskCheckFailure]) -> None:
        self.failures = tuple(failures)
        lines = [f"inference policy does not match the artifacts on disk ({len(self.failures)}):"]
        lines += [f"  {failure.message}" for failure in self.failures]
        details: dict[str, Any] = _original_details(self.failures)
        details["failures"] = [failure.to_dict() for failure in self.failures]
        super().__init__("\n".join(lines), details)


def _original_details(failures: Sequence[DiskCheckFailure]) -> dict[str, Any]:
    """The keys the original taskclf's ``details`` carried, taken from the failures.

    ``model_dir`` / ``calibrator_store_dir`` name the folder a check was
    about; ``policy_hash`` and ``bundle_hash`` the two sides of a schema-hash
    mismatch; ``store_schema_hash`` and ``policy_schema_hash`` those of a store
    fitted for another schema. Programs written for the original read them.
    """
    details: dict[str, Any] = {}
    for failure in failures:
        file = Path(failure.file)
        if failure.pointer in ("/model_dir", "/model_schema_hash", "/model_label_set"):
            folder = file.parent if file.name == "metadata.json" else file
            details.setdefault("model_dir", str(folder))
        elif failure.pointer in ("/calibrator_store_dir", "/calibration_method"):
            folder = file.parent if file.name == "store.json" else file
            details.setdefault("calibrator_store_dir", str(folder))
        if failure.check == "schema_hash_matches":
            details.setdefault("policy_hash", failure.expected)
            details.setdefault("bundle_hash", failure.found)
        elif failure.check == "store_schema_hash_matches":
            details.setdefault("store_schema_hash", failure.found)
            details.setdefault("policy_schema_hash", failure.expected)
    return details
