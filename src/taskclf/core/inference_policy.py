"""Versioned inference-policy artifact: model + calibration + reject threshold.

The :class:`InferencePolicy` is the deployment descriptor of a classifier. It
binds one model bundle to an optional calibrator store and the reject threshold
tuned on the (possibly calibrated) scores, and is stored as
``models/inference_policy.json``. Paths inside it are relative to the folder
above ``models/`` (TASKCLF_HOME).

What a valid policy is, including every default, is stated once, in the JSON
Schema ``inference_policy.v1.json``; this module is a thin typed facade over it
that adds what a schema cannot: checks against the artifacts on disk
(:func:`validate_policy`), atomic persistence and provenance.
"""

from __future__ import annotations

import copy
import functools
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from types import MappingProxyType
from typing import Any

from taskclf.core.defaults import DEFAULT_REJECT_THRESHOLD, DEFAULT_SOURCE
from taskclf.core.errors import (
    DiskCheckFailure,
    PolicyDiskCheckError,
    PolicyFileError,
    PolicySchemaError,
    PolicyValidationError,
)
from taskclf.core.home import Home
from taskclf.core.jsonio import (
    JSONFileError,
    dumps_json,
    encode_json_document,
    json_problem,
    json_text,
    parse_json_bytes,
    read_file_bytes,
)
from taskclf.core.layout import POLICY_FILENAME, policy_path
from taskclf.core.policy_checks import check_policy_artifacts, validate_policy
from taskclf.core.policy_history import (
    PolicyHistory,
    PolicyVersion,
    change_policy_file,
    policy_history,
)
from taskclf.core.policy_template import (
    render_default_inference_policy_template_json,
    write_inference_policy_starter_template,
)
from taskclf.core.provenance import current_git_commit, utc_now_iso
from taskclf.core.schemas import (
    POLICY_SCHEMA,
    SchemaIssue,
    json_pointer,
    load_schema,
    validate_document,
)

__all__ = [
    "DEFAULT_REJECT_THRESHOLD",
    "DEFAULT_SOURCE",
    "POLICY_FILENAME",
    "DiskCheckFailure",
    "InferencePolicy",
    "LabelSet",
    "PolicyDiskCheckError",
    "PolicyFileError",
    "PolicyHistory",
    "PolicySchemaError",
    "PolicyValidationError",
    "PolicyVersion",
    "SchemaIssue",
    "build_inference_policy",
    "check_policy_artifacts",
    "load_inference_policy",
    "policy_history",
    "policy_path",
    "read_inference_policy",
    "read_policy_of",
    "remove_inference_policy",
    "render_default_inference_policy_template_json",
    "save_inference_policy",
    "validate_policy",
    "validate_policy_document",
    "write_inference_policy_starter_template",
]


class _Unset:
    """Marker for "not given": the schema's default applies."""

    def __repr__(self) -> str:
        return "<from schema>"


_UNSET: Any = _Unset()


