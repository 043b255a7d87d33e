"""Tests for :func:`validate_policy`: a policy checked against real artifact folders.

Each failure names the check, the file, and what was expected and found, both
on :attr:`PolicyDiskCheckError.failures` and in its ``details``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from taskclf.core.inference_policy import (
    DiskCheckFailure,
    InferencePolicy,
    PolicyDiskCheckError,
    PolicyValidationError,
    check_policy_artifacts,
    validate_policy,
)

from conftest import EXAMPLE_LABELS, EXAMPLE_SCHEMA_HASH, EXAMPLE_STORE_DIR, write_json


def _policy(document: dict[str, Any], **changes: Any) -> InferencePolicy:
    return InferencePolicy.from_dict({**document, **changes})


def _uncalibrated(document: dict[str, Any], **changes: Any) -> InferencePolicy:
    return _policy(document, calibrator_store_dir=None, calibration_method=None, **changes)


def _single_failure(policy: InferencePolicy, models_dir: Path) -> DiskCheckFailure:
    with pytest.raises(PolicyDiskCheckError) as caught:
        validate_policy(policy, models_dir)
    error = caught.value
    assert isinstance(error, PolicyValidationError)
    assert len(error.failures) == 1, error.message
    (failure,) = error.failures
    assert error.details["failures"] == [failure.to_dict()]
    # Beside ours, the original taskclf's keys (model_dir, policy_hash, ...); see test_dropin.
    assert set(error.details) <= {
        "failures",
        "model_dir",
        "calibrator_store_dir",
        "policy_hash",
        "bundle_hash",
        "store_schema_hash",
        "policy_schema_hash",
    }
    assert failure.message in error.message
    assert check_policy_artifacts(policy, models_dir) == error.failures
    return failure


def _same_path(found: str | Path, expected: Path) -> bool:
    return Path(found).resolve() == expected.resolve()


class TestPasses:
    """The example home's run_001 with its calibrator store is a consistent policy."""

    def test_example_home(self, models_dir: Path, policy_document: dict[str, Any]) -> None:
        policy = _policy(policy_document)
        validate_policy(policy, models_dir)  # raises on any failure
        assert check_policy_artifacts(policy, models_dir) == ()

    def test_without_calibrator(self, models_dir: Path, policy_document: dict[str, Any]) -> None:
        policy = _uncalibrated(policy_document)
        assert check_policy_artifacts(policy, models_dir) == ()
        other = _uncalibrated(policy_document, model_dir="models/run_002")
        assert check_policy_artifacts(other, models_dir) == ()

    def test_label_order_ignored(self, models_dir: Path, policy_document: dict[str, Any]) -> None:
        policy = _policy(policy_document, model_label_set=EXAMPLE_LABELS[::-1])
        assert check_policy_artifacts(policy, models_dir) == ()

    def test_store_without_bindings(
        self, home: Path, models_dir: Path, policy_document: dict[str, Any]
    ) -> None:
        write_json(home / EXAMPLE_STORE_DIR / "store.json", {"temperature": 1.2})
        assert check_policy_artifacts(_policy(policy_document), models_dir) == ()

    def test_symlink_inside_home(
        self, home: Path, models_dir: Path, policy_document: dict[str, Any]
    ) -> None:
        (models_dir / "current").symlink_to(models_dir / "run_001", target_is_directory=True)
        policy = _uncalibrated(policy_document, model_dir="models/current")
        assert check_policy_artifacts(policy, models_dir) == ()

    def test_home_reached_through_a_symlink(
        self, tmp_path: Path, home: Path, policy_document: dict[str, Any]
    ) -> None:
        link = tmp_path / "home-link"
        link.symlink_to(home, target_is_directory=True)
        assert check_policy_artifacts(_policy(policy_document), link / "models") == ()


