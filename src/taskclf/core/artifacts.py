"""Typed, validated, frozen documents of the artifact files in a TASKCLF_HOME.

Each artifact file is read once through :class:`~taskclf.core.home.Home`
(bounded, inside the home), parsed by the strict JSON reader, validated
against its own schema once, and frozen into a small typed document:

- :class:`ModelMetadata`: a bundle's ``metadata.json`` (``model_metadata.v1.json``);
- :class:`ModelMetrics`: a bundle's ``metrics.json`` (``model_metrics.v1.json``);
- :class:`CalibratorStore`: a store's ``store.json`` (``calibrator_store.v1.json``);
- :class:`Calibrator`: a store's ``global.json`` or ``users/<user_id>.json``
  (``calibrator.v1.json``), with its :class:`IsotonicRegressor` parts.

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

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import PurePosixPath
from types import MappingProxyType
from typing import Any, ClassVar, TypeVar

from taskclf.core.home import Home, HomePathError
from taskclf.core.jsonio import JSONFileError, parse_json_bytes
from taskclf.core.schemas import (
    CALIBRATOR_SCHEMA,
    CALIBRATOR_STORE_SCHEMA,
    MODEL_METADATA_SCHEMA,
    MODEL_METRICS_SCHEMA,
    SchemaIssue,
    validate_document,
)

__all__ = [
    "GLOBAL_CALIBRATOR_FILENAME",
    "METADATA_FILENAME",
    "METRICS_FILENAME",
    "STORE_FILENAME",
    "USERS_FOLDER",
    "ArtifactError",
    "Calibrator",
    "CalibratorStore",
    "IsotonicRegressor",
    "ModelMetadata",
    "ModelMetrics",
    "RegressorError",
    "StoreMismatch",
    "freeze_json",
    "parse_and_validate",
    "read_json_document",
    "thaw_json",
    "user_id_problem",
    "validated",
]

METADATA_FILENAME = "metadata.json"
METRICS_FILENAME = "metrics.json"
STORE_FILENAME = "store.json"
GLOBAL_CALIBRATOR_FILENAME = "global.json"
USERS_FOLDER = "users"


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


class RegressorError(ArtifactError):
    """A calibrator file is valid against its schema, but an isotonic regressor in it is not
    what scikit-learn exports (thresholds of unequal length, out of order, ...)."""


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
    user_count: int | None = None
    user_ids: tuple[str, ...] = ()
    """The users with their own calibrator in ``users/<user_id>.json`` (empty: none)."""

    @classmethod
    def _from_valid(cls, document: Mapping[str, Any], file: str) -> CalibratorStore:
        return cls(
            file=file,
            document=document,
            method=document.get("method"),
            model_schema_hash=document.get("model_schema_hash"),
            model_bundle_id=document.get("model_bundle_id"),
            created_at=document.get("created_at"),
            user_count=document.get("user_count"),
            user_ids=tuple(document.get("user_ids", ())),
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


@dataclass(frozen=True, kw_only=True, slots=True)
class IsotonicRegressor:
    """One label's fitted isotonic regression, as scikit-learn's ``IsotonicRegression`` holds it.

    ``x_thresholds`` increase strictly, ``y_thresholds`` (as many) are monotone
    in the direction of ``increasing``, and ``x_min``/``x_max`` are the first
    and last of ``x_thresholds``: :class:`Calibrator` checks this when it reads
    a file, since JSON Schema cannot say it.
    """

    x_thresholds: tuple[float, ...]
    y_thresholds: tuple[float, ...]
    x_min: float
    x_max: float
    increasing: bool
    out_of_bounds: str
    """``"clip"``, ``"nan"`` or ``"raise"``: what an input outside ``[x_min, x_max]`` gives."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Calibrator(_ArtifactDocument):
    """One calibrator of a store: its ``global.json`` or a ``users/<user_id>.json``.

    ``kind`` is ``"identity"`` (also for a file without ``type``, as the
    original taskclf reads it), ``"temperature"`` (with ``temperature``) or
    ``"isotonic"`` (with one :class:`IsotonicRegressor` per label, in sorted
    label order). Reading a file checks, beyond ``calibrator.v1.json``, what
    the schema cannot state: in each regressor, ``X_thresholds_`` and
    ``y_thresholds_`` have the same length, ``X_thresholds_`` increase strictly,
    ``y_thresholds_`` are monotone as ``increasing_`` says, and ``X_min_`` and
    ``X_max_`` are the ends of ``X_thresholds_``. (Every file scikit-learn
    exports is so; the original's loader refits the thresholds, which gives
    this very function only for such files.) Whether there is one regressor
    per label of a model is :meth:`regressor_count_matches`.

    ``Calibrator.read(home, store_dir)`` reads the store's ``global.json``;
    :meth:`read_user` reads one user's file.
    """

    FILENAME: ClassVar[str] = GLOBAL_CALIBRATOR_FILENAME
    SCHEMA: ClassVar[str] = CALIBRATOR_SCHEMA

    kind: str
    temperature: float | None = None
    regressors: tuple[IsotonicRegressor, ...] = ()

    @classmethod
    def read_user(cls, home: Home, store_dir: str | os.PathLike[str], user_id: str) -> Calibrator:
        """Read ``<store_dir>/users/<user_id>.json`` inside ``home``: parsed, validated, frozen.

        Raises:
            ArtifactError: ``user_id`` cannot be a file name (see
                :func:`user_id_problem`; ``path_kind`` is ``"bad_user_id"``),
                or the file is missing, unreadable or invalid.
        """
        path = PurePosixPath(home.display(store_dir)) / USERS_FOLDER / f"{user_id}.json"
        problem = user_id_problem(user_id)
        if problem is not None:
            raise ArtifactError(str(path), problem, path_kind="bad_user_id")
        return cls.from_document(read_json_document(home, path, cls.SCHEMA), file=str(path))

    @classmethod
    def _from_valid(cls, document: Mapping[str, Any], file: str) -> Calibrator:
        kind = document.get("type", "identity")
        regressors = tuple(
            _regressor(item, file, index)
            for index, item in enumerate(document.get("regressors", ()))
        )
        temperature = document.get("temperature") if kind == "temperature" else None
        return cls(
            file=file,
            document=document,
            kind=kind,
            temperature=float(temperature) if temperature is not None else None,
            regressors=regressors if kind == "isotonic" else (),
        )

    def regressor_count_matches(self, labels: Sequence[str]) -> bool:
        """Whether the calibrator fits a model with ``labels``: true unless isotonic with
        another number of regressors than labels."""
        return self.kind != "isotonic" or len(self.regressors) == len(set(labels))


