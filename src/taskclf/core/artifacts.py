"""Typed, validated, frozen documents of the artifact files in a TASKCLF_HOME.

Each artifact file is read once through :class:`~taskclf.core.home.Home`
(bounded, inside the home), parsed by the strict JSON reader, validated
against its own schema once, and frozen into a small typed document:

- :class:`ModelMetadata`: a bundle's ``metadata.json`` (``model_metadata.v1.json``);
- :class:`ModelMetrics`: a bundle's ``metrics.json`` (``model_metrics.v1.json``);
- :class:`CalibratorStore`: a store's ``store.json`` (``calibrator_store.v1.json``).

The rules about artifacts live on these documents, once:
:meth:`CalibratorStore.mismatches` answers "does this store belong to this
bundle?" and :meth:`CalibratorStore.method_for` says which calibration method a
policy using the store gets. Every caller (disk checks, resolution, the
bound-store search, ``policy create``, ``tune-reject``, edit seeding) asks them.

:class:`ArtifactError` is the one error for a file that cannot be used, with
one wording: ``<file> does not exist``, ``<file> is not valid JSON: ...``,
``<file> is invalid against <schema>: <pointer>: <message>; ...``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from types import MappingProxyType
from typing import Any, ClassVar, TypeVar

from taskclf.core.home import Home, HomePathError
from taskclf.core.jsonio import JSONFileError, parse_json_bytes
from taskclf.core.schemas import (
    CALIBRATOR_STORE_SCHEMA,
    MODEL_METADATA_SCHEMA,
    MODEL_METRICS_SCHEMA,
    SchemaIssue,
    validate_document,
)

__all__ = [
    "METADATA_FILENAME",
    "METRICS_FILENAME",
    "STORE_FILENAME",
    "ArtifactError",
    "CalibratorStore",
    "ModelMetadata",
    "ModelMetrics",
    "StoreMismatch",
    "freeze_json",
    "parse_and_validate",
    "read_json_document",
    "thaw_json",
    "validated",
]

METADATA_FILENAME = "metadata.json"
METRICS_FILENAME = "metrics.json"
STORE_FILENAME = "store.json"


class ArtifactError(Exception):
    """An artifact file is missing, cannot be read, is not strict JSON or breaks its schema.

    Attributes:
        file: the file as shown to the user (relative to the home when inside it).
        reason: what is wrong, without the file name.
        issues: the schema issues, best first (empty unless the schema failed).
        missing: ``True`` when nothing exists at the path.
        path_kind: for a path that cannot be used at all, the
            :attr:`HomePathError.kind <taskclf.core.home.HomePathError.kind>`
            (``"outside"``, ``"too_long"``, ...); else ``None``.
    """

    def __init__(
        self,
        file: str,
        reason: str,
        *,
        issues: Sequence[SchemaIssue] = (),
        missing: bool = False,
        path_kind: str | None = None,
    ) -> None:
        super().__init__(f"{file} {reason}")
        self.file = file
        self.reason = reason
        self.issues = tuple(issues)
        self.missing = missing
        self.path_kind = path_kind

    @property
    def message(self) -> str:
        """``<file> <reason>``."""
        return str(self)


def read_json_document(home: Home, path: str | os.PathLike[str], schema_name: str) -> Any:
    """Read the JSON file at ``path`` inside ``home`` and validate it against ``schema_name``.

    Returns the parsed document (plain dicts and lists).

    Raises:
        ArtifactError: the file is missing, cannot be read (outside the home,
            not a regular file, too large, ...), is not strict JSON or breaks
            its schema.
    """
    shown = home.display(path)
    try:
        data = home.read_bytes(path)
    except (FileNotFoundError, NotADirectoryError):
        raise ArtifactError(shown, "does not exist", missing=True) from None
    except HomePathError as exc:
        raise ArtifactError(shown, exc.reason, path_kind=exc.kind) from exc
    except JSONFileError as exc:
        raise ArtifactError(shown, exc.reason) from exc
    return parse_and_validate(data, shown, schema_name)


def parse_and_validate(data: bytes, shown: str, schema_name: str) -> Any:
    """Parse ``data`` (the bytes of the file ``shown``) and validate it against ``schema_name``.

    Raises:
        ArtifactError: the bytes are not strict JSON or break the schema.
    """
    try:
        document = parse_json_bytes(data, source=shown)
    except JSONFileError as exc:
        raise ArtifactError(shown, exc.reason) from exc
    return validated(document, shown, schema_name)


def validated(document: Any, shown: str, schema_name: str) -> Any:
    """Return ``document`` when it is valid against ``schema_name``.

    Raises:
        ArtifactError: it breaks the schema; the reason lists every issue.
    """
    issues = validate_document(schema_name, document)
    if issues:
        listed = "; ".join(str(issue) for issue in issues)
        raise ArtifactError(shown, f"is invalid against {schema_name}: {listed}", issues=issues)
    return document


def freeze_json(value: Any) -> Any:
    """Deep, read-only copy of a JSON value: dicts become mapping proxies, lists tuples.

    Documents come from the strict reader, whose depth limit bounds the recursion.
    """
    if isinstance(value, Mapping):
        return MappingProxyType({key: freeze_json(item) for key, item in value.items()})
    if isinstance(value, list | tuple):
        return tuple(freeze_json(item) for item in value)
    return value


def thaw_json(value: Any) -> Any:
    """Inverse of :func:`freeze_json`: plain dicts and lists, ready for :func:`json.dumps`."""
    if isinstance(value, Mapping):
        return {key: thaw_json(item) for key, item in value.items()}
    if isinstance(value, tuple | list):
        return [thaw_json(item) for item in value]
    return value


_Document = TypeVar("_Document", bound="_ArtifactDocument")


@dataclass(frozen=True, kw_only=True, slots=True)
class _ArtifactDocument:
    """What every typed artifact document shares: its file, its frozen content, one reader."""

    FILENAME: ClassVar[str]
    SCHEMA: ClassVar[str]

    file: str
    """The file it was read from, as shown to the user."""
    document: Mapping[str, Any] = field(repr=False, compare=False, hash=False)
    """The whole file, frozen (keys the typed fields do not cover included)."""

    @classmethod
    def read(cls: type[_Document], home: Home, folder: str | os.PathLike[str]) -> _Document:
        """Read ``<folder>/<FILENAME>`` inside ``home``: parsed, validated once, frozen.

        Raises:
            ArtifactError: the file is missing, unreadable or invalid.
        """
        path = PurePosixPath(home.display(folder)) / cls.FILENAME
        return cls.from_document(read_json_document(home, path, cls.SCHEMA), file=str(path))

    @classmethod
    def from_bytes(cls: type[_Document], data: bytes, *, file: str) -> _Document:
        """Parse and validate the bytes of a file named ``file``.

        Raises:
            ArtifactError: the bytes are not strict JSON or break the schema.
        """
        return cls.from_document(parse_and_validate(data, file, cls.SCHEMA), file=file)

    @classmethod
    def from_document(
        cls: type[_Document], document: Any, *, file: str, is_valid: bool = True
    ) -> _Document:
        """Build from a parsed document, valid unless ``is_valid=False`` (then validated here).

        Raises:
            ArtifactError: ``is_valid`` is false and the document breaks the schema.
        """
        if not is_valid:
            document = validated(document, file, cls.SCHEMA)
        return cls._from_valid(freeze_json(document), file)

    @classmethod
    def _from_valid(cls: type[_Document], document: Mapping[str, Any], file: str) -> _Document:
        raise NotImplementedError

    def to_dict(self) -> dict[str, Any]:
        """The file's content as plain data."""
        result: dict[str, Any] = thaw_json(self.document)
        return result


