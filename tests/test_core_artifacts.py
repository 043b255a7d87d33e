"""Unit tests of :mod:`taskclf.core.artifacts`: typed, frozen artifact documents and their rules."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from taskclf.core.artifacts import (
    ArtifactError,
    CalibratorStore,
    ModelMetadata,
    ModelMetrics,
    StoreMismatch,
    freeze_json,
    read_json_document,
    thaw_json,
)
from taskclf.core.home import Home

METADATA: dict[str, Any] = {
    "schema_hash": "abc123",
    "label_set": ["a", "b"],
    "reject_threshold": 0.6,
    "created_at": "2026-01-15T09:30:00+00:00",
    "train_range": {"from": "2025-12-01", "to": "2026-01-10"},
}
METRICS: dict[str, Any] = {"macro_f1": 0.8, "weighted_f1": 0.9, "per_class": [1, 2]}
STORE: dict[str, Any] = {
    "method": "temperature",
    "model_schema_hash": "abc123",
    "model_bundle_id": "run_001",
    "created_at": "2026-01-16T11:00:00+00:00",
    "temperature": 1.37,
}


def encoded(document: Any) -> bytes:
    return json.dumps(document).encode()


@pytest.fixture
def door(tmp_path: Path) -> Home:
    home = tmp_path / "home"
    for folder, name, document in (
        ("models/run_001", "metadata.json", METADATA),
        ("models/run_001", "metrics.json", METRICS),
        ("artifacts/store", "store.json", STORE),
    ):
        (home / folder).mkdir(parents=True, exist_ok=True)
        (home / folder / name).write_bytes(encoded(document))
    return Home.at(home)


DOCUMENTS = [
    (ModelMetadata, "models/run_001", METADATA),
    (ModelMetrics, "models/run_001", METRICS),
    (CalibratorStore, "artifacts/store", STORE),
]


class TestModelMetadata:
    """ModelMetadata's typed fields come from metadata.json; optional ones default to None."""

    def test_fields(self) -> None:
        meta = ModelMetadata.from_bytes(encoded(METADATA), file="m.json")
        assert meta.schema_hash == "abc123"
        assert meta.label_set == ("a", "b")
        assert meta.reject_threshold == 0.6
        assert meta.created_at == "2026-01-15T09:30:00+00:00"
        assert meta.file == "m.json"

    def test_optional_fields_missing(self) -> None:
        meta = ModelMetadata.from_bytes(encoded({"schema_hash": "h", "label_set": ["a"]}), file="m")
        assert meta.reject_threshold is None
        assert meta.created_at is None

    def test_schema_violation(self) -> None:
        with pytest.raises(ArtifactError) as caught:
            ModelMetadata.from_bytes(encoded({"label_set": ["a"]}), file="m.json")
        assert caught.value.issues
        assert caught.value.file == "m.json"
        assert "is invalid against model_metadata.v1.json" in caught.value.reason
        assert caught.value.message.startswith("m.json is invalid against")

    def test_not_json(self) -> None:
        with pytest.raises(ArtifactError) as caught:
            ModelMetadata.from_bytes(b"{nope", file="m.json")
        assert "is not valid JSON" in caught.value.reason
        assert caught.value.missing is False


class TestModelMetrics:
    """ModelMetrics carries macro_f1 and weighted_f1 as floats."""

    def test_fields(self) -> None:
        metrics = ModelMetrics.from_bytes(encoded({"macro_f1": 1, "weighted_f1": 0}), file="x")
        assert metrics.macro_f1 == 1.0
        assert isinstance(metrics.macro_f1, float)
        assert metrics.weighted_f1 == 0.0

    def test_missing_field(self) -> None:
        with pytest.raises(ArtifactError):
            ModelMetrics.from_bytes(encoded({"macro_f1": 0.5}), file="x")


class TestCalibratorStoreFields:
    """CalibratorStore's fields are all optional: a legacy store names nothing."""

    def test_fields(self) -> None:
        store = CalibratorStore.from_bytes(encoded(STORE), file="s")
        assert store.method == "temperature"
        assert store.model_schema_hash == "abc123"
        assert store.model_bundle_id == "run_001"
        assert store.created_at == "2026-01-16T11:00:00+00:00"

    def test_legacy_store(self) -> None:
        store = CalibratorStore.from_bytes(b"{}", file="s")
        assert (store.method, store.model_schema_hash, store.model_bundle_id) == (None,) * 3
        assert store.names_model() is False


