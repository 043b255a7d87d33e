"""Tests of taskclf.model_registry: bundle scan, compatibility, selection and active.json."""

from __future__ import annotations

import dataclasses
import itertools
import json
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from taskclf.model_registry import (
    ActivePointer,
    ActivePointerError,
    BundleRecord,
    InvalidBundleError,
    active_history_path,
    active_path,
    compatibility_reason,
    rank_bundles,
    read_active,
    read_active_pointer,
    read_bundle,
    scan_bundles,
    select_best_model,
    write_active_atomic,
)

from conftest import EXAMPLE_LABELS, EXAMPLE_SCHEMA_HASH, write_json

MakeBundle = Callable[..., Path]


def metrics(macro: float, weighted: float = 0.8, **extra: Any) -> dict[str, Any]:
    return {"macro_f1": macro, "weighted_f1": weighted, **extra}


class TestScan:
    """Each sub-folder of models/ becomes one record; broken ones never abort the scan."""

    def test_example_home_has_two_valid_bundles(self, models_dir: Path) -> None:
        records = scan_bundles(models_dir)
        assert [record.bundle_id for record in records] == ["run_001", "run_002"]
        first = records[0]
        assert first.valid and first.reason is None
        assert first.model_dir == "models/run_001"
        assert first.path == models_dir / "run_001"
        assert first.schema_hash == EXAMPLE_SCHEMA_HASH
        assert first.label_set == tuple(EXAMPLE_LABELS)
        assert first.macro_f1 == 0.812 and first.weighted_f1 == 0.846
        assert first.created_at == "2026-01-15T09:30:00+00:00"
        assert first.metrics is not None and first.metrics["accuracy"] == 0.851
        assert first.metadata is not None
        assert first.metadata["train_range"]["from"] == "2025-12-01"

    def test_broken_bundles_are_recorded_with_their_reason(
        self, models_dir: Path, make_bundle: MakeBundle
    ) -> None:
        make_bundle(models_dir, "no_metrics")
        make_bundle(models_dir, "bad_metrics", metrics={"macro_f1": 1.5, "weighted_f1": 0.5})
        make_bundle(models_dir, "short_metrics", metrics={"macro_f1": 0.5})
        bad_json = models_dir / "bad_json"
        bad_json.mkdir()
        (bad_json / "metadata.json").write_text("{not json", encoding="utf-8")
        (models_dir / "empty").mkdir()
        make_bundle(models_dir, "no_labels", metrics=metrics(0.5))
        write_json(
            models_dir / "no_labels" / "metadata.json", {"schema_hash": "h", "label_set": []}
        )

        by_id = {record.bundle_id: record for record in scan_bundles(models_dir)}

        assert by_id["run_001"].valid and by_id["run_002"].valid
        assert by_id["no_metrics"].reason == "models/no_metrics/metrics.json does not exist"
        assert by_id["no_metrics"].metadata is not None  # what could be read is kept
        assert by_id["bad_metrics"].reason == (
            "models/bad_metrics/metrics.json is invalid against model_metrics.v1.json: "
            "/macro_f1: 1.5 is greater than the maximum of 1 (expected a probability between "
            "0 and 1)"
        )
        assert by_id["short_metrics"].reason is not None
        assert '/weighted_f1: "weighted_f1" is required but missing' in (
            by_id["short_metrics"].reason
        )
        assert by_id["bad_json"].reason is not None
        assert by_id["bad_json"].reason.startswith(
            "models/bad_json/metadata.json is not valid JSON"
        )
        assert by_id["empty"].reason == "models/empty/metadata.json does not exist"
        assert by_id["no_labels"].reason is not None
        assert "/label_set" in by_id["no_labels"].reason
        for bundle_id in ("no_metrics", "bad_metrics", "short_metrics", "bad_json", "empty"):
            assert not by_id[bundle_id].valid

    def test_extra_metrics_are_tolerated(self, models_dir: Path, make_bundle: MakeBundle) -> None:
        make_bundle(models_dir, "run_003", metrics=metrics(0.7, per_class={"code": 0.9}))
        record = read_bundle(models_dir / "run_003", home=models_dir.parent)
        assert record.valid
        assert record.metrics is not None and record.metrics["per_class"]["code"] == 0.9

    def test_files_and_hidden_folders_are_not_bundles(
        self, models_dir: Path, make_bundle: MakeBundle
    ) -> None:
        write_json(models_dir / "active.json", {"model_dir": "models/run_001"})
        (models_dir / "notes.txt").write_text("hello", encoding="utf-8")
        make_bundle(models_dir, ".tmp_run", metrics=metrics(0.99))
        assert [record.bundle_id for record in scan_bundles(models_dir)] == [
            "run_001",
            "run_002",
        ]

    def test_missing_models_dir_has_no_bundles(self, tmp_path: Path) -> None:
        assert scan_bundles(tmp_path / "nowhere" / "models") == ()

    def test_symlink_out_of_home_is_refused(
        self, tmp_path: Path, models_dir: Path, make_bundle: MakeBundle
    ) -> None:
        outside = make_bundle(tmp_path / "elsewhere", "stolen", metrics=metrics(0.99))
        (models_dir / "stolen").symlink_to(outside, target_is_directory=True)
        record = next(r for r in scan_bundles(models_dir) if r.bundle_id == "stolen")
        assert not record.valid and record.metadata is None
        assert record.reason is not None and "leads outside TASKCLF_HOME" in record.reason

    def test_symlinked_file_out_of_home_is_refused(
        self, tmp_path: Path, models_dir: Path, make_bundle: MakeBundle
    ) -> None:
        secret = write_json(tmp_path / "secret.json", metrics(0.99))
        bundle = make_bundle(models_dir, "run_003")
        (bundle / "metrics.json").symlink_to(secret)
        record = read_bundle(bundle, home=models_dir.parent)
        assert not record.valid
        assert record.reason == (
            "models/run_003/metrics.json is a symbolic link leading outside TASKCLF_HOME"
        )

    def test_symlinked_bundle_inside_home_is_read(self, models_dir: Path) -> None:
        (models_dir / "latest").symlink_to(models_dir / "run_002", target_is_directory=True)
        record = next(r for r in scan_bundles(models_dir) if r.bundle_id == "latest")
        assert record.valid and record.macro_f1 == 0.797

    def test_records_are_immutable_and_serialisable(self, models_dir: Path) -> None:
        record = scan_bundles(models_dir)[0]
        with pytest.raises(dataclasses.FrozenInstanceError):
            record.valid = False  # type: ignore[misc]
        assert record.metadata is not None
        with pytest.raises(TypeError):
            record.metadata["schema_hash"] = "x"  # type: ignore[index]
        as_dict = json.loads(json.dumps(record.to_dict()))
        assert as_dict["bundle_id"] == "run_001"
        assert as_dict["metadata"]["label_set"] == EXAMPLE_LABELS
        assert as_dict["metrics"]["macro_f1"] == 0.812


