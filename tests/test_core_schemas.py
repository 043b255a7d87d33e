"""Tests for :mod:`taskclf.core.schemas`: the shipped schema files and the rules they state."""

from __future__ import annotations

import json
from collections.abc import Iterator
from importlib.resources import files
from typing import Any

import pytest
import referencing.exceptions
from jsonschema import Draft7Validator

from taskclf.core.inference_policy import (
    InferencePolicy,
    PolicySchemaError,
    validate_policy_document,
)
from taskclf.core.schemas import (
    CALIBRATOR_STORE_SCHEMA,
    MODEL_METADATA_SCHEMA,
    POLICY_SCHEMA,
    _registry,
    schema_names,
    validate_document,
)

from conftest import REPO_ROOT, policy_schema_from_file

SCHEMA_DIR = REPO_ROOT / "schemas"
SCHEMA_FILES = sorted(SCHEMA_DIR.glob("*.json"))


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def _pointers(document: Any) -> list[str]:
    return [issue.pointer for issue in validate_policy_document(document)]


class TestSchemaFiles:
    """Every shipped schema is a valid draft-07 schema, and the package data is the same bytes."""

    @pytest.mark.parametrize("path", SCHEMA_FILES, ids=lambda p: p.name)
    def test_check_schema(self, path: Any) -> None:
        schema = json.loads(path.read_text(encoding="utf-8"))
        Draft7Validator.check_schema(schema)
        assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
        assert schema["$id"].endswith("/" + path.name)

    def test_ids_are_unique(self) -> None:
        ids = [json.loads(p.read_text(encoding="utf-8"))["$id"] for p in SCHEMA_FILES]
        assert len(ids) == len(set(ids))

    def test_package_data_is_byte_identical(self) -> None:
        package = files("taskclf.schemas")
        shipped = sorted(e.name for e in package.iterdir() if e.name.endswith(".json"))
        assert shipped == [p.name for p in SCHEMA_FILES]
        assert list(schema_names()) == shipped
        for path in SCHEMA_FILES:
            assert (package / path.name).read_bytes() == path.read_bytes(), path.name


class TestRegistry:
    """$refs between our files resolve locally; any other $ref is an error, never a fetch."""

    @pytest.mark.parametrize("path", SCHEMA_FILES, ids=lambda p: p.name)
    def test_every_ref_resolves(self, path: Any) -> None:
        schema = json.loads(path.read_text(encoding="utf-8"))
        resolver = _registry().resolver(base_uri=schema["$id"])
        for ref in _refs(schema):
            resolved = resolver.lookup(ref)
            assert resolved.contents is not None, ref

    def test_shared_definitions_are_applied(self) -> None:
        probability = (
            _registry()
            .resolver()
            .lookup("https://taskclf.dev/schemas/inference_policy.v1.json#/definitions/probability")
        )
        assert probability.contents["maximum"] == 1
        metadata = {"schema_hash": "h", "label_set": ["a"], "reject_threshold": 1.5}
        issues = validate_document(MODEL_METADATA_SCHEMA, metadata)
        assert [(i.pointer, i.keyword) for i in issues] == [("/reject_threshold", "maximum")]
        store_issues = validate_document(CALIBRATOR_STORE_SCHEMA, {"method": "bogus"})
        assert [(i.pointer, i.keyword) for i in store_issues] == [("/method", "enum")]

    def test_unknown_url_is_unresolvable(self) -> None:
        validator = Draft7Validator(
            {"$ref": "https://example.invalid/x.json"}, registry=_registry()
        )
        with pytest.raises(referencing.exceptions.Unresolvable) as caught:
            validator.is_valid(1)
        assert "https://example.invalid/x.json" in str(caught.value)

    def test_registry_never_retrieves(self) -> None:
        with pytest.raises(referencing.exceptions.NoSuchResource):
            _registry().get_or_retrieve("https://example.invalid/x.json")


class TestRequiredFields:
    """Each required field, when missing, is reported at its own pointer with the schema's hint."""

    @pytest.mark.parametrize("name", policy_schema_from_file()["required"])
    def test_missing(self, policy_document: dict[str, Any], name: str) -> None:
        del policy_document[name]
        issues = validate_policy_document(policy_document)
        assert len(issues) == 1
        assert issues[0].pointer == f"/{name}"
        assert issues[0].keyword == "required"
        assert f'"{name}" is required' in issues[0].message
        assert issues[0].hint


