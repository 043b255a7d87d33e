"""Checks of an inference policy against the artifacts it points at.

The schema says whether a policy is well-formed; only the disk can say whether
it is right: whether its model bundle exists and is the model the policy was
made for, and whether its calibrator store belongs to that model. Every file
read here is validated against its own schema, and every path, after symlinks
are resolved, must stay inside TASKCLF_HOME.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from taskclf.core.errors import DiskCheckFailure, PolicyDiskCheckError
from taskclf.core.jsonio import JSONFileError, parse_json_bytes, read_file_bytes
from taskclf.core.layout import home_of
from taskclf.core.schemas import (
    CALIBRATOR_STORE_SCHEMA,
    MODEL_METADATA_SCHEMA,
    validate_document,
)

if TYPE_CHECKING:
    from taskclf.core.inference_policy import InferencePolicy

__all__ = ["check_policy_artifacts", "inside_home", "read_artifact_document", "validate_policy"]

METADATA_FILENAME = "metadata.json"
STORE_FILENAME = "store.json"


def validate_policy(policy: InferencePolicy, models_dir: Path) -> None:
    """Validate that ``policy`` references artifacts that exist and are compatible.

    Checks, with paths relative to ``models_dir.parent`` (TASKCLF_HOME):

    1. ``model_dir`` is a folder holding a ``metadata.json`` that is valid
       against ``model_metadata.v1.json``;
    2. ``model_schema_hash`` equals the bundle's ``schema_hash``;
    3. ``model_label_set`` holds the same labels as the bundle's ``label_set``;
    4. ``calibrator_store_dir`` (when set) is a folder holding a ``store.json``
       valid against ``calibrator_store.v1.json``;
    5. the store's ``model_schema_hash`` (when set) equals the policy's, its
       ``model_bundle_id`` (when set) equals the bundle folder's name, and its
       ``method`` (when set) equals the policy's ``calibration_method``;
    6. every path, after resolving symlinks, stays inside TASKCLF_HOME.

    Raises:
        PolicyDiskCheckError: one or more checks failed; ``failures`` lists all
            of them, each naming the check, the file, expected and found values.
    """
    failures = check_policy_artifacts(policy, models_dir)
    if failures:
        raise PolicyDiskCheckError(failures)


def check_policy_artifacts(
    policy: InferencePolicy, models_dir: Path
) -> tuple[DiskCheckFailure, ...]:
    """Run every check of :func:`validate_policy`; return the failures (empty when all pass)."""
    home = home_of(models_dir)
    failures: list[DiskCheckFailure] = []
    metadata = _check_artifact(_BUNDLE, policy.model_dir, home, failures)
    if metadata is not None:
        _check_bundle_matches(policy, metadata, home, failures)
    if policy.calibrator_store_dir is not None:
        store = _check_artifact(_STORE, policy.calibrator_store_dir, home, failures)
        if store is not None:
            _check_store_matches(policy, store, home, failures)
    return tuple(failures)


def inside_home(home: Path, relative: str | Path) -> Path | None:
    """Resolve ``relative`` against ``home``; return it only if it stays inside ``home``.

    Symlinks are resolved first, so a link pointing out of TASKCLF_HOME is
    caught. Returns ``None`` for a path that escapes.
    """
    root = home.resolve()
    try:
        resolved = (root / relative).resolve()
    except (OSError, RuntimeError):
        # A symlink loop (RuntimeError before Python 3.13): nothing can be read
        # through it, so callers see a path that does not exist or cannot be opened.
        return root / relative
    return resolved if resolved.is_relative_to(root) else None


def read_artifact_document(
    path: Path, schema_name: str
) -> tuple[dict[str, Any] | None, str | None]:
    """Read the JSON file ``path`` and validate it against ``schema_name``.

    Returns ``(document, None)`` when it is valid and ``(None, reason)`` when it
    is missing, unreadable, not strict JSON or breaks its schema; ``reason``
    names the file and, for schema errors, every JSON pointer.
    """
    try:
        document = parse_json_bytes(read_file_bytes(path), source=path)
    except FileNotFoundError:
        return None, f"{path} does not exist"
    except JSONFileError as exc:
        return None, str(exc)
    issues = validate_document(schema_name, document)
    if issues:
        listed = "; ".join(str(issue) for issue in issues)
        return None, f"{path} is invalid against {schema_name}: {listed}"
    return document, None


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
    filename: str  # the file it must hold
    schema_name: str  # the schema of that file
    file_check: str  # name of the check on that file
    fix: str  # how to fix a missing folder


_BUNDLE = _Artifact(
    field="model_dir",
    check_prefix="model_dir",
    kind="model bundle",
    short="bundle",
    filename=METADATA_FILENAME,
    schema_name=MODEL_METADATA_SCHEMA,
    file_check="model_metadata",
    fix="point model_dir at an existing bundle (models/<run_id>)",
)
_STORE = _Artifact(
    field="calibrator_store_dir",
    check_prefix="calibrator_store",
    kind="calibrator store",
    short="store",
    filename=STORE_FILENAME,
    schema_name=CALIBRATOR_STORE_SCHEMA,
    file_check="calibrator_store",
    fix="fix the path or set calibrator_store_dir and calibration_method to null",
)


def _check_artifact(
    artifact: _Artifact, relative: str, home: Path, failures: list[DiskCheckFailure]
) -> dict[str, Any] | None:
    """Check the folder ``relative`` and read its file; record failures, return the file."""
    folder = inside_home(home, relative)
    if folder is None:
        failures.append(
            _failure(
                f"{artifact.check_prefix}_inside_home",
                home / relative,
                f"a folder inside {home}",
                str((home / relative).resolve()),
                f"{artifact.field} {relative} leads outside TASKCLF_HOME ({home}) through a "
                f"symbolic link; point it at a {artifact.short} folder inside TASKCLF_HOME",
            )
        )
        return None
    if not folder.is_dir():
        found = "a file" if folder.exists() else "nothing"
        failures.append(
            _failure(
                f"{artifact.check_prefix}_exists",
                folder,
                f"a {artifact.kind} folder",
                found,
                f"{artifact.field} {relative}: expected a {artifact.kind} folder at {folder}, "
                f"found {found}; {artifact.fix}",
            )
        )
        return None
    return _read_bound_file(
        folder, artifact.filename, artifact.schema_name, artifact.file_check, home, failures
    )


def _read_bound_file(
    folder: Path,
    filename: str,
    schema_name: str,
    check: str,
    home: Path,
    failures: list[DiskCheckFailure],
) -> dict[str, Any] | None:
    path = folder / filename
    resolved = inside_home(home, path)
    if resolved is None:
        failures.append(
            _failure(
                f"{check}_inside_home",
                path,
                f"a file inside {home}",
                str(path.resolve()),
                f"{path} is a symbolic link leading outside TASKCLF_HOME ({home}); "
                "replace it with the file itself",
            )
        )
        return None
    document, reason = read_artifact_document(resolved, schema_name)
    if document is None:
        failures.append(
            _failure(
                check,
                path,
                f"a {filename} valid against {schema_name}",
                reason,
                f"{reason}; fix or regenerate {filename}",
            )
        )
    return document


def _check_bundle_matches(
    policy: InferencePolicy,
    metadata: dict[str, Any],
    home: Path,
    failures: list[DiskCheckFailure],
) -> None:
    metadata_file = home / policy.model_dir / METADATA_FILENAME
    if metadata["schema_hash"] != policy.model_schema_hash:
        failures.append(
            _failure(
                "schema_hash_matches",
                metadata_file,
                policy.model_schema_hash,
                metadata["schema_hash"],
                f"model_schema_hash {policy.model_schema_hash!r} does not match schema_hash "
                f"{metadata['schema_hash']!r} in {metadata_file}; recreate the policy with "
                f"`taskclf policy create --model-dir {policy.model_dir}`",
            )
        )
    expected_labels = sorted(policy.model_label_set)
    found_labels = sorted(metadata["label_set"])
    if expected_labels != found_labels:
        failures.append(
            _failure(
                "label_set_matches",
                metadata_file,
                expected_labels,
                found_labels,
                f"model_label_set {expected_labels} does not match label_set {found_labels} "
                f"in {metadata_file}; recreate the policy with "
                f"`taskclf policy create --model-dir {policy.model_dir}`",
            )
        )


def _check_store_matches(
    policy: InferencePolicy,
    store: dict[str, Any],
    home: Path,
    failures: list[DiskCheckFailure],
) -> None:
    store_file = home / str(policy.calibrator_store_dir) / STORE_FILENAME
    store_hash = store.get("model_schema_hash")
    if store_hash is not None and store_hash != policy.model_schema_hash:
        failures.append(
            _failure(
                "store_schema_hash_matches",
                store_file,
                policy.model_schema_hash,
                store_hash,
                f"{store_file} was fitted for model_schema_hash {store_hash!r}, but the policy's "
                f"is {policy.model_schema_hash!r}; use the calibrator store fitted for this model",
            )
        )
    bundle_id = store.get("model_bundle_id")
    bundle_name = PurePosixPath(policy.model_dir).name
    if bundle_id is not None and bundle_id != bundle_name:
        failures.append(
            _failure(
                "store_bundle_matches",
                store_file,
                bundle_name,
                bundle_id,
                f"{store_file} was fitted for model bundle {bundle_id!r}, but the policy's "
                f"model_dir is {policy.model_dir}; use the calibrator store fitted for this model",
            )
        )
    method = store.get("method")
    if method is not None and method != policy.calibration_method:
        failures.append(
            _failure(
                "calibration_method_matches",
                store_file,
                method,
                policy.calibration_method,
                f"{store_file} calibrates with method {method!r}, but the policy's "
                f"calibration_method is {policy.calibration_method!r}; set it to {method!r}",
            )
        )
