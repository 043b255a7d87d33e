"""Model bundles: the folders of ``models/``, and best-model selection among them.

A model bundle is a folder ``models/<run_id>/`` holding a ``metadata.json``
(valid against ``model_metadata.v1.json``) and a ``metrics.json`` (valid
against ``model_metrics.v1.json``). :func:`scan_bundles` reads every folder on
its own into a :class:`BundleRecord`; a broken bundle is recorded with its
reason and never stops the scan. Files are read through
:class:`~taskclf.core.home.Home`, so nothing outside TASKCLF_HOME is read.

:func:`select_best_model` ranks the valid bundles that are compatible with the
caller's feature-schema hash and label set, and returns a
:class:`SelectionReport` saying which one won and why every other was left out.
A bundle whose folder name a policy cannot hold (control characters, not
UTF-8, too long) is never selected, and the report says why.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from taskclf.core.artifacts import (
    METADATA_FILENAME,
    METRICS_FILENAME,
    ArtifactError,
    ModelMetadata,
    ModelMetrics,
    thaw_json,
)
from taskclf.core.home import Home, HomePathError
from taskclf.core.jsonio import json_problem, json_text

__all__ = [
    "MAX_SCAN_ENTRIES",
    "METADATA_FILENAME",
    "METRICS_FILENAME",
    "BundleRecord",
    "ExcludedBundle",
    "SelectionReport",
    "compatibility_reason",
    "parse_timestamp",
    "rank_bundles",
    "read_bundle",
    "scan_bundles",
    "select_best_model",
    "unnameable_reason",
]

logger = logging.getLogger(__name__)

MAX_SCAN_ENTRIES = 10_000
"""At most this many entries of ``models/`` are looked at by one scan."""


def parse_timestamp(text: Any) -> float | None:
    """Seconds since the epoch of an RFC 3339 date-time, or ``None`` when unparsable."""
    if not isinstance(text, str):
        return None
    try:
        return datetime.fromisoformat(text.upper().replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


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
            "metadata": thaw_json(self.metadata),
            "metrics": thaw_json(self.metrics),
        }


def read_bundle(
    bundle_dir: Path, *, home: Path, confine: bool = True, require_metrics: bool = True
) -> BundleRecord:
    """Read the bundle folder ``bundle_dir`` into a :class:`BundleRecord`; never raises for it.

    Args:
        bundle_dir: the folder, absolute or relative to ``home``.
        home: TASKCLF_HOME; the record's ``model_dir`` is relative to it.
        confine: read the folder through ``home``'s door, refusing (as an
            invalid record) a path that leads outside it. ``False`` is for a
            folder the person running taskclf named (``--model-dir``
            overrides): the folder itself may lie anywhere, and its files are
            read from inside it.
        require_metrics: whether a missing or invalid ``metrics.json`` makes
            the bundle invalid. Inference needs only ``metadata.json``;
            selection needs both.
    """
    door = Home.at(home)
    path = Path(os.path.abspath(door.given / bundle_dir))
    display = door.display(path)
    if not confine:
        try:
            door = Home.at(path)
        except OSError as exc:  # pragma: no cover - realpath does not fail on Linux
            return _invalid_record(path, display, f"{display} cannot be read: {exc}")
        relative = "."
    else:
        relative = display

    def record(
        reason: str | None,
        metadata: ModelMetadata | None = None,
        metrics: ModelMetrics | None = None,
    ) -> BundleRecord:
        return BundleRecord(
            bundle_id=path.name,
            model_dir=display,
            path=path,
            valid=reason is None,
            reason=reason,
            metadata=None if metadata is None else metadata.document,
            metrics=None if metrics is None else metrics.document,
        )

    try:
        kind = door.kind(relative)
    except HomePathError as exc:
        return record(f"{display} {exc.reason}")
    if kind != "folder":
        found = {"nothing": "does not exist", "file": "is a file, not a bundle folder"}
        return record(f"{display} {found.get(kind, 'is not a bundle folder')}")
    try:
        metadata = ModelMetadata.read(door, relative)
    except ArtifactError as exc:
        return record(_named(exc, display, METADATA_FILENAME))
    try:
        metrics = ModelMetrics.read(door, relative)
    except ArtifactError as exc:
        if not require_metrics:
            return record(None, metadata)
        return record(_named(exc, display, METRICS_FILENAME), metadata)
    return record(None, metadata, metrics)


def _named(exc: ArtifactError, display: str, filename: str) -> str:
    """The reason of ``exc``, naming the file as ``<display>/<filename>``."""
    shown = f"{display}/{filename}"
    if exc.path_kind == "outside":
        return f"{shown} is a symbolic link leading outside TASKCLF_HOME"
    return f"{shown} {exc.reason}"


def _invalid_record(path: Path, display: str, reason: str) -> BundleRecord:
    return BundleRecord(
        bundle_id=path.name, model_dir=display, path=path, valid=False, reason=reason
    )


def unnameable_reason(name: str) -> str | None:
    """Why a bundle folder called ``name`` cannot be named in a policy, or ``None``.

    A policy is JSON text read by people: a folder name that is not UTF-8
    (read as lone surrogates), holds control characters or breaks the
    schema's rules for ``model_dir`` cannot be written into one.
    """
    if json_problem(name) is not None:
        return "its folder name is not UTF-8 text; rename the folder"
    if any(ord(char) < 0x20 or 0x7F <= ord(char) < 0xA0 for char in name):
        return "its folder name holds control characters; rename the folder"
    from taskclf.core.schemas import POLICY_SCHEMA, validate_value

    issues = validate_value(POLICY_SCHEMA, "/properties/model_dir", f"models/{name}")
    if issues:
        return f"its folder name cannot be named in a policy ({issues[0].message_with_hint})"
    return None


def scan_bundles(models_dir: Path) -> tuple[BundleRecord, ...]:
    """Read every bundle folder in ``models_dir``, sorted by folder name.

    Each sub-folder is read on its own with :func:`read_bundle`; a broken one
    becomes an invalid record with its reason and never aborts the scan. Files
    (``active.json``, the policy, ...) and hidden entries (names starting with
    ``.``, such as temporary folders) are not bundles and are skipped. A
    missing ``models_dir`` has no bundles. At most :data:`MAX_SCAN_ENTRIES`
    entries are looked at. A folder whose name a policy cannot hold
    (:func:`unnameable_reason`) is an invalid record with that reason.
    """
    models_dir = Path(os.path.abspath(models_dir))
    door = Home.of_models_dir(models_dir)
    try:
        names, cut = door.list_dir(models_dir.name, limit=MAX_SCAN_ENTRIES)
    except (FileNotFoundError, NotADirectoryError, HomePathError):
        return ()
    if cut:
        logger.warning(
            "%s holds more than %d entries; only the first ones were scanned",
            door.display(models_dir),
            MAX_SCAN_ENTRIES,
        )
    records = []
    for name in sorted(names):
        if name.startswith("."):
            continue
        relative = f"{models_dir.name}/{name}"
        try:
            if door.kind(relative) != "folder":
                continue
        except HomePathError:
            pass  # a link out of the home, a loop, ...: read_bundle says so
        problem = unnameable_reason(name)
        if problem is not None:
            path = models_dir / name
            records.append(_invalid_record(path, relative, f"{relative}: {problem}"))
            continue
        records.append(read_bundle(Path(relative), home=door.given))
    return tuple(records)


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
            f"schema_hash {json_text(bundle.schema_hash)} does not match the required "
            f"{json_text(schema_hash)}"
        )
    if label_set is not None:
        required = sorted(set(label_set))
        found = sorted(set(bundle.label_set or ()))
        if found != required:
            problems.append(
                f"label_set {json_text(found)} does not match the required {json_text(required)}"
            )
    return "; ".join(problems) if problems else None


def _rank_key(bundle: BundleRecord) -> tuple[float, float, int, float, str]:
    created = parse_timestamp(bundle.created_at)
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