class TestCompatibility:
    """A bundle is compatible when schema hash and label set (as sets) match what is asked."""

    def test_nothing_required_means_every_valid_bundle(self, models_dir: Path) -> None:
        record = scan_bundles(models_dir)[0]
        assert compatibility_reason(record) is None

    def test_labels_compare_as_sets(self, models_dir: Path) -> None:
        record = scan_bundles(models_dir)[0]
        shuffled = list(reversed(EXAMPLE_LABELS))
        assert (
            compatibility_reason(record, schema_hash=EXAMPLE_SCHEMA_HASH, label_set=shuffled)
            is None
        )

    def test_mismatches_are_named(self, models_dir: Path) -> None:
        record = scan_bundles(models_dir)[0]
        assert compatibility_reason(record, schema_hash="other") == (
            f'schema_hash "{EXAMPLE_SCHEMA_HASH}" does not match the required "other"'
        )
        reason = compatibility_reason(record, label_set=["code", "write"])
        assert reason == (
            'label_set ["browse", "code", "meeting", "write"] does not match the required '
            '["code", "write"]'
        )

    def test_invalid_bundle_is_never_compatible(
        self, models_dir: Path, make_bundle: MakeBundle
    ) -> None:
        record = read_bundle(make_bundle(models_dir, "run_003"), home=models_dir.parent)
        assert compatibility_reason(record) == "models/run_003/metrics.json does not exist"