def user_id_problem(user_id: str) -> str | None:
    """Why ``user_id`` cannot name its file ``users/<user_id>.json``, or ``None`` when it can.

    The original taskclf writes each user's calibrator to a file named after the
    id, so an id holding ``/`` or a NUL byte, or being ``.`` or ``..``, names no
    file of the ``users/`` folder.
    """
    if "/" in user_id or "\x00" in user_id or user_id in {".", ".."}:
        return (
            f"cannot be the calibrator of user {json.dumps(user_id, ensure_ascii=False)}: "
            'a user id naming a file of users/ may not hold "/" or a NUL byte, nor be "." or ".."'
        )
    return None


def _values(count: int) -> str:
    return f"{count} value" if count == 1 else f"{count} values"


def _regressor(item: Mapping[str, Any], file: str, index: int) -> IsotonicRegressor:
    xs = tuple(float(x) for x in item["X_thresholds_"])
    ys = tuple(float(y) for y in item["y_thresholds_"])
    increasing = bool(item["increasing_"])
    where = f"/regressors/{index}"
    problems: list[SchemaIssue] = []

    def problem(key: str, message: str, value: Any, hint: str) -> None:
        problems.append(
            SchemaIssue(
                pointer=f"{where}/{key}", message=message, value=value, keyword=key, hint=hint
            )
        )

    refit = "export the fitted IsotonicRegression again, or refit the store"
    if len(xs) != len(ys):
        problem(
            "y_thresholds_",
            f"has {_values(len(ys))} but X_thresholds_ has {len(xs)}",
            list(ys),
            f"X_thresholds_ and y_thresholds_ must have the same length; {refit}",
        )
    if any(b <= a for a, b in pairwise(xs)):
        problem(
            "X_thresholds_",
            "is not strictly increasing",
            list(xs),
            f"scikit-learn exports unique input thresholds in increasing order; {refit}",
        )
    pairs = pairwise(ys)
    if any((b < a) if increasing else (b > a) for a, b in pairs):
        direction = "non-decreasing" if increasing else "non-increasing"
        problem(
            "y_thresholds_",
            f"is not {direction} although increasing_ is {json.dumps(increasing)}",
            list(ys),
            f"the output thresholds of an isotonic regression are monotone; {refit}",
        )
    for key, value, end in (("X_min_", item["X_min_"], xs[0]), ("X_max_", item["X_max_"], xs[-1])):
        if float(value) != end:
            problem(
                key,
                f"{value!r} is not the {'first' if key == 'X_min_' else 'last'} of "
                f"X_thresholds_ ({end!r})",
                value,
                f"X_min_ and X_max_ are the ends of X_thresholds_; {refit}",
            )
    if problems:
        listed = "; ".join(str(issue) for issue in problems)
        raise RegressorError(file, f"is invalid: {listed}", issues=problems)
    return IsotonicRegressor(
        x_thresholds=xs,
        y_thresholds=ys,
        x_min=float(item["X_min_"]),
        x_max=float(item["X_max_"]),
        increasing=increasing,
        out_of_bounds=str(item["out_of_bounds"]),
    )
