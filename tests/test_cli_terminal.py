"""Unit tests of :mod:`taskclf.cli.terminal`: text that is safe to print on a terminal."""

from __future__ import annotations

import pytest

from taskclf.cli.terminal import terminal_text, value_text

C0_BUT_LF = [chr(code) for code in range(0x20) if code != 0x0A]
C1 = [chr(code) for code in range(0x80, 0xA0)]
BIDI_AND_INVISIBLE = [
    "\u061c",  # Arabic letter mark
    "\u200e",  # left-to-right mark
    "\u200f",  # right-to-left mark
    *(chr(code) for code in range(0x202A, 0x202F)),  # embeddings and overrides
    *(chr(code) for code in range(0x2066, 0x206A)),  # isolates
    "\ufeff",  # BOM / zero-width no-break space
]
LONE_SURROGATES = ["\ud800", "\udbff", "\udc00", "\udcff", "\udfff"]
UNSAFE = [*C0_BUT_LF, "\x7f", *C1, *BIDI_AND_INVISIBLE, *LONE_SURROGATES]

ORDINARY = [
    "plain ascii ~!@#$%^&*()_+{}|:\"<>?`-=[]\\;',./",
    "café naïve Ærøskøbing Ελληνικά русский",
    "日本語 中文 한국어 עברית العربية",
    "emoji 😀 👍🏽 🏳️‍🌈 👨‍👩‍👧",  # ZWJ sequences and variation selectors stay
    "math ∑ √ ∞ ≠ — “quotes” …",
    "\u00a0non-breaking space",
]


class TestTerminalText:
    """terminal_text escapes every control character but the line feed, as JSON would."""

    @pytest.mark.parametrize("char", UNSAFE, ids=lambda c: f"U+{ord(c):04X}")
    def test_escaped(self, char: str) -> None:
        escaped = terminal_text(f"a{char}b")
        assert char not in escaped
        assert escaped.startswith("a")
        assert escaped.endswith("b")
        assert escaped.isascii()

    @pytest.mark.parametrize(
        ("char", "escape"),
        [("\b", "\\b"), ("\t", "\\t"), ("\f", "\\f"), ("\r", "\\r"), ("\x00", "\\u0000")],
    )
    def test_short_escapes(self, char: str, escape: str) -> None:
        assert terminal_text(char) == escape

    @pytest.mark.parametrize("char", ["\x1b", "\x7f", "\x9b", "\u202e", "\ufeff", "\udcff"])
    def test_u_escapes(self, char: str) -> None:
        assert terminal_text(char) == f"\\u{ord(char):04x}"

    def test_line_feed_kept(self) -> None:
        assert terminal_text("one\ntwo\n") == "one\ntwo\n"

    def test_escape_sequence_neutralised(self) -> None:
        assert terminal_text("\x1b]0;title\x07\x1b[2J") == "\\u001b]0;title\\u0007\\u001b[2J"

    @pytest.mark.parametrize("text", ORDINARY)
    def test_ordinary_unicode_untouched(self, text: str) -> None:
        assert terminal_text(text) == text

    def test_surrogate_escaped_text_is_encodable(self) -> None:
        name = b"run_\xff\xfe".decode("utf-8", "surrogateescape")
        assert terminal_text(name).encode("utf-8") == b"run_\\udcff\\udcfe"

    def test_everything_in_one_string(self) -> None:
        text = "".join(UNSAFE)
        escaped = terminal_text(text)
        assert escaped.isascii()
        assert escaped.isprintable()


class TestValueText:
    """value_text escapes line feeds too, and takes any value through str()."""

    @pytest.mark.parametrize("char", [*UNSAFE, "\n"], ids=lambda c: f"U+{ord(c):04X}")
    def test_escaped(self, char: str) -> None:
        escaped = value_text(f"a{char}b")
        assert char not in escaped
        assert escaped.isascii()
        assert escaped.isprintable()

    def test_line_feed_escaped(self) -> None:
        assert value_text("forged\nline") == "forged\\nline"

    @pytest.mark.parametrize("text", ORDINARY)
    def test_ordinary_unicode_untouched(self, text: str) -> None:
        assert value_text(text) == text

    def test_non_strings(self) -> None:
        assert value_text(0.5) == "0.5"
        assert value_text(None) == "None"
        assert value_text(["a\nb"]) == "['a\\nb']"  # str() of the list already escapes

    def test_idempotent_on_safe_text(self) -> None:
        once = value_text("a\x1bb\nc")
        assert value_text(once) == once
        assert terminal_text(once) == once
