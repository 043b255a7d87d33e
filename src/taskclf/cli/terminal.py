"""Text that is safe to print on a terminal, whatever the files it came from hold.

A policy, a bundle's ``metadata.json`` or a folder name may hold control
characters: an escape sequence can recolour the screen, set the window title
or move the cursor, a carriage return can overwrite what was printed, and a
line break inside a value can forge a line of a listing. Text output escapes
them the way JSON does (``\\u001b``, ``\\n``); JSON output stays exact.

- :func:`terminal_text` is applied to every line taskclf prints as text: it
  escapes every control character except the line breaks taskclf itself writes.
- :func:`value_text` is applied to each value taken from a file where it is
  put into a line: it escapes line breaks too.
"""

from __future__ import annotations

import re

__all__ = ["json_terminal_text", "terminal_text", "value_text"]

# C0 controls but the line feed, DEL, C1 controls, the Unicode controls that
# reorder or hide text (bidirectional overrides and isolates, BOM/zero-width
# no-break), and lone surrogates.
# Lone surrogates stand for bytes that are not UTF-8 (a folder name read with
# surrogateescape); printed raw, they would put those bytes on the terminal.
_OTHER_CONTROLS = "\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff\ud800-\udfff"
_UNSAFE = re.compile(f"[\x00-\x09\x0b-\x1f{_OTHER_CONTROLS}]")
_UNSAFE_IN_VALUE = re.compile(f"[\x00-\x1f{_OTHER_CONTROLS}]")
# JSON text: json.dumps escapes C0 inside strings, and its own line breaks are layout.
_UNSAFE_IN_JSON = re.compile(f"[{_OTHER_CONTROLS}]")
_SHORT = {"\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    return _SHORT.get(char) or f"\\u{ord(char):04x}"


def terminal_text(text: str) -> str:
    """``text`` with every control character but the line feed escaped as in JSON."""
    return _UNSAFE.sub(_escape, text)


def value_text(value: object) -> str:
    """``str(value)`` with every control character, line feeds included, escaped as in JSON."""
    return _UNSAFE_IN_VALUE.sub(_escape, str(value))


def json_terminal_text(text: str) -> str:
    """JSON text with the characters :func:`value_text` escapes written as ``\\uXXXX``.

    ``json.dumps`` already escapes C0 controls; this escapes the rest (DEL, C1,
    bidirectional controls, lone surrogates from names that are not UTF-8),
    inside strings, where an escape denotes the same character. The JSON value
    is unchanged and the text is valid UTF-8.
    """
    return _UNSAFE_IN_JSON.sub(lambda match: f"\\u{ord(match.group()):04x}", text)
