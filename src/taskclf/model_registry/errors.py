"""Errors of the model registry."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from taskclf.core.schemas import SchemaIssue

__all__ = ["ActivePointerError", "InvalidBundleError", "RegistryError"]


class RegistryError(Exception):
    """Base of the registry's errors.

    Attributes:
        message: what is wrong and how to fix it.
        details: the same facts as plain data.
    """

    def __init__(self, message: str, details: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: Mapping[str, Any] = dict(details or {})


class ActivePointerError(RegistryError):
    """``active.json`` (or a pointer about to be written) is not valid.

    Attributes:
        path: the file, or ``None`` for a pointer that was never written.
        reason: what is wrong, without the file name.
        issues: the schema issues, best first (empty for unreadable files).
    """

    def __init__(self, path: Path | None, reason: str, issues: Sequence[SchemaIssue] = ()) -> None:
        where = str(path) if path is not None else "active pointer"
        super().__init__(
            f"{where} {reason}",
            {
                "file": None if path is None else str(path),
                "reason": reason,
                "errors": [issue.to_dict() for issue in issues],
            },
        )
        self.path = path
        self.reason = reason
        self.issues = tuple(issues)


class InvalidBundleError(RegistryError):
    """A model bundle that was asked for by name is missing or broken.

    Attributes:
        model_dir: the bundle folder as given.
        reason: why it cannot be used.
    """

    def __init__(self, model_dir: str, reason: str) -> None:
        super().__init__(
            f"{model_dir} is not a usable model bundle: {reason}",
            {"model_dir": model_dir, "reason": reason},
        )
        self.model_dir = model_dir
        self.reason = reason