class TestSelection:
    """Best model: macro_f1, then weighted_f1, then newer created_at; exclusions explained."""

    def test_example_home_picks_highest_macro_f1(self, models_dir: Path) -> None:
        report = select_best_model(models_dir)
        assert report.best is not None and report.best.bundle_id == "run_001"
        assert [record.bundle_id for record in report.ranked] == ["run_001", "run_002"]
        assert report.excluded == ()

    def test_ties_broken_by_weighted_f1_then_created_at(
        self, tmp_path: Path, make_bundle: MakeBundle
    ) -> None:
        models = tmp_path / "home" / "models"
        make_bundle(models, "a_low", metrics=metrics(0.7, 0.9))
        make_bundle(
            models, "b_old", metrics=metrics(0.8, 0.8), created_at="2026-01-01T00:00:00+00:00"
        )
        make_bundle(models, "c_new", metrics=metrics(0.8, 0.8), created_at="2026-01-02T00:00:00Z")
        make_bundle(models, "d_undated", metrics=metrics(0.8, 0.8))
        make_bundle(models, "e_weighted", metrics=metrics(0.8, 0.85))
        # Compared as instants, not as text: as text this would sort first.
        make_bundle(
            models,
            "f_zone",
            metrics=metrics(0.8, 0.8),
            created_at="2026-01-02T01:00:00+02:00",
        )
        report = select_best_model(models)
        assert [record.bundle_id for record in report.ranked] == [
            "e_weighted",
            "c_new",
            "f_zone",  # 23:00 UTC on Jan 1: later than b_old, earlier than c_new
            "b_old",
            "d_undated",
            "a_low",
        ]
        assert report.best is not None and report.best.bundle_id == "e_weighted"

    def test_incompatible_and_broken_bundles_are_excluded_with_reasons(
        self, models_dir: Path, make_bundle: MakeBundle
    ) -> None:
        make_bundle(models_dir, "run_003", schema_hash="other", metrics=metrics(0.99))
        make_bundle(models_dir, "run_004")
        report = select_best_model(models_dir, schema_hash=EXAMPLE_SCHEMA_HASH)
        assert report.best is not None and report.best.bundle_id == "run_001"
        assert [(e.bundle.bundle_id, e.reason) for e in report.excluded] == [
            ("run_003", f'schema_hash "other" does not match the required "{EXAMPLE_SCHEMA_HASH}"'),
            ("run_004", "models/run_004/metrics.json does not exist"),
        ]
        assert str(report.excluded[1]) == (
            "models/run_004: models/run_004/metrics.json does not exist"
        )

    def test_label_requirement(self, models_dir: Path, make_bundle: MakeBundle) -> None:
        make_bundle(models_dir, "run_003", labels=["code", "write"], metrics=metrics(0.5))
        report = select_best_model(models_dir, label_set=["write", "code"])
        assert report.best is not None and report.best.bundle_id == "run_003"
        assert report.required_label_set == ("code", "write")
        assert {e.bundle.bundle_id for e in report.excluded} == {"run_001", "run_002"}

    def test_nothing_qualifies(self, tmp_path: Path) -> None:
        report = select_best_model(tmp_path / "models")
        assert report.best is None and report.ranked == () and report.excluded == ()

    def test_report_is_serialisable(self, models_dir: Path, make_bundle: MakeBundle) -> None:
        make_bundle(models_dir, "run_003")
        report = select_best_model(models_dir, schema_hash=EXAMPLE_SCHEMA_HASH)
        as_dict = json.loads(json.dumps(report.to_dict()))
        assert as_dict["best"]["bundle_id"] == "run_001"
        assert [r["bundle_id"] for r in as_dict["ranked"]] == ["run_001", "run_002"]
        assert as_dict["excluded"] == [
            {
                "bundle_id": "run_003",
                "model_dir": "models/run_003",
                "reason": "models/run_003/metrics.json does not exist",
            }
        ]
        assert as_dict["required_schema_hash"] == EXAMPLE_SCHEMA_HASH

    def test_rank_bundles_is_total(self, models_dir: Path) -> None:
        records = scan_bundles(models_dir)
        assert rank_bundles(reversed(records)) == rank_bundles(records)
        assert isinstance(rank_bundles(records)[0], BundleRecord)


def pointer_document(model_dir: str = "models/run_002", **extra: Any) -> dict[str, Any]:
    return {
        "model_dir": model_dir,
        "selected_at": "2026-01-30T08:00:00+00:00",
        "policy_version": "v1",
        **extra,
    }