@dataclass(frozen=True, kw_only=True, slots=True)
class ModelMetadata(_ArtifactDocument):
    """A bundle's ``metadata.json``: what model it is."""

    FILENAME: ClassVar[str] = METADATA_FILENAME
    SCHEMA: ClassVar[str] = MODEL_METADATA_SCHEMA

    schema_hash: str
    label_set: tuple[str, ...]
    reject_threshold: float | None = None
    """The bundle's advisory reject threshold, when it has one."""
    created_at: str | None = None

    @classmethod
    def _from_valid(cls, document: Mapping[str, Any], file: str) -> ModelMetadata:
        created = document.get("created_at")
        return cls(
            file=file,
            document=document,
            schema_hash=document["schema_hash"],
            label_set=tuple(document["label_set"]),
            reject_threshold=document.get("reject_threshold"),
            created_at=created if isinstance(created, str) else None,
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class ModelMetrics(_ArtifactDocument):
    """A bundle's ``metrics.json``: how well it did (best-model selection ranks by it)."""

    FILENAME: ClassVar[str] = METRICS_FILENAME
    SCHEMA: ClassVar[str] = MODEL_METRICS_SCHEMA

    macro_f1: float
    weighted_f1: float

    @classmethod
    def _from_valid(cls, document: Mapping[str, Any], file: str) -> ModelMetrics:
        return cls(
            file=file,
            document=document,
            macro_f1=float(document["macro_f1"]),
            weighted_f1=float(document["weighted_f1"]),
        )


@dataclass(frozen=True, slots=True)
class StoreMismatch:
    """One binding field of a store that names another model than the one asked about.

    Attributes:
        field: ``"model_schema_hash"`` or ``"model_bundle_id"``.
        store_value: what the store names.
        expected: what the bundle (or policy) has.
    """

    field: str
    store_value: str
    expected: str


@dataclass(frozen=True, kw_only=True, slots=True)
class CalibratorStore(_ArtifactDocument):
    """A calibrator store's ``store.json``: how it calibrates, and for which model.

    The binding rule (:meth:`mismatches`) accepts what the original taskclf
    writes: a store that names no model binds to any bundle (legacy stores);
    ``model_schema_hash``, when present, must equal the model's;
    ``model_bundle_id``, when present, must equal the bundle folder's name.
    """

    FILENAME: ClassVar[str] = STORE_FILENAME
    SCHEMA: ClassVar[str] = CALIBRATOR_STORE_SCHEMA

    method: str | None = None
    model_schema_hash: str | None = None
    model_bundle_id: str | None = None
    created_at: str | None = None

    @classmethod
    def _from_valid(cls, document: Mapping[str, Any], file: str) -> CalibratorStore:
        return cls(
            file=file,
            document=document,
            method=document.get("method"),
            model_schema_hash=document.get("model_schema_hash"),
            model_bundle_id=document.get("model_bundle_id"),
            created_at=document.get("created_at"),
        )

    def mismatches(self, *, bundle_id: str, schema_hash: str) -> tuple[StoreMismatch, ...]:
        """The binding fields naming another model than bundle ``bundle_id`` (``schema_hash``).

        Empty means the store belongs to that bundle.
        """
        found = []
        if self.model_schema_hash is not None and self.model_schema_hash != schema_hash:
            found.append(StoreMismatch("model_schema_hash", self.model_schema_hash, schema_hash))
        if self.model_bundle_id is not None and self.model_bundle_id != bundle_id:
            found.append(StoreMismatch("model_bundle_id", self.model_bundle_id, bundle_id))
        return tuple(found)

    def binds_to(self, *, bundle_id: str, schema_hash: str) -> bool:
        """Whether the store belongs to bundle ``bundle_id`` (see :meth:`mismatches`)."""
        return not self.mismatches(bundle_id=bundle_id, schema_hash=schema_hash)

    def names_model(self) -> bool:
        """Whether the store says which model it was fitted for (a legacy store does not)."""
        return self.model_schema_hash is not None or self.model_bundle_id is not None

    def method_conflict(self, policy_method: str | None) -> bool:
        """Whether a policy's ``calibration_method`` contradicts the store's ``method``.

        ``None`` in the policy means "the store's method" and never conflicts;
        neither does a store that names no method.
        """
        if policy_method is None or self.method is None:
            return False
        return policy_method != self.method

    def method_for(self, policy_method: str | None) -> str | None:
        """The method inference uses with this store: the policy's, else the store's."""
        return policy_method if policy_method is not None else self.method
