"""The model registry: the bundles in ``models/``, best-model selection and ``active.json``.

A model bundle is a folder ``models/<run_id>/`` holding a ``metadata.json``
(valid against ``model_metadata.v1.json``) and a ``metrics.json`` (valid
against ``model_metrics.v1.json``). :func:`scan_bundles` reads every folder on
its own into a :class:`BundleRecord`; a broken bundle is recorded with its
reason and never stops the scan.

:func:`select_best_model` ranks the valid bundles that are compatible with the
caller's feature-schema hash and label set, and returns a
:class:`SelectionReport` saying which one won and why every other was left out.

``models/active.json`` is the deprecated pointer to the bundle in use
(``active_pointer.v1.json``). :func:`read_active` reads it,
:func:`write_active_atomic` replaces it with the same durable write as the
policy and appends one line per change to ``models/active_history.jsonl``.

:func:`find_bound_calibrator_store` finds the calibrator store under
``artifacts/`` that was fitted for a given bundle.

Nothing here follows a path out of TASKCLF_HOME (the folder above
``models/``): every path read on behalf of ``active.json`` or a scan is
resolved with :func:`~taskclf.core.policy_checks.inside_home` first.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import logging
import os
import stat
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath
from types import MappingProxyType
from typing import Any

from taskclf.core.atomic import write_text_atomic
from taskclf.core.jsonio import JSONFileError, dumps_json, parse_json_bytes, read_file_bytes
from taskclf.core.layout import ACTIVE_FILENAME, home_of
from taskclf.core.policy_checks import inside_home
from taskclf.core.provenance import utc_now_iso
from taskclf.core.schemas import (
    ACTIVE_POINTER_SCHEMA,
    CALIBRATOR_STORE_SCHEMA,
    MODEL_METADATA_SCHEMA,
    MODEL_METRICS_SCHEMA,
    SchemaIssue,
    validate_document,
)

__all__ = [
    "ACTIVE_FILENAME",
    "ACTIVE_HISTORY_FILENAME",
    "ARTIFACTS_DIRNAME",
    "CONVENTIONAL_STORE_DIR",
    "MAX_SCAN_ENTRIES",
    "MAX_STORE_SEARCH_DEPTH",
    "MAX_STORE_SEARCH_ENTRIES",
    "METADATA_FILENAME",
    "METRICS_FILENAME",
    "SELECTION_POLICY_VERSION",
    "STORE_FILENAME",
    "ActiveChange",
    "ActivePointer",
    "ActivePointerError",
    "BundleRecord",
    "ExcludedBundle",
    "InvalidBundleError",
    "RegistryError",
    "SelectionReport",
    "active_history_path",
    "active_path",
    "compatibility_reason",
    "find_bound_calibrator_store",
    "rank_bundles",
    "read_active",
    "read_active_pointer",
    "read_bundle",
    "scan_bundles",
    "select_best_model",
    "write_active_atomic",
]

logger = logging.getLogger(__name__)

METADATA_FILENAME = "metadata.json"
METRICS_FILENAME = "metrics.json"
STORE_FILENAME = "store.json"
ACTIVE_HISTORY_FILENAME = "active_history.jsonl"
ARTIFACTS_DIRNAME = "artifacts"
CONVENTIONAL_STORE_DIR = "artifacts/calibrator_store"
"""The calibrator store folder used by convention, relative to TASKCLF_HOME."""

SELECTION_POLICY_VERSION = "v1"
"""``policy_version`` written into ``active.json``: the version of the selection rules."""

MAX_SCAN_ENTRIES = 10_000
"""At most this many entries of ``models/`` are looked at by one scan."""

MAX_STORE_SEARCH_DEPTH = 4
"""How deep below ``artifacts/`` :func:`find_bound_calibrator_store` looks."""

MAX_STORE_SEARCH_ENTRIES = 5_000
"""How many folder entries below ``artifacts/`` one store search looks at, at most."""


# --------------------------------------------------------------------------- errors


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


# --------------------------------------------------------------------------- helpers


def _freeze(value: Any) -> Any:
    """Deep, read-only copy of a JSON value: dicts become mapping proxies, lists tuples."""
    if isinstance(value, Mapping):
        return MappingProxyType({key: _freeze(item) for key, item in value.items()})
    if isinstance(value, list | tuple):
        return tuple(_freeze(item) for item in value)
    return value


def _thaw(value: Any) -> Any:
    """Inverse of :func:`_freeze`: plain dicts and lists, ready for :func:`json.dumps`."""
    if isinstance(value, Mapping):
        return {key: _thaw(item) for key, item in value.items()}
    if isinstance(value, tuple | list):
        return [_thaw(item) for item in value]
    return value


def _display(home: Path, path: Path) -> str:
    """``path`` relative to ``home`` in POSIX form when inside it, else absolute."""
    absolute = Path(os.path.abspath(path))
    try:
        return absolute.relative_to(home).as_posix()
    except ValueError:
        return str(absolute)


def _read_document(
    path: Path, display: str, schema_name: str
) -> tuple[dict[str, Any] | None, str | None]:
    """Read ``path`` as JSON valid against ``schema_name``; reasons name it ``display``.

    Returns ``(document, None)`` or ``(None, reason)``; a missing file gives the
    reason ``"<display> does not exist"``.
    """
    try:
        data = read_file_bytes(path)
    except FileNotFoundError:
        return None, f"{display} does not exist"
    except JSONFileError as exc:
        return None, f"{display} {exc.reason}"
    try:
        document = parse_json_bytes(data, source=display)
    except JSONFileError as exc:
        return None, f"{display} {exc.reason}"
    issues = validate_document(schema_name, document)
    if issues:
        return None, f"{display} is invalid: " + "; ".join(str(issue) for issue in issues)
    return document, None


def _parse_timestamp(text: Any) -> float | None:
    """Seconds since the epoch of an RFC 3339 date-time, or ``None`` when unparsable."""
    if not isinstance(text, str):
        return None
    try:
        return datetime.fromisoformat(text.upper().replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


# --------------------------------------------------------------------------- bundles


@dataclass(frozen=True, kw_only=True, slots=True)
class BundleRecord:
    """One folder of ``models/`` as the registry sees it.

    Attributes:
        bundle_id: the folder name (``run_001``).
        model_dir: the folder relative to TASKCLF_HOME (``models/run_001``), or
            its absolute path when it lies outside TASKCLF_HOME.
        path: the folder's absolute path (symlinks not resolved).
        valid: whether both ``metadata.json`` and ``metrics.json`` exist and
            are valid against their schemas.
        reason: why the bundle is not valid; ``None`` when it is.
        metadata: the parsed ``metadata.json`` (read-only), when it is valid.
        metrics: the parsed ``metrics.json`` (read-only), when it is valid.
    """

    bundle_id: str
    model_dir: str
    path: Path
    valid: bool
    reason: str | None = None
    metadata: Mapping[str, Any] | None = field(default=None, hash=False)
    metrics: Mapping[str, Any] | None = field(default=None, hash=False)

    @property
    def schema_hash(self) -> str | None:
        """``schema_hash`` from ``metadata.json``, when it was read."""
        return None if self.metadata is None else str(self.metadata["schema_hash"])

    @property
    def label_set(self) -> tuple[str, ...] | None:
        """``label_set`` from ``metadata.json``, when it was read."""
        return None if self.metadata is None else tuple(self.metadata["label_set"])

    @property
    def created_at(self) -> str | None:
        """``created_at`` from ``metadata.json``, when present."""
        value = None if self.metadata is None else self.metadata.get("created_at")
        return value if isinstance(value, str) else None

    @property
    def macro_f1(self) -> float | None:
        """``macro_f1`` from ``metrics.json``, when it was read."""
        return None if self.metrics is None else float(self.metrics["macro_f1"])

    @property
    def weighted_f1(self) -> float | None:
        """``weighted_f1`` from ``metrics.json``, when it was read."""
        return None if self.metrics is None else float(self.metrics["weighted_f1"])

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form, as used by ``--format json`` output."""
        return {
            "bundle_id": self.bundle_id,
            "model_dir": self.model_dir,
            "path": str(self.path),
            "valid": self.valid,
            "reason": self.reason,
            "schema_hash": self.schema_hash,
            "label_set": None if self.label_set is None else list(self.label_set),
            "created_at": self.created_at,
            "macro_f1": self.macro_f1,
            "weighted_f1": self.weighted_f1,
            "metadata": _thaw(self.metadata),
            "metrics": _thaw(self.metrics),
        }


