"""Streaming readers for held-out predictions (JSON Lines, CSV or Parquet).

``taskclf policy tune-reject`` tunes the reject threshold on the predictions
a (calibrated) model made for examples whose true label is known. Each row
gives the true ``label`` and either ``predicted`` plus ``confidence`` or
``probabilities`` over the label set, and optionally a ``user_id``; the
schema ``score_row.v1.json`` says exactly what a valid row is.

With the model's label set, ``probabilities`` must be a distribution over
exactly those labels: every label present, no other key, each value in [0, 1]
(the schema), and the values summing to 1 within
:data:`PROBABILITY_SUM_TOLERANCE` (which JSON Schema cannot say, so it is
checked here). A row that is not is invalid, like any other bad row.

With ``calibrators`` (``tune-reject --apply-calibrator``) the ``probabilities``
are the model's raw outputs: each row is calibrated with the user's own
calibrator where the store has one, else the global one, exactly as inference
does (:mod:`taskclf.core.calibration`), and the prediction and confidence are
taken from the calibrated probabilities. A row with only ``predicted`` and
``confidence`` cannot be calibrated and is invalid then.

:class:`ScoreReader` reads such a file in one pass and yields one small
:class:`ScoreRow` per valid row, holding nothing per row once it has been
yielded, so a file of any length is read in constant memory.

Every row is checked against the schema. The validator generated from it
(:mod:`taskclf.core.validators`) answers "valid or not" quickly; a row it
rejects goes through :func:`~taskclf.core.schemas.validate_document`, which
says what is wrong. When a label set is given (the model bundle's), a row
whose labels are not in it is invalid too.

JSON Lines: one strict JSON object per line (as :mod:`taskclf.core.jsonio`
parses JSON: no NaN, no duplicate keys); blank lines are skipped. Most lines
take a cheaper path with the same outcome (see :func:`_fast_jsonl_row`): they
are parsed by :mod:`json`'s C scanner without the strict reader's Python hooks,
and a line for which that path cannot prove the strict reader would agree goes
through the strict reader.

CSV: a header row names the columns ``label``, ``predicted``, ``confidence``,
``user_id`` and one ``p_<label>`` column per label for probabilities. An empty
cell is a missing value (CSV cannot tell the two apart). A cell of a column the
schema types as a number is converted when it is a JSON number (``0.5``,
``1e-3``); anything else (``NaN``, ``inf``, ``0.5`` with a space) stays text, which
the schema rejects as "not of type 'number'". A field longer than the
:mod:`csv` module's field size limit makes the whole file unreadable.

Parquet (optional extra ``taskclf[parquet]``, pyarrow): the same columns as
CSV, typed; a null is a missing value, and a ``probabilities`` column of
struct or map type may stand for the ``p_<label>`` ones. The file is read in
batches of :data:`PARQUET_BATCH_ROWS` rows, and a row's "line" is its row
number (1-based). pyarrow is imported only when a Parquet file is read.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import functools
import io
import json
import math
import os
import re
from collections.abc import Callable, Collection, Generator, Iterable, Iterator
from dataclasses import dataclass
from json.scanner import make_scanner
from pathlib import Path
from typing import IO, Any, Literal, NamedTuple, cast

from taskclf.core.calibration import CalibrationError, StoreCalibrators
from taskclf.core.jsonio import (
    MAX_JSON_BYTES,
    JSONFileError,
    json_text,
    open_regular_file,
    parse_json_bytes,
)
from taskclf.core.schemas import SchemaIssue, json_pointer, load_schema, validate_document
from taskclf.core.validators import fast_validator

__all__ = [
    "INPUT_FORMATS",
    "MAX_REPORTED_ROW_ERRORS",
    "MAX_ROW_BYTES",
    "PARQUET_BATCH_ROWS",
    "PARQUET_EXTRA",
    "PROBABILITY_COLUMN_PREFIX",
    "PROBABILITY_SUM_TOLERANCE",
    "SCORE_ROW_SCHEMA",
    "InputFormat",
    "InvalidScoreRowsError",
    "RowError",
    "ScoreFileError",
    "ScoreReader",
    "ScoreRow",
    "ScoresError",
    "detect_format",
]

SCORE_ROW_SCHEMA = "score_row.v1.json"
"""Name of the schema one row of a scores file must satisfy."""

InputFormat = Literal["jsonl", "csv", "parquet"]

INPUT_FORMATS: tuple[InputFormat, ...] = ("jsonl", "csv", "parquet")
"""Formats a scores file can have."""

_EXTENSIONS: dict[str, InputFormat] = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".csv": "csv",
    ".parquet": "parquet",
}

PROBABILITY_SUM_TOLERANCE = 1e-4
"""How far from 1 the probabilities of a row may sum (absolute).

