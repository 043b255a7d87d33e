"""Tests of score_row.v1.json and of taskclf.tune.schema_check, its compiled form.

The compiled check must answer exactly as the full validator does; the
property tests compare the two on generated documents.
"""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft7Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from taskclf.core.schemas import (
    POLICY_SCHEMA,
    load_schema,
    schema_names,
    schema_text,
    validate_document,
)
from taskclf.tune.schema_check import UnsupportedSchema, compile_check, schema_check
from taskclf.tune.scores import SCORE_ROW_SCHEMA

from conftest import REPO_ROOT


class TestScoreRowSchema:
    """The row schema ships, is valid draft-07, documents itself and accepts its examples."""

    def test_shipped_and_identical_to_the_repository_file(self) -> None:
        assert SCORE_ROW_SCHEMA in schema_names()
        path = REPO_ROOT / "schemas" / SCORE_ROW_SCHEMA
        assert schema_text(SCORE_ROW_SCHEMA) == path.read_text(encoding="utf-8")

    def test_check_schema(self) -> None:
        schema = load_schema(SCORE_ROW_SCHEMA)
        Draft7Validator.check_schema(schema)
        assert schema["$id"] == "https://taskclf.dev/schemas/score_row.v1.json"

    def test_every_property_is_documented(self) -> None:
        for name, spec in load_schema(SCORE_ROW_SCHEMA)["properties"].items():
            for key in ("title", "description", "markdownDescription"):
                assert spec.get(key), f"{name} has no {key}"

    def test_examples_are_valid(self) -> None:
        schema = load_schema(SCORE_ROW_SCHEMA)
        for example in schema["examples"]:
            assert validate_document(SCORE_ROW_SCHEMA, example) == ()
        for name, spec in schema["properties"].items():
            for example in spec["examples"]:
                row = {"label": "code", "predicted": "code", "confidence": 0.5, name: example}
                if name == "probabilities":
                    row = {"label": "code", name: example}
                assert validate_document(SCORE_ROW_SCHEMA, row) == (), name

    def test_probability_bounds_come_from_the_policy_schema(self) -> None:
        schema = load_schema(SCORE_ROW_SCHEMA)
        assert schema["properties"]["confidence"]["allOf"] == [
            {"$ref": "#/definitions/probability"}
        ]
        # The file stands alone; its definition is an exact copy of the policy schema's.
        policy = load_schema(POLICY_SCHEMA)
        assert schema["definitions"]["probability"] == policy["definitions"]["probability"]
        (issue,) = validate_document(
            SCORE_ROW_SCHEMA, {"label": "a", "predicted": "a", "confidence": -0.5}
        )
        assert str(issue) == (
            "/confidence: -0.5 is less than the minimum of 0 "
            "(expected a probability between 0 and 1)"
        )

    @pytest.mark.parametrize(
        ("row", "message"),
        [
            ({"label": "a"}, "matches none of the allowed forms"),
            (
                {"label": "a", "predicted": "a"},
                '"confidence" is required when "predicted" is given',
            ),
            (
                {"label": "a", "confidence": 0.5},
                '"predicted" is required when "confidence" is given',
            ),
            (
                {"label": "a", "predicted": "a", "confidence": 0.5, "probabilities": {"a": 0.5}},
                "matches more than one allowed form",
            ),
        ],
    )
    def test_the_two_forms(self, row: dict[str, Any], message: str) -> None:
        issue = validate_document(SCORE_ROW_SCHEMA, row)[0]
        assert message in issue.message
        assert issue.hint == (
            "a row needs label and either predicted with confidence, or probabilities, "
            "but not both."
        )


finite = st.floats(allow_nan=False, allow_infinity=False)
leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-2, 3),
    st.sampled_from([0, 0.0, 0.5, 1, 1.0, 1.5, -0.1, math.nan, math.inf, -math.inf]),
    finite,
    st.sampled_from(["", "a", "code", "nan"]),
    st.text(max_size=3),
)
keys = st.sampled_from(["", "a", "code", "label", "x"])
anything = st.recursive(
    leaf,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(keys, inner, max_size=3),
    max_leaves=8,
)