def read_bundle(
    bundle_dir: Path, *, home: Path, confine: bool = True, require_metrics: bool = True
) -> BundleRecord:
    """Read the bundle folder ``bundle_dir`` into a :class:`BundleRecord`; never raises for it.

    Args:
        bundle_dir: the folder, absolute or relative to ``home``.
        home: TASKCLF_HOME; the record's ``model_dir`` is relative to it.
        confine: refuse (as an invalid record) a folder or file that, once
            symlinks are resolved, lies outside ``home``.
        require_metrics: whether a missing or invalid ``metrics.json`` makes
            the bundle invalid. Inference needs only ``metadata.json``;
            selection needs both.
    """
    home = Path(os.path.abspath(home))
    path = Path(os.path.abspath(home / bundle_dir))
    display = _display(home, path)

    def record(
        reason: str | None,
        metadata: Mapping[str, Any] | None = None,
        metrics: Mapping[str, Any] | None = None,
    ) -> BundleRecord:
        return BundleRecord(
            bundle_id=path.name,
            model_dir=display,
            path=path,
            valid=reason is None,
            reason=reason,
            metadata=metadata,
            metrics=metrics,
        )

    def invalid(reason: str, metadata: Mapping[str, Any] | None = None) -> BundleRecord:
        return record(reason, metadata)

    if confine and inside_home(home, path) is None:
        return invalid(f"{display} leads outside TASKCLF_HOME ({home}) through a symbolic link")
    try:
        is_dir, exists = path.is_dir(), path.exists()
    except OSError as exc:
        return invalid(f"{display} cannot be read: {exc.strerror or exc}")
    if not is_dir:
        return invalid(
            f"{display} is a file, not a bundle folder" if exists else f"{display} does not exist"
        )
    documents: list[dict[str, Any] | None] = []
    for filename, schema_name in (
        (METADATA_FILENAME, MODEL_METADATA_SCHEMA),
        (METRICS_FILENAME, MODEL_METRICS_SCHEMA),
    ):
        file = path / filename
        file_display = f"{display}/{filename}"
        if confine and inside_home(home, file) is None:
            return invalid(f"{file_display} is a symbolic link leading outside TASKCLF_HOME")
        document, reason = _read_document(file, file_display, schema_name)
        if document is None:
            frozen = None if not documents else _freeze(documents[0])
            if filename == METRICS_FILENAME and not require_metrics:
                return record(None, frozen)
            return invalid(str(reason), frozen)
        documents.append(document)
    return record(None, _freeze(documents[0]), _freeze(documents[1]))


