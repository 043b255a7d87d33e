"""Tests of taskclf.tune.scores: reading JSON Lines and CSV scores files row by row."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from taskclf.core.jsonio import JSONFileError, parse_json_bytes
from taskclf.core.schemas import validate_document
from taskclf.core.validators import fast_validator
from taskclf.tune.scores import (
    MAX_REPORTED_ROW_ERRORS,
    MAX_ROW_BYTES,
    SCORE_ROW_SCHEMA,
    InvalidScoreRowsError,
    ScoreFileError,
    ScoreReader,
    ScoreRow,
    _column,
    _csv_converter,
    _csv_document,
    _fast_jsonl_row,
    _row_of,
    _unknown_labels,
    detect_format,
)

LABELS = ["browse", "code", "meeting", "write"]
ROW_HINT = "a row needs label and either predicted with confidence, or probabilities, but not both"
CONFIDENCE_HINT = "expected the probability of the predicted label, a number between 0 and 1"
PROBABILITIES_HINT = (
    "expected an object mapping each label to its probability, "
    'such as {"code": 0.82, "write": 0.18}.'
)


def write(path: Path, text: str) -> Path:
    path.write_bytes(text.encode("utf-8"))
    return path


def jsonl(*documents: object) -> str:
    return "".join(json.dumps(document) + "\n" for document in documents)


def messages(error: InvalidScoreRowsError) -> list[str]:
    return [str(row) for row in error.errors]


class TestDetectFormat:
    """The format comes from the extension unless it is given."""

    @pytest.mark.parametrize(
        ("name", "expected"),
        [("s.jsonl", "jsonl"), ("s.ndjson", "jsonl"), ("s.csv", "csv"), ("S.CSV", "csv")],
    )
    def test_by_extension(self, name: str, expected: str) -> None:
        assert detect_format(name) == expected

    def test_explicit_format_wins(self) -> None:
        assert detect_format("scores.txt", "csv") == "csv"
        assert detect_format("scores.csv", "jsonl") == "jsonl"

    def test_unknown_extension(self) -> None:
        with pytest.raises(ScoreFileError) as caught:
            detect_format("scores.txt")
        assert str(caught.value) == (
            "scores.txt: cannot tell the format from the extension (known: .jsonl, .ndjson, "
            ".csv, .parquet); name the format (--input-format jsonl, csv or parquet)"
        )

    def test_unknown_format(self) -> None:
        with pytest.raises(ScoreFileError, match="unknown input format 'xml'; use one of jsonl"):
            ScoreReader("scores.jsonl", input_format="xml")


class TestJsonLines:
    """Valid JSON Lines rows become ScoreRows; blank lines, BOM and CRLF are fine."""

    def test_rows(self, tmp_path: Path) -> None:
        path = write(
            tmp_path / "s.jsonl",
            "\ufeff"
            + jsonl(
                {"label": "code", "predicted": "write", "confidence": 0.25, "user_id": "u1"},
                {"label": "write", "predicted": "write", "confidence": 1, "extra": [1, 2]},
            )
            + "\n  \n"
            + '{"label": "meeting", "predicted": "meeting", "confidence": 0}\r\n',
        )
        reader = ScoreReader(path, label_set=LABELS)
        assert list(reader) == [
            ScoreRow("code", "write", 0.25, "u1"),
            ScoreRow("write", "write", 1.0, None),
            ScoreRow("meeting", "meeting", 0.0, None),
        ]
        assert (reader.rows_read, reader.rows_skipped, reader.skipped) == (3, 0, ())

    def test_probabilities_give_argmax_and_max(self, tmp_path: Path) -> None:
        path = write(
            tmp_path / "s.jsonl",
            jsonl(
                {
                    "label": "code",
                    "probabilities": {"browse": 0.1, "code": 0.7, "meeting": 0, "write": 0.2},
                },
                # A tie goes to the first label in alphabetical order, whatever the key order.
                {
                    "label": "code",
                    "probabilities": {"write": 0.4, "code": 0.4, "meeting": 0, "browse": 0.2},
                },
                {
                    "label": "write",
                    "probabilities": {"write": 1, "code": 0, "meeting": 0, "browse": 0},
                    "user_id": "u",
                },
            ),
        )
        assert list(ScoreReader(path, label_set=LABELS)) == [
            ScoreRow("code", "code", 0.7, None),
            ScoreRow("code", "code", 0.4, None),
            ScoreRow("write", "write", 1.0, "u"),
        ]

    def test_reading_twice_reads_again(self, tmp_path: Path) -> None:
        path = write(
            tmp_path / "s.jsonl",
            jsonl({"label": "code", "predicted": "code", "confidence": 0.5}, {"label": 1}),
        )
        reader = ScoreReader(path, skip_invalid=True)
        first = list(reader)
        assert list(reader) == first == [ScoreRow("code", "code", 0.5, None)]
        assert (reader.rows_read, reader.rows_skipped) == (1, 1)


class TestCsv:
    """CSV rows: any column order, empty cells are missing values, p_<label> columns."""

    def test_rows(self, tmp_path: Path) -> None:
        path = write(
            tmp_path / "s.csv",
            "\ufeffuser_id,confidence,label,predicted,note\r\n"
            "u1,0.25,code,write,\r\n"
            ',1,"write",write,"a, quoted\r\nnote"\r\n'
            "\r\n"
            "u2,1e-1,meeting,meeting,x\r\n",
        )
        reader = ScoreReader(path, label_set=LABELS)
        assert list(reader) == [
            ScoreRow("code", "write", 0.25, "u1"),
            ScoreRow("write", "write", 1.0, None),
            ScoreRow("meeting", "meeting", 0.1, "u2"),
        ]

    def test_probability_columns(self, tmp_path: Path) -> None:
        path = write(
            tmp_path / "s.csv",
            "label,p_write,p_code,p_browse,p_meeting,user_id\n"
            "code,0.2,0.7,0.1,0,u1\n"
            "code,0.4,0.4,0.2,0,\n"
            "write,1,0,0,0,\n",
        )
        assert list(ScoreReader(path, label_set=LABELS)) == [
            ScoreRow("code", "code", 0.7, "u1"),
            ScoreRow("code", "code", 0.4, None),
            ScoreRow("write", "write", 1.0, None),
        ]

    @pytest.mark.parametrize("cell", ["NaN", "nan", "inf", "-inf", "Infinity", "1e400"])
    def test_non_finite_numbers_are_rejected(self, tmp_path: Path, cell: str) -> None:
        path = write(tmp_path / "s.csv", f"label,predicted,confidence\ncode,code,{cell}\n")
        with pytest.raises(InvalidScoreRowsError) as caught:
            list(ScoreReader(path))
        (error,) = caught.value.errors
        assert (error.line, error.column, error.issue.keyword) == (2, "confidence", "type")
        assert error.issue.value == cell
        assert error.issue.hint == CONFIDENCE_HINT + "."
        assert str(error).startswith(f"{path}:2: column confidence: ")
        assert str(error).endswith(f"is not of type number ({CONFIDENCE_HINT})")

    @pytest.mark.parametrize("cell", [" 0.5", "0.5 ", ".5", "1.", "1_0", "0x1", "+0.5", "½"])
    def test_only_json_number_syntax_is_a_number(self, tmp_path: Path, cell: str) -> None:
        path = write(tmp_path / "s.csv", f'label,predicted,confidence\ncode,code,"{cell}"\n')
        with pytest.raises(InvalidScoreRowsError) as caught:
            list(ScoreReader(path))
        (error,) = caught.value.errors
        assert (error.line, error.column, error.issue.pointer) == (2, "confidence", "/confidence")
        assert (error.issue.keyword, error.issue.value) == ("type", cell)

    def test_empty_number_cell_is_a_missing_value(self, tmp_path: Path) -> None:
        path = write(tmp_path / "s.csv", "label,predicted,confidence\ncode,code,\n")
        with pytest.raises(InvalidScoreRowsError) as caught:
            list(ScoreReader(path))
        (error,) = caught.value.errors
        assert (error.line, error.column, error.issue.keyword) == (2, None, "dependencies")
        assert str(error) == f"{path}:2: {error.issue.message} ({ROW_HINT})"
        assert '"confidence" is required when "predicted" is given' in error.issue.message

    def test_bad_probability_cell_names_its_column(self, tmp_path: Path) -> None:
        path = write(tmp_path / "s.csv", "label,p_code,p_write\ncode,nan,0.5\nwrite,0.5,2\n")
        with pytest.raises(InvalidScoreRowsError) as caught:
            list(ScoreReader(path))
        assert [(e.line, e.column, e.issue.pointer) for e in caught.value.errors] == [
            (2, "p_code", "/probabilities/code"),
            (3, "p_write", "/probabilities/write"),
        ]
        assert messages(caught.value)[1] == (
            f"{path}:3: column p_write: 2.0 is greater than the maximum of 1 "
            "(expected a probability between 0 and 1)"
        )
        assert caught.value.errors[0].issue.value == "nan"

    def test_wrong_number_of_fields(self, tmp_path: Path) -> None:
        path = write(tmp_path / "s.csv", "label,predicted,confidence\ncode,code\ncode,code,1,x\n")
        with pytest.raises(InvalidScoreRowsError) as caught:
            list(ScoreReader(path))
        assert messages(caught.value) == [
            f"{path}:2: the row has 2 fields, the header 3",
            f"{path}:3: the row has 4 fields, the header 3",
        ]

    def test_line_numbers_count_quoted_line_breaks(self, tmp_path: Path) -> None:
        path = write(
            tmp_path / "s.csv",
            'label,predicted,confidence,note\ncode,code,0.5,"two\nlines"\ncode,code,7,\n',
        )
        with pytest.raises(InvalidScoreRowsError) as caught:
            list(ScoreReader(path))
        assert [error.line for error in caught.value.errors] == [4]

    @pytest.mark.parametrize(
        ("text", "reason"),
        [
            ("", "is empty; the first row must name the columns"),
            (
                "label,confidence,label\n",
                'the column "label" appears twice in the header; keep one',
            ),
            (
                "label,probabilities,p_code\n",
                "has both a probabilities column and p_<label> columns; keep the p_<label> ones",
            ),
            (
                "label,p_code,p_cdoe\n",
                "the column p_cdoe names a label the model does not have "
                "(its labels are browse, code, meeting, write)",
            ),
            ('label,predicted\n"code"x,code\n', "is not valid CSV at line 2: "),
        ],
    )
    def test_bad_file(self, tmp_path: Path, text: str, reason: str) -> None:
        path = write(tmp_path / "s.csv", text)
        with pytest.raises(ScoreFileError) as caught:
            list(ScoreReader(path, label_set=LABELS))
        assert caught.value.reason.startswith(reason)
        assert str(caught.value).startswith(f"{path}: {reason}")

    def test_not_utf8(self, tmp_path: Path) -> None:
        path = tmp_path / "s.csv"
        path.write_bytes(b"label,predicted,confidence\ncaf\xe9,code,0.5\n")
        with pytest.raises(ScoreFileError, match="is not UTF-8 text"):
            list(ScoreReader(path))


class TestInvalidRows:
    """Invalid rows are reported with line, pointer and message; the run fails unless skipping."""

    BAD = (
        jsonl({"label": "code", "predicted": "code", "confidence": 0.9})  # 1 valid
        + '{"label": "code", "predicted": "code", "confidence": NaN}\n'  # 2
        + '{"label": "code",\n'  # 3
        + jsonl({"label": "code", "predicted": "code", "confidence": 1.5})  # 4
        + "\n"  # 5 blank
        + jsonl({"label": "code", "predicted": "code"})  # 6
        + jsonl({"label": "code", "confidence": 0.5, "probabilities": {"code": 0.5}})  # 7
        + jsonl({"label": "code", "probabilities": {}})  # 8
        + jsonl({"label": "", "predicted": "code", "confidence": 0.5})  # 9
        + jsonl({"label": "code", "predicted": "code", "confidence": 0.5, "user_id": ""})  # 10
        + "[1]\n"  # 11
        + jsonl({"label": "write", "predicted": "write", "confidence": 0.4})  # 12 valid
    )

    def test_every_bad_row_is_reported(self, tmp_path: Path) -> None:
        path = write(tmp_path / "s.jsonl", self.BAD)
        reader = ScoreReader(path)
        rows = []
        with pytest.raises(InvalidScoreRowsError) as caught:
            rows.extend(reader)
        assert rows == [
            ScoreRow("code", "code", 0.9, None),
            ScoreRow("write", "write", 0.4, None),
        ]
        error = caught.value
        assert error.complete
        assert [row.line for row in error.errors] == [2, 3, 4, 6, 7, 8, 9, 10, 11]
        # Messages this module writes, in full.
        assert messages(error)[:2] == [
            f"{path}:2: not valid JSON: NaN is not valid JSON (numbers must be finite)",
            f"{path}:3: not valid JSON: Expecting property name enclosed in double quotes "
            "at column 18",
        ]
        # Schema issues: where they are, which rule, the schema's own hint.
        assert [
            (row.issue.pointer, row.issue.keyword, row.issue.hint, len(row.issues))
            for row in error.errors[2:]
        ] == [
            ("/confidence", "maximum", "expected a probability between 0 and 1.", 1),
            ("", "dependencies", ROW_HINT + ".", 1),
            ("", "dependencies", ROW_HINT + ".", 1),
            ("/probabilities", "minProperties", PROBABILITIES_HINT, 1),
            (
                "/label",
                "minLength",
                'expected the true label, a non-empty string such as "code".',
                1,
            ),
            ("/user_id", "minLength", "expected a non-empty user id, or no user_id at all.", 1),
            ("", "type", ROW_HINT + ".", 2),
        ]
        assert messages(error)[2] == (
            f"{path}:4: /confidence: 1.5 is greater than the maximum of 1 "
            "(expected a probability between 0 and 1)"
        )
        assert messages(error)[3] == f"{path}:6: {error.errors[3].issue.message} ({ROW_HINT})"
        assert messages(error)[-1] == (
            f"{path}:11: {error.errors[-1].issue.message} ({ROW_HINT}) "
            "(and 1 more issue in this row)"
        )
        assert str(error).splitlines()[0] == (
            f"{path}: 9 invalid rows; fix them, or skip invalid rows (--skip-invalid-rows):"
        )
        document = error.to_dict()
        assert document["complete"] is True
        assert document["rows"][2]["line"] == 4
        assert document["rows"][2]["errors"][0]["pointer"] == "/confidence"
        assert document["rows"][2]["errors"][0]["keyword"] == "maximum"

    def test_both_forms_in_one_row(self, tmp_path: Path) -> None:
        row = {"label": "code", "predicted": "code", "confidence": 0.5}
        path = write(tmp_path / "s.jsonl", jsonl({**row, "probabilities": {"code": 0.5}}))
        with pytest.raises(InvalidScoreRowsError) as caught:
            list(ScoreReader(path))
        (error,) = caught.value.errors
        assert error.issue.keyword == "oneOf"
        assert "matches more than one allowed form" in error.issue.message
        assert error.issue.hint == ROW_HINT + "."

    def test_skip_mode_counts_and_keeps_going(self, tmp_path: Path) -> None:
        path = write(tmp_path / "s.jsonl", self.BAD)
        reader = ScoreReader(path, skip_invalid=True)
        assert [row.confidence for row in reader] == [0.9, 0.4]
        assert (reader.rows_read, reader.rows_skipped) == (2, 9)
        assert [error.line for error in reader.skipped] == [2, 3, 4, 6, 7, 8, 9, 10, 11]

    def test_fail_mode_stops_at_the_report_limit(self, tmp_path: Path) -> None:
        bad = jsonl({"label": "code"})
        path = write(tmp_path / "s.jsonl", bad * (MAX_REPORTED_ROW_ERRORS + 5))
        with pytest.raises(InvalidScoreRowsError) as caught:
            list(ScoreReader(path))
        assert not caught.value.complete
        assert len(caught.value.errors) == MAX_REPORTED_ROW_ERRORS
        assert str(caught.value).splitlines()[0] == (
            f"{path}: at least {MAX_REPORTED_ROW_ERRORS} invalid rows (stopped reading there); "
            "fix them, or skip invalid rows (--skip-invalid-rows):"
        )

    def test_skip_mode_counts_all_but_keeps_the_first(self, tmp_path: Path) -> None:
        good = jsonl({"label": "code", "predicted": "code", "confidence": 0.5})
        path = write(tmp_path / "s.jsonl", jsonl({"label": "code"}) * 30 + good)
        reader = ScoreReader(path, skip_invalid=True)
        assert len(list(reader)) == 1
        assert reader.rows_skipped == 30
        assert len(reader.skipped) == MAX_REPORTED_ROW_ERRORS
        assert reader.skipped[-1].line == MAX_REPORTED_ROW_ERRORS

    def test_labels_outside_the_label_set(self, tmp_path: Path) -> None:
        path = write(
            tmp_path / "s.jsonl",
            jsonl(
                {"label": "cdoe", "predicted": "code", "confidence": 0.5},
                {"label": "code", "predicted": "lunch", "confidence": 0.5},
                {"label": "code", "probabilities": {"code": 0.5, "lunch": 0.5}},
                {"label": "code", "predicted": "code", "confidence": 0.5},
            ),
        )
        reader = ScoreReader(path, label_set=LABELS, skip_invalid=True)
        assert list(reader) == [ScoreRow("code", "code", 0.5, None)]
        hint = "(the labels are browse, code, meeting, write)"
        assert [str(error) for error in reader.skipped] == [
            f'{path}:1: /label: "cdoe" is not one of the model\'s labels {hint}',
            f'{path}:2: /predicted: "lunch" is not one of the model\'s labels {hint}',
            f'{path}:3: /probabilities/lunch: "lunch" is not one of the model\'s labels {hint}',
        ]
        assert {error.issue.keyword for error in reader.skipped} == {"label_set"}
        # Without a label set, any label is accepted.
        assert len(list(ScoreReader(path))) == 4

    def test_overlong_line(self, tmp_path: Path) -> None:
        good = jsonl({"label": "code", "predicted": "code", "confidence": 0.5})
        huge = '{"label": "' + "x" * (MAX_ROW_BYTES + 10) + '"}\n'
        path = write(tmp_path / "s.jsonl", good + huge + good)
        reader = ScoreReader(path, skip_invalid=True)
        assert len(list(reader)) == 2
        assert [str(error) for error in reader.skipped] == [
            f"{path}:2: the line is longer than {MAX_ROW_BYTES} bytes"
        ]

    def test_full_validation_gives_the_same_answers(self, tmp_path: Path) -> None:
        path = write(tmp_path / "s.jsonl", self.BAD)
        fast = ScoreReader(path, skip_invalid=True)
        full = ScoreReader(path, skip_invalid=True, fast_check=False)
        assert list(fast) == list(full)
        assert fast.skipped == full.skipped


class TestFiles:
    """Files that cannot be read are one clear error, never a traceback or a hang."""

    def test_missing(self, tmp_path: Path) -> None:
        with pytest.raises(ScoreFileError) as caught:
            list(ScoreReader(tmp_path / "nope.jsonl"))
        assert str(caught.value) == f"{tmp_path / 'nope.jsonl'}: does not exist"

    def test_directory(self, tmp_path: Path) -> None:
        folder = tmp_path / "dir.csv"
        folder.mkdir()
        with pytest.raises(ScoreFileError, match="is a directory, not a file"):
            list(ScoreReader(folder))

    def test_fifo(self, tmp_path: Path) -> None:
        fifo = tmp_path / "pipe.jsonl"
        os.mkfifo(fifo)
        with pytest.raises(ScoreFileError, match="is not a regular file"):
            list(ScoreReader(fifo))

    def test_empty_jsonl_has_no_rows(self, tmp_path: Path) -> None:
        assert list(ScoreReader(write(tmp_path / "s.jsonl", ""))) == []


# --- the cheap JSON Lines path gives what the strict reader and the full validator give ---

LINE_VALUES = st.one_of(
    st.sampled_from(
        [0, 1, 0.5, 1.5, -0.0, "code", "browse", "lunch", "", "a:b", "é", None, True, [], {}]
    ),
    st.sampled_from([{"code": 0.5}, {"code": 0.5, "write": 0.5}, {"": 1}, {"lunch": 0.2}]),
    st.floats(0, 1),
    st.text(max_size=3),
)
LINE_KEYS = st.sampled_from(
    ["label", "predicted", "confidence", "probabilities", "user_id", "extra", "a:b"]
)
# Raw text that the plain C scanner and the strict reader might read differently.
RAW_VALUES = [
    "NaN",
    "-Infinity",
    "1e400",
    "-1e999",
    "1" * 5000,
    "0.5e-3",
    '{"code": 0.5, "code": 0.6}',
    '"\\u0000"',
    '"a\\nb"',
    '"\\ud800"',
]


@st.composite
def score_lines(draw: st.DrawFn) -> bytes:
    """One line of a JSON Lines file: mostly rows, valid or nearly so, some odd text."""
    document = draw(
        st.sampled_from(
            [
                {"label": "code", "predicted": "code", "confidence": 0.5},
                {"label": "code", "predicted": "write", "confidence": 1, "user_id": "u1"},
                {
                    "label": "write",
                    "probabilities": {"browse": 0, "code": 0.4, "meeting": 0, "write": 0.6},
                },
            ]
        )
    )
    document = dict(document)
    for _ in range(draw(st.integers(0, 2))):
        document[draw(LINE_KEYS)] = draw(LINE_VALUES)
    if document and draw(st.booleans()):
        document.pop(draw(st.sampled_from(sorted(document))))
    separators = draw(st.sampled_from([(", ", ": "), (",", ":")]))
    text = json.dumps(document, separators=separators, ensure_ascii=draw(st.booleans()))
    if draw(st.booleans()) and len(text) > 2:
        # Swap a value (or a key: value pair) for raw text.
        raw = draw(st.sampled_from(RAW_VALUES))
        key = draw(LINE_KEYS)
        text = text[:-1] + f', "{key}": {raw}' + "}"
    prefix = draw(st.sampled_from(["", "", " ", "\ufeff"]))
    suffix = draw(st.sampled_from(["", "\n", "\n", "\r\n", " \n", "\r\r\n", "x\n"]))
    data = (prefix + text + suffix).encode("utf-8")
    if draw(st.integers(0, 9)) == 0:
        data = data.replace(b"e", b"\xff", 1)  # not UTF-8
    return data


def _general_path(raw: bytes, labels: frozenset[str] | None) -> ScoreRow | None:
    """What the general path makes of one line: the row, or None when it is rejected."""
    try:
        document = parse_json_bytes(raw.rstrip(b"\r\n"), source="s.jsonl")
    except JSONFileError:
        return None
    if validate_document(SCORE_ROW_SCHEMA, document):
        return None
    row = _row_of(document)
    if labels is not None and _unknown_labels(row, document, labels):
        return None
    return row


class TestCheapJsonLinesPath:
    """A row from the cheap path is the row the strict reader and the full validator make."""

    @settings(max_examples=600, deadline=None)
    @given(raw=score_lines(), labels=st.sampled_from([None, frozenset(LABELS)]))
    @example(  # a lone surrogate, which the scanner decodes and the strict reader refuses
        raw=b'{"label": "code", "predicted": "code", "confidence": 0.5, "user_id": "\\ud800"}',
        labels=None,
    )
    def test_never_accepts_what_the_general_path_rejects(
        self, raw: bytes, labels: frozenset[str] | None
    ) -> None:
        fast = _fast_jsonl_row(_fast_validator(), labels)(raw)
        if fast is not None:
            assert fast == _general_path(raw, labels)

    @pytest.mark.parametrize(
        "document",
        [
            {"label": "code", "predicted": "code", "confidence": 0.5},
            {"label": "code", "predicted": "write", "confidence": 1, "user_id": "u1"},
            {
                "label": "write",
                "probabilities": {"browse": 0, "code": 0.4, "meeting": 0, "write": 0.6},
            },
        ],
    )
    def test_takes_ordinary_rows(self, document: dict[str, object]) -> None:
        raw = (json.dumps(document) + "\n").encode()
        row = _fast_jsonl_row(_fast_validator(), frozenset(LABELS))(raw)
        assert row is not None and row == _general_path(raw, frozenset(LABELS))

    @pytest.mark.parametrize(
        "text",
        [
            '{"label": "code", "predicted": "code", "confidence": 0.5, "label": "write"}',
            '{"label": "code", "probabilities": {"code": 0.5, "code": 1}}',
            '{"label": "code", "predicted": "code", "confidence": 1e400}',
            '{"label": "code", "predicted": "code", "confidence": 0.5, "x": NaN}',
            '{"label": "code", "predicted": "code", "confidence": 0.5, "x": 1e400}',
            '{"label": "code", "predicted": "code", "confidence": 0.5} {}',
        ],
    )
    def test_leaves_what_the_strict_reader_refuses(self, text: str) -> None:
        raw = (text + "\n").encode()
        assert _fast_jsonl_row(_fast_validator(), None)(raw) is None
        assert _general_path(raw, None) is None

    @settings(
        max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
    )
    @given(lines=st.lists(score_lines(), max_size=8))
    def test_whole_files_read_the_same_either_way(self, tmp_path: Path, lines: list[bytes]) -> None:
        path = tmp_path / "s.jsonl"
        path.write_bytes(b"".join(line if line.endswith(b"\n") else line + b"\n" for line in lines))
        fast = ScoreReader(path, label_set=LABELS, skip_invalid=True)
        full = ScoreReader(path, label_set=LABELS, skip_invalid=True, fast_check=False)
        assert list(fast) == list(full)
        assert fast.skipped == full.skipped
        assert (fast.rows_read, fast.rows_skipped) == (full.rows_read, full.rows_skipped)


def _fast_validator() -> Callable[[Any], bool]:
    check = fast_validator(SCORE_ROW_SCHEMA)
    assert check is not None
    return check


class TestCsvConverter:
    """The one-step record conversion gives the document the column-by-column one gives."""

    @settings(max_examples=300, deadline=None)
    @given(
        header=st.lists(
            st.sampled_from(
                ["label", "predicted", "confidence", "user_id", "x", "p_code", "p_write"]
            ),
            min_size=1,
            max_size=5,
            unique=True,
        ),
        cells=st.lists(
            st.sampled_from(["", "code", "0.5", "1e-3", "nan", "inf", " 1", "01", "-0", "x"])
            | st.text(max_size=3),
            min_size=5,
            max_size=5,
        ),
    )
    def test_same_document(self, header: list[str], cells: list[str]) -> None:
        columns = tuple(_column(name) for name in header)
        record = cells[: len(header)]
        assert _csv_converter(columns)(record) == _csv_document(columns, record)