@dataclass(frozen=True, kw_only=True, slots=True)
class InferencePolicy:
    """Versioned deployment descriptor binding model + calibration + threshold.

    Construct it with keywords; fields left out take the schema's defaults
    (``created_at`` defaults to now, in UTC). Every instance is validated
    against ``inference_policy.v1.json`` on construction, so an invalid
    ``InferencePolicy`` cannot exist: construction raises
    :class:`PolicySchemaError` listing every problem.

    Instances are immutable and compare by value. ``model_label_set`` is a
    :class:`LabelSet` (a tuple that also equals a list of the same labels, as
    the original's ``list[str]`` did) and ``per_user_reject_thresholds`` a
    read-only mapping.
    ``annotations`` holds the keys the schema passes through untouched
    (``$schema`` and notes whose names start with ``_``, such as ``_help``).
    """

    policy_version: str = _UNSET
    model_dir: str = _UNSET
    model_schema_hash: str = _UNSET
    model_label_set: tuple[str, ...] = _UNSET
    calibrator_store_dir: str | None = _UNSET
    calibration_method: str | None = _UNSET
    reject_threshold: float = _UNSET
    created_at: str = _UNSET
    source: str = _UNSET
    git_commit: str = _UNSET
    per_user_reject_thresholds: Mapping[str, float] | None = field(default=_UNSET, hash=False)
    annotations: Mapping[str, Any] = field(default=_UNSET, hash=False)

    def __post_init__(self) -> None:
        schema_properties = load_schema(POLICY_SCHEMA)["properties"]
        document: dict[str, Any] = {}
        for name, spec in schema_properties.items():
            value = getattr(self, name)
            if value is _UNSET:
                if name == "created_at":
                    value = utc_now_iso()
                elif "default" in spec:
                    value = copy.deepcopy(spec["default"])
                else:
                    continue  # a required field left out: the schema reports it
            # Most fields are scalars: no call to convert (or freeze) them.
            document[name] = value if type(value) in _SCALARS else _as_json_value(value)
        annotations = {} if self.annotations is _UNSET else dict(self.annotations)
        # Fields last: a note cannot stand in for a field the schema must see.
        issues = validate_document(
            POLICY_SCHEMA, {**annotations, **document} if annotations else document
        )
        if annotations:
            issues += _note_issues(annotations, schema_properties)
        if issues:
            raise PolicySchemaError(issues)
        for name, value in document.items():
            if type(value) in _CONTAINERS:
                value = _frozen(value)
            object.__setattr__(self, name, value)
        # Most policies have no notes; copying an empty dict costs a deepcopy.
        notes = copy.deepcopy(annotations) if annotations else {}
        object.__setattr__(self, "annotations", MappingProxyType(notes))

    @classmethod
    def from_dict(cls, document: Mapping[str, Any], /) -> InferencePolicy:
        """Build a policy from its JSON form (as stored in ``inference_policy.json``).

        Raises:
            PolicySchemaError: ``document`` breaks the schema (every issue is listed).
        """
        if not isinstance(document, Mapping) or any(
            name not in document for name in load_schema(POLICY_SCHEMA)["required"]
        ):
            # Keyword construction fills a required field from its schema default
            # (reject_threshold); a document must state it, as the schema says.
            raise PolicySchemaError(validate_document(POLICY_SCHEMA, document))
        names = _FIELD_NAMES
        known = {key: value for key, value in document.items() if key in names}
        others = {key: value for key, value in document.items() if key not in names}
        return cls(**known, annotations=others)

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form: ``$schema``, then notes (as in the template), then fields.

        Fields come in schema order; notes keep their order.
        """
        notes = sorted(self.annotations.items(), key=lambda item: not item[0].startswith("$"))
        result: dict[str, Any] = {key: copy.deepcopy(value) for key, value in notes}
        for name in load_schema(POLICY_SCHEMA)["properties"]:
            result[name] = _as_json_value(getattr(self, name))
        return result

    def to_json(self) -> str:
        """Return the exact text :func:`save_inference_policy` writes."""
        return dumps_json(self.to_dict())


def _note_issues(
    annotations: Mapping[str, Any], fields: Mapping[str, Any]
) -> tuple[SchemaIssue, ...]:
    # The schema lets notes hold any JSON value, but a Python caller can pass
    # values JSON cannot hold (NaN, sets, ...) or name a field as a note;
    # refuse both here rather than fail (or write something else) later.
    issues = []
    for key, value in annotations.items():
        problem = None
        if key in fields:
            problem = f"{json_text(key)} is a field of the policy, not a note: pass it as one"
        elif (deep := json_problem(value)) is not None:
            # Checked first, without recursion: copying or encoding a value
            # nested hundreds of levels deep would exhaust the stack.
            problem = f"cannot be written as a file taskclf reads: it {deep}"
        else:
            try:
                dumps_json(value)
            except (TypeError, ValueError) as exc:
                problem = f"cannot be written as JSON: {exc}"
        if problem is not None:
            issues.append(
                SchemaIssue(
                    pointer=json_pointer([key]), message=problem, value=value, keyword="json"
                )
            )
    return tuple(issues)


def _as_json_value(value: Any) -> Any:
    if type(value) in _SCALARS:  # most fields: no container to convert
        return value
    if isinstance(value, tuple):
        return [_as_json_value(item) for item in value]
    if isinstance(value, Mapping):
        return {key: _as_json_value(item) for key, item in value.items()}
    return value


_SCALARS = frozenset({str, float, int, bool, type(None)})
_CONTAINERS = frozenset({list, dict})
_FIELD_NAMES = frozenset(f.name for f in fields(InferencePolicy)) - {"annotations"}


class LabelSet(tuple[str, ...]):
    """The policy's ``model_label_set``: an immutable tuple that also equals a list.

    The original taskclf's ``model_label_set`` is a ``list[str]``, and code
    written for it compares it with lists (``policy.model_label_set ==
    metadata["label_set"]``). A plain tuple never equals a list, so such code
    would silently get ``False``; a ``LabelSet`` equals a list holding the
    same labels in the same order (as two lists would), and stays immutable
    and hashable like any tuple.
    """

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        if isinstance(other, list):
            return tuple.__eq__(self, tuple(other))
        return tuple.__eq__(self, other)

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    __hash__ = tuple.__hash__

    def __repr__(self) -> str:
        return f"LabelSet({list(self)!r})"


def _frozen(value: Any) -> Any:
    if isinstance(value, list):
        return LabelSet(value)  # the only list field is model_label_set
    if isinstance(value, dict):
        return MappingProxyType(value)
    return value


def validate_policy_document(document: Any) -> tuple[SchemaIssue, ...]:
    """Validate a plain policy document (e.g. parsed JSON) against the schema.

    Returns every issue, best first; an empty tuple means the document is a
    valid policy. Disk checks are not run (see :func:`validate_policy`).
    """
    return validate_document(POLICY_SCHEMA, document)


def build_inference_policy(
    *,
    model_dir: str,
    model_schema_hash: str,
    model_label_set: list[str],
    reject_threshold: float = DEFAULT_REJECT_THRESHOLD,
    calibrator_store_dir: str | None = None,
    calibration_method: str | None = None,
    source: str = DEFAULT_SOURCE,
    per_user_reject_thresholds: Mapping[str, float] | None = None,
) -> InferencePolicy:
    """Convenience builder that fills in provenance fields automatically.

    Labels are sorted, ``created_at`` is now (UTC) and ``git_commit`` is the
    commit of the current git checkout (``"unknown"`` outside one).

    Args:
        model_dir: path to the model bundle, relative to TASKCLF_HOME.
        model_schema_hash: schema hash from the model's ``metadata.json``.
        model_label_set: label set from the model's ``metadata.json``.
        reject_threshold: reject threshold for this model + calibration pair.
        calibrator_store_dir: path to the calibrator store, relative to
            TASKCLF_HOME, or ``None`` for identity calibration.
        calibration_method: ``"temperature"``, ``"isotonic"`` or ``None``.
        source: what created the policy (``"manual"``, ``"tune-reject"``, ...).
        per_user_reject_thresholds: thresholds of single users, or ``None``.

    Raises:
        PolicySchemaError: the values do not make a valid policy.
    """
    return InferencePolicy(
        model_dir=model_dir,
        model_schema_hash=model_schema_hash,
        model_label_set=tuple(sorted(model_label_set)),
        reject_threshold=reject_threshold,
        calibrator_store_dir=calibrator_store_dir,
        calibration_method=calibration_method,
        created_at=utc_now_iso(),
        source=source,
        git_commit=current_git_commit(),
        per_user_reject_thresholds=per_user_reject_thresholds,
    )


def save_inference_policy(
    policy: InferencePolicy, models_dir: Path, *, replaced_by: str = "save_inference_policy"
) -> Path:
    """Atomically persist ``policy`` as ``models_dir/inference_policy.json``.

    ``models_dir`` is created when missing. The file is written through the
    one writer (:func:`~taskclf.core.policy_history.change_policy_file`): the
    policy it replaces (or "no policy") is first kept in the history as
    replaced by ``replaced_by``, then a uniquely named temporary file in the
    same folder is fsynced and renamed over the destination, so readers (in
    any process) see the old policy or the new one, never a partial file; on
    failure the previous file is intact. A policy the reader would refuse
    (over 1 MiB, say) is refused before anything is touched.

    Returns:
        The path of the written file.

    Raises:
        PolicyFileError: the policy cannot be written as a file taskclf reads
            (too large, too deeply nested notes, ...), or the file it would
            replace cannot be kept in the history; nothing was written.
        OSError: the folder cannot be created or written, or something other
            than a regular file (a folder, FIFO, device or link) is in the way.
    """
    home = Home.of_models_dir(models_dir)
    relative = _policy_relative(models_dir)
    try:
        data = encode_json_document(policy.to_dict(), relative)
    except JSONFileError as exc:
        raise PolicyFileError(Path(exc.path), _why_large(exc.reason, policy)) from exc
    change_policy_file(models_dir, data, replaced_by=replaced_by)
    return home.path_of(relative)


def _why_large(reason: str, policy: InferencePolicy) -> str:
    users = len(policy.per_user_reject_thresholds or {})
    if "byte" in reason and users:
        return f"{reason}; {users} per-user thresholds make it this large"
    return reason


def _policy_relative(models_dir: Path) -> str:
    return f"{Path(os.path.abspath(models_dir)).name}/{POLICY_FILENAME}"


# Per-process cache of the last bytes read from each policy path and what they
# parsed to. It is keyed on the bytes themselves, not on timestamps: coarse
# mtimes and reused inode numbers can hide a rewrite from a stat-only cache.
_read_cache: dict[str, tuple[bytes, InferencePolicy | PolicyValidationError]] = {}
_READ_CACHE_LIMIT = 64


def read_inference_policy(path: Path) -> InferencePolicy:
    """Read and validate the policy file at ``path`` (schema only, no disk checks).

    ``path`` is any file the caller names (``taskclf policy validate FILE``);
    to read the policy of a ``models/`` folder, from inside its home only,
    use :func:`read_policy_of`. Reading the same bytes again returns the same
    immutable policy without parsing or validating them a second time.

    Raises:
        FileNotFoundError: there is no file at ``path``.
        PolicyFileError: the file cannot be read or is not acceptable JSON.
        PolicySchemaError: the JSON breaks the schema (every issue is listed).
    """
    try:
        data = read_file_bytes(path)
    except JSONFileError as exc:
        raise PolicyFileError(Path(path), exc.reason) from exc
    return _policy_from_bytes(os.path.abspath(path), data, os.fspath(path))


def read_policy_of(models_dir: Path) -> InferencePolicy:
    """Read and validate ``models_dir/inference_policy.json``, from inside TASKCLF_HOME only.

    The file is reached through :class:`~taskclf.core.home.Home`: a symbolic
    link leading out of the home (the policy file's, or ``models/``'s own) is
    refused, and the file is read once, bounded and without blocking.

    Raises:
        FileNotFoundError: there is no policy file.
        PolicyFileError: it cannot be read, leads outside the home, or is not
            acceptable JSON.
        PolicySchemaError: the JSON breaks the schema (every issue is listed).
    """
    # Plain strings and a home resolved once per process: this is the hot
    # path of reload loops.
    home, relative, shown = _policy_location(os.fspath(models_dir))
    try:
        data = home.read_bytes(relative)
    except NotADirectoryError:
        raise FileNotFoundError(2, "a part of the path is not a folder", shown) from None
    except JSONFileError as exc:
        raise PolicyFileError(Path(shown), exc.reason) from exc
    return _policy_from_bytes(shown, data, shown)


@functools.lru_cache(maxsize=64)
def _policy_location(models_dir: str) -> tuple[Home, str, str]:
    """The home of ``models_dir`` (its symlinks resolved once), the policy's path in it, and
    the policy file's absolute path for messages."""
    absolute = os.path.abspath(models_dir)
    return (
        Home.of_models_dir(absolute),
        f"{os.path.basename(absolute)}/{POLICY_FILENAME}",
        os.path.join(absolute, POLICY_FILENAME),
    )