Wide enough for a float32 softmax written out (its sum is within about 1e-6
of 1 for any realistic number of labels) and for values rounded to six
decimals over a few dozen labels; narrow enough that a row missing a label's
share, or holding scores that are not probabilities, is caught."""

PARQUET_BATCH_ROWS = 65_536
"""Rows of a Parquet file read at a time: memory stays bounded whatever its length."""

PARQUET_EXTRA = 'pip install "taskclf[parquet]"'

MAX_ROW_BYTES = MAX_JSON_BYTES
"""Longest line of a JSON Lines file accepted, in bytes: the JSON document limit."""

MAX_REPORTED_ROW_ERRORS = 20
"""Invalid rows kept for the report. Without skipping, reading stops at this many."""

PROBABILITY_COLUMN_PREFIX = "p_"
"""CSV columns named ``p_<label>`` hold the probability of ``<label>``."""

_LABEL_KEYWORD = "label_set"
_DISTRIBUTION_KEYWORD = "distribution"
_CALIBRATION_KEYWORD = "apply_calibrator"

Check = Callable[[Any], bool]

# (line, parsed document or None, the row's problem when it could not be parsed)
_Documents = Generator[tuple[int, Any, "RowError | None"], None, None]
_Rows = Generator["ScoreRow", None, None]
_JSON_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")


class ScoreRow(NamedTuple):
    """What the sweep needs from one valid row.

    For a row with ``probabilities``, ``predicted`` is the label with the
    highest probability (on a tie, the first in alphabetical order, so the
    order of keys or columns does not matter) and ``confidence`` is that
    probability. With calibrators, both come from the calibrated probabilities.
    """

    label: str
    predicted: str
    confidence: float
    user_id: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class RowError:
    """One invalid row of a scores file.

    Attributes:
        file: the scores file.
        line: line number (1-based) where the row starts.
        issues: every problem with the row, best first; ``issues[0]`` is shown.
        column: for CSV and Parquet, the column of the first issue (``p_code`` for
            ``/probabilities/code``), else ``None``.
    """

    file: str
    line: int
    issues: tuple[SchemaIssue, ...]
    column: str | None = None

    @property
    def issue(self) -> SchemaIssue:
        """The problem shown first."""
        return self.issues[0]

    def __str__(self) -> str:
        where = f"column {self.column}" if self.column is not None else self.issue.pointer
        text = f"{self.file}:{self.line}: " + (f"{where}: " if where else "")
        text += self.issue.message_with_hint
        others = len(self.issues) - 1
        if others:
            text += f" (and {others} more issue{'s' if others != 1 else ''} in this row)"
        return text

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form, as used by ``--format json`` output."""
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "errors": [issue.to_dict() for issue in self.issues],
        }


class ScoresError(Exception):
    """A scores file cannot be used; the message says why and how to fix it."""


