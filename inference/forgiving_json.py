"""A forgiving JSON parser for model output (pure; no Django).

It takes what ``json`` refuses but models write: single-quoted strings (Python dict
output), True/False/None, trailing commas, a missing comma before the next quoted key,
raw line breaks inside strings, unquoted keys, ``//`` and ``/* */`` comments between
tokens (models annotate values: ``"age": "N/A" // not stated``), and curly quotes used as string
delimiters (only where a string starts, so curly quotes inside a string stay as they
are). It parses one value starting at a given position and says where it ended, so
the caller can look for the first top-level object in surrounding text. Running out of
input raises :class:`Truncated`, never a guess at the missing part; messages name
positions, never the text.
"""

from __future__ import annotations

import re
from typing import Any

MAX_DEPTH = 64  # nesting followed; model output is flat


class SyntaxProblem(Exception):
    pass


class Truncated(SyntaxProblem):
    pass


_QUOTES = {'"': '"', "'": "'", "\u201c": "\u201d", "\u2018": "\u2019"}  # opening -> closing
_PLAIN = {close: re.compile(f"[^{re.escape(close)}\\\\]*") for close in _QUOTES.values()}
_NUMBER = re.compile(r"-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_LITERALS = {"true": True, "false": False, "null": None, "True": True, "False": False, "None": None}
_ESCAPES = {'"': '"', "'": "'", "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
# Whitespace and comments: only ever skipped between tokens, so "//" inside a string stays.
_SPACE = re.compile(r"(?:[ \t\r\n\u00a0]+|//[^\n]*|/\*.*?\*/)*", re.DOTALL)


class ForgivingParser:
    """A small recursive-descent parser for JSON as models write it."""

    def __init__(self, text: str):
        self.text = text
        self.n = len(text)

    def _ws(self, i: int) -> int:
        i = _SPACE.match(self.text, i).end()
        if i >= self.n:
            raise Truncated("the output ends inside the object")
        return i

    def value(self, i: int, depth: int = 0) -> tuple[Any, int]:
        """The value starting at or after position ``i`` (whitespace skipped) and the
        position just after it."""
        i = self._ws(i)
        c = self.text[i]
        if c == "{":
            return self._object(i + 1, depth + 1)
        if c == "[":
            return self._array(i + 1, depth + 1)
        if c in _QUOTES:
            return self._string(i)
        m = _NUMBER.match(self.text, i)
        if m:
            number = m.group()
            if m.end() >= self.n:
                raise Truncated("the output ends inside a number")
            is_int = not any(ch in number for ch in ".eE")
            return (int(number) if is_int else float(number)), m.end()
        m = _WORD.match(self.text, i)
        if m and m.group() in _LITERALS:
            return _LITERALS[m.group()], m.end()
        if m and m.end() >= self.n:
            raise Truncated("the output ends inside a literal")
        raise SyntaxProblem(f"unexpected character at position {i}")

    def _object(self, i: int, depth: int) -> tuple[dict, int]:
        if depth > MAX_DEPTH:
            raise SyntaxProblem(f"nesting deeper than {MAX_DEPTH} levels")
        result: dict[str, Any] = {}
        while True:
            i = self._ws(i)
            if self.text[i] == "}":
                return result, i + 1
            key, i = self._key(i)
            i = self._ws(i)
            if self.text[i] != ":":
                raise SyntaxProblem(f"expected ':' after a key at position {i}")
            value, i = self.value(i + 1, depth)
            result[key] = value
            i = self._ws(i)
            c = self.text[i]
            if c == ",":
                i += 1
            elif c == "}":
                return result, i + 1
            elif c not in _QUOTES:  # a missing comma before the next quoted key is forgiven
                raise SyntaxProblem(f"expected ',' or '}}' at position {i}")

    def _key(self, i: int) -> tuple[str, int]:
        if self.text[i] in _QUOTES:
            return self._string(i)
        m = _WORD.match(self.text, i)
        if m:
            return m.group(), m.end()
        raise SyntaxProblem(f"expected a key at position {i}")

    def _array(self, i: int, depth: int) -> tuple[list, int]:
        if depth > MAX_DEPTH:
            raise SyntaxProblem(f"nesting deeper than {MAX_DEPTH} levels")
        result: list[Any] = []
        while True:
            i = self._ws(i)
            if self.text[i] == "]":
                return result, i + 1
            value, i = self.value(i, depth)
            result.append(value)
            i = self._ws(i)
            c = self.text[i]
            if c == ",":
                i += 1
            elif c == "]":
                return result, i + 1
            else:
                raise SyntaxProblem(f"expected ',' or ']' at position {i}")

    def _string(self, i: int) -> tuple[str, int]:
        close = _QUOTES[self.text[i]]
        plain = _PLAIN[close]
        parts = []
        j = i + 1
        while True:
            m = plain.match(self.text, j)
            parts.append(m.group())
            j = m.end()
            if j >= self.n:
                raise Truncated("the output ends inside a string")
            if self.text[j] == close:
                return "".join(parts), j + 1
            # a backslash
            if j + 1 >= self.n:
                raise Truncated("the output ends inside a string")
            esc = self.text[j + 1]
            if esc == "u":
                char, j = self._unicode_escape(j)
                parts.append(char)
            elif esc in _ESCAPES:
                parts.append(_ESCAPES[esc])
                j += 2
            else:  # not an escape JSON knows: keep it as written
                parts.append(self.text[j : j + 2])
                j += 2

    def _unicode_escape(self, j: int) -> tuple[str, int]:
        digits = self.text[j + 2 : j + 6]
        if len(digits) < 4:
            raise Truncated("the output ends inside a string")
        try:
            code = int(digits, 16)
        except ValueError:
            raise SyntaxProblem(f"invalid \\u escape at position {j}") from None
        j += 6
        if 0xD800 <= code < 0xDC00 and self.text[j : j + 2] == "\\u":
            try:
                low = int(self.text[j + 2 : j + 6], 16)
            except ValueError:
                low = 0
            if 0xDC00 <= low < 0xE000:
                return chr(0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)), j + 6
        return chr(code), j