# Valid rows of both forms, then a few keys deleted or set to edge values, so
# that both answers (valid, invalid) come up often and near every boundary.
labels = st.sampled_from(["code", "write", "a"])
probability = st.one_of(st.floats(0, 1), st.sampled_from([0, 1, 0.0, 1.0, 5e-324, 1 - 2**-53]))
optional = {"user_id": st.sampled_from(["u", "alice"]), "extra": anything}
valid_rows = st.fixed_dictionaries(
    {"label": labels, "predicted": labels, "confidence": probability}, optional=optional
) | st.fixed_dictionaries(
    {"label": labels, "probabilities": st.dictionaries(labels, probability, min_size=1)},
    optional=optional,
)
DELETE = object()
edge = st.one_of(
    st.just(DELETE),
    st.sampled_from(
        [-1e-300, -0.0, 1 + 2**-52, 2, math.nan, math.inf, True, False, None, "", "0.5"]
    ),
    st.sampled_from([[], {}, {"code": 1.5}, {"": 0.5}, {"code": "x"}, {"code": True}]),
    labels,
    probability,
    st.dictionaries(labels, probability, min_size=1, max_size=2),
)
changes = st.lists(
    st.tuples(
        st.sampled_from(["label", "predicted", "confidence", "probabilities", "user_id"]), edge
    ),
    max_size=2,
)


@st.composite
def near_rows(draw: st.DrawFn) -> dict[str, Any]:
    row = dict(draw(valid_rows))
    for key, value in draw(changes):
        if value is DELETE:
            row.pop(key, None)
        else:
            row[key] = value
    return row


class TestCompiledScoreRowCheck:
    """The compiled check of score_row.v1.json agrees with validate_document."""

    def test_it_compiles(self) -> None:
        # Without this, every row would take the slow path.
        assert schema_check(SCORE_ROW_SCHEMA) is not None

    @settings(max_examples=500, deadline=None)
    @given(near_rows())
    def test_agrees_on_near_rows(self, row: dict[str, Any]) -> None:
        check = schema_check(SCORE_ROW_SCHEMA)
        assert check is not None
        assert check(row) == (validate_document(SCORE_ROW_SCHEMA, row) == ())

    @settings(max_examples=300, deadline=None)
    @given(anything)
    def test_agrees_on_anything(self, document: Any) -> None:
        check = schema_check(SCORE_ROW_SCHEMA)
        assert check is not None
        assert check(document) == (validate_document(SCORE_ROW_SCHEMA, document) == ())

    @pytest.mark.parametrize(
        "row",
        [
            {"label": "a", "predicted": "a", "confidence": 0},
            {"label": "a", "predicted": "a", "confidence": 1},
            {"label": "a", "predicted": "a", "confidence": 1 + 2**-52},
            {"label": "a", "predicted": "a", "confidence": -0.0},
            {"label": "a", "predicted": "a", "confidence": True},
            {"label": "a", "predicted": "a", "confidence": math.nan},
            {"label": "a", "predicted": "", "confidence": 0.5},
            {"label": "a", "predicted": "a", "confidence": 0.5, "user_id": ""},
            {"label": "a", "predicted": "a", "confidence": 0.5, "probabilities": {"a": 1}},
            {"label": "a", "confidence": 0.5, "probabilities": {"a": 1}},
            {"label": "a", "probabilities": {"": 0.5}},
            {"label": "a", "probabilities": {"a": 0.5, "b": -1}},
            {"label": "a", "probabilities": {"a": math.inf}},
            {"label": "a", "probabilities": {}},
            {"label": "a", "probabilities": []},
            {"label": "a"},
            {"predicted": "a", "confidence": 0.5},
            {"label": 1, "predicted": "a", "confidence": 0.5},
            [],
            "row",
        ],
    )
    def test_agrees_on_boundaries(self, row: Any) -> None:
        check = schema_check(SCORE_ROW_SCHEMA)
        assert check is not None
        assert check(row) == (validate_document(SCORE_ROW_SCHEMA, row) == ())

    def test_other_shipped_schemas(self) -> None:
        # They use keywords the compiler does not implement (pattern, enum, ...).
        assert schema_check("inference_policy.v1.json") is None