class TestKeys:
    """Unknown keys are named with a spelling hint; notes (``_...``) and ``$schema`` pass."""

    def test_typo_is_named_with_hint(self, policy_document: dict[str, Any]) -> None:
        policy_document["reject_treshold"] = policy_document.pop("reject_threshold")
        issues = validate_policy_document(policy_document)
        typo = [i for i in issues if i.pointer == "/reject_treshold"]
        assert len(typo) == 1
        assert "reject_treshold" in typo[0].message
        assert typo[0].hint == 'did you mean "reject_threshold"?'
        assert 'did you mean "reject_threshold"?' in str(typo[0])

    def test_unknown_key_without_close_match_lists_known_keys(
        self, policy_document: dict[str, Any]
    ) -> None:
        policy_document["zzzz"] = 1
        (issue,) = validate_policy_document(policy_document)
        assert issue.pointer == "/zzzz"
        assert issue.hint is not None
        assert "model_dir" in issue.hint

    def test_notes_and_schema_key_accepted(self, policy_document: dict[str, Any]) -> None:
        policy_document["_help"] = {"anything": [1, None, "x"]}
        policy_document["_"] = None
        # The form the README documents: a path relative to the policy file.
        policy_document["$schema"] = "../../schemas/inference_policy.v1.json"
        assert validate_policy_document(policy_document) == ()

    def test_schema_key_must_be_a_string(self, policy_document: dict[str, Any]) -> None:
        policy_document["$schema"] = 7
        assert _pointers(policy_document) == ["/$schema"]


class TestCalibration:
    """A calibration method needs a calibrator store; a store without a method is fine."""

    def test_method_without_store_rejected(self, policy_document: dict[str, Any]) -> None:
        policy_document["calibrator_store_dir"] = None
        issues = validate_policy_document(policy_document)
        assert [i.pointer for i in issues] == ["/calibrator_store_dir"]
        assert issues[0].hint is not None
        assert "calibration_method is set" in issues[0].hint

    def test_method_missing_store_key_rejected(self, policy_document: dict[str, Any]) -> None:
        del policy_document["calibrator_store_dir"]
        assert _pointers(policy_document) == ["/calibrator_store_dir"]

    def test_store_without_method_accepted(self, policy_document: dict[str, Any]) -> None:
        policy_document["calibration_method"] = None
        assert validate_policy_document(policy_document) == ()

    def test_unknown_method_rejected(self, policy_document: dict[str, Any]) -> None:
        policy_document["calibration_method"] = "platt"
        assert _pointers(policy_document) == ["/calibration_method"]


class TestRelativePaths:
    """model_dir and calibrator_store_dir must be relative POSIX paths inside TASKCLF_HOME."""

    @pytest.mark.parametrize(
        "value",
        [
            "/models/run_001",
            "..",
            "../models/run_001",
            "models/../../etc",
            "models/..",
            "models\\run_001",
            "C:/models",
            "c:models",
            "models/run\x00001",
            "",
        ],
    )
    @pytest.mark.parametrize("field", ["model_dir", "calibrator_store_dir"])
    def test_rejected(self, policy_document: dict[str, Any], field: str, value: str) -> None:
        policy_document[field] = value
        issues = validate_policy_document(policy_document)
        assert issues
        for issue in issues:  # "" breaks both minLength and the pattern
            assert issue.pointer == f"/{field}"
            assert issue.hint is not None
            assert "relative path" in issue.hint

    @pytest.mark.parametrize(
        "value",
        ["models/run_001", "run_001", "models/..run", "models/run..", "./models", "models/a:b"],
    )
    def test_accepted(self, policy_document: dict[str, Any], value: str) -> None:
        policy_document["model_dir"] = value
        assert validate_policy_document(policy_document) == ()