class TestBundle:
    """model_dir must be a bundle folder with a metadata.json valid against its schema."""

    def test_missing_model_dir(
        self, home: Path, models_dir: Path, policy_document: dict[str, Any]
    ) -> None:
        policy = _uncalibrated(policy_document, model_dir="models/run_404")
        failure = _single_failure(policy, models_dir)
        assert failure.check == "model_dir_exists"
        assert _same_path(failure.file, home / "models" / "run_404")
        assert (failure.expected, failure.found) == ("a model bundle folder", "nothing")
        assert "models/run_404" in failure.message

    def test_model_dir_is_a_file(
        self, home: Path, models_dir: Path, policy_document: dict[str, Any]
    ) -> None:
        (models_dir / "run_file").write_text("x", encoding="utf-8")
        policy = _uncalibrated(policy_document, model_dir="models/run_file")
        failure = _single_failure(policy, models_dir)
        assert failure.check == "model_dir_exists"
        assert _same_path(failure.file, models_dir / "run_file")
        assert (failure.expected, failure.found) == ("a model bundle folder", "a file")

    def test_missing_metadata(self, models_dir: Path, policy_document: dict[str, Any]) -> None:
        (models_dir / "run_001" / "metadata.json").unlink()
        failure = _single_failure(_policy(policy_document), models_dir)
        assert failure.check == "model_metadata"
        assert _same_path(failure.file, models_dir / "run_001" / "metadata.json")
        assert "model_metadata.v1.json" in failure.expected
        assert "does not exist" in failure.found

    def test_metadata_invalid_json(self, models_dir: Path, policy_document: dict[str, Any]) -> None:
        metadata = models_dir / "run_001" / "metadata.json"
        metadata.write_text('{"schema_hash": "f3a9c2d1e8b7",', encoding="utf-8")
        failure = _single_failure(_policy(policy_document), models_dir)
        assert failure.check == "model_metadata"
        assert _same_path(failure.file, metadata)
        assert failure.found.startswith("models/run_001/metadata.json is not valid JSON")
        assert "is not valid JSON" in failure.found

    @pytest.mark.parametrize(
        ("document", "pointer"),
        [
            ({"schema_hash": EXAMPLE_SCHEMA_HASH}, "/label_set"),
            ({"label_set": EXAMPLE_LABELS}, "/schema_hash"),
            ({"schema_hash": EXAMPLE_SCHEMA_HASH, "label_set": "code"}, "/label_set"),
            ({"schema_hash": 7, "label_set": EXAMPLE_LABELS}, "/schema_hash"),
            ([EXAMPLE_SCHEMA_HASH, EXAMPLE_LABELS], "(root)"),
        ],
    )
    def test_metadata_breaks_schema(
        self, models_dir: Path, policy_document: dict[str, Any], document: Any, pointer: str
    ) -> None:
        metadata = write_json(models_dir / "run_001" / "metadata.json", document)
        failure = _single_failure(_policy(policy_document), models_dir)
        assert failure.check == "model_metadata"
        assert _same_path(failure.file, metadata)
        assert "model_metadata.v1.json" in failure.found
        assert f"{pointer}:" in failure.found

    def test_metadata_nan(self, models_dir: Path, policy_document: dict[str, Any]) -> None:
        metadata = models_dir / "run_001" / "metadata.json"
        metadata.write_text(
            '{"schema_hash": "f3a9c2d1e8b7", "label_set": ["a"], "reject_threshold": NaN}',
            encoding="utf-8",
        )
        failure = _single_failure(_policy(policy_document), models_dir)
        assert failure.check == "model_metadata"
        assert "NaN is not valid JSON" in failure.found

    def test_schema_hash_mismatch(
        self, models_dir: Path, policy_document: dict[str, Any], make_bundle: Callable[..., Path]
    ) -> None:
        bundle = make_bundle(models_dir, "run_003", schema_hash="0000aaaa")
        policy = _uncalibrated(policy_document, model_dir="models/run_003")
        failure = _single_failure(policy, models_dir)
        assert failure.check == "schema_hash_matches"
        assert _same_path(failure.file, bundle / "metadata.json")
        assert (failure.expected, failure.found) == (EXAMPLE_SCHEMA_HASH, "0000aaaa")
        assert "taskclf policy create --model-dir models/run_003" in failure.message

    def test_label_set_mismatch(
        self, models_dir: Path, policy_document: dict[str, Any], make_bundle: Callable[..., Path]
    ) -> None:
        bundle = make_bundle(models_dir, "run_003", labels=["write", "code", "idle"])
        policy = _uncalibrated(
            policy_document, model_dir="models/run_003", model_label_set=["write", "code", "browse"]
        )
        failure = _single_failure(policy, models_dir)
        assert failure.check == "label_set_matches"
        assert _same_path(failure.file, bundle / "metadata.json")
        assert failure.expected == ["browse", "code", "write"]
        assert failure.found == ["code", "idle", "write"]

    def test_label_subset_is_a_mismatch(
        self, models_dir: Path, policy_document: dict[str, Any]
    ) -> None:
        policy = _policy(policy_document, model_label_set=EXAMPLE_LABELS[:-1])
        failure = _single_failure(policy, models_dir)
        assert failure.check == "label_set_matches"
        assert failure.found == sorted(EXAMPLE_LABELS)


