"""Where each value of a JSON text stands: JSON pointers mapped to line and column.

Error reports name the JSON pointer of a bad value (``/reject_threshold``); an
editor, a CI annotation or a person wants the line and column too. This
module scans the text once (it has already been parsed by the strict reader,
so it is valid JSON nested at most :data:`~taskclf.core.jsonio.MAX_JSON_DEPTH`
levels) and records, for every member of every object, where its key starts,
and for every array item where the item starts.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping
from dataclasses import dataclass

from taskclf.core.schemas import json_pointer

__all__ = ["Position", "json_positions", "position_of"]


@dataclass(frozen=True, slots=True)
class Position:
    """A place in a text: 1-based line and column (in characters)."""

    line: int
    column: int


_WHITESPACE = " \t\n\r"


def json_positions(text: str) -> dict[str, Position]:
    """Every JSON pointer of the (valid) JSON ``text``, mapped to where it stands.

    An object member's position is where its key starts; an array item's is
    where the item starts; the whole document (``""``) is where it starts.
    A text that is not valid JSON gives what could be scanned before the fault.
    """
    # A byte-order mark is not a column an editor shows.
    scanner = _Scanner(text.removeprefix("\ufeff"))
    with contextlib.suppress(IndexError, ValueError):  # not JSON after all: keep what was found
        scanner.value([])
    return scanner.positions


def position_of(positions: Mapping[str, Position], pointer: str) -> Position | None:
    """The position of ``pointer``, else of its nearest ancestor that exists in the text.

    A required key that is missing has no position of its own; the object that
    should hold it does.
    """
    while True:
        if pointer in positions:
            return positions[pointer]
        if not pointer:
            return None
        pointer = pointer.rsplit("/", 1)[0]


class _Scanner:
    def __init__(self, text: str) -> None:
        self.text = text
        self.at = 0
        self.positions: dict[str, Position] = {}

    def position(self, index: int) -> Position:
        line_start = self.text.rfind("\n", 0, index) + 1
        line = self.text.count("\n", 0, index) + 1
        return Position(line, index - line_start + 1)

    def skip(self) -> None:
        while self.at < len(self.text) and self.text[self.at] in _WHITESPACE:
            self.at += 1

    def value(self, path: list[str | int]) -> None:
        self.skip()
        if not path:
            self.positions[""] = self.position(self.at)
        char = self.text[self.at]
        if char == "{":
            self.members(path)
        elif char == "[":
            self.items(path)
        elif char == '"':
            self.string()
        else:
            self.scalar()

    def members(self, path: list[str | int]) -> None:
        self.at += 1
        self.skip()
        if self.text[self.at] == "}":
            self.at += 1
            return
        while True:
            self.skip()
            start = self.at
            key = self.string()
            self.positions[json_pointer([*path, key])] = self.position(start)
            self.skip()
            if self.text[self.at] != ":":
                raise ValueError("expected ':'")
            self.at += 1
            self.value([*path, key])
            self.skip()
            if self.text[self.at] == ",":
                self.at += 1
                continue
            if self.text[self.at] == "}":
                self.at += 1
                return
            raise ValueError("expected ',' or '}'")

    def items(self, path: list[str | int]) -> None:
        self.at += 1
        self.skip()
        if self.text[self.at] == "]":
            self.at += 1
            return
        index = 0
        while True:
            self.skip()
            self.positions[json_pointer([*path, index])] = self.position(self.at)
            self.value([*path, index])
            self.skip()
            if self.text[self.at] == ",":
                self.at += 1
                index += 1
                continue
            if self.text[self.at] == "]":
                self.at += 1
                return
            raise ValueError("expected ',' or ']'")

    def string(self) -> str:
        start = self.at
        self.at += 1
        while True:
            char = self.text[self.at]
            if char == "\\":
                self.at += 2
            elif char == '"':
                self.at += 1
                decoded: str = json.loads(self.text[start : self.at])
                return decoded
            else:
                self.at += 1

    def scalar(self) -> None:
        while self.at < len(self.text) and self.text[self.at] not in ",]}" + _WHITESPACE:
            self.at += 1