class TestCreatedAt:
    """created_at is an RFC 3339 date-time with a time zone."""

    @pytest.mark.parametrize(
        "value",
        [
            "2026-01-31T12:00:00+00:00",
            "2026-01-31T12:00:00Z",
            "2026-01-31t12:00:00.123456-05:30",
            "2026-12-31T23:59:60Z",
        ],
    )
    def test_accepted(self, policy_document: dict[str, Any], value: str) -> None:
        policy_document["created_at"] = value
        assert validate_policy_document(policy_document) == ()

    @pytest.mark.parametrize(
        "value",
        [
            "2026-01-31",
            "2026-01-31T12:00:00",
            "2026-01-31 12:00:00+00:00",
            "2026-13-01T12:00:00Z",
            "2026-01-31T24:00:00Z",
            "2026-01-31T12:00:00+0000",
            "yesterday",
        ],
    )
    def test_rejected(self, policy_document: dict[str, Any], value: str) -> None:
        policy_document["created_at"] = value
        issues = validate_policy_document(policy_document)
        assert [i.pointer for i in issues] == ["/created_at"]
        assert "does not have the expected format" in issues[0].message


class TestProbabilities:
    """Thresholds are JSON numbers in [0, 1]: no booleans, strings, NaN or infinities."""

    @pytest.mark.parametrize("value", [0, 1, 0.0, 1.0, 0.5, 5e-324])
    def test_accepted(self, policy_document: dict[str, Any], value: float) -> None:
        policy_document["reject_threshold"] = value
        policy_document["per_user_reject_thresholds"] = {"alice": value}
        assert validate_policy_document(policy_document) == ()

    @pytest.mark.parametrize(
        ("value", "keyword"),
        [
            (1.5, "maximum"),
            (-0.01, "minimum"),
            (True, "type"),
            (False, "type"),
            ("0.5", "type"),
            (None, "type"),
            (float("nan"), "type"),
            (float("inf"), "type"),
            (float("-inf"), "type"),
        ],
    )
    def test_rejected(self, policy_document: dict[str, Any], value: Any, keyword: str) -> None:
        policy_document["reject_threshold"] = value
        policy_document["per_user_reject_thresholds"] = {"alice": value}
        issues = validate_policy_document(policy_document)
        assert [(i.pointer, i.keyword) for i in issues] == [
            ("/reject_threshold", keyword),
            ("/per_user_reject_thresholds/alice", keyword),
        ]

    @pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf"), True, "0.5"])
    def test_rejected_by_constructor(self, policy_document: dict[str, Any], value: Any) -> None:
        policy_document["reject_threshold"] = value
        with pytest.raises(PolicySchemaError) as caught:
            InferencePolicy.from_dict(policy_document)
        assert [i.pointer for i in caught.value.issues] == ["/reject_threshold"]
        with pytest.raises(PolicySchemaError, match="/reject_threshold"):
            InferencePolicy(
                model_dir="models/run_001",
                model_schema_hash="h",
                model_label_set=("a",),
                reject_threshold=value,
            )
        with pytest.raises(PolicySchemaError, match="/per_user_reject_thresholds/bob"):
            InferencePolicy(
                model_dir="models/run_001",
                model_schema_hash="h",
                model_label_set=("a",),
                reject_threshold=0.5,
                per_user_reject_thresholds={"bob": value},
            )

    def test_empty_user_id_rejected(self, policy_document: dict[str, Any]) -> None:
        policy_document["per_user_reject_thresholds"] = {"": 0.5}
        issues = validate_policy_document(policy_document)
        assert [i.pointer for i in issues] == ["/per_user_reject_thresholds"]
        assert issues[0].hint == "user ids must be non-empty."


class TestOtherFields:
    """Label sets, hashes, version and source follow their schema rules."""

    @pytest.mark.parametrize(
        ("field", "value", "pointer"),
        [
            ("model_label_set", [], "/model_label_set"),
            ("model_label_set", ["a", "a"], "/model_label_set"),
            ("model_label_set", ["a", ""], "/model_label_set/1"),
            ("model_label_set", "a", "/model_label_set"),
            ("model_schema_hash", "", "/model_schema_hash"),
            ("policy_version", "v2", "/policy_version"),
            ("source", "", "/source"),
            ("git_commit", None, "/git_commit"),
        ],
    )
    def test_rejected(
        self, policy_document: dict[str, Any], field: str, value: Any, pointer: str
    ) -> None:
        policy_document[field] = value
        assert set(_pointers(policy_document)) == {pointer}

    @pytest.mark.parametrize("document", [[], None, "policy", 1])
    def test_not_an_object(self, document: Any) -> None:
        issues = validate_policy_document(document)
        assert [(i.pointer, i.keyword) for i in issues] == [("", "type")]
        assert issues[0].location == "(root)"


