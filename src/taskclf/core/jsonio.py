"""Strict, bounded reading of JSON files and canonical JSON text.

Policy files are edited by hand, so reading one must never hang, never read an
unbounded amount of data and never accept something that is not plain JSON:
``NaN``/``Infinity`` (which Python's :mod:`json` accepts), numbers that overflow
to infinity and duplicate keys (ambiguous: which one wins?) are rejected here,
before any schema sees the document.

Documents nested more than :data:`MAX_JSON_DEPTH` levels and strings holding a
lone UTF-16 surrogate (``"\\ud800"``, which no UTF-8 file can hold once
written) are refused too, so nothing that validates, freezes, renders or saves
a document later can fail on them. :func:`encode_json_document` applies the
same rules before anything is written: taskclf never writes a file its own
reader would refuse.

A UTF-8 byte-order mark at the start of a file is accepted and ignored
(RFC 8259 allows parsers to do so, and some Windows editors write one); files
written by taskclf never carry one.
"""

from __future__ import annotations

import functools
import json
import math
import os
import re
import stat
from pathlib import Path
from typing import Any

__all__ = [
    "MAX_JSON_BYTES",
    "MAX_JSON_DEPTH",
    "JSONFileError",
    "dumps_json",
    "encode_json_document",
    "json_problem",
    "json_text",
    "open_regular_file",
    "parse_json_bytes",
    "read_fd_bytes",
    "read_file_bytes",
]

MAX_JSON_BYTES = 1024 * 1024
"""Largest file, in bytes, that taskclf reads as a JSON document (1 MiB)."""

MAX_JSON_DEPTH = 64
"""Deepest nesting of arrays and objects taskclf accepts in a document."""

_BOM = b"\xef\xbb\xbf"


class JSONFileError(Exception):
    """A file could not be read, or its bytes are not acceptable JSON.

    ``path`` names the file and ``reason`` says what is wrong with it, in words
    a person can act on.
    """

    def __init__(
        self, path: Path | str, reason: str, *, line: int | None = None, column: int | None = None
    ) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = Path(path)
        self.reason = reason
        self.line = line
        """For a JSON syntax error, the line where it is (1-based); else ``None``."""
        self.column = column
        """For a JSON syntax error, the column where it is (1-based); else ``None``."""


def read_file_bytes(path: str | Path, *, max_bytes: int = MAX_JSON_BYTES) -> bytes:
    """Return the bytes of the regular file at ``path``, refusing anything odd.

    The file is opened without blocking (a FIFO at the path cannot stall us),
    must be a regular file, and must not be larger than ``max_bytes``; a larger
    file is refused without being read.

    Raises:
        FileNotFoundError: nothing exists at ``path`` (callers treat it as "no file").
        JSONFileError: anything else that keeps the file from being read.
    """
    fd, _info = open_regular_file(path)
    try:
        return read_fd_bytes(fd, path, max_bytes=max_bytes)
    finally:
        os.close(fd)


def read_fd_bytes(fd: int, source: Path | str, *, max_bytes: int = MAX_JSON_BYTES) -> bytes:
    """Read the whole regular file open at ``fd``, refusing more than ``max_bytes``.

    ``source`` names the file in errors. The descriptor is not closed.

    Raises:
        JSONFileError: the file is larger than ``max_bytes`` (refused without
            being read), grows past it while being read, or cannot be read.
    """
    try:
        size = os.fstat(fd).st_size
        if size > max_bytes:
            raise JSONFileError(source, f"is {size} bytes, larger than the {max_bytes}-byte limit")
        # Asking for one byte more than the file's size returns the whole file
        # in one call and tells whether it grew meanwhile (a full buffer).
        wanted = size + 1
        data = os.read(fd, wanted)
        if len(data) == wanted:
            data += _read_rest(fd, max_bytes + 1 - len(data))
    except OSError as exc:
        raise JSONFileError(source, f"cannot be read: {exc.strerror or exc}") from exc
    if len(data) > max_bytes:
        raise JSONFileError(source, f"grew past the {max_bytes}-byte limit while being read")
    return data


_OPEN_FLAGS = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)


def open_regular_file(path: str | Path) -> tuple[int, os.stat_result]:
    """Open ``path`` for reading without blocking; refuse anything but a regular file.

    Returns the open file descriptor (the caller closes it) and its status.

    Raises:
        FileNotFoundError: nothing exists at ``path``, or a part of the path is a file.
        JSONFileError: a folder, FIFO, socket or device is at ``path``, or it
            cannot be opened.
    """
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except FileNotFoundError:
        raise
    except NotADirectoryError as exc:
        # A part of the path is a file, so no file can exist at the path.
        raise FileNotFoundError(exc.errno, "a part of the path is not a folder", str(path)) from exc
    except OSError as exc:
        raise JSONFileError(path, f"cannot be opened: {exc.strerror or exc}") from exc
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise JSONFileError(path, "is a directory, not a file")
        if not stat.S_ISREG(info.st_mode):
            raise JSONFileError(path, "is not a regular file (a FIFO, socket or device?)")
    except BaseException:
        os.close(fd)
        raise
    return fd, info


def _read_rest(fd: int, limit: int) -> bytes:
    chunks: list[bytes] = []
    while limit > 0:
        chunk = os.read(fd, min(limit, 65536))
        if not chunk:
            break
        chunks.append(chunk)
        limit -= len(chunk)
    return b"".join(chunks)


class _RejectedJSON(ValueError):
    """Raised from inside the JSON parser's hooks; turned into a JSONFileError."""