def scan_bundles(models_dir: Path) -> tuple[BundleRecord, ...]:
    """Read every bundle folder in ``models_dir``, sorted by folder name.

    Each sub-folder is read on its own with :func:`read_bundle`; a broken one
    becomes an invalid record with its reason and never aborts the scan. Files
    (``active.json``, the policy, ...) and hidden entries (names starting with
    ``.``, such as temporary folders) are not bundles and are skipped. A
    missing ``models_dir`` has no bundles. At most :data:`MAX_SCAN_ENTRIES`
    entries are looked at.
    """
    models_dir = Path(os.path.abspath(models_dir))
    home = home_of(models_dir)
    names: list[str] = []
    try:
        with os.scandir(models_dir) as entries:
            for count, entry in enumerate(entries):
                if count >= MAX_SCAN_ENTRIES:
                    logger.warning(
                        "%s holds more than %d entries; only the first ones were scanned",
                        models_dir,
                        MAX_SCAN_ENTRIES,
                    )
                    break
                if entry.name.startswith("."):
                    continue
                with contextlib.suppress(OSError):
                    # A symlinked folder is still a candidate: read_bundle checks
                    # where it leads.
                    if entry.is_dir():
                        names.append(entry.name)
    except (FileNotFoundError, NotADirectoryError):
        return ()
    return tuple(read_bundle(models_dir / name, home=home) for name in sorted(names))


# --------------------------------------------------------------------------- selection


