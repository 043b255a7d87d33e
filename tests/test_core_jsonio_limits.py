"""Unit tests of the limits in :mod:`taskclf.core.jsonio`: depth, lone surrogates, size, NaN.

The reader (:func:`parse_json_bytes`, :func:`json_problem`) and the writer
(:func:`encode_json_document`) must agree: what one refuses, the other refuses.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from taskclf.core.jsonio import (
    MAX_JSON_BYTES,
    MAX_JSON_DEPTH,
    JSONFileError,
    dumps_json,
    encode_json_document,
    json_problem,
    parse_json_bytes,
)


def nested(depth: int, *, kind: str = "mixed") -> Any:
    """A value nested exactly ``depth`` levels of arrays/objects deep."""
    value: Any = 0
    for level in range(depth):
        as_list = kind == "list" or (kind == "mixed" and level % 2 == 1)
        value = [value] if as_list else {"k": value}
    return value


class TestDepthLimit:
    """Nesting of MAX_JSON_DEPTH (64) levels is accepted, 65 is refused, by reader and writer."""

    def test_limit_is_64(self) -> None:
        assert MAX_JSON_DEPTH == 64

    @pytest.mark.parametrize("kind", ["list", "dict", "mixed"])
    def test_64_ok(self, kind: str) -> None:
        document = nested(64, kind=kind)
        assert json_problem(document) is None
        data = encode_json_document(document, "x.json")
        assert parse_json_bytes(data, source="x.json") == document

    @pytest.mark.parametrize("kind", ["list", "dict", "mixed"])
    def test_65_refused(self, kind: str) -> None:
        document = nested(65, kind=kind)
        problem = json_problem(document)
        assert problem is not None
        assert "64" in problem
        with pytest.raises(JSONFileError) as caught:
            encode_json_document(document, "x.json")
        assert "would be nested" in caught.value.reason
        with pytest.raises(JSONFileError) as read:
            parse_json_bytes(json.dumps(document).encode(), source="x.json")
        assert "nested more than 64" in read.value.reason

    def test_text_shortcut_agrees_with_the_walk(self) -> None:
        document = nested(65)
        text = json.dumps(document)
        assert json_problem(document, text) == json_problem(document)
        shallow = {"a": "[" * 100 + "{" * 100}  # brackets inside strings are not nesting
        text = json.dumps(shallow)
        assert json_problem(shallow, text) is None

    def test_very_deep_does_not_recurse(self) -> None:
        document = nested(100_000, kind="list")
        assert json_problem(document) is not None
        with pytest.raises(JSONFileError):
            parse_json_bytes(b"[" * 100_000 + b"]" * 100_000, source="x.json")

    def test_tuples_count_as_arrays(self) -> None:
        value: Any = 0
        for _ in range(65):
            value = (value,)
        assert json_problem(value) is not None


class TestSurrogates:
    """Surrogate pairs are characters and pass; a lone surrogate anywhere is refused."""

    def test_pair_escape_ok(self) -> None:
        document = parse_json_bytes(b'{"e": "\\ud83d\\ude00"}', source="x.json")
        assert document == {"e": "\U0001f600"}
        assert encode_json_document(document, "x.json") == dumps_json(document).encode()

    def test_raw_emoji_ok(self) -> None:
        data = '{"e": "😀 café"}'.encode()
        assert parse_json_bytes(data, source="x.json") == {"e": "😀 café"}

    @pytest.mark.parametrize("escape", ["\\ud800", "\\udfff", "\\ude00\\ud83d", "a\\udc80b"])
    def test_lone_escape_in_value_refused(self, escape: str) -> None:
        with pytest.raises(JSONFileError) as caught:
            parse_json_bytes(f'{{"v": "{escape}"}}'.encode(), source="x.json")
        assert "lone UTF-16 surrogate" in caught.value.reason

    def test_lone_in_key_refused(self) -> None:
        with pytest.raises(JSONFileError) as caught:
            parse_json_bytes(b'{"k\\ud800": 1}', source="x.json")
        assert "\\ud800" in caught.value.reason
        assert json_problem({"k\udfff": 1}) is not None
        with pytest.raises(JSONFileError):
            encode_json_document({"k\ud800": 1}, "x.json")

    def test_lone_in_nested_array_refused(self) -> None:
        assert json_problem({"a": [[1, {"b": ["\udc00"]}]]}) is not None
        with pytest.raises(JSONFileError):
            encode_json_document({"a": [[1, {"b": ["\udc00"]}]]}, "x.json")

    def test_lone_in_top_level_string_refused(self) -> None:
        assert json_problem("\ud800") is not None

    def test_problem_names_the_code_point(self) -> None:
        problem = json_problem(["ok", "x\udabcy"])
        assert problem is not None
        assert "\\udabc" in problem


class TestSizeLimit:
    """encode_json_document refuses a document over MAX_JSON_BYTES, naming its exact size."""

    def test_limit_is_one_mebibyte(self) -> None:
        assert MAX_JSON_BYTES == 1024 * 1024

    def _document_of_size(self, size: int) -> dict[str, str]:
        overhead = len(dumps_json({"k": ""}).encode())
        document = {"k": "x" * (size - overhead)}
        assert len(dumps_json(document).encode()) == size
        return document

    def test_exactly_the_limit_ok(self) -> None:
        document = self._document_of_size(MAX_JSON_BYTES)
        assert len(encode_json_document(document, "x.json")) == MAX_JSON_BYTES

    def test_one_byte_over_refused_with_the_count(self) -> None:
        document = self._document_of_size(MAX_JSON_BYTES + 1)
        with pytest.raises(JSONFileError) as caught:
            encode_json_document(document, "models/x.json")
        assert f"would be {MAX_JSON_BYTES + 1} bytes" in caught.value.reason
        assert "nothing was written" in caught.value.reason
        assert str(caught.value).startswith("models/x.json: ")

    def test_size_counts_utf8_bytes_not_characters(self) -> None:
        overhead = len(dumps_json({"k": ""}).encode())
        document = {"k": "é" * ((MAX_JSON_BYTES - overhead) // 2 + 1)}
        assert len(dumps_json(document)) <= MAX_JSON_BYTES
        with pytest.raises(JSONFileError) as caught:
            encode_json_document(document, "x.json")
        size = len(dumps_json(document).encode())
        assert f"would be {size} bytes" in caught.value.reason


class TestNotJson:
    """NaN, infinities and non-JSON values are refused before anything is written."""

    @pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
    def test_non_finite_refused_by_the_writer(self, value: float) -> None:
        with pytest.raises(JSONFileError) as caught:
            encode_json_document({"x": value}, "x.json")
        assert "cannot be written as JSON" in caught.value.reason

    @pytest.mark.parametrize("text", [b'{"x": NaN}', b'{"x": Infinity}', b'{"x": -Infinity}'])
    def test_non_finite_refused_by_the_reader(self, text: bytes) -> None:
        with pytest.raises(JSONFileError):
            parse_json_bytes(text, source="x.json")

    def test_overflowing_number_refused(self) -> None:
        with pytest.raises(JSONFileError) as caught:
            parse_json_bytes(b'{"x": 1e999}', source="x.json")
        assert "too large" in caught.value.reason

    def test_object_that_json_cannot_hold(self) -> None:
        with pytest.raises(JSONFileError):
            encode_json_document({"x": {1, 2}}, "x.json")

    def test_duplicate_key_refused(self) -> None:
        with pytest.raises(JSONFileError) as caught:
            parse_json_bytes(b'{"a": 1, "a": 2}', source="x.json")
        assert "appears twice" in caught.value.reason

    def test_canonical_text(self) -> None:
        assert encode_json_document({"a": "é"}, "x.json") == '{\n  "a": "é"\n}\n'.encode()
