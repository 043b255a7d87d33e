"""Tests of taskclf.model_registry.find_bound_calibrator_store."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from taskclf.model_registry import MAX_STORE_SEARCH_DEPTH, find_bound_calibrator_store

from conftest import EXAMPLE_SCHEMA_HASH, write_json


def store(home: Path, folder: str, **fields: Any) -> Path:
    return write_json(home / folder / "store.json", {"method": "temperature", **fields})


class TestFindBoundCalibratorStore:
    """Only stores that bind to the bundle or its schema count; bundle id beats schema hash."""

    def test_example_store_binds_run_001(self, home: Path) -> None:
        assert (
            find_bound_calibrator_store(home, "run_001", EXAMPLE_SCHEMA_HASH)
            == "artifacts/calibrator_store"
        )

    def test_store_bound_to_another_bundle_is_not_used(self, home: Path) -> None:
        # The example store names run_001: it would fail the policy's disk checks.
        assert find_bound_calibrator_store(home, "run_002", EXAMPLE_SCHEMA_HASH) is None

    def test_no_artifacts_folder(self, tmp_path: Path) -> None:
        assert find_bound_calibrator_store(tmp_path, "run_001", EXAMPLE_SCHEMA_HASH) is None

    def test_bundle_id_match_beats_schema_hash_match(self, home: Path) -> None:
        store(home, "artifacts/calibrator_store", model_schema_hash=EXAMPLE_SCHEMA_HASH)
        store(home, "artifacts/stores/run_002", model_bundle_id="run_002")
        assert (
            find_bound_calibrator_store(home, "run_002", EXAMPLE_SCHEMA_HASH)
            == "artifacts/stores/run_002"
        )

    def test_conventional_folder_wins_among_equal_matches(self, home: Path) -> None:
        store(
            home,
            "artifacts/calibrator_store",
            model_schema_hash=EXAMPLE_SCHEMA_HASH,
            created_at="2026-01-01T00:00:00+00:00",
        )
        store(
            home,
            "artifacts/newer",
            model_schema_hash=EXAMPLE_SCHEMA_HASH,
            created_at="2026-03-01T00:00:00+00:00",
        )
        assert (
            find_bound_calibrator_store(home, "run_002", EXAMPLE_SCHEMA_HASH)
            == "artifacts/calibrator_store"
        )

    def test_newest_created_at_wins_otherwise(self, home: Path) -> None:
        shutil.rmtree(home / "artifacts" / "calibrator_store")
        for name, created in [
            ("a_old", "2026-01-01T00:00:00+00:00"),
            ("b_new", "2026-03-01T00:00:00Z"),
            ("c_mid", "2026-02-01T00:00:00+00:00"),
        ]:
            store(
                home,
                f"artifacts/{name}",
                model_schema_hash=EXAMPLE_SCHEMA_HASH,
                created_at=created,
            )
        store(home, "artifacts/d_undated", model_schema_hash=EXAMPLE_SCHEMA_HASH)
        assert (
            find_bound_calibrator_store(home, "run_002", EXAMPLE_SCHEMA_HASH) == "artifacts/b_new"
        )

    @pytest.mark.parametrize(
        "fields",
        [
            {},  # binds to nothing
            {"model_schema_hash": "other"},
            {"model_bundle_id": "run_002", "model_schema_hash": "other"},
            {"model_bundle_id": "run_009", "model_schema_hash": EXAMPLE_SCHEMA_HASH},
            {"model_bundle_id": "run_002", "method": "platt"},  # breaks the schema
        ],
    )
    def test_unbound_conflicting_or_invalid_stores_are_ignored(
        self, home: Path, fields: dict[str, Any]
    ) -> None:
        store(home, "artifacts/candidate", **fields)
        assert find_bound_calibrator_store(home, "run_002", EXAMPLE_SCHEMA_HASH) is None

    def test_unreadable_store_is_ignored(self, home: Path) -> None:
        path = home / "artifacts" / "broken" / "store.json"
        path.parent.mkdir(parents=True)
        path.write_text('{"model_bundle_id": "run_002",', encoding="utf-8")
        assert find_bound_calibrator_store(home, "run_002", EXAMPLE_SCHEMA_HASH) is None

    def test_symlinked_folders_are_not_followed(self, tmp_path: Path, home: Path) -> None:
        outside = tmp_path / "outside"
        store(outside, "evil", model_bundle_id="run_002")
        (home / "artifacts" / "link").symlink_to(outside / "evil", target_is_directory=True)
        assert find_bound_calibrator_store(home, "run_002", EXAMPLE_SCHEMA_HASH) is None

    def test_store_file_leading_out_of_home_is_ignored(self, tmp_path: Path, home: Path) -> None:
        secret = store(tmp_path / "outside", "evil", model_bundle_id="run_002")
        folder = home / "artifacts" / "local"
        folder.mkdir()
        (folder / "store.json").symlink_to(secret)
        assert find_bound_calibrator_store(home, "run_002", EXAMPLE_SCHEMA_HASH) is None

    def test_conventional_store_symlinked_out_of_home_is_ignored(
        self, tmp_path: Path, home: Path
    ) -> None:
        shutil.rmtree(home / "artifacts" / "calibrator_store")
        store(tmp_path / "outside", "evil", model_bundle_id="run_001")
        (home / "artifacts" / "calibrator_store").symlink_to(
            tmp_path / "outside" / "evil", target_is_directory=True
        )
        assert find_bound_calibrator_store(home, "run_001", EXAMPLE_SCHEMA_HASH) is None

    def test_search_depth_is_bounded(self, home: Path) -> None:
        deep = "/".join(f"d{level}" for level in range(MAX_STORE_SEARCH_DEPTH + 1))
        store(home, f"artifacts/{deep}", model_bundle_id="run_002")
        assert find_bound_calibrator_store(home, "run_002", EXAMPLE_SCHEMA_HASH) is None
        shallow = "/".join(f"d{level}" for level in range(MAX_STORE_SEARCH_DEPTH))
        store(home, f"artifacts/{shallow}", model_bundle_id="run_002")
        assert find_bound_calibrator_store(home, "run_002", EXAMPLE_SCHEMA_HASH) == (
            f"artifacts/{shallow}"
        )
