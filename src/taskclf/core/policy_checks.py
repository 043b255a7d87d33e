"""Checks of an inference policy against the artifacts it points at.

The schema says whether a policy is well-formed; only the disk can say whether
it is right: whether its model bundle exists and is the model the policy was
made for, and whether its calibrator store belongs to that model. Every file is
read once, through :class:`~taskclf.core.home.Home` (so nothing outside
TASKCLF_HOME is ever read), into a typed document of
:mod:`taskclf.core.artifacts`, whose rules decide the store checks.

Messages start with the original taskclf's words for each check (``Model
directory does not exist: ...``), followed by the detail and the fix.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Protocol

from taskclf.core.artifacts import (
    GLOBAL_CALIBRATOR_FILENAME,
    METADATA_FILENAME,
    STORE_FILENAME,
    ArtifactError,
    Calibrator,
    CalibratorStore,
    ModelMetadata,
    RegressorError,
)
from taskclf.core.errors import DiskCheckFailure, PolicyDiskCheckError
from taskclf.core.home import Home, HomePathError
from taskclf.core.schemas import CALIBRATOR_SCHEMA

__all__ = [
    "ArtifactCache",
    "PolicyArtifacts",
    "PolicyFields",
    "check_policy_artifacts",
    "inspect_policy_artifacts",
    "recreate_command",
    "validate_policy",
]


class PolicyFields(Protocol):
    """The fields of a policy the disk checks look at (an :class:`InferencePolicy` has them)."""

    @property
    def model_dir(self) -> str: ...
    @property
    def model_schema_hash(self) -> str: ...
    @property
    def model_label_set(self) -> Any: ...
    @property
    def calibrator_store_dir(self) -> str | None: ...
    @property
    def calibration_method(self) -> str | None: ...
    @property
    def reject_threshold(self) -> float: ...


@dataclass(frozen=True, slots=True)
class PolicyArtifacts:
    """What the disk checks found: the documents read (each once) and every failure.

    Attributes:
        metadata: the bundle's ``metadata.json``, when it could be read.
        store: the calibrator store's ``store.json``, when the policy names a
            store and it could be read.
        failures: every failed check (empty when the policy matches the disk).
        global_calibrator: the store's ``global.json``, when it could be read.
        user_calibrators: each ``users/<user_id>.json`` of the store's
            ``user_ids`` that could be read, by user id.
    """

    metadata: ModelMetadata | None
    store: CalibratorStore | None
    failures: tuple[DiskCheckFailure, ...]
    global_calibrator: Calibrator | None = None
    user_calibrators: Mapping[str, Calibrator] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def ok(self) -> bool:
        """Whether every check passed."""
        return not self.failures


def validate_policy(policy: PolicyFields, models_dir: Path) -> None:
    """Validate that ``policy`` references artifacts that exist and are compatible.

    Checks, with paths relative to ``models_dir.parent`` (TASKCLF_HOME):

    1. ``model_dir`` is a folder holding a ``metadata.json`` that is valid
       against ``model_metadata.v1.json``;
    2. ``model_schema_hash`` equals the bundle's ``schema_hash``;
    3. ``model_label_set`` holds the same labels as the bundle's ``label_set``;
    4. ``calibrator_store_dir`` (when set) is a folder holding a ``store.json``
       valid against ``calibrator_store.v1.json``;
    5. the store holds a ``global.json`` valid against ``calibrator.v1.json``,
       and a valid ``users/<user_id>.json`` for every id of its ``user_ids``
       (each id usable as a file name, and ``user_count``, when present, their
       number); an isotonic calibrator has one
       regressor per label of the bundle, each with as many output as input
       thresholds (:class:`~taskclf.core.artifacts.Calibrator`);
    6. the store belongs to the bundle (:meth:`CalibratorStore.mismatches
       <taskclf.core.artifacts.CalibratorStore.mismatches>`: its
       ``model_schema_hash`` and ``model_bundle_id``, when set, name this
       model), and the policy's ``calibration_method``, when set, equals the
       store's ``method`` (``null`` means "the store's method");
    7. every path stays inside TASKCLF_HOME (symbolic links included).

    Raises:
        PolicyDiskCheckError: one or more checks failed; ``failures`` lists all
            of them, each naming the check, the file, expected and found values.
    """
    failures = check_policy_artifacts(policy, models_dir)
    if failures:
        raise PolicyDiskCheckError(failures)


def check_policy_artifacts(policy: PolicyFields, models_dir: Path) -> tuple[DiskCheckFailure, ...]:
    """Run every check of :func:`validate_policy`; return the failures (empty when all pass)."""
    return inspect_policy_artifacts(policy, Home.of_models_dir(models_dir)).failures


def inspect_policy_artifacts(
    policy: PolicyFields,
    home: Home,
    *,
    metadata: ModelMetadata | None = None,
    store: CalibratorStore | None = None,
    cache: ArtifactCache | None = None,
) -> PolicyArtifacts:
    """Run every check of :func:`validate_policy` in ``home``; return documents and failures.

    ``metadata`` and ``store`` are documents the caller has just read (through
    ``home``) from the policy's bundle and store folders; they are used as
    they are instead of being read a second time. ``cache`` (an
    :class:`ArtifactCache`) lets one run check many policies reading each
    bundle and store once.
    """
    failures: list[DiskCheckFailure] = []
    if metadata is None:
        found = _cached(cache, ("bundle", home, policy.model_dir), failures, _BUNDLE, home)
        metadata = found if isinstance(found, ModelMetadata) else None
    if metadata is not None:
        _check_bundle_matches(policy, metadata, home, failures)
    if policy.calibrator_store_dir is None:
        store = None
    elif store is None:
        key = ("store", home, policy.calibrator_store_dir)
        found = _cached(cache, key, failures, _STORE, home)
        store = found if isinstance(found, CalibratorStore) else None
    if store is None or policy.calibrator_store_dir is None:
        return PolicyArtifacts(metadata, store, tuple(failures))
    _check_store_matches(policy, store, home, failures)
    labels = metadata.label_set if metadata is not None else None
    calibrators_key = ("calibrators", home, policy.calibrator_store_dir, labels)
    if cache is not None and calibrators_key in cache.entries:
        (global_calibrator, users), known = cache.entries[calibrators_key]
        failures.extend(known)
    else:
        found_here: list[DiskCheckFailure] = []
        global_calibrator, users = _read_calibrators(
            policy.calibrator_store_dir, store, labels, home, found_here
        )
        failures.extend(found_here)
        if cache is not None:
            cache.entries[calibrators_key] = ((global_calibrator, users), tuple(found_here))
    return PolicyArtifacts(
        metadata, store, tuple(failures), global_calibrator, MappingProxyType(users)
    )


@dataclass
class ArtifactCache:
    """What one run has read of the artifacts, to check many policies reading each once.

    Each bundle's ``metadata.json``, each store's ``store.json`` and its
    calibrators are read (and validated) the first time a policy names them,
    with the failures their reading gave; later policies naming the same
    folder get the same documents and failures. Only for one run: files can
    change between runs.
    """

    entries: dict[tuple[Any, ...], tuple[Any, tuple[DiskCheckFailure, ...]]] = field(
        default_factory=dict
    )


def _cached(
    cache: ArtifactCache | None,
    key: tuple[Any, ...],
    failures: list[DiskCheckFailure],
    artifact: _Artifact,
    home: Home,
) -> ModelMetadata | CalibratorStore | None:
    relative = str(key[2])
    if cache is None:
        return _read(artifact, relative, home, failures)
    if key not in cache.entries:
        found_here: list[DiskCheckFailure] = []
        document = _read(artifact, relative, home, found_here)
        cache.entries[key] = (document, tuple(found_here))
    document, known = cache.entries[key]
    failures.extend(known)
    return document  # type: ignore[no-any-return]


def recreate_command(policy: PolicyFields) -> str:
    """The ``taskclf policy create`` command that re-creates ``policy`` for its bundle.

    It keeps the policy's calibrator (or asks for none) and its threshold, so
    following a hint never silently changes either.
    """
    words = ["taskclf", "policy", "create", "--model-dir", policy.model_dir]
    if policy.calibrator_store_dir is None:
        words.append("--no-calibrator")
    else:
        words += ["--calibrator-store", policy.calibrator_store_dir]
    words += ["--reject-threshold", f"{policy.reject_threshold:g}"]
    return " ".join(shlex.quote(word) for word in words)


# The policy field each check is about, so a failure can point into the policy.
_FIELD_OF_CHECK = {
    "model_dir_inside_home": "model_dir",
    "model_dir_exists": "model_dir",
    "model_metadata_inside_home": "model_dir",
    "model_metadata": "model_dir",
    "schema_hash_matches": "model_schema_hash",
    "label_set_matches": "model_label_set",
    "calibrator_store_inside_home": "calibrator_store_dir",
    "calibrator_store_exists": "calibrator_store_dir",
    "calibrator_store": "calibrator_store_dir",
    "store_schema_hash_matches": "calibrator_store_dir",
    "store_bundle_matches": "calibrator_store_dir",
    "calibration_method_matches": "calibration_method",
    "calibrator_global": "calibrator_store_dir",
    "calibrator_user": "calibrator_store_dir",
    "calibrator_user_count": "calibrator_store_dir",
    "calibrator_regressors": "calibrator_store_dir",
}


def _failure(
    check: str, file: Path | str, expected: Any, found: Any, message: str
) -> DiskCheckFailure:
    return DiskCheckFailure(
        check=check,
        file=str(file),
        expected=expected,
        found=found,
        message=message,
        pointer=f"/{_FIELD_OF_CHECK[check]}",
    )


@dataclass(frozen=True, slots=True)
class _Artifact:
    """What the checks need to know about one kind of folder a policy points at."""

    field: str  # the policy field naming the folder
    check_prefix: str  # prefix of the folder checks' names
    kind: str  # "model bundle", for messages
    short: str  # "bundle", for messages
    document: type[ModelMetadata] | type[CalibratorStore]
    file_check: str  # name of the check on that file
    folder_words: str  # the original's words for a missing folder
    missing_words: str  # ... for a missing file
    unreadable_words: str  # ... for a file that cannot be read
    fix: str  # how to fix a missing folder


_BUNDLE = _Artifact(
    field="model_dir",
    check_prefix="model_dir",
    kind="model bundle",
    short="bundle",
    document=ModelMetadata,
    file_check="model_metadata",
    folder_words="Model directory does not exist",
    missing_words="Model metadata not found",
    unreadable_words="Could not read model metadata",
    fix="point model_dir at an existing bundle (models/<run_id>)",
)
_STORE = _Artifact(
    field="calibrator_store_dir",
    check_prefix="calibrator_store",
    kind="calibrator store",
    short="store",
    document=CalibratorStore,
    file_check="calibrator_store",
    folder_words="Calibrator store directory does not exist",
    missing_words="Calibrator store metadata not found",
    unreadable_words="Could not read calibrator store metadata",
    fix="fix the path or set calibrator_store_dir and calibration_method to null",
)


def _read(
    artifact: _Artifact, relative: str, home: Home, failures: list[DiskCheckFailure]
) -> ModelMetadata | CalibratorStore | None:
    """Check the folder ``relative``, read its file once; record failures, return the document."""
    folder = home.path_of(relative)
    try:
        kind = home.kind(relative)
    except HomePathError as exc:
        failures.append(_path_failure(artifact, relative, folder, home, exc))
        return None
    if kind != "folder":
        found = {"nothing": "nothing", "file": "a file"}.get(kind, "a FIFO, socket or device")
        failures.append(
            _failure(
                f"{artifact.check_prefix}_exists",
                folder,
                f"a {artifact.kind} folder",
                found,
                f"{artifact.folder_words}: {relative} (expected a {artifact.kind} folder at "
                f"{folder}, found {found}); {artifact.fix}",
            )
        )
        return None
    file = folder / artifact.document.FILENAME
    try:
        return artifact.document.read(home, relative)
    except ArtifactError as exc:
        if exc.path_kind == "outside":
            failures.append(
                _failure(
                    f"{artifact.file_check}_inside_home"
                    if artifact is _BUNDLE
                    else "calibrator_store_inside_home",
                    file,
                    f"a file inside {home.given}",
                    _outside_target(exc.reason),
                    f"{artifact.unreadable_words}: {exc.file} is a symbolic link leading outside "
                    f"TASKCLF_HOME ({home.given}); replace it with the file itself",
                )
            )
            return None
        words = artifact.missing_words if exc.missing else artifact.unreadable_words
        filename = artifact.document.FILENAME
        failures.append(
            _failure(
                artifact.file_check,
                file,
                f"a {filename} valid against {artifact.document.SCHEMA}",
                exc.message,
                f"{words}: {exc.message}; fix or regenerate {filename}",
            )
        )
        return None


def _outside_target(reason: str) -> str:
    # HomePathError's reason ends with "to <where the path leads>".
    return reason.rpartition(" to ")[2]


def _path_failure(
    artifact: _Artifact, relative: str, folder: Path, home: Home, exc: HomePathError
) -> DiskCheckFailure:
    if exc.kind == "outside":
        return _failure(
            f"{artifact.check_prefix}_inside_home",
            folder,
            f"a folder inside {home.given}",
            exc.target,
            f"{artifact.folder_words}: {artifact.field} {relative} leads outside TASKCLF_HOME "
            f"({home.given}) through a symbolic link; point it at a {artifact.short} folder "
            "inside TASKCLF_HOME",
        )
    return _failure(
        f"{artifact.check_prefix}_exists",
        folder,
        f"a {artifact.kind} folder",
        exc.reason,
        f"{artifact.folder_words}: {artifact.field} {relative} {exc.reason}; {artifact.fix}",
    )


def _check_bundle_matches(
    policy: PolicyFields,
    metadata: ModelMetadata,
    home: Home,
    failures: list[DiskCheckFailure],
) -> None:
    same_hash = metadata.schema_hash == policy.model_schema_hash
    if same_hash and sorted(policy.model_label_set) == sorted(metadata.label_set):
        return  # the common case: no message to build
    metadata_file = home.path_of(policy.model_dir) / METADATA_FILENAME
    fix = f"recreate the policy with `{recreate_command(policy)}`"
    if not same_hash:
        failures.append(
            _failure(
                "schema_hash_matches",
                metadata_file,
                policy.model_schema_hash,
                metadata.schema_hash,
                f"Schema hash mismatch: policy has {_json(policy.model_schema_hash)}, bundle has "
                f"{_json(metadata.schema_hash)} (schema_hash in {metadata_file}); {fix}",
            )
        )
    expected_labels = sorted(policy.model_label_set)
    found_labels = sorted(metadata.label_set)
    if expected_labels != found_labels:
        failures.append(
            _failure(
                "label_set_matches",
                metadata_file,
                expected_labels,
                found_labels,
                f"Label set mismatch: policy has {_json(expected_labels)}, bundle has "
                f"{_json(found_labels)} (label_set in {metadata_file}); {fix}",
            )
        )


def _check_store_matches(
    policy: PolicyFields,
    store: CalibratorStore,
    home: Home,
    failures: list[DiskCheckFailure],
) -> None:
    bundle_id = policy.model_dir.rpartition("/")[2]
    mismatches = store.mismatches(bundle_id=bundle_id, schema_hash=policy.model_schema_hash)
    if not mismatches and not store.method_conflict(policy.calibration_method):
        return  # the common case: no message to build
    store_file = home.path_of(str(policy.calibrator_store_dir)) / STORE_FILENAME
    use_other = "use the calibrator store fitted for this model"
    for mismatch in mismatches:
        if mismatch.field == "model_schema_hash":
            failures.append(
                _failure(
                    "store_schema_hash_matches",
                    store_file,
                    policy.model_schema_hash,
                    mismatch.store_value,
                    "Calibrator store was fitted against a different schema: store has "
                    f"{_json(mismatch.store_value)}, policy expects "
                    f"{_json(policy.model_schema_hash)} ({store_file}); {use_other}",
                )
            )
        else:
            failures.append(
                _failure(
                    "store_bundle_matches",
                    store_file,
                    bundle_id,
                    mismatch.store_value,
                    "Calibrator store was fitted for another model bundle: store has "
                    f"{_json(mismatch.store_value)}, policy's model_dir is {policy.model_dir} "
                    f"({store_file}); {use_other}",
                )
            )
    if store.method_conflict(policy.calibration_method):
        failures.append(
            _failure(
                "calibration_method_matches",
                store_file,
                store.method,
                policy.calibration_method,
                f"Calibration method mismatch: policy has {_json(policy.calibration_method)}, "
                f"store has {_json(store.method)} ({store_file}); set calibration_method to "
                f"{_json(store.method)} or null (null uses the store's method)",
            )
        )


def _read_calibrators(
    store_dir: str,
    store: CalibratorStore,
    labels: tuple[str, ...] | None,
    home: Home,
    failures: list[DiskCheckFailure],
) -> tuple[Calibrator | None, dict[str, Calibrator]]:
    """Read the store's global and per-user calibrators; record a failure for each bad one."""
    folder = home.path_of(store_dir)
    expected = f"a calibrator valid against {CALIBRATOR_SCHEMA}"
    refit = "refit the calibrator store, or set calibrator_store_dir and calibration_method to null"
    global_calibrator: Calibrator | None = None
    try:
        global_calibrator = Calibrator.read(home, store_dir)
    except RegressorError as exc:
        failures.append(_regressor_failure(folder / GLOBAL_CALIBRATOR_FILENAME, exc))
    except ArtifactError as exc:
        if exc.missing:
            words = (
                f"Global calibrator not found: {exc.message} (a calibrator store holds "
                "global.json, the calibrator of every user without their own)"
            )
        else:
            words = f"Could not read the global calibrator: {exc.message}"
        failures.append(
            _failure(
                "calibrator_global",
                folder / GLOBAL_CALIBRATOR_FILENAME,
                expected,
                exc.message,
                f"{words}; {refit}",
            )
        )
    if store.user_count is not None and store.user_count != len(store.user_ids):
        listed = len(store.user_ids)
        failures.append(
            _failure(
                "calibrator_user_count",
                folder / STORE_FILENAME,
                listed,
                store.user_count,
                f"User count mismatch in {store.file}: user_count is {store.user_count} but "
                f"user_ids lists {listed} user{'s' if listed != 1 else ''}; set user_count to "
                f"{listed}, or list every user with a calibrator in user_ids",
            )
        )
    users: dict[str, Calibrator] = {}
    for user_id in store.user_ids:
        shown = _json(user_id)
        file = folder / "users" / f"{user_id}.json"
        try:
            users[user_id] = Calibrator.read_user(home, store_dir, user_id)
        except RegressorError as exc:
            failures.append(_regressor_failure(file, exc))
        except ArtifactError as exc:
            if exc.path_kind == "bad_user_id":
                words = f"Bad user id in {store.file}: {exc.message}"
                fix = f"rename the user, or remove {shown} from user_ids"
            elif exc.missing:
                words = (
                    f"Calibrator of user {shown} not found: {exc.message} ({store.file} lists "
                    f"{shown} in user_ids)"
                )
                fix = f"write that file, or remove {shown} from user_ids and user_count"
            else:
                words = f"Could not read the calibrator of user {shown}: {exc.message}"
                fix = "fix or regenerate it"
            failures.append(
                _failure("calibrator_user", file, expected, exc.message, f"{words}; {fix}")
            )
    if labels is not None:
        found = [
            ("global", global_calibrator),
            *((f"user {_json(u)}", c) for u, c in users.items()),
        ]
        for whose, calibrator in found:
            if calibrator is not None and not calibrator.regressor_count_matches(labels):
                wanted = sorted(set(labels))
                failures.append(
                    _failure(
                        "calibrator_regressors",
                        home.path_of(calibrator.file),
                        len(wanted),
                        len(calibrator.regressors),
                        f"Isotonic calibrator ({whose}) {calibrator.file} has "
                        f"{len(calibrator.regressors)} regressors, expected {len(wanted)}: one "
                        f"per label of the bundle, in sorted order ({_json(wanted)}); refit the "
                        "calibrator store for this model",
                    )
                )
    return global_calibrator, users


def _regressor_failure(file: Path, exc: RegressorError) -> DiskCheckFailure:
    return _failure(
        "calibrator_regressors",
        file,
        "isotonic regressors as scikit-learn exports them",
        exc.message,
        f"Invalid isotonic calibrator: {exc.message}",
    )


def _json(value: Any) -> str:
    import json

    return json.dumps(value, ensure_ascii=False)