def compatibility_reason(
    bundle: BundleRecord,
    *,
    schema_hash: str | None = None,
    label_set: Iterable[str] | None = None,
) -> str | None:
    """Why ``bundle`` cannot serve a caller requiring ``schema_hash`` and ``label_set``.

    Returns ``None`` when the bundle is valid and compatible: its schema hash
    equals ``schema_hash`` and its labels, compared as sets, equal
    ``label_set``. A requirement given as ``None`` is not checked, so with
    neither given every valid bundle is compatible.
    """
    if not bundle.valid or bundle.metadata is None:
        return bundle.reason or f"{bundle.model_dir} is not a valid bundle"
    problems: list[str] = []
    if schema_hash is not None and bundle.schema_hash != schema_hash:
        problems.append(
            f"schema_hash {bundle.schema_hash!r} does not match the required {schema_hash!r}"
        )
    if label_set is not None:
        required = sorted(set(label_set))
        found = sorted(set(bundle.label_set or ()))
        if found != required:
            problems.append(f"label_set {found} does not match the required {required}")
    return "; ".join(problems) if problems else None


def _rank_key(bundle: BundleRecord) -> tuple[float, float, int, float, str]:
    created = _parse_timestamp(bundle.created_at)
    return (
        -(bundle.macro_f1 or 0.0),
        -(bundle.weighted_f1 or 0.0),
        0 if created is not None else 1,
        -(created or 0.0),
        bundle.bundle_id,
    )


def rank_bundles(bundles: Iterable[BundleRecord]) -> tuple[BundleRecord, ...]:
    """Sort valid bundles best first.

    Order: higher ``macro_f1``, then higher ``weighted_f1``, then newer
    ``created_at`` (a bundle without a readable one comes after those with
    one), then folder name, so the order is total and stable.
    """
    return tuple(sorted(bundles, key=_rank_key))


@dataclass(frozen=True, kw_only=True, slots=True)
class ExcludedBundle:
    """A bundle left out of selection, and why."""

    bundle: BundleRecord
    reason: str

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form: the bundle's id and folder, and the reason."""
        return {
            "bundle_id": self.bundle.bundle_id,
            "model_dir": self.bundle.model_dir,
            "reason": self.reason,
        }

    def __str__(self) -> str:
        return f"{self.bundle.model_dir}: {self.reason}"


