"""The legacy ``models/active.json`` pointer and its history ``models/active_history.jsonl``.

``active.json`` (``active_pointer.v1.json``) is the deprecated pointer to the
bundle in use: the inference policy takes precedence over it. It is read and
written only through :class:`~taskclf.core.home.Home`, like every file of a home.

Every switch of ``active.json`` has its history record: the record is appended
(completely, fsynced) before the pointer is replaced, and taken back if the
replacement fails. Writers are serialised by a lock on the history file, so each
record's ``old`` is the pointer its writer really replaced.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import logging
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from taskclf.core.artifacts import ArtifactError, freeze_json, read_json_document, thaw_json
from taskclf.core.atomic import append_all
from taskclf.core.home import Home
from taskclf.core.jsonio import JSONFileError, encode_json_document, json_problem
from taskclf.core.layout import ACTIVE_FILENAME, MODELS_DIRNAME
from taskclf.core.provenance import utc_now_iso
from taskclf.core.schemas import ACTIVE_POINTER_SCHEMA, SchemaIssue, validate_document
from taskclf.model_registry.bundles import read_bundle
from taskclf.model_registry.errors import ActivePointerError, InvalidBundleError

__all__ = [
    "ACTIVE_FILENAME",
    "ACTIVE_HISTORY_FILENAME",
    "LOCK_WAIT_SECONDS",
    "SELECTION_POLICY_VERSION",
    "ActiveChange",
    "ActivePointer",
    "active_history_path",
    "active_path",
    "read_active",
    "read_active_pointer",
    "write_active_atomic",
]

logger = logging.getLogger(__name__)

ACTIVE_HISTORY_FILENAME = "active_history.jsonl"

SELECTION_POLICY_VERSION = "v1"
"""``policy_version`` written into ``active.json``: the version of the selection rules."""


def active_path(models_dir: Path) -> Path:
    """The path of ``active.json`` in ``models_dir``."""
    return Path(models_dir) / ACTIVE_FILENAME


def active_history_path(models_dir: Path) -> Path:
    """The path of ``active_history.jsonl`` in ``models_dir``."""
    return Path(models_dir) / ACTIVE_HISTORY_FILENAME


_POINTER_FIELDS = ("model_dir", "selected_at", "policy_version", "model_id", "reason")


@dataclass(frozen=True, kw_only=True, slots=True)
class ActivePointer:
    """The legacy ``models/active.json`` pointer (deprecated: the policy takes precedence).

    Every instance is valid against ``active_pointer.v1.json``: construction
    raises :class:`ActivePointerError` otherwise. ``extra`` holds any other
    keys of the file, kept as written.
    """

    model_dir: str
    selected_at: str
    policy_version: str = SELECTION_POLICY_VERSION
    model_id: str | None = None
    reason: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        document = self.to_dict()
        problem = json_problem(document)
        issues: tuple[SchemaIssue, ...]
        if problem is not None:
            issues = (SchemaIssue(pointer="", message=problem, value=None, keyword="json"),)
        else:
            issues = validate_document(ACTIVE_POINTER_SCHEMA, document)
        if issues:
            raise _invalid_pointer(None, issues)
        object.__setattr__(self, "extra", freeze_json(dict(self.extra)))

    @classmethod
    def from_dict(cls, document: Mapping[str, Any], /) -> ActivePointer:
        """Build a pointer from its JSON form.

        Raises:
            ActivePointerError: ``document`` breaks the schema.
        """
        issues = validate_document(ACTIVE_POINTER_SCHEMA, document)
        if issues:
            raise _invalid_pointer(None, issues)
        return cls._from_valid(document)

    @classmethod
    def _from_valid(cls, document: Mapping[str, Any]) -> ActivePointer:
        """Build from a document already valid against the schema, without validating again."""
        pointer = cls.__new__(cls)
        defaults = {"policy_version": SELECTION_POLICY_VERSION, "model_id": None, "reason": None}
        for name in _POINTER_FIELDS:
            object.__setattr__(pointer, name, document.get(name, defaults.get(name)))
        extra = {key: value for key, value in document.items() if key not in _POINTER_FIELDS}
        object.__setattr__(pointer, "extra", freeze_json(extra))
        return pointer

    def to_dict(self) -> dict[str, Any]:
        """The JSON form, as written to ``active.json`` (unset optional keys left out)."""
        document: dict[str, Any] = {
            "model_dir": self.model_dir,
            "selected_at": self.selected_at,
            "policy_version": self.policy_version,
        }
        if self.model_id is not None:
            document["model_id"] = self.model_id
        if self.reason is not None:
            document["reason"] = self.reason
        for key, value in self.extra.items():
            document.setdefault(key, thaw_json(value))
        return document


def read_active_pointer(path: Path) -> ActivePointer:
    """Read and validate the ``active.json`` at ``path`` (inside its TASKCLF_HOME only).

    ``path`` is ``<models_dir>/active.json``; it is reached through
    :class:`~taskclf.core.home.Home`, so a link out of the home is refused.

    Raises:
        FileNotFoundError: there is no file at ``path``.
        ActivePointerError: the file cannot be read, leads outside the home,
            is not strict JSON or breaks ``active_pointer.v1.json``.
    """
    path = Path(os.path.abspath(path))
    home = Home.of_models_dir(path.parent)
    relative = f"{path.parent.name}/{path.name}"
    try:
        document = read_json_document(home, relative, ACTIVE_POINTER_SCHEMA)
    except ArtifactError as exc:
        if exc.missing:
            raise FileNotFoundError(2, "no such file", str(path)) from None
        raise ActivePointerError(path, _reason_of(exc), exc.issues) from exc
    # Valid against the schema already: built without validating a second time.
    return ActivePointer._from_valid(document)


def _reason_of(exc: ArtifactError) -> str:
    if exc.issues:
        return "is invalid: " + "; ".join(str(issue) for issue in exc.issues)
    return exc.reason


def _invalid_pointer(path: Path | None, issues: Sequence[SchemaIssue]) -> ActivePointerError:
    return ActivePointerError(
        path, "is invalid: " + "; ".join(str(issue) for issue in issues), issues
    )


def read_active(models_dir: Path) -> ActivePointer | None:
    """Read ``models_dir/active.json``.

    Returns ``None`` without a log when the file is missing, and ``None`` with
    one WARNING naming the file and the reason when it is invalid.
    """
    try:
        return read_active_pointer(active_path(models_dir))
    except FileNotFoundError:
        return None
    except ActivePointerError as exc:
        logger.warning("ignoring invalid active pointer: %s", exc.message)
        return None


@dataclass(frozen=True, kw_only=True, slots=True)
class ActiveChange:
    """One replacement of ``active.json``, as returned and as logged in the history.

    Attributes:
        at: when the change was made (RFC 3339, UTC).
        old: the pointer that was replaced; ``None`` when there was none or it
            was invalid.
        new: the pointer now in ``active.json``.
    """

    at: str
    old: ActivePointer | None
    new: ActivePointer

    def to_dict(self) -> dict[str, Any]:
        """The history line: ``{"at": ..., "old": {...} | null, "new": {...}}``."""
        return {
            "at": self.at,
            "old": None if self.old is None else self.old.to_dict(),
            "new": self.new.to_dict(),
        }


def _relative_model_dir(home: Home, model_dir: str | Path) -> str:
    candidate = os.fspath(model_dir)
    if os.path.isabs(candidate):
        relative = home.display(candidate)
        if os.path.isabs(relative):
            raise InvalidBundleError(candidate, f"it is outside TASKCLF_HOME ({home.given})")
        return relative
    return PurePosixPath(Path(candidate).as_posix()).as_posix()


LOCK_WAIT_SECONDS = 10.0
"""How long :func:`write_active_atomic` waits for another writer's lock on the history."""


