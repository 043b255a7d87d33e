"""Tests of score_row.v1.json, the schema of one row of a scores file.

Its generated validator is compared with jsonschema in tests/test_core_validators.py.
"""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema import Draft7Validator

from taskclf.core.schemas import (
    POLICY_SCHEMA,
    load_schema,
    schema_names,
    schema_text,
    validate_document,
)
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