def _reject_constant(name: str) -> Any:
    raise _RejectedJSON(f"{name} is not valid JSON (numbers must be finite)")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _RejectedJSON(f"the number {text} is too large to represent")
    return value


def _bounded_int(text: str) -> int:
    try:
        return int(text)
    except ValueError as exc:  # more digits than sys.get_int_max_str_digits() allows
        raise _RejectedJSON(f"an integer with {len(text)} digits is too long") from exc


def _object_without_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _RejectedJSON(
                    f"the key {json_text(key)} appears twice in one object; keep only one of them"
                )
            seen.add(key)
    return obj


@functools.cache
def _strict_decoder() -> json.JSONDecoder:
    # Built once: creating a decoder per document costs more than parsing a
    # small one (scores files parse one document per line).
    return json.JSONDecoder(
        object_pairs_hook=_object_without_duplicates,
        parse_constant=_reject_constant,
        parse_float=_finite_float,
        parse_int=_bounded_int,
    )


def parse_json_bytes(data: bytes, *, source: Path | str) -> Any:
    """Parse ``data`` as one strict JSON document; ``source`` names it in errors.

    Raises:
        JSONFileError: empty input, bytes that are not UTF-8, invalid JSON,
            ``NaN``/``Infinity``, integers too long to convert, duplicate keys, or
            nesting too deep to parse.
    """
    if data.startswith(_BOM):
        data = data[len(_BOM) :]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise JSONFileError(
            source, f"is not UTF-8 text (bad byte at offset {exc.start}); save it as UTF-8"
        ) from exc
    if not text.strip():
        raise JSONFileError(source, "is empty; it must hold a JSON object")
    try:
        document = _strict_decoder().decode(text)
    except json.JSONDecodeError as exc:
        raise JSONFileError(
            source,
            f"is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}",
            line=exc.lineno,
            column=exc.colno,
        ) from exc
    except _RejectedJSON as exc:
        raise JSONFileError(source, f"is not valid JSON: {exc}") from exc
    except RecursionError as exc:
        raise JSONFileError(source, _TOO_DEEP) from exc
    problem = json_problem(document, text)
    if problem is not None:
        raise JSONFileError(source, problem)
    return document


_TOO_DEEP = (
    f"is nested more than {MAX_JSON_DEPTH} levels deep; taskclf reads documents nested "
    f"at most {MAX_JSON_DEPTH} levels (flatten the deepest value)"
)

# Cheap tests on the text that rule out the walk below for almost every document:
# a document needs more brackets than the depth limit to be too deep, and a
# "\ud8.." to "\udf.." escape to hold a surrogate.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def json_problem(document: Any, text: str | None = None) -> str | None:
    """Why taskclf would refuse the parsed ``document``, or ``None`` when it would not.

    Refused: nesting deeper than :data:`MAX_JSON_DEPTH` and strings (keys
    included) holding a lone surrogate. ``text`` is the document's JSON text,
    when known, and lets most documents skip the walk. The walk uses no
    recursion, so any depth is safe to test.
    """
    if text is not None and (
        text.count("[") + text.count("{") <= MAX_JSON_DEPTH and not _SURROGATE_ESCAPE.search(text)
    ):
        return None
    pending: list[tuple[Any, int]] = [(document, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, dict | list | tuple):
            if depth > MAX_JSON_DEPTH:
                return _TOO_DEEP
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                if isinstance(key, str) and _LONE_SURROGATE.search(key):
                    return _surrogate_problem(key)
                pending.append((item, depth + 1))
        elif isinstance(value, str) and _LONE_SURROGATE.search(value):
            return _surrogate_problem(value)
    return None


def _surrogate_problem(value: str) -> str:
    found = _LONE_SURROGATE.search(value)
    code = ord(found.group()) if found else 0
    return (
        f"holds a lone UTF-16 surrogate (\\u{code:04x}), which is not a character; "
        "remove it or write the whole surrogate pair"
    )


def encode_json_document(document: Any, source: Path | str) -> bytes:
    """The bytes taskclf writes for ``document`` (:func:`dumps_json`), checked first.

    Everything the reader (:func:`parse_json_bytes` and the 1 MiB limit of
    :func:`read_file_bytes`) would refuse is refused here, before a file is
    touched, so taskclf never writes a file it would then refuse to read.

    Raises:
        JSONFileError: the document is nested too deeply, holds a lone
            surrogate, NaN or an infinity, something JSON cannot represent, or
            would be larger than :data:`MAX_JSON_BYTES`.
    """
    problem = json_problem(document)
    if problem is not None:
        raise JSONFileError(source, problem.replace("is nested", "would be nested", 1))
    try:
        data = dumps_json(document).encode("utf-8")
    except (TypeError, ValueError) as exc:
        raise JSONFileError(source, f"cannot be written as JSON: {exc}") from exc
    if len(data) > MAX_JSON_BYTES:
        raise JSONFileError(
            source,
            f"would be {len(data)} bytes, over the {MAX_JSON_BYTES}-byte (1 MiB) limit taskclf "
            "reads; nothing was written",
        )
    return data


def json_text(value: Any) -> str:
    """``value`` as one line of JSON, for messages: ``null``, ``"a"``, ``["a", "b"]``.

    Messages that quote a value from a file speak the file's language, not
    Python's (``None``, ``'a'``). Values JSON cannot hold fall back to ``repr``.
    """
    try:
        return json.dumps(value, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError):
        return repr(value)


def dumps_json(document: Any) -> str:
    """Return the canonical text taskclf writes: UTF-8-ready, indent 2, final newline.

    Raises:
        ValueError: the document holds NaN or an infinity.
        TypeError: the document holds something JSON cannot represent.
    """
    return json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