def _policy_from_bytes(key: str, data: bytes, path: str) -> InferencePolicy:
    # Works on plain strings: this is the hot path of reload loops.
    cached = _read_cache.get(key)
    if cached is not None and cached[0] == data:
        outcome = cached[1]
    else:
        outcome = _parse_policy(data, path)
        if len(_read_cache) >= _READ_CACHE_LIMIT:
            _read_cache.clear()
        _read_cache[key] = (data, outcome)
    if isinstance(outcome, PolicyValidationError):
        raise outcome.with_traceback(None)
    return outcome


def _parse_policy(data: bytes, path: str) -> InferencePolicy | PolicyValidationError:
    # The Path for the error is built only when there is an error: it costs
    # more than validating a valid policy with the generated validator.
    try:
        document = parse_json_bytes(data, source=path)
    except JSONFileError as exc:
        return PolicyFileError(Path(path), exc.reason, line=exc.line, column=exc.column)
    try:
        return InferencePolicy.from_dict(document)  # validates exactly once
    except PolicySchemaError as exc:
        return PolicySchemaError(exc.issues, Path(path))


def load_inference_policy(models_dir: Path) -> InferencePolicy | None:
    """Load the inference policy from ``models_dir/inference_policy.json``.

    Returns ``None`` without raising when the file is missing, and ``None``
    with one WARNING log naming the file and the reason (JSON pointer and
    message) when it cannot be read, is not strict JSON or fails the schema.
    Disk checks are not run here; see :func:`validate_policy`.
    """
    try:
        return read_policy_of(models_dir)
    except FileNotFoundError:
        return None
    except PolicyValidationError as exc:
        import logging  # imported on this path only: it adds to every command's start-up

        logging.getLogger(__name__).warning("ignoring invalid inference policy: %s", exc.message)
        return None


def remove_inference_policy(
    models_dir: Path, *, replaced_by: str = "remove_inference_policy"
) -> bool:
    """Delete ``models_dir/inference_policy.json`` if it exists, keeping it in the history.

    The file is reached from inside TASKCLF_HOME only (a ``models/`` linked
    out of the home is refused); a folder, FIFO or device at the path is
    never removed. The removed policy is first recorded as a version
    (:mod:`taskclf.core.policy_history`), replaced by ``replaced_by``, so
    ``rollback_inference_policy`` can bring it back.

    Returns:
        ``True`` when a file was removed, ``False`` when there was none.

    Raises:
        PolicyFileError: the file cannot be kept in the history (over 1 MiB);
            nothing was removed.
        OSError: the file cannot be removed, or the path leads outside the home
            or holds something other than a regular file
            (:class:`~taskclf.core.home.HomePathError`).
    """
    return change_policy_file(models_dir, None, replaced_by=replaced_by).changed