def _lock(fd: int, shown: str) -> None:
    """Take the history's lock, waiting at most :data:`LOCK_WAIT_SECONDS`.

    Raises:
        OSError: another process kept the lock all that time.
    """
    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    delay = 0.005
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise OSError(
                    errno.EAGAIN,
                    f"another process has held its lock for {LOCK_WAIT_SECONDS:g} s; nothing "
                    "was changed. Try again when the other `taskclf model set-active` has "
                    "finished",
                    shown,
                ) from None
            time.sleep(delay)
            delay = min(delay * 2, 0.2)


def _current_bytes(home: Home, relative: str) -> bytes | None:
    try:
        return home.read_bytes(relative)
    except (OSError, JSONFileError):
        return None


def write_active_atomic(
    models_dir: Path, model_dir_rel: str | Path, *, reason: str | None = None
) -> ActiveChange:
    """Point ``models_dir/active.json`` at a bundle and log the change.

    The bundle must be valid (:func:`~taskclf.model_registry.bundles.read_bundle`)
    and inside TASKCLF_HOME. One JSON line (:meth:`ActiveChange.to_dict`) is
    appended to ``active_history.jsonl`` (completely or not at all, fsynced),
    then ``active.json`` is replaced atomically; if that fails, the line is
    taken back, so the history holds exactly the switches that happened.
    Concurrent writers are serialised with a lock on the history file.

    Args:
        models_dir: the ``models/`` folder.
        model_dir_rel: the bundle folder, relative to TASKCLF_HOME
            (``models/run_002``); an absolute path inside TASKCLF_HOME is
            accepted and made relative.
        reason: why the bundle is made active, stored in the pointer.

    Returns:
        The :class:`ActiveChange` with the old and the new pointer.

    Raises:
        InvalidBundleError: the bundle is missing, broken or outside TASKCLF_HOME.
        ActivePointerError: the values do not make a valid pointer.
        OSError: the files cannot be written (nothing was changed).
    """
    models_dir = Path(os.path.abspath(models_dir))
    home = Home.of_models_dir(models_dir)
    relative = _relative_model_dir(home, model_dir_rel)
    pointer = ActivePointer(
        model_dir=relative,
        selected_at=utc_now_iso(),
        model_id=PurePosixPath(relative).name,
        reason=reason,
    )
    record = read_bundle(Path(relative), home=home.given)
    if not record.valid:
        raise InvalidBundleError(relative, str(record.reason))
    models = models_dir.name or MODELS_DIRNAME
    pointer_file = f"{models}/{ACTIVE_FILENAME}"
    try:
        pointer_bytes = encode_json_document(pointer.to_dict(), pointer_file)
    except JSONFileError as exc:
        raise ActivePointerError(None, exc.reason) from exc
    history = f"{models}/{ACTIVE_HISTORY_FILENAME}"
    fd = home.open_append(history)
    try:
        _lock(fd, history)
        old = read_active(models_dir)
        change = ActiveChange(at=pointer.selected_at, old=old, new=pointer)
        line = json.dumps(
            change.to_dict(), ensure_ascii=False, allow_nan=False, separators=(",", ":")
        )
        start = os.fstat(fd).st_size
        append_all(fd, (line + "\n").encode("utf-8"), shown=history)
        try:
            home.write_bytes(pointer_file, pointer_bytes)
        except BaseException:
            # Take the record back only if the switch did not happen: an
            # interruption after the rename (Ctrl-C, say) leaves it switched.
            if _current_bytes(home, pointer_file) != pointer_bytes:
                with contextlib.suppress(OSError):
                    os.ftruncate(fd, start)
                    os.fsync(fd)
            raise
    finally:
        os.close(fd)
    return change