def _custom(schema: dict[str, Any]) -> tuple[Any, Any]:
    uri = "urn:test:schema"
    registry: Registry[Any] = Registry().with_resource(
        uri, Resource.from_contents(schema, default_specification=DRAFT7)
    )
    validator = Draft7Validator(schema, registry=registry)
    check = compile_check(
        schema,
        resolver=registry.resolver(base_uri=uri),
        is_type=validator.TYPE_CHECKER.is_type,
        keywords=frozenset(Draft7Validator.VALIDATORS),
    )
    return check, validator


CUSTOM = {
    "definitions": {"short": {"type": "string", "minLength": 1}, "never": False},
    "type": ["object", "array"],
    "properties": {
        "a": {"$ref": "#/definitions/short", "minLength": 50},
        "b": {"type": "number", "minimum": 0, "maximum": 1},
        "c": {"oneOf": [{"type": "integer"}, {"minimum": 2}]},
        "d": {"allOf": [True, {"minLength": 2}]},
        "e": {"$ref": "#/definitions/never"},
    },
    "propertyNames": {"minLength": 1},
    "additionalProperties": False,
    "minProperties": 1,
    "required": ["a"],
    "dependencies": {"b": ["c"], "c": {"required": ["d"]}},
}
CUSTOM_OPEN = {
    "properties": {"a": {"type": "string"}},
    "propertyNames": {"minLength": 1},
    "additionalProperties": {"type": "integer", "maximum": 3},
}

CUSTOM_REQUIRED = {"required": ["a", "b"], "dependencies": {"a": {"required": ["c", "d"]}}}

custom_documents = st.fixed_dictionaries(
    {"a": st.sampled_from(["x", "xy", "", 1])},
    optional={
        "b": st.sampled_from([0, 1, -0.5, 1.5, 0.5, math.nan, "b"]),
        "c": st.sampled_from([1, 2, 2.0, 2.5, 1.5, -3, "c", None]),
        "d": st.sampled_from(["", "d", "dd", 3]),
    },
) | st.fixed_dictionaries(
    {},
    optional={"a": leaf, "e": leaf, "": leaf, "x": st.one_of(st.integers(0, 5), leaf)},
)


class TestCompileCheck:
    """compile_check mirrors jsonschema keyword by keyword, and refuses what it does not know."""

    @settings(max_examples=400, deadline=None)
    @given(st.one_of(custom_documents, anything))
    def test_agrees_with_jsonschema(self, document: Any) -> None:
        for schema in (CUSTOM, CUSTOM_OPEN, CUSTOM_REQUIRED, {}, True, False):
            check, validator = _custom(schema)  # type: ignore[arg-type]
            assert check(document) == validator.is_valid(document), json.dumps(schema)

    def test_ref_siblings_are_ignored_as_in_draft_7(self) -> None:
        check, validator = _custom(CUSTOM)
        document = {"a": "x"}
        assert check(document) is validator.is_valid(document) is True

    @pytest.mark.parametrize(
        ("schema", "keyword"),
        [
            ({"enum": [1]}, "enum"),
            ({"format": "date-time"}, "format"),
            ({"properties": {"a": {"pattern": "^x"}}}, "pattern"),
            ({"patternProperties": {"^x": {}}, "additionalProperties": False}, "pattern"),
            ({"properties": {"a": {"$id": "urn:other"}}}, "$id"),
            ({"properties": {"a": {"$ref": "#"}}}, "$ref"),
            ({"properties": {"a": 5}}, "5"),
        ],
    )
    def test_unsupported(self, schema: dict[str, Any], keyword: str) -> None:
        with pytest.raises(UnsupportedSchema) as caught:
            _custom(schema)
        assert caught.value.keyword.startswith(keyword)

    def test_annotations_are_ignored(self) -> None:
        check, _ = _custom({"title": "t", "errorMessage": "e", "examples": [1], "$comment": "c"})
        assert check(object())