class ScoreFileError(ScoresError):
    """The file as a whole cannot be read: missing, not UTF-8, bad CSV header, ..."""

    def __init__(self, path: Path | str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = Path(path)
        self.reason = reason


class InvalidScoreRowsError(ScoresError):
    """Rows of a scores file are invalid and skipping them was not asked for.

    Attributes:
        path: the scores file.
        errors: the invalid rows found (at most :data:`MAX_REPORTED_ROW_ERRORS`).
        complete: ``True`` when the whole file was read, so ``errors`` lists
            every invalid row; ``False`` when reading stopped at the limit.
    """

    def __init__(self, path: Path | str, errors: tuple[RowError, ...], *, complete: bool) -> None:
        self.path = Path(path)
        self.errors = errors
        self.complete = complete
        count = f"{len(errors)}" if complete else f"at least {len(errors)}"
        plural = "s" if len(errors) != 1 or not complete else ""
        lines = [
            f"{path}: {count} invalid row{plural}"
            + ("" if complete else " (stopped reading there)")
            + "; fix them, or skip invalid rows (--skip-invalid-rows):"
        ]
        lines += [f"  {error}" for error in errors]
        super().__init__("\n".join(lines))

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form, as used by ``--format json`` output."""
        return {
            "file": str(self.path),
            "complete": self.complete,
            "rows": [error.to_dict() for error in self.errors],
        }


def detect_format(path: Path | str, input_format: str | None = None) -> InputFormat:
    """The format of the scores file ``path``: ``input_format`` if given, else its extension.

    ``.jsonl`` and ``.ndjson`` are JSON Lines, ``.csv`` is CSV, ``.parquet`` is
    Parquet (case does not matter).

    Raises:
        ScoreFileError: ``input_format`` is not a known format, or it is not
            given and the extension says nothing.
    """
    if input_format is not None:
        if input_format in INPUT_FORMATS:
            return input_format
        raise ScoreFileError(
            path, f"unknown input format {input_format!r}; use one of {', '.join(INPUT_FORMATS)}"
        )
    found = _EXTENSIONS.get(Path(path).suffix.lower())
    if found is None:
        known_ext = ", ".join(_EXTENSIONS)
        raise ScoreFileError(
            path,
            f"cannot tell the format from the extension (known: {known_ext}); "
            "name the format (--input-format jsonl, csv or parquet)",
        )
    return found


class ScoreReader:
    """One pass over a scores file, yielding a :class:`ScoreRow` per valid row.

    Iterating reads the file from the start; the counters below describe the
    last (or current) pass. Nothing is kept per row except the first
    :data:`MAX_REPORTED_ROW_ERRORS` invalid ones.

    Without ``skip_invalid``, the pass yields the valid rows and then raises
    :class:`InvalidScoreRowsError` listing the invalid ones; it stops early
    once :data:`MAX_REPORTED_ROW_ERRORS` of them are found. With it, invalid
    rows are counted in :attr:`rows_skipped` and the first ones kept in
    :attr:`skipped`.

    Args:
        path: the scores file.
        input_format: ``"jsonl"``, ``"csv"`` or ``"parquet"``; ``None`` to go by
            the extension.
        label_set: the model's labels; when given, a row whose ``label``,
            ``predicted`` or ``probabilities`` key is not one of them is
            invalid, and so is one whose ``probabilities`` are not a
            distribution over exactly these labels (see the module docstring).
        skip_invalid: skip invalid rows instead of failing.
        calibrators: the store's calibrators, to apply to raw ``probabilities``
            (rows without them are invalid); ``None`` when the rows are
            already calibrated.
        fast_check: test rows with the validator generated from the schema
            first, and parse JSON Lines on the cheaper path (see the module
            docstring); ``False`` sends every row through the strict reader and
            the full validator. Results are the same either way.

    Raises:
        ScoreFileError: from the constructor, for an unknown format.
    """

    def __init__(
        self,
        path: Path | str,
        *,
        input_format: str | None = None,
        label_set: Collection[str] | None = None,
        skip_invalid: bool = False,
        fast_check: bool = True,
        calibrators: StoreCalibrators | None = None,
    ) -> None:
        self.path = Path(path)
        self.format: InputFormat = detect_format(self.path, input_format)
        self.label_set: frozenset[str] | None = None if label_set is None else frozenset(label_set)
        self.skip_invalid = skip_invalid
        self.fast_check = fast_check
        self.calibrators = calibrators
        self._make_row: Callable[[dict[str, Any]], ScoreRow] = (
            _row_of if calibrators is None else _calibrated_row_maker(calibrators)
        )
        self.rows_read = 0
        self.rows_skipped = 0
        self._errors: list[RowError] = []

    @property
    def skipped(self) -> tuple[RowError, ...]:
        """The first invalid rows skipped (at most :data:`MAX_REPORTED_ROW_ERRORS`)."""
        return tuple(self._errors) if self.skip_invalid else ()

    def __iter__(self) -> Iterator[ScoreRow]:
        """Read the file; see the class docstring for what happens to invalid rows.

        Raises:
            ScoreFileError: the file cannot be read, is not UTF-8, or (CSV) its
                header is missing or wrong.
            InvalidScoreRowsError: invalid rows, when not skipping them.
        """
        self.rows_read = 0
        self.rows_skipped = 0
        self._errors = []
        check = fast_validator(SCORE_ROW_SCHEMA) if self.fast_check else None
        if self.format == "jsonl":
            rows = self._jsonl_rows(check)
        elif self.format == "csv":
            rows = self._csv_rows(check)
        else:
            rows = self._parquet_rows(check)
        with contextlib.closing(rows):
            yield from rows
        if self._errors and not self.skip_invalid:
            raise InvalidScoreRowsError(self.path, tuple(self._errors), complete=True)

    def _jsonl_rows(self, check: Check | None) -> _Rows:
        if check is None:
            yield from self._rows(self._jsonl(), None)
            return
        fast = _fast_jsonl_row(check, self.label_set, self._make_row, self.calibrators is not None)
        # One loop for the lines the cheap path takes; any other line is
        # handed, as it is, to the general path (strict reader, full errors).
        with _open_regular(self.path) as stream:
            readline = stream.readline
            limit = MAX_ROW_BYTES + 1
            line = 0
            while raw := readline(limit):
                line += 1
                row = fast(raw)
                if row is not None:
                    self.rows_read += 1
                    yield row
                    continue
                if len(raw) > MAX_ROW_BYTES:
                    while raw and not raw.endswith(b"\n"):
                        raw = readline(limit)
                    message = f"the line is longer than {MAX_ROW_BYTES} bytes"
                    self._reject(self._row_error(line, message, "json"))
                    continue
                yield from self._rows(self._jsonl_document(line, raw), check)

    def _rows(
        self, documents: Iterable[tuple[int, Any, RowError | None]], check: Check | None
    ) -> _Rows:
        for line, document, problem in documents:
            if problem is None and (check is None or not check(document)):
                issues = validate_document(SCORE_ROW_SCHEMA, document)
                if issues:
                    problem = RowError(file=str(self.path), line=line, issues=issues)
            if problem is None:
                issues = self._row_issues(document)
                if not issues:
                    try:
                        row = self._make_row(document)
                    except CalibrationError as exc:
                        issues = (self._calibration_issue(exc),)
                    else:
                        self.rows_read += 1
                        yield row
                        continue
                problem = RowError(file=str(self.path), line=line, issues=issues)
            self._reject(problem)

    def _row_issues(self, document: dict[str, Any]) -> tuple[SchemaIssue, ...]:
        """What is wrong with a schema-valid row beyond the schema (labels, distribution)."""
        probabilities = document.get("probabilities")
        if self.calibrators is not None and probabilities is None:
            return (
                SchemaIssue(
                    pointer="",
                    message="the row has predicted and confidence but no probabilities; "
                    "--apply-calibrator calibrates the model's raw probabilities, and a "
                    "predicted label with its confidence cannot be calibrated",
                    value=None,
                    keyword=_CALIBRATION_KEYWORD,
                    hint="give the raw probabilities of every label, or leave out "
                    "--apply-calibrator if the rows are already calibrated",
                ),
            )
        issues = self._label_issues(_row_of(document), document)
        if issues or self.label_set is None or probabilities is None:
            return issues
        return self._distribution_issues(probabilities, self.label_set)

    def _distribution_issues(
        self, probabilities: dict[str, Any], labels: frozenset[str]
    ) -> tuple[SchemaIssue, ...]:
        issues = []
        missing = sorted(labels.difference(probabilities))
        if missing:
            names = ", ".join(json.dumps(label, ensure_ascii=False) for label in missing)
            issues.append(
                SchemaIssue(
                    pointer="/probabilities",
                    message=f"the probabilities are not a distribution over the model's labels: "
                    f"{names} {'is' if len(missing) == 1 else 'are'} missing",
                    value=None,
                    keyword=_DISTRIBUTION_KEYWORD,
                    hint="give a probability for every label: " + ", ".join(sorted(labels)),
                )
            )
        total = math.fsum(probabilities.values())
        if abs(total - 1.0) > PROBABILITY_SUM_TOLERANCE:
            issues.append(
                SchemaIssue(
                    pointer="/probabilities",
                    message=f"the probabilities sum to {total:.6g}, not 1 (within "
                    f"{PROBABILITY_SUM_TOLERANCE:g})",
                    value=total,
                    keyword=_DISTRIBUTION_KEYWORD,
                    hint="give the model's probabilities (softmax outputs), not scores or a "
                    "subset of them",
                )
            )
        return tuple(issues)

    def _calibration_issue(self, exc: CalibrationError) -> SchemaIssue:
        return SchemaIssue(
            pointer="/probabilities",
            message=f"cannot be calibrated with {exc.file}: {exc.reason}",
            value=None,
            keyword=_CALIBRATION_KEYWORD,
        )

    def _reject(self, error: RowError) -> None:
        if self.format != "jsonl":  # CSV and Parquet name columns
            error = dataclasses.replace(error, column=_column_of(error.issue.pointer))
        if self.skip_invalid:
            self.rows_skipped += 1
            if len(self._errors) < MAX_REPORTED_ROW_ERRORS:
                self._errors.append(error)
            return
        self._errors.append(error)
        if len(self._errors) >= MAX_REPORTED_ROW_ERRORS:
            raise InvalidScoreRowsError(self.path, tuple(self._errors), complete=False)

    def _label_issues(self, row: ScoreRow, document: dict[str, Any]) -> tuple[SchemaIssue, ...]:
        if self.label_set is None:
            return ()
        unknown = _unknown_labels(row, document, self.label_set)
        return tuple(self._label_issue(path, label) for path, label in unknown)

    def _label_issue(self, path: list[str], label: str) -> SchemaIssue:
        return SchemaIssue(
            pointer=json_pointer(path),
            message=f"{json.dumps(label, ensure_ascii=False)} is not one of the model's labels",
            value=label,
            keyword=_LABEL_KEYWORD,
            hint="the labels are " + ", ".join(sorted(self.label_set or ())),
        )

    def _row_error(self, line: int, message: str, keyword: str) -> RowError:
        issue = SchemaIssue(pointer="", message=message, value=None, keyword=keyword)
        return RowError(file=str(self.path), line=line, issues=(issue,))

    def _jsonl(self) -> _Documents:
        with _open_regular(self.path) as stream:
            line = 0
            while raw := stream.readline(MAX_ROW_BYTES + 1):
                line += 1
                if len(raw) > MAX_ROW_BYTES:
                    while raw and not raw.endswith(b"\n"):
                        raw = stream.readline(MAX_ROW_BYTES + 1)
                    message = f"the line is longer than {MAX_ROW_BYTES} bytes"
                    yield line, None, self._row_error(line, message, "json")
                    continue
                yield from self._jsonl_document(line, raw)

    def _jsonl_document(self, line: int, raw: bytes) -> _Documents:
        if raw.isspace():
            return
        try:
            document = parse_json_bytes(raw.rstrip(b"\r\n"), source=self.path)
        except JSONFileError as exc:
            yield line, None, self._row_error(line, _json_problem(exc), "json")
            return
        yield line, document, None

    def _csv_rows(self, check: Check | None) -> _Rows:
        fast_row = _fast_document_row(self.label_set, self._make_row, self.calibrators is not None)
        with _open_regular(self.path) as binary:
            text = io.TextIOWrapper(binary, encoding="utf-8-sig", newline="")
            reader = csv.reader(self._bounded_lines(text), strict=True)
            try:
                header = next(reader, None)
                if header is None:
                    raise ScoreFileError(self.path, "is empty; the first row must name the columns")
                columns = self._csv_columns(header)
                to_document = _csv_converter(columns)
                start = reader.line_num + 1
                for record in reader:
                    line, start = start, reader.line_num + 1
                    if not record:
                        continue
                    if len(record) != len(columns):
                        message = f"the row has {len(record)} fields, the header {len(columns)}"
                        self._reject(self._row_error(line, message, "csv"))
                        continue
                    document = to_document(record)
                    # The common case in one loop; the general path (which
                    # says what is wrong) takes any row the validator rejects.
                    if check is not None and check(document):
                        row = fast_row(document)
                        if row is not None:
                            self.rows_read += 1
                            yield row
                            continue
                    yield from self._rows(((line, document, None),), check)
            except UnicodeDecodeError as exc:
                raise ScoreFileError(
                    self.path,
                    f"is not UTF-8 text (near line {reader.line_num + 1}); save it as UTF-8",
                ) from exc
            except csv.Error as exc:
                raise ScoreFileError(
                    self.path, f"is not valid CSV at line {reader.line_num}: {exc}"
                ) from exc

    def _parquet_rows(self, check: Check | None) -> _Rows:
        try:
            import pyarrow.parquet as parquet  # the optional extra: imported only here
        except ImportError as exc:
            raise ScoreFileError(
                self.path,
                f"is a Parquet file, and reading Parquet needs pyarrow: {PARQUET_EXTRA}",
            ) from exc
        fast_row = _fast_document_row(self.label_set, self._make_row, self.calibrators is not None)
        with _open_regular(self.path) as binary:
            try:
                table = parquet.ParquetFile(binary)
                columns = self._csv_columns(list(table.schema_arrow.names))
                batches = table.iter_batches(batch_size=PARQUET_BATCH_ROWS)
                line = 0
                for batch in batches:
                    for record in batch.to_pylist():
                        line += 1
                        document = _parquet_document(columns, record)
                        if check is not None and check(document):
                            row = fast_row(document)
                            if row is not None:
                                self.rows_read += 1
                                yield row
                                continue
                        yield from self._rows(((line, document, None),), check)
            except (OSError, ValueError, TypeError, KeyError) as exc:
                if isinstance(exc, ScoresError):
                    raise
                reason = str(exc).rstrip(". ")
                raise ScoreFileError(
                    self.path, f"cannot be read as Parquet ({reason}); is this a Parquet file?"
                ) from exc

    def _bounded_lines(self, text: io.TextIOWrapper) -> Iterator[str]:
        """The file's lines for :mod:`csv`, each read with a bound.

        :mod:`csv` reads a whole record before it can say anything about it,
        so one enormous line (millions of tiny fields) would be held in
        memory at once; a line longer than :data:`MAX_ROW_BYTES` characters
        stops the read instead, naming the line.
        """
        number = 0
        while True:
            line = text.readline(MAX_ROW_BYTES + 1)
            if not line:
                return
            number += 1
            if len(line) > MAX_ROW_BYTES:
                raise ScoreFileError(
                    self.path,
                    f"line {number} is longer than {MAX_ROW_BYTES} characters; no row of "
                    "scores is that long (is this the right file?)",
                )
            yield line

    def _csv_columns(self, header: list[str]) -> tuple[_Column, ...]:
        seen: set[str] = set()
        for name in header:
            if name in seen:
                raise ScoreFileError(
                    self.path,
                    f"the column {json_text(name)} appears twice in the header; keep one",
                )
            seen.add(name)
        columns = tuple(_column(name) for name in header)
        labels = [column.key for column in columns if column.kind == "probability"]
        if labels and "probabilities" in seen:
            raise ScoreFileError(
                self.path,
                "has both a probabilities column and p_<label> columns; keep the p_<label> ones",
            )
        if self.label_set is not None:
            unknown = [label for label in labels if label not in self.label_set]
            if unknown:
                raise ScoreFileError(
                    self.path,
                    f"the column {PROBABILITY_COLUMN_PREFIX}{unknown[0]} names a label the "
                    "model does not have (its labels are "
                    + ", ".join(sorted(self.label_set))
                    + ")",
                )
        return columns


def _unknown_labels(
    row: ScoreRow, document: dict[str, Any], labels: frozenset[str]
) -> list[tuple[list[str], str]]:
    """Where ``row`` names a label that is not in ``labels``: (path in the document, label)."""
    probabilities = document.get("probabilities")
    if row.label in labels and (
        row.predicted in labels if probabilities is None else labels.issuperset(probabilities)
    ):
        return []  # the usual case, decided in one step
    unknown = []
    if row.label not in labels:
        unknown.append((["label"], row.label))
    if probabilities is None:
        if row.predicted not in labels:
            unknown.append((["predicted"], row.predicted))
    else:
        unknown += [(["probabilities", key], key) for key in probabilities if key not in labels]
    return unknown


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


@functools.cache
def _row_properties() -> frozenset[str]:
    return frozenset(load_schema(SCORE_ROW_SCHEMA)["properties"])


def _is_distribution(probabilities: dict[str, Any], labels: frozenset[str]) -> bool:
    """Whether ``probabilities`` (keys known to be labels) covers every label and sums to 1."""
    return (
        len(probabilities) == len(labels)
        and abs(math.fsum(probabilities.values()) - 1.0) <= PROBABILITY_SUM_TOLERANCE
    )


def _fast_document_row(
    label_set: frozenset[str] | None,
    make_row: Callable[[dict[str, Any]], ScoreRow],
    need_probabilities: bool,
) -> Callable[[dict[str, Any]], ScoreRow | None]:
    """For a document the schema accepts: its row, or ``None`` when the general path must decide.

    ``None`` when the row names a label not in ``label_set``, its probabilities
    are not a distribution over it, it has no probabilities while
    ``need_probabilities``, or ``make_row`` (calibration) refuses it: the
    general path then says what is wrong. Otherwise the row is the one the
    general path would give.
    """
    plain = make_row is _row_of

    def fast(document: dict[str, Any]) -> ScoreRow | None:
        probabilities = document.get("probabilities")
        if probabilities is None and need_probabilities:
            return None
        row = _row_of(document)
        if label_set is not None and (
            _unknown_labels(row, document, label_set)
            or (probabilities is not None and not _is_distribution(probabilities, label_set))
        ):
            return None
        if plain:
            return row
        try:
            return make_row(document)
        except CalibrationError:
            return None

    return fast


def _calibrated_row_maker(calibrators: StoreCalibrators) -> Callable[[dict[str, Any]], ScoreRow]:
    """The row of a document whose ``probabilities`` are raw: calibrated as inference does.

    Raises (from the returned function):
        CalibrationError: the user's calibrator cannot be applied to the row.
    """
    calibrate = calibrators.score

    def make_row(document: dict[str, Any]) -> ScoreRow:
        user_id = document.get("user_id")
        scored = calibrate(document["probabilities"], user_id)
        return _new_row(ScoreRow, (document["label"], scored.predicted, scored.confidence, user_id))

    return make_row


def _fast_jsonl_row(
    check: Check,
    label_set: frozenset[str] | None,
    make_row: Callable[[dict[str, Any]], ScoreRow] | None = None,
    need_probabilities: bool = False,
) -> Callable[[bytes], ScoreRow | None]:
    """The cheap path for one line of a JSON Lines file: its row, or ``None``.

    ``None`` means "not decided here": the caller sends the line through the
    strict reader and the full validator, as every line went before. A row is
    returned only when that general path would return the very same row:

    - the line is parsed by :mod:`json`'s C scanner without the strict
      reader's Python hooks, except the one for ``NaN``/``Infinity``, which
      fails the parse (as do too-long integers, bad UTF-8 and anything after the
      object but the line break; whitespace around the object is left to the
      strict reader, and so is a line with an escape ``\\uD...``, which may be a
      lone surrogate);
    - every key of the row is a property of ``score_row.v1.json`` and the
      generated validator accepts it, so every value in it has been checked to
      be a string or a finite number: a number that overflowed to infinity
      (which the strict reader rejects) fails the validator;
    - duplicate keys (which the strict reader rejects and a plain dict hides)
      would leave more ``:`` in the line than keys in the parsed objects, since
      each key-value pair has one ``:`` outside strings; the two counts must be
      equal (a ``:`` inside a string only makes the line take the strict path);
    - the labels are in ``label_set`` (when given) and the probabilities a
      distribution over it, and ``make_row`` (calibration) accepts the row, as
      the general path checks (:func:`_fast_document_row`);
    - the line holds no ``\\ud``/``\\uD`` escape, which may be a lone surrogate
      (the strict reader refuses one; the scanner decodes it without a word).

    The tests compare this path with the general one on generated lines.
    """
    # The scanner json.loads uses (the C one), with the strict reader's hook for
    # NaN/Infinity only.
    # (typeshed types make_scanner's argument as a scanner; it takes a decoder.)
    scan = make_scanner(cast(Any, json.JSONDecoder(parse_constant=_no_constant)))
    names = _row_properties()
    fast_row = _fast_document_row(label_set, make_row or _row_of, need_probabilities)

    def fast(raw: bytes) -> ScoreRow | None:
        if b"\\ud" in raw or b"\\uD" in raw:
            return None  # maybe a lone surrogate, which only the strict reader refuses
        try:
            text = raw.decode("utf-8")
            document, end = scan(text, 0)
        except (ValueError, StopIteration, RecursionError):
            return None
        rest = text[end:]
        if rest and rest != "\n" and rest != "\r\n":
            return None
        if type(document) is not dict or not document.keys() <= names:
            return None
        probabilities = document.get("probabilities")
        pairs = len(document) + (len(probabilities) if type(probabilities) is dict else 0)
        if raw.count(b":") != pairs or not check(document):
            return None
        return fast_row(document)

    return fast


class _Column(NamedTuple):
    kind: Literal["probability", "number", "text"]
    key: str


@functools.cache
def _number_properties() -> frozenset[str]:
    properties = load_schema(SCORE_ROW_SCHEMA)["properties"]
    return frozenset(name for name, spec in properties.items() if spec.get("type") == "number")


def _column(name: str) -> _Column:
    if name.startswith(PROBABILITY_COLUMN_PREFIX):
        return _Column("probability", name[len(PROBABILITY_COLUMN_PREFIX) :])
    if name in _number_properties():
        return _Column("number", name)
    return _Column("text", name)


def _csv_converter(columns: tuple[_Column, ...]) -> Callable[[list[str]], dict[str, Any]]:
    """A function from a record to its document, the same as :func:`_csv_document`.

    For a file without ``p_<label>`` columns, a record without an empty cell
    (the usual one) becomes its document in one step, column names to cells,
    and then its number columns are converted: the very steps
    :func:`_csv_document` takes column by column. Any other record, or any
    record of a file with ``p_<label>`` columns, goes through
    :func:`_csv_document` itself.
    """
    if any(column.kind == "probability" for column in columns):
        return functools.partial(_csv_document, columns)
    keys = tuple(column.key for column in columns)
    numbers = tuple(column.key for column in columns if column.kind == "number")

    def convert(record: list[str]) -> dict[str, Any]:
        if "" in record:
            return _csv_document(columns, record)
        document: dict[str, Any] = dict(zip(keys, record, strict=True))
        for key in numbers:
            document[key] = _csv_number(document[key])
        return document

    return convert


def _csv_document(columns: tuple[_Column, ...], record: list[str]) -> dict[str, Any]:
    document: dict[str, Any] = {}
    probabilities: dict[str, Any] = {}
    for (kind, key), cell in zip(columns, record, strict=True):
        if not cell:
            continue
        if kind == "text":
            document[key] = cell
        elif kind == "number":
            document[key] = _csv_number(cell)
        else:
            probabilities[key] = _csv_number(cell)
    if probabilities:
        document["probabilities"] = probabilities
    return document


def _parquet_document(columns: tuple[_Column, ...], record: dict[str, Any]) -> dict[str, Any]:
    """The document of one Parquet row: nulls left out, ``p_<label>`` columns gathered.

    A float that is not finite becomes its text (``"nan"``), which the schema
    rejects as "not of type 'number'", as for CSV; so does a value JSON has no
    type for (a date, bytes, a decimal). A ``probabilities`` column of map type
    (pairs) becomes an object.
    """
    document: dict[str, Any] = {}
    probabilities: dict[str, Any] = {}
    for kind, key in columns:
        name = PROBABILITY_COLUMN_PREFIX + key if kind == "probability" else key
        value = record[name]
        if value is None:
            continue
        if type(value) is float and not math.isfinite(value):
            value = repr(value)
        elif type(value) not in _PARQUET_JSON_TYPES:
            value = str(value)
        if kind == "probability":
            probabilities[key] = value
            continue
        if key == "probabilities" and type(value) is list:
            value = _parquet_map(value)
        document[key] = value
    if probabilities:
        document["probabilities"] = probabilities
    return document


_PARQUET_JSON_TYPES = frozenset({str, int, float, bool, dict, list})


def _parquet_map(pairs: list[Any]) -> Any:
    if not all(type(pair) is tuple and len(pair) == 2 for pair in pairs):
        return pairs  # not a map: the schema says what is wrong
    mapping: dict[Any, Any] = {}
    for key, value in pairs:
        if type(value) is float and not math.isfinite(value):
            value = repr(value)
        mapping[key] = value
    return mapping


def _csv_number(cell: str) -> float | str:
    # Only the JSON number syntax becomes a number: Python's float() would
    # also take "nan", "inf", " 1" and "1_0". Other text stays text, and the
    # schema reports it as "not of type 'number'".
    if _JSON_NUMBER.fullmatch(cell) is None:
        return cell
    value = float(cell)
    return value if math.isfinite(value) else cell


def _column_of(pointer: str) -> str | None:
    parts = [part.replace("~1", "/").replace("~0", "~") for part in pointer.split("/")[1:]]
    if not parts:
        return None
    if parts[0] == "probabilities" and len(parts) > 1:
        return PROBABILITY_COLUMN_PREFIX + parts[1]
    if parts[0] == "probabilities":
        return PROBABILITY_COLUMN_PREFIX + "<label>"
    return parts[0]


# ScoreRow's own constructor is a Python function; the tuple's is half the
# cost, which shows on a million rows.
_new_row = tuple.__new__


def _row_of(document: dict[str, Any]) -> ScoreRow:
    probabilities: dict[str, float] | None = document.get("probabilities")
    if probabilities is None:
        return _new_row(
            ScoreRow,
            (
                document["label"],
                document["predicted"],
                float(document["confidence"]),
                document.get("user_id"),
            ),
        )
    predicted = ""
    confidence = -1.0
    for label, probability in probabilities.items():
        if probability > confidence or (probability == confidence and label < predicted):
            predicted, confidence = label, probability
    return ScoreRow(document["label"], predicted, float(confidence), document.get("user_id"))


def _json_problem(exc: JSONFileError) -> str:
    cause = exc.__cause__
    if isinstance(cause, json.JSONDecodeError):
        # The document is one line: its column is what locates the problem.
        return f"not valid JSON: {cause.msg} at column {cause.colno}"
    # The reason completes "<file> ...", as in "is not UTF-8 text (...)".
    return exc.reason.removeprefix("is ")


@contextlib.contextmanager
def _open_regular(path: Path) -> Iterator[IO[bytes]]:
    try:
        fd, _info = open_regular_file(path)
    except FileNotFoundError as exc:
        raise ScoreFileError(path, "does not exist") from exc
    except JSONFileError as exc:
        raise ScoreFileError(path, exc.reason) from exc
    try:
        stream = os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
    with stream:
        try:
            yield stream
        except OSError as exc:
            raise ScoreFileError(path, f"cannot be read: {exc.strerror or exc}") from exc