class TestReadActive:
    """active.json: None when missing, None plus one warning when invalid."""

    def test_missing_is_none_without_warning(
        self, models_dir: Path, caplog: pytest.LogCaptureFixture
    ) -> None:
        with caplog.at_level(logging.WARNING):
            assert read_active(models_dir) is None
        assert caplog.records == []

    def test_valid_pointer(self, models_dir: Path) -> None:
        write_json(active_path(models_dir), pointer_document(model_id="run_002", team="ml"))
        pointer = read_active(models_dir)
        assert pointer is not None
        assert pointer.model_dir == "models/run_002" and pointer.model_id == "run_002"
        assert pointer.extra == {"team": "ml"}
        assert pointer.to_dict() == pointer_document(model_id="run_002", team="ml")

    @pytest.mark.parametrize(
        ("content", "reason"),
        [
            ("{", "is not valid JSON"),
            (json.dumps({"model_dir": "models/run_002"}), "/selected_at"),
            (json.dumps(pointer_document("../outside")), "/model_dir"),
        ],
    )
    def test_invalid_is_none_with_one_warning(
        self, models_dir: Path, caplog: pytest.LogCaptureFixture, content: str, reason: str
    ) -> None:
        active_path(models_dir).write_text(content, encoding="utf-8")
        with caplog.at_level(logging.WARNING):
            assert read_active(models_dir) is None
        assert len(caplog.records) == 1
        assert "active.json" in caplog.records[0].getMessage()
        assert reason in caplog.records[0].getMessage()
        with pytest.raises(ActivePointerError, match=reason) as info:
            read_active_pointer(active_path(models_dir))
        assert info.value.path == active_path(models_dir)

    def test_pointer_validates_on_construction(self) -> None:
        with pytest.raises(ActivePointerError, match="/model_dir") as info:
            ActivePointer(model_dir="/etc", selected_at="2026-01-30T08:00:00+00:00")
        assert info.value.issues[0].pointer == "/model_dir"


class TestWriteActive:
    """write_active_atomic: atomic replace, returns old and new, appends history lines."""

    def test_first_write_then_change(self, models_dir: Path) -> None:
        first = write_active_atomic(models_dir, "models/run_001", reason="initial")
        assert first.old is None
        assert first.new.model_dir == "models/run_001"
        assert first.new.model_id == "run_001" and first.new.reason == "initial"
        assert read_active(models_dir) == first.new

        second = write_active_atomic(models_dir, "models/run_002")
        assert second.old == first.new
        assert read_active(models_dir) == second.new

        lines = active_history_path(models_dir).read_text(encoding="utf-8").splitlines()
        assert [json.loads(line) for line in lines] == [first.to_dict(), second.to_dict()]
        assert json.loads(lines[1])["old"]["model_dir"] == "models/run_001"
        assert json.loads(lines[1])["new"]["model_dir"] == "models/run_002"
        assert set(json.loads(lines[0])) == {"at", "old", "new"}
        leftovers = [p.name for p in models_dir.iterdir() if p.name.startswith(".")]
        assert leftovers == []

    def test_absolute_path_inside_home_is_made_relative(self, models_dir: Path) -> None:
        change = write_active_atomic(models_dir, models_dir / "run_002")
        assert change.new.model_dir == "models/run_002"

    def test_invalid_previous_pointer_counts_as_none(self, models_dir: Path) -> None:
        active_path(models_dir).write_text("{", encoding="utf-8")
        assert write_active_atomic(models_dir, "models/run_001").old is None

    def test_broken_bundle_is_refused_and_nothing_written(
        self, models_dir: Path, make_bundle: MakeBundle
    ) -> None:
        make_bundle(models_dir, "run_003")
        with pytest.raises(InvalidBundleError, match=r"metrics\.json does not exist") as info:
            write_active_atomic(models_dir, "models/run_003")
        assert info.value.model_dir == "models/run_003"
        with pytest.raises(InvalidBundleError, match="does not exist"):
            write_active_atomic(models_dir, "models/run_404")
        assert not active_path(models_dir).exists()
        assert not active_history_path(models_dir).exists()

    def test_paths_out_of_home_are_refused(self, tmp_path: Path, models_dir: Path) -> None:
        with pytest.raises(ActivePointerError, match="/model_dir"):
            write_active_atomic(models_dir, "../elsewhere/run_001")
        with pytest.raises(InvalidBundleError, match="outside TASKCLF_HOME"):
            write_active_atomic(models_dir, tmp_path / "elsewhere")
        assert not active_path(models_dir).exists()

    def test_concurrent_writers_chain_in_the_history(
        self, models_dir: Path, make_bundle: MakeBundle
    ) -> None:
        names = [f"run_{index:03d}" for index in range(3, 11)]
        for name in names:
            make_bundle(models_dir, name, metrics=metrics(0.5))
        errors: list[BaseException] = []

        def set_active(name: str) -> None:
            try:
                write_active_atomic(models_dir, f"models/{name}")
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=set_active, args=(name,)) for name in names]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        lines = active_history_path(models_dir).read_text(encoding="utf-8").splitlines()
        entries = [json.loads(line) for line in lines]
        assert len(entries) == len(names)
        assert entries[0]["old"] is None
        for before, after in itertools.pairwise(entries):
            assert after["old"] == before["new"]
        final = read_active(models_dir)
        assert final is not None and final.to_dict() == entries[-1]["new"]
        assert sorted(os.listdir(models_dir)) == sorted(
            [*names, "run_001", "run_002", "active.json", "active_history.jsonl"]
        )
