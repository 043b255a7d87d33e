"""Strict, bounded reading of JSON files and canonical JSON text.

Policy files are edited by hand, so reading one must never hang, never read an
unbounded amount of data and never accept something that is not plain JSON:
``NaN``/``Infinity`` (which Python's :mod:`json` accepts), numbers that overflow
to infinity and duplicate keys (ambiguous: which one wins?) are rejected here,
before any schema sees the document.

A UTF-8 byte-order mark at the start of a file is accepted and ignored
(RFC 8259 allows parsers to do so, and some Windows editors write one); files
written by taskclf never carry one.
"""

from __future__ import annotations

import functools
import json
import math
import os
import stat
from pathlib import Path
from typing import Any

__all__ = [
    "MAX_JSON_BYTES",
    "JSONFileError",
    "dumps_json",
    "open_regular_file",
    "parse_json_bytes",
    "read_file_bytes",
]

MAX_JSON_BYTES = 1024 * 1024
"""Largest file, in bytes, that taskclf reads as a JSON document (1 MiB)."""

_BOM = b"\xef\xbb\xbf"


class JSONFileError(Exception):
    """A file could not be read, or its bytes are not acceptable JSON.

    ``path`` names the file and ``reason`` says what is wrong with it, in words
    a person can act on.
    """

    def __init__(self, path: Path | str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = Path(path)
        self.reason = reason


def read_file_bytes(path: str | Path, *, max_bytes: int = MAX_JSON_BYTES) -> bytes:
    """Return the bytes of the regular file at ``path``, refusing anything odd.

    The file is opened without blocking (a FIFO at the path cannot stall us),
    must be a regular file, and must not be larger than ``max_bytes``; a larger
    file is refused without being read.

    Raises:
        FileNotFoundError: nothing exists at ``path`` (callers treat it as "no file").
        JSONFileError: anything else that keeps the file from being read.
    """
    fd, info = open_regular_file(path)
    try:
        if info.st_size > max_bytes:
            raise JSONFileError(
                path, f"is {info.st_size} bytes, larger than the {max_bytes}-byte limit"
            )
        # Asking for one byte more than the file's size returns the whole file
        # in one call and tells whether it grew meanwhile (a full buffer).
        wanted = info.st_size + 1
        data = os.read(fd, wanted)
        if len(data) == wanted:
            data += _read_rest(fd, max_bytes + 1 - len(data))
    except OSError as exc:
        raise JSONFileError(path, f"cannot be read: {exc.strerror or exc}") from exc
    finally:
        os.close(fd)
    if len(data) > max_bytes:
        raise JSONFileError(path, f"grew past the {max_bytes}-byte limit while being read")
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
                    f"the key {key!r} appears twice in one object; keep only one of them"
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
        return _strict_decoder().decode(text)
    except json.JSONDecodeError as exc:
        raise JSONFileError(
            source, f"is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from exc
    except _RejectedJSON as exc:
        raise JSONFileError(source, f"is not valid JSON: {exc}") from exc
    except RecursionError as exc:
        raise JSONFileError(source, "is not valid JSON: it is nested too deeply") from exc


def dumps_json(document: Any) -> str:
    """Return the canonical text taskclf writes: UTF-8-ready, indent 2, final newline.

    Raises:
        ValueError: the document holds NaN or an infinity.
        TypeError: the document holds something JSON cannot represent.
    """
    return json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