class TestStore:
    """calibrator_store_dir must be a store folder whose store.json binds to this model."""

    def test_missing_store(
        self, home: Path, models_dir: Path, policy_document: dict[str, Any]
    ) -> None:
        policy = _policy(policy_document, calibrator_store_dir="artifacts/nowhere")
        failure = _single_failure(policy, models_dir)
        assert failure.check == "calibrator_store_exists"
        assert _same_path(failure.file, home / "artifacts" / "nowhere")
        assert (failure.expected, failure.found) == ("a calibrator store folder", "nothing")

    def test_store_is_a_file(
        self, home: Path, models_dir: Path, policy_document: dict[str, Any]
    ) -> None:
        (home / "artifacts" / "store_file").write_text("x", encoding="utf-8")
        failure = _single_failure(
            _policy(policy_document, calibrator_store_dir="artifacts/store_file"), models_dir
        )
        assert failure.check == "calibrator_store_exists"
        assert failure.found == "a file"

    def test_store_without_store_json(
        self, home: Path, models_dir: Path, policy_document: dict[str, Any]
    ) -> None:
        store_json = home / EXAMPLE_STORE_DIR / "store.json"
        store_json.unlink()
        failure = _single_failure(_policy(policy_document), models_dir)
        assert failure.check == "calibrator_store"
        assert _same_path(failure.file, store_json)
        assert "calibrator_store.v1.json" in failure.expected
        assert "does not exist" in failure.found

    def test_store_json_breaks_schema(
        self, home: Path, models_dir: Path, policy_document: dict[str, Any]
    ) -> None:
        write_json(home / EXAMPLE_STORE_DIR / "store.json", {"method": "platt"})
        failure = _single_failure(_policy(policy_document), models_dir)
        assert failure.check == "calibrator_store"
        assert "/method:" in failure.found

    def _rewrite_store(self, home: Path, **changes: Any) -> Path:
        path = home / EXAMPLE_STORE_DIR / "store.json"
        store = json.loads(path.read_text(encoding="utf-8"))
        return write_json(path, {**store, **changes})

    def test_store_schema_hash_mismatch(
        self, home: Path, models_dir: Path, policy_document: dict[str, Any]
    ) -> None:
        store_json = self._rewrite_store(home, model_schema_hash="0000aaaa")
        failure = _single_failure(_policy(policy_document), models_dir)
        assert failure.check == "store_schema_hash_matches"
        assert _same_path(failure.file, store_json)
        assert (failure.expected, failure.found) == (EXAMPLE_SCHEMA_HASH, "0000aaaa")

    def test_store_bound_to_another_bundle(
        self, home: Path, models_dir: Path, policy_document: dict[str, Any]
    ) -> None:
        # run_002 has the same schema hash and labels; the store names run_001.
        failure = _single_failure(_policy(policy_document, model_dir="models/run_002"), models_dir)
        assert failure.check == "store_bundle_matches"
        assert _same_path(failure.file, home / EXAMPLE_STORE_DIR / "store.json")
        assert (failure.expected, failure.found) == ("run_002", "run_001")

    def test_store_method_mismatch(
        self, home: Path, models_dir: Path, policy_document: dict[str, Any]
    ) -> None:
        failure = _single_failure(
            _policy(policy_document, calibration_method="isotonic"), models_dir
        )
        assert failure.check == "calibration_method_matches"
        assert _same_path(failure.file, home / EXAMPLE_STORE_DIR / "store.json")
        assert (failure.expected, failure.found) == ("temperature", "isotonic")
        assert failure.message.startswith(
            'Calibration method mismatch: policy has "isotonic", store has "temperature"'
        )

    def test_null_method_means_the_stores_own(
        self, models_dir: Path, policy_document: dict[str, Any]
    ) -> None:
        # build_inference_policy(calibrator_store_dir=...) in the original writes exactly this.
        policy = _policy(policy_document, calibration_method=None)
        assert check_policy_artifacts(policy, models_dir) == ()

    def test_every_failure_reported(
        self, home: Path, models_dir: Path, policy_document: dict[str, Any]
    ) -> None:
        self._rewrite_store(home, model_schema_hash="0000aaaa", method="isotonic")
        policy = _policy(policy_document, model_dir="models/run_002", model_label_set=["x"])
        with pytest.raises(PolicyDiskCheckError) as caught:
            validate_policy(policy, models_dir)
        checks = [f.check for f in caught.value.failures]
        assert checks == [
            "label_set_matches",
            "store_schema_hash_matches",
            "store_bundle_matches",
            "calibration_method_matches",
        ]
        assert [f["check"] for f in caught.value.details["failures"]] == checks
        assert caught.value.message.startswith(
            "inference policy does not match the artifacts on disk (4):"
        )