class TestReading:
    """read() reads <folder>/<FILENAME> through the home; from_document builds the same thing."""

    @pytest.mark.parametrize(("cls", "folder", "document"), DOCUMENTS)
    def test_read_equals_from_bytes_and_from_document(
        self, door: Home, cls: Any, folder: str, document: dict[str, Any]
    ) -> None:
        read = cls.read(door, folder)
        assert read.file == f"{folder}/{cls.FILENAME}"
        assert read == cls.from_bytes(encoded(document), file=read.file)
        assert read == cls.from_document(document, file=read.file)
        assert read.to_dict() == document

    @pytest.mark.parametrize(("cls", "folder", "document"), DOCUMENTS)
    def test_read_with_absolute_folder(
        self, door: Home, cls: Any, folder: str, document: dict[str, Any]
    ) -> None:
        read = cls.read(door, door.given / folder)
        assert read.file == f"{folder}/{cls.FILENAME}"

    @pytest.mark.parametrize(("cls", "folder", "_document"), DOCUMENTS)
    def test_missing(self, door: Home, cls: Any, folder: str, _document: Any) -> None:
        (door.given / folder / cls.FILENAME).unlink()
        with pytest.raises(ArtifactError) as caught:
            cls.read(door, folder)
        assert caught.value.missing is True
        assert caught.value.message == f"{folder}/{cls.FILENAME} does not exist"

    def test_missing_folder(self, door: Home) -> None:
        with pytest.raises(ArtifactError) as caught:
            ModelMetadata.read(door, "models/nope")
        assert caught.value.missing is True

    def test_outside_has_a_path_kind(self, door: Home, tmp_path: Path) -> None:
        (tmp_path / "outside").mkdir()
        (tmp_path / "outside" / "metadata.json").write_bytes(encoded(METADATA))
        (door.given / "models" / "evil").symlink_to(tmp_path / "outside")
        with pytest.raises(ArtifactError) as caught:
            ModelMetadata.read(door, "models/evil")
        assert caught.value.path_kind == "outside"
        assert caught.value.missing is False

    def test_too_large(self, door: Home) -> None:
        (door.given / "models" / "run_001" / "metadata.json").write_bytes(b" " * (1024 * 1024 + 1))
        with pytest.raises(ArtifactError) as caught:
            ModelMetadata.read(door, "models/run_001")
        assert "larger than the" in caught.value.reason
        assert caught.value.path_kind is None

    def test_from_document_validates_when_asked(self) -> None:
        with pytest.raises(ArtifactError):
            ModelMetadata.from_document({"schema_hash": 1}, file="m", is_valid=False)
        meta = ModelMetadata.from_document(METADATA, file="m", is_valid=False)
        assert meta.schema_hash == "abc123"

    def test_read_json_document_returns_plain_data(self, door: Home) -> None:
        document = read_json_document(
            door, "artifacts/store/store.json", "calibrator_store.v1.json"
        )
        assert document == STORE
        assert isinstance(document, dict)


