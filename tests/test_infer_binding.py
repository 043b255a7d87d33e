"""Unit tests of :mod:`taskclf.infer.binding`: bundle + store + threshold, with their sources.

Every test uses a private copy of examples/home (conftest ``home``): run_001
(advisory threshold 0.6) has a calibrator store bound to it under
``artifacts/calibrator_store``; run_002 has no advisory threshold and no store.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from taskclf.core.artifacts import ModelMetadata
from taskclf.core.home import Home
from taskclf.core.inference_policy import DEFAULT_REJECT_THRESHOLD
from taskclf.core.policy_checks import inspect_policy_artifacts
from taskclf.infer.binding import (
    AUTO,
    BOUND_STORE,
    GIVEN,
    NO_STORE_FOUND,
    SCHEMA_DEFAULT,
    BindingError,
    PolicyBinding,
    bind_bundle,
)

from conftest import EXAMPLE_SCHEMA_HASH, write_json

STORE = "artifacts/calibrator_store"


@pytest.fixture
def door(home: Path) -> Home:
    return Home.at(home)


class TestStorePrecedence:
    """Store: the one named > AUTO (a store under artifacts/ that explicitly binds) > none."""

    def test_auto_finds_the_bound_store(self, door: Home) -> None:
        binding = bind_bundle(door, "models/run_001")
        assert binding.store_dir == STORE
        assert binding.store_from == BOUND_STORE
        assert binding.store is not None
        assert binding.store.model_bundle_id == "run_001"
        assert binding.calibration_method == "temperature"

    def test_auto_finds_nothing(self, door: Home) -> None:
        binding = bind_bundle(door, "models/run_002", store=AUTO)
        assert binding.store_dir is None
        assert binding.store is None
        assert binding.store_from == NO_STORE_FOUND
        assert binding.calibration_method is None

    def test_auto_never_picks_a_store_naming_no_model(self, door: Home, home: Path) -> None:
        write_json(home / "artifacts" / "legacy" / "store.json", {"method": "isotonic"})
        binding = bind_bundle(door, "models/run_002")
        assert binding.store_dir is None

    def test_auto_picks_a_schema_hash_match(self, door: Home, home: Path) -> None:
        write_json(
            home / "artifacts" / "by_hash" / "store.json",
            {"method": "isotonic", "model_schema_hash": EXAMPLE_SCHEMA_HASH},
        )
        binding = bind_bundle(door, "models/run_002")
        assert binding.store_dir == "artifacts/by_hash"
        assert binding.calibration_method == "isotonic"

    def test_auto_prefers_a_bundle_id_match(self, door: Home, home: Path) -> None:
        write_json(
            home / "artifacts" / "a_by_hash" / "store.json",
            {"method": "isotonic", "model_schema_hash": EXAMPLE_SCHEMA_HASH},
        )
        write_json(
            home / "artifacts" / "z_by_id" / "store.json",
            {"method": "temperature", "model_bundle_id": "run_002"},
        )
        assert bind_bundle(door, "models/run_002").store_dir == "artifacts/z_by_id"

    def test_auto_skips_a_store_for_another_bundle(self, door: Home, home: Path) -> None:
        write_json(
            home / "artifacts" / "for_001" / "store.json",
            {"method": "isotonic", "model_bundle_id": "run_001"},
        )
        assert bind_bundle(door, "models/run_002").store_dir is None

    def test_none_asked_for(self, door: Home) -> None:
        binding = bind_bundle(door, "models/run_001", store=None)
        assert binding.store_dir is None
        assert binding.store_from == "none asked for"
        assert bind_bundle(
            door, "models/run_001", store=None, store_from="--no-calibrator"
        ).store_from == ("--no-calibrator")

    def test_named_store_wins_over_auto(self, door: Home, home: Path) -> None:
        write_json(home / "artifacts" / "mine" / "store.json", {"method": "isotonic"})
        binding = bind_bundle(door, "models/run_001", store="artifacts/mine")
        assert binding.store_dir == "artifacts/mine"
        assert binding.store_from == GIVEN
        assert binding.calibration_method == "isotonic"

    def test_named_store_with_own_words(self, door: Home) -> None:
        binding = bind_bundle(door, "models/run_001", store=STORE, store_from="the old policy")
        assert binding.store_from == "the old policy"

    def test_named_legacy_store_binds(self, door: Home, home: Path) -> None:
        # A store naming no model (and no users), with the global calibrator every store has.
        write_json(home / "artifacts" / "legacy" / "store.json", {"method": "temperature"})
        write_json(
            home / "artifacts" / "legacy" / "global.json",
            {"type": "temperature", "temperature": 1.5},
        )
        binding = bind_bundle(door, "models/run_002", store="artifacts/legacy")
        assert binding.disk_check(binding.policy(), door) == ()

    def test_named_store_for_another_bundle_binds_but_fails_the_disk_check(
        self, door: Home
    ) -> None:
        binding = bind_bundle(door, "models/run_002", store=STORE)
        assert binding.store_dir == STORE
        checks = [failure.check for failure in binding.disk_check(binding.policy(), door)]
        assert checks == ["store_bundle_matches"]

    def test_without_store(self, door: Home) -> None:
        binding = bind_bundle(door, "models/run_001").without_store("dropped: reasons")
        assert binding.store_dir is None
        assert binding.store is None
        assert binding.store_from == "dropped: reasons"
        assert binding.reject_threshold == 0.6
        assert binding.policy().calibration_method is None


class TestThresholdPrecedence:
    """Threshold: the one given > the bundle's advisory reject_threshold > the schema default."""

    def test_given(self, door: Home) -> None:
        binding = bind_bundle(door, "models/run_001", reject_threshold=0.7)
        assert (binding.reject_threshold, binding.threshold_from) == (0.7, GIVEN)

    def test_given_zero_is_given(self, door: Home) -> None:
        binding = bind_bundle(door, "models/run_001", reject_threshold=0.0)
        assert (binding.reject_threshold, binding.threshold_from) == (0.0, GIVEN)

    def test_bundle_advisory(self, door: Home) -> None:
        binding = bind_bundle(door, "models/run_001")
        assert binding.reject_threshold == 0.6
        assert binding.threshold_from == "models/run_001/metadata.json"

    def test_schema_default(self, door: Home) -> None:
        binding = bind_bundle(door, "models/run_002")
        assert binding.reject_threshold == DEFAULT_REJECT_THRESHOLD
        assert binding.threshold_from == SCHEMA_DEFAULT

    def test_policy_threshold_override(self, door: Home) -> None:
        binding = bind_bundle(door, "models/run_001")
        assert binding.policy(reject_threshold=0.33).reject_threshold == 0.33
        assert binding.policy().reject_threshold == 0.6

    def test_metadata_given_is_used_instead_of_reading(self, door: Home, home: Path) -> None:
        metadata = ModelMetadata.read(door, "models/run_001")
        metadata = dataclasses.replace(metadata, reject_threshold=0.42)
        (home / "models" / "run_001" / "metadata.json").unlink()
        binding = bind_bundle(door, "models/run_001", metadata=metadata)
        assert binding.reject_threshold == 0.42
        assert binding.metadata is metadata