class TestIssueOrder:
    """Every issue is reported, shallow (most telling) ones first, each with a JSON pointer."""

    def test_best_first(self, policy_document: dict[str, Any]) -> None:
        del policy_document["model_dir"]
        policy_document["model_label_set"] = ["ok", ""]
        policy_document["reject_threshold"] = 1.5
        policy_document["per_user_reject_thresholds"] = {"alice": -1}
        pointers = _pointers(policy_document)
        # A missing field says the most, then errors in top-level values, then
        # errors nested deeper (whose relative order is jsonschema's heuristic).
        assert pointers[:2] == ["/model_dir", "/reject_threshold"]
        assert sorted(pointers[2:]) == ["/model_label_set/1", "/per_user_reject_thresholds/alice"]

    def test_pointer_escapes(self, policy_document: dict[str, Any]) -> None:
        policy_document["per_user_reject_thresholds"] = {"a/b~c": 2}
        assert _pointers(policy_document) == ["/per_user_reject_thresholds/a~1b~0c"]

    def test_messages_carry_pointer_and_hint(self, policy_document: dict[str, Any]) -> None:
        policy_document["reject_threshold"] = 1.5
        (issue,) = validate_policy_document(policy_document)
        assert str(issue) == (
            "/reject_threshold: 1.5 is greater than the maximum of 1 "
            "(expected a probability between 0 and 1)"
        )
        assert issue.to_dict() == {
            "pointer": "/reject_threshold",
            "message": "1.5 is greater than the maximum of 1",
            "keyword": "maximum",
            "hint": "expected a probability between 0 and 1.",
            "value": 1.5,
        }

    def test_policy_schema_error_lists_every_issue(self, policy_document: dict[str, Any]) -> None:
        policy_document["reject_threshold"] = 1.5
        policy_document["model_dir"] = "/abs"
        with pytest.raises(PolicySchemaError) as caught:
            InferencePolicy.from_dict(policy_document)
        error = caught.value
        assert error.message.startswith("inference policy: 2 schema errors:")
        assert [e["pointer"] for e in error.details["errors"]] == [
            "/model_dir",
            "/reject_threshold",
        ]
        assert validate_document(POLICY_SCHEMA, policy_document) == error.issues


def _shipped_schemas() -> list[str]:
    return sorted(path.name for path in (REPO_ROOT / "schemas").glob("*.json"))


class TestSchemasAreWrittenForPeople:
    """Editors show a schema's titles and descriptions: every shipped schema has them."""

    @pytest.mark.parametrize("name", _shipped_schemas())
    def test_root_is_draft_07_with_an_id_title_and_description(self, name: str) -> None:
        schema = json.loads((REPO_ROOT / "schemas" / name).read_text(encoding="utf-8"))
        assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
        assert schema["$id"].endswith("/" + name)
        for key in ("title", "description", "markdownDescription"):
            assert isinstance(schema[key], str) and schema[key].strip(), key

    @pytest.mark.parametrize("name", _shipped_schemas())
    def test_every_property_has_title_descriptions_and_type(self, name: str) -> None:
        schema = json.loads((REPO_ROOT / "schemas" / name).read_text(encoding="utf-8"))
        assert schema["properties"], "a schema with no documented properties"
        for prop, spec in schema["properties"].items():
            for key in ("title", "description", "markdownDescription"):
                assert isinstance(spec.get(key), str) and spec[key].strip(), f"{prop}: {key}"
            assert "type" in spec or "const" in spec, f"{prop}: type"

    def test_policy_properties_in_the_reference_order(self) -> None:
        schema = policy_schema_from_file()
        assert list(schema["properties"]) == [
            "policy_version",
            "model_dir",
            "model_schema_hash",
            "model_label_set",
            "calibrator_store_dir",
            "calibration_method",
            "reject_threshold",
            "created_at",
            "source",
            "git_commit",
            "per_user_reject_thresholds",
        ]