class TestOutsideHome:
    """Paths may not lead out of TASKCLF_HOME through symbolic links."""

    def test_model_dir_symlink_outside(
        self,
        tmp_path: Path,
        models_dir: Path,
        policy_document: dict[str, Any],
        make_bundle: Callable[..., Path],
    ) -> None:
        outside = make_bundle(tmp_path / "elsewhere", "run_x")
        (models_dir / "run_link").symlink_to(outside, target_is_directory=True)
        policy = _uncalibrated(policy_document, model_dir="models/run_link")
        failure = _single_failure(policy, models_dir)
        assert failure.check == "model_dir_inside_home"
        assert failure.file == str(models_dir.parent / "models" / "run_link")
        assert str(models_dir.parent.resolve()) in failure.expected
        assert failure.found == str(outside.resolve())

    def test_metadata_symlink_outside(
        self, tmp_path: Path, models_dir: Path, policy_document: dict[str, Any]
    ) -> None:
        outside = write_json(
            tmp_path / "elsewhere" / "metadata.json",
            {"schema_hash": EXAMPLE_SCHEMA_HASH, "label_set": EXAMPLE_LABELS},
        )
        metadata = models_dir / "run_001" / "metadata.json"
        metadata.unlink()
        metadata.symlink_to(outside)
        failure = _single_failure(_policy(policy_document), models_dir)
        assert failure.check == "model_metadata_inside_home"
        assert _same_path(Path(failure.file).parent, metadata.parent)
        assert Path(failure.file).name == "metadata.json"
        assert failure.found == str(outside.resolve())

    def test_store_symlink_outside(
        self, tmp_path: Path, home: Path, models_dir: Path, policy_document: dict[str, Any]
    ) -> None:
        outside = tmp_path / "elsewhere-store"
        (home / EXAMPLE_STORE_DIR).rename(outside)
        (home / EXAMPLE_STORE_DIR).symlink_to(outside, target_is_directory=True)
        failure = _single_failure(_policy(policy_document), models_dir)
        assert failure.check == "calibrator_store_inside_home"
        assert failure.found == str(outside.resolve())

    def test_symlink_loops_are_failures(
        self, models_dir: Path, policy_document: dict[str, Any]
    ) -> None:
        (models_dir / "loop").symlink_to(models_dir / "loop")
        policy = _uncalibrated(policy_document, model_dir="models/loop")
        assert _single_failure(policy, models_dir).check == "model_dir_exists"
        metadata = models_dir / "run_001" / "metadata.json"
        metadata.unlink()
        metadata.symlink_to(metadata)
        failure = _single_failure(_policy(policy_document), models_dir)
        assert failure.check == "model_metadata"
        assert "symbolic links" in failure.found