@dataclass(frozen=True, kw_only=True, slots=True)
class SelectionReport:
    """The outcome of :func:`select_best_model`.

    Attributes:
        models_dir: the folder that was scanned.
        best: the winning bundle, or ``None`` when no bundle qualifies.
        ranked: every valid, compatible bundle, best first (``best`` included).
        excluded: every other bundle with the reason it was left out, in
            folder-name order.
        required_schema_hash: the schema hash asked for, or ``None``.
        required_label_set: the labels asked for (sorted), or ``None``.
    """

    models_dir: Path
    best: BundleRecord | None
    ranked: tuple[BundleRecord, ...]
    excluded: tuple[ExcludedBundle, ...]
    required_schema_hash: str | None = None
    required_label_set: tuple[str, ...] | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form, as used by ``taskclf model list --format json``."""
        return {
            "models_dir": str(self.models_dir),
            "required_schema_hash": self.required_schema_hash,
            "required_label_set": (
                None if self.required_label_set is None else list(self.required_label_set)
            ),
            "best": None if self.best is None else self.best.to_dict(),
            "ranked": [bundle.to_dict() for bundle in self.ranked],
            "excluded": [excluded.to_dict() for excluded in self.excluded],
        }


def select_best_model(
    models_dir: Path,
    *,
    schema_hash: str | None = None,
    label_set: Iterable[str] | None = None,
    bundles: Iterable[BundleRecord] | None = None,
) -> SelectionReport:
    """Pick the best valid bundle of ``models_dir`` compatible with the requirements.

    Args:
        models_dir: the ``models/`` folder.
        schema_hash: required feature-schema hash, or ``None`` for any.
        label_set: required labels (compared as a set), or ``None`` for any.
        bundles: records to choose from instead of scanning ``models_dir``.

    Returns:
        A :class:`SelectionReport`; its ``best`` is ``None`` when nothing
        qualifies (the report then says why each bundle was excluded). Ranking
        is that of :func:`rank_bundles`.
    """
    records = scan_bundles(models_dir) if bundles is None else tuple(bundles)
    required_labels = None if label_set is None else tuple(sorted(set(label_set)))
    compatible: list[BundleRecord] = []
    excluded: list[ExcludedBundle] = []
    for record in records:
        reason = compatibility_reason(record, schema_hash=schema_hash, label_set=required_labels)
        if reason is None:
            compatible.append(record)
        else:
            excluded.append(ExcludedBundle(bundle=record, reason=reason))
    ranked = rank_bundles(compatible)
    return SelectionReport(
        models_dir=Path(os.path.abspath(models_dir)),
        best=ranked[0] if ranked else None,
        ranked=ranked,
        excluded=tuple(excluded),
        required_schema_hash=schema_hash,
        required_label_set=required_labels,
    )


# --------------------------------------------------------------------------- active.json


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
        issues = validate_document(ACTIVE_POINTER_SCHEMA, self.to_dict())
        if issues:
            raise _invalid_pointer(None, issues)
        object.__setattr__(self, "extra", _freeze(dict(self.extra)))

    @classmethod
    def from_dict(cls, document: Mapping[str, Any], /) -> ActivePointer:
        """Build a pointer from its JSON form.

        Raises:
            ActivePointerError: ``document`` breaks the schema.
        """
        # Checked before construction so that a missing key is a schema issue,
        # not a TypeError from the constructor.
        issues = validate_document(ACTIVE_POINTER_SCHEMA, document)
        if issues:
            raise _invalid_pointer(None, issues)
        known = {key: document[key] for key in _POINTER_FIELDS if key in document}
        extra = {key: value for key, value in document.items() if key not in _POINTER_FIELDS}
        return cls(**known, extra=extra)

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
            document.setdefault(key, _thaw(value))
        return document


def read_active_pointer(path: Path) -> ActivePointer:
    """Read and validate the ``active.json`` at ``path``.

    Raises:
        FileNotFoundError: there is no file at ``path``.
        ActivePointerError: the file cannot be read, is not strict JSON or
            breaks ``active_pointer.v1.json`` (``issues`` lists the problems).
    """
    path = Path(path)
    try:
        data = read_file_bytes(path)
    except JSONFileError as exc:
        raise ActivePointerError(path, exc.reason) from exc
    try:
        document = parse_json_bytes(data, source=path)
    except JSONFileError as exc:
        raise ActivePointerError(path, exc.reason) from exc
    try:
        return ActivePointer.from_dict(document)
    except ActivePointerError as exc:
        raise _invalid_pointer(path, exc.issues) from exc


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


def _relative_model_dir(home: Path, model_dir: str | Path) -> str:
    candidate = Path(model_dir)
    if candidate.is_absolute():
        try:
            candidate = Path(os.path.abspath(candidate)).relative_to(home)
        except ValueError:
            raise InvalidBundleError(
                str(model_dir), f"it is outside TASKCLF_HOME ({home})"
            ) from None
    return PurePosixPath(candidate.as_posix()).as_posix()


def _open_history(path: Path) -> int:
    # Never follow a symlink (it could lead out of TASKCLF_HOME) and never block
    # on a FIFO; anything but a regular file is refused.
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW | os.O_NONBLOCK
    try:
        fd = os.open(path, flags, 0o644)
    except OSError as exc:
        raise OSError(
            exc.errno,
            f"cannot be opened for appending ({exc.strerror}); nothing was written",
            str(path),
        ) from exc
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise OSError(errno.EINVAL, "is not a regular file; nothing was written", str(path))
    return fd


def write_active_atomic(
    models_dir: Path, model_dir_rel: str | Path, *, reason: str | None = None
) -> ActiveChange:
    """Point ``models_dir/active.json`` at a bundle and log the change.

    The bundle must be valid (:func:`read_bundle`) and inside TASKCLF_HOME.
    ``active.json`` is replaced with the same durable, atomic write as the
    policy (unique temporary file, fsync, rename), and one JSON line
    (:meth:`ActiveChange.to_dict`) is appended to ``active_history.jsonl``.
    Concurrent writers are serialised with a lock on the history file, so
    each line's ``old`` is the pointer its writer really replaced.

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
        OSError: the files cannot be written.
    """
    models_dir = Path(os.path.abspath(models_dir))
    home = home_of(models_dir)
    relative = _relative_model_dir(home, model_dir_rel)
    pointer = ActivePointer(
        model_dir=relative,
        selected_at=utc_now_iso(),
        model_id=PurePosixPath(relative).name,
        reason=reason,
    )
    record = read_bundle(Path(relative), home=home)
    if not record.valid:
        raise InvalidBundleError(relative, str(record.reason))
    models_dir.mkdir(parents=True, exist_ok=True)
    history = active_history_path(models_dir)
    fd = _open_history(history)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        old = read_active(models_dir)
        write_text_atomic(active_path(models_dir), dumps_json(pointer.to_dict()))
        change = ActiveChange(at=pointer.selected_at, old=old, new=pointer)
        line = json.dumps(
            change.to_dict(), ensure_ascii=False, allow_nan=False, separators=(",", ":")
        )
        os.write(fd, (line + "\n").encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)
    return change


# --------------------------------------------------------------------------- calibrator stores


def _store_folders(home: Path) -> Iterator[Path]:
    """Folders below ``home/artifacts`` holding a ``store.json``, bounded and without symlinks."""
    root = home / ARTIFACTS_DIRNAME
    pending: list[tuple[Path, int]] = [(root, 0)]
    seen = 0
    while pending:
        folder, depth = pending.pop()
        try:
            with os.scandir(folder) as entries:
                children: list[Path] = []
                for entry in entries:
                    seen += 1
                    if seen > MAX_STORE_SEARCH_ENTRIES:
                        logger.warning(
                            "stopped looking for calibrator stores after %d entries below %s",
                            MAX_STORE_SEARCH_ENTRIES,
                            root,
                        )
                        return
                    if entry.name == STORE_FILENAME:
                        yield folder
                    elif depth < MAX_STORE_SEARCH_DEPTH and _is_plain_dir(entry):
                        children.append(Path(entry.path))
        except OSError:
            continue
        pending.extend((child, depth + 1) for child in sorted(children, reverse=True))


def _is_plain_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return stat.S_ISDIR(entry.stat(follow_symlinks=False).st_mode)
    except OSError:
        return False


def find_bound_calibrator_store(home: Path, bundle_id: str, schema_hash: str) -> str | None:
    """Find the calibrator store fitted for bundle ``bundle_id`` (schema ``schema_hash``).

    Candidates are ``artifacts/calibrator_store`` and every folder below
    ``artifacts/`` (at most :data:`MAX_STORE_SEARCH_DEPTH` deep, symlinked
    folders skipped, at most :data:`MAX_STORE_SEARCH_ENTRIES` entries) holding
    a ``store.json`` valid against ``calibrator_store.v1.json`` that stays
    inside ``home``. A store is kept when it binds explicitly to this bundle
    (``model_bundle_id == bundle_id``) or to its schema
    (``model_schema_hash == schema_hash``) and no binding field of it names
    another model. The kept stores are ordered: bundle-id match first, then
    schema-hash match, then the conventional folder, then newest
    ``created_at``, then path.

    Returns:
        The best store folder relative to ``home`` (POSIX form, e.g.
        ``artifacts/calibrator_store``), or ``None`` when no store binds.
    """
    home = Path(os.path.abspath(home))
    folders = [home / CONVENTIONAL_STORE_DIR]
    folders += [folder for folder in _store_folders(home) if folder != folders[0]]
    candidates: list[tuple[tuple[int, int, int, float, str], str]] = []
    for folder in folders:
        relative = folder.relative_to(home).as_posix()
        resolved = inside_home(home, Path(relative) / STORE_FILENAME)
        if resolved is None:
            continue
        document, _reason = _read_document(
            resolved, f"{relative}/{STORE_FILENAME}", CALIBRATOR_STORE_SCHEMA
        )
        if document is None:
            continue
        store_bundle = document.get("model_bundle_id")
        store_hash = document.get("model_schema_hash")
        bundle_match = store_bundle == bundle_id
        hash_match = store_hash == schema_hash
        conflicting = (store_bundle is not None and not bundle_match) or (
            store_hash is not None and not hash_match
        )
        if conflicting or not (bundle_match or hash_match):
            continue
        created = _parse_timestamp(document.get("created_at"))
        key = (
            0 if bundle_match else 1,
            0 if hash_match else 1,
            0 if relative == CONVENTIONAL_STORE_DIR else 1,
            -(created if created is not None else float("-inf")),
            relative,
        )
        candidates.append((key, relative))
    if not candidates:
        return None
    return min(candidates)[1]