class TestFrozen:
    """Documents are frozen: assigning a field or mutating the content raises; to_dict is a copy."""

    @pytest.mark.parametrize(("cls", "_folder", "document"), DOCUMENTS)
    def test_assigning_raises(self, cls: Any, _folder: str, document: dict[str, Any]) -> None:
        doc = cls.from_document(document, file="f")
        with pytest.raises(dataclasses.FrozenInstanceError):
            doc.file = "other"
        with pytest.raises((AttributeError, TypeError)):
            doc.not_a_field = 1

    @pytest.mark.parametrize(("cls", "_folder", "document"), DOCUMENTS)
    def test_content_is_read_only(self, cls: Any, _folder: str, document: dict[str, Any]) -> None:
        doc = cls.from_document(document, file="f")
        with pytest.raises(TypeError):
            doc.document["new"] = 1
        with pytest.raises(TypeError):
            del doc.document[next(iter(document))]

    def test_nested_content_is_read_only(self) -> None:
        meta = ModelMetadata.from_document(METADATA, file="f")
        with pytest.raises(TypeError):
            meta.document["train_range"]["from"] = "x"
        with pytest.raises((TypeError, AttributeError)):
            meta.document["label_set"].append("c")  # a tuple
        with pytest.raises(AttributeError):
            meta.label_set.append("c")  # type: ignore[attr-defined]

    def test_source_document_changes_do_not_leak_in(self) -> None:
        source = json.loads(json.dumps(METADATA))
        meta = ModelMetadata.from_document(source, file="f")
        source["train_range"]["from"] = "changed"
        source["label_set"].append("c")
        assert meta.document["train_range"]["from"] == "2025-12-01"
        assert meta.label_set == ("a", "b")

    def test_to_dict_is_a_fresh_mutable_copy(self) -> None:
        meta = ModelMetadata.from_document(METADATA, file="f")
        plain = meta.to_dict()
        plain["train_range"]["from"] = "x"
        plain["label_set"].append("c")
        assert meta.to_dict() == METADATA
        assert json.loads(json.dumps(meta.to_dict())) == METADATA

    def test_freeze_thaw_round_trip(self) -> None:
        value = {"a": [1, {"b": [2, 3]}], "c": None}
        assert thaw_json(freeze_json(value)) == value

    def test_hashable_and_comparable_without_the_document(self) -> None:
        a = CalibratorStore.from_document(STORE, file="f")
        b = CalibratorStore.from_document({**STORE, "temperature": 9.9}, file="f")
        assert a == b  # the document does not take part in equality
        assert hash(a) == hash(b)


def store(
    schema_hash: str | None, bundle_id: str | None, method: str | None = "temperature"
) -> CalibratorStore:
    document: dict[str, Any] = {}
    if method is not None:
        document["method"] = method
    if schema_hash is not None:
        document["model_schema_hash"] = schema_hash
    if bundle_id is not None:
        document["model_bundle_id"] = bundle_id
    return CalibratorStore.from_document(document, file="artifacts/s/store.json")


class TestBindingRule:
    """The binding rule: unset fields match any bundle; a set field must equal the bundle's."""

    @pytest.mark.parametrize(
        ("schema_hash", "bundle_id", "binds", "names", "fields"),
        [
            (None, None, True, False, []),
            ("h", None, True, True, []),
            ("other", None, False, True, ["model_schema_hash"]),
            (None, "run_001", True, True, []),
            (None, "run_002", False, True, ["model_bundle_id"]),
            ("h", "run_001", True, True, []),
            ("other", "run_001", False, True, ["model_schema_hash"]),
            ("h", "run_002", False, True, ["model_bundle_id"]),
            ("other", "run_002", False, True, ["model_schema_hash", "model_bundle_id"]),
        ],
    )
    def test_truth_table(
        self,
        schema_hash: str | None,
        bundle_id: str | None,
        binds: bool,
        names: bool,
        fields: list[str],
    ) -> None:
        s = store(schema_hash, bundle_id)
        found = s.mismatches(bundle_id="run_001", schema_hash="h")
        assert [m.field for m in found] == fields
        assert s.binds_to(bundle_id="run_001", schema_hash="h") is binds
        assert s.names_model() is names

    def test_mismatch_values(self) -> None:
        found = store("other", "run_002").mismatches(bundle_id="run_001", schema_hash="h")
        assert found == (
            StoreMismatch("model_schema_hash", "other", "h"),
            StoreMismatch("model_bundle_id", "run_002", "run_001"),
        )

    def test_empty_strings_are_values_not_absence(self) -> None:
        s = store("", "")
        assert s.names_model() is True
        assert not s.binds_to(bundle_id="run_001", schema_hash="h")


class TestMethod:
    """A policy's null calibration_method means the store's; otherwise they must agree."""

    @pytest.mark.parametrize(
        ("store_method", "policy_method", "conflict", "used"),
        [
            ("temperature", None, False, "temperature"),
            ("temperature", "temperature", False, "temperature"),
            ("temperature", "isotonic", True, "isotonic"),
            (None, None, False, None),
            (None, "isotonic", False, "isotonic"),
        ],
    )
    def test_table(
        self,
        store_method: str | None,
        policy_method: str | None,
        conflict: bool,
        used: str | None,
    ) -> None:
        s = store("h", "run_001", method=store_method)
        assert s.method_conflict(policy_method) is conflict
        assert s.method_for(policy_method) == used

    def test_null_method_in_the_file(self) -> None:
        s = CalibratorStore.from_document({"method": None}, file="s")
        assert s.method is None
        assert s.method_for(None) is None