class TestBindingError:
    """BindingError says which part failed (field) and names the file."""

    def test_missing_bundle(self, door: Home) -> None:
        with pytest.raises(BindingError) as caught:
            bind_bundle(door, "models/run_404")
        assert caught.value.field == "model_dir"
        assert "models/run_404/metadata.json does not exist" in caught.value.message

    def test_invalid_metadata(self, door: Home, home: Path) -> None:
        (home / "models" / "run_001" / "metadata.json").write_text("{}")
        with pytest.raises(BindingError) as caught:
            bind_bundle(door, "models/run_001")
        assert caught.value.field == "model_dir"
        assert "is invalid against model_metadata.v1.json" in caught.value.message

    def test_missing_named_store(self, door: Home) -> None:
        with pytest.raises(BindingError) as caught:
            bind_bundle(door, "models/run_001", store="artifacts/nope")
        assert caught.value.field == "calibrator_store_dir"
        assert "artifacts/nope/store.json does not exist" in caught.value.message

    def test_bundle_outside_the_home(self, door: Home, home: Path, tmp_path: Path) -> None:
        outside = tmp_path / "outside_bundle"
        write_json(outside / "metadata.json", {"schema_hash": "x", "label_set": ["a"]})
        (home / "models" / "evil").symlink_to(outside)
        with pytest.raises(BindingError) as caught:
            bind_bundle(door, "models/evil")
        assert caught.value.field == "model_dir"
        assert "outside TASKCLF_HOME" in caught.value.message

    def test_store_outside_the_home(self, door: Home, home: Path, tmp_path: Path) -> None:
        outside = tmp_path / "outside_store"
        write_json(outside / "store.json", {"method": "isotonic"})
        (home / "artifacts" / "evil").symlink_to(outside)
        with pytest.raises(BindingError) as caught:
            bind_bundle(door, "models/run_001", store="artifacts/evil")
        assert caught.value.field == "calibrator_store_dir"


class TestDiskCheckUsesTheDocumentsRead:
    """disk_check checks the documents bind_bundle read; it does not read the files again."""

    def test_valid_after_store_json_is_deleted(self, door: Home, home: Path) -> None:
        binding = bind_bundle(door, "models/run_001")
        policy = binding.policy()
        (home / STORE / "store.json").unlink()
        assert binding.disk_check(policy, door) == ()
        # Reading again would have failed: the check really did not re-read it.
        fresh = inspect_policy_artifacts(policy, door).failures
        assert [failure.check for failure in fresh] == ["calibrator_store"]

    def test_valid_after_metadata_json_changes(self, door: Home, home: Path) -> None:
        binding = bind_bundle(door, "models/run_001")
        policy = binding.policy()
        write_json(
            home / "models" / "run_001" / "metadata.json",
            {"schema_hash": "changed", "label_set": ["x"]},
        )
        assert binding.disk_check(policy, door) == ()
        assert inspect_policy_artifacts(policy, door).failures

    def test_policy_fields(self, door: Home) -> None:
        binding = bind_bundle(door, "models/run_001")
        policy = binding.policy(source="test")
        assert policy.model_dir == "models/run_001"
        assert policy.model_schema_hash == EXAMPLE_SCHEMA_HASH
        assert sorted(policy.model_label_set) == ["browse", "code", "meeting", "write"]
        assert policy.calibrator_store_dir == STORE
        assert policy.calibration_method == "temperature"
        assert policy.reject_threshold == 0.6
        assert policy.source == "test"

    def test_binding_is_frozen(self, door: Home) -> None:
        binding = bind_bundle(door, "models/run_001")
        assert isinstance(binding, PolicyBinding)
        with pytest.raises(dataclasses.FrozenInstanceError):
            binding.store_dir = None  # type: ignore[misc]
