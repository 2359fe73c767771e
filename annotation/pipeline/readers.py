"""Streaming readers for dataset files (JSON array, JSON lines, CSV).

Every reader is a generator over :class:`RawRecord` and holds at most one record (plus
one read chunk) in memory, so a file of any size is read in constant memory. Positions
are 1-based: ``number`` counts records, ``line`` is the physical line where the record
starts. A problem that stops reading (bad encoding, broken JSON syntax in an array)
raises :class:`ReadError`; a problem confined to one record (one bad JSON line) is
yielded as a RawRecord with ``error`` set, so the caller can go on and list more.
"""

from __future__ import annotations

import codecs
import csv
import json
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, Any

CHUNK_BYTES = 1 << 20
MAX_DEPTH = 32
CSV_FIELD_LIMIT = 1 << 30
_WS = " \t\n\r"
# A decode error this close to the end of the buffer may only mean that the record goes
# on in the next chunk (a cut number, literal or \\u escape); further back it is real.
TRUNCATION_SLACK = 32
_UTF32_BOMS = (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)


@dataclass
class RawRecord:
    number: int
    line: int
    value: Any = None
    error: str | None = None
    field: str | None = None
    header_line: int = 1  # CSV: the physical line of the header row
    # False when the raw text proves no string can hold a NUL or a lone surrogate (in
    # JSON both need a \\u escape), so validation may skip that walk.
    may_hold_unstorable: bool = True


class ReadError(Exception):
    """Reading cannot go on. Carries the position for the error line."""

    def __init__(self, message: str, *, record: int | None = None, line: int | None = None):
        super().__init__(message)
        self.message = message
        self.record = record
        self.line = line


def utf8_chunks(
    stream: IO[bytes], *, chunk_bytes: int = CHUNK_BYTES, progress: Callable[[int], None] | None = None
) -> Iterator[str]:
    """Decode a binary stream as UTF-8 (a leading BOM is dropped), chunk by chunk.

    Any byte sequence that is not UTF-8 raises ReadError naming its 0-based byte offset.
    A NUL byte is refused too: it is valid UTF-8 but never part of a text dataset, and it
    is what a UTF-16 or UTF-32 file without a byte order mark looks like. ``progress`` is
    called with the number of raw bytes read, chunk by chunk (it may raise to stop).
    """
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0  # bytes handed to the decoder before this chunk
    head = b""  # the first bytes, held until we know whether they start with a BOM
    while True:
        data = stream.read(chunk_bytes)
        final = not data
        if progress is not None and data:
            progress(len(data))
        if head is not None:
            head += data
            # Four bytes tell a UTF-32 BOM (FF FE 00 00) from a UTF-16 one (FF FE).
            if len(head) < len(codecs.BOM_UTF32) and not final:
                continue
            data, head = head, None
            if data.startswith(codecs.BOM_UTF8):
                data = data[len(codecs.BOM_UTF8) :]
                offset += len(codecs.BOM_UTF8)
            else:
                _refuse_foreign_bom(data)
        nul = data.find(b"\x00")
        part = data if nul < 0 else data[:nul]  # an invalid byte before the NUL is named first
        try:
            text = decoder.decode(part, final and nul < 0)
        except UnicodeDecodeError as exc:
            bad = exc.object[exc.start : exc.start + 1].hex()
            # The decoder may hold back up to 3 bytes of an incomplete sequence from the
            # previous chunk; exc.object is pending bytes + this part.
            pending = len(exc.object) - len(part)
            raise ReadError(
                f"not valid UTF-8 at byte {offset + exc.start - pending} (0x{bad}); save the file as UTF-8"
            ) from None
        if nul >= 0:
            raise ReadError(
                f"not valid UTF-8 text at byte {offset + nul}: a NUL byte (is the file UTF-16, "
                "UTF-32 or binary?); save the file as UTF-8"
            )
        offset += len(data)
        if text:
            yield text
        if final:
            return


def _refuse_foreign_bom(head: bytes) -> None:
    """Name the encoding of a file that starts with a UTF-16 or UTF-32 byte order mark."""
    if head[:4] in _UTF32_BOMS:  # before UTF-16: FF FE 00 00 starts with FF FE
        encoding = "UTF-32"
    elif head[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        encoding = "UTF-16"
    else:
        return
    raise ReadError(
        f"not valid UTF-8 at byte 0: the file starts with a {encoding} byte order mark; save the file as UTF-8"
    )


def _too_deep(value: Any, raw: str, start: int, end: int, max_depth: int) -> bool:
    """Whether ``value`` (decoded from ``raw[start:end]``) nests deeper than ``max_depth``.

    Fast path: nesting needs an opening bracket per level, so a record with fewer
    brackets in its text (strings included) than the limit cannot be too deep.
    """
    if raw.count("{", start, end) + raw.count("[", start, end) <= max_depth:
        return False
    return _depth(value) > max_depth


def _depth(value: Any) -> int:
    """Nesting depth of a decoded JSON value (a scalar is 0, ``[]`` is 1)."""
    deepest = 0
    stack = [(value, 0)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            level += 1
            stack.extend((v, level) for v in item.values())
        elif isinstance(item, list):
            level += 1
            stack.extend((v, level) for v in item)
        deepest = max(deepest, level)
    return deepest


def kind_of(value: Any) -> str:
    """A JSON value's kind for messages ("a string", "a list", ...)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "an object"


class _NotJson(ValueError):
    """A value Python's json module accepts but JSON does not (NaN, Infinity)."""


class _OutOfRange(_NotJson):
    """A number too large for a 64-bit float: Python would make it infinity, which JSON
    cannot hold and no database column stores."""

    def __init__(self, text: str):
        shown = text if len(text) <= 40 else text[:37] + "..."
        super().__init__(f"number out of range ({shown} does not fit a 64-bit float; write it as a string)")
        self.text = text


def _refuse_constant(name: str) -> Any:
    raise _NotJson(f"{name} is not valid JSON (use null or a string)")


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise _OutOfRange(text)
    return value


def _decoder() -> json.JSONDecoder:
    return json.JSONDecoder(parse_constant=_refuse_constant, parse_float=_finite_float)


def _maybe_truncated(text: str, exc: ValueError) -> bool:
    """Whether a decode error at the end of ``text`` could vanish with more input."""
    if isinstance(exc, json.JSONDecodeError):
        # An unterminated string is reported at its start, however long it is.
        return exc.msg.startswith("Unterminated string") or exc.pos >= len(text) - TRUNCATION_SLACK
    # A number cut short ("1000...0.5" of "1000...0.5e-400", or "...e-" of it) may be out
    # of range where the whole one is not.
    if isinstance(exc, _OutOfRange):
        return text.find(exc.text, max(0, len(text) - len(exc.text) - TRUNCATION_SLACK)) >= 0
    return False


def _value_problem(exc: ValueError) -> str:
    """The message for a ValueError out of the json module that is not a syntax error."""
    if isinstance(exc, _NotJson):
        return f"invalid JSON: {exc}"
    # e.g. an integer of more than 4300 digits (sys.int_info.default_max_str_digits)
    return f"invalid JSON: {exc}".split(";")[0]


class _Buffer:
    """A sliding text window over the chunk iterator that knows its line numbers."""

    def __init__(self, chunks: Iterator[str]):
        self.chunks = chunks
        self.text = ""
        self.pos = 0
        self.line = 1  # line number at self.pos
        self.eof = False

    def more(self, at_least: int = 0) -> bool:
        """Append at least one more chunk (and at least ``at_least`` characters)."""
        if self.eof:
            return False
        self.text = self.text[self.pos :]
        self.pos = 0
        got = 0
        parts = [self.text]
        while not got or got < at_least:
            try:
                chunk = next(self.chunks)
            except StopIteration:
                self.eof = True
                break
            parts.append(chunk)
            got += len(chunk)
        self.text = "".join(parts)
        return got > 0

    def advance(self, to: int) -> None:
        self.line += self.text.count("\n", self.pos, to)
        self.pos = to

    def skip_ws(self) -> str | None:
        """Skip whitespace; return the next character, or None at the end of input."""
        while True:
            n = len(self.text)
            p = self.pos
            while p < n and self.text[p] in _WS:
                p += 1
            self.advance(p)
            if p < n:
                return self.text[p]
            if not self.more():
                return None


def read_json_array(chunks: Iterator[str], *, max_depth: int = MAX_DEPTH) -> Iterator[RawRecord]:
    """Records of a JSON array, decoded one at a time."""
    decoder = _decoder()
    buf = _Buffer(chunks)
    first = buf.skip_ws()
    if first is None:
        raise ReadError("no records")
    if first == "{":
        raise ReadError(
            "expected a JSON array of records, got a JSON object (for JSON lines, name the "
            "file .jsonl or pass --format jsonl)",
            line=buf.line,
        )
    if first != "[":
        raise ReadError(f"invalid JSON: expected '[' at the start, got {first!r}", line=buf.line)
    buf.advance(buf.pos + 1)
    number = 0
    if buf.skip_ws() == "]":
        raise ReadError("no records")
    while True:
        number += 1
        if buf.skip_ws() is None:
            raise ReadError("invalid JSON: the file ends inside the array (truncated?)", record=number, line=buf.line)
        start_line = buf.line
        want = 0
        while True:
            try:
                value, end = decoder.raw_decode(buf.text, buf.pos)
            except RecursionError:
                raise ReadError(f"nesting deeper than {max_depth} levels", record=number, line=start_line) from None
            except ValueError as exc:
                if not buf.eof and _maybe_truncated(buf.text, exc):
                    # The record may go on in the next chunk. Growing the window
                    # geometrically keeps a long record linear; a real error further
                    # back is reported at once instead of reading on to the end.
                    want = max(want * 2, len(buf.text) - buf.pos)
                    buf.more(want)
                    continue
                if not isinstance(exc, json.JSONDecodeError):
                    raise ReadError(_value_problem(exc), record=number, line=start_line) from None
                line = start_line + buf.text.count("\n", buf.pos, exc.pos)
                if exc.pos >= len(buf.text):
                    msg = "invalid JSON: the file ends inside this record (truncated?)"
                else:
                    msg = f"invalid JSON: {exc.msg}"
                raise ReadError(msg, record=number, line=line) from None
            if end >= len(buf.text) and not buf.eof:
                # A scalar may continue in the next chunk: decode again with more text.
                want = max(want * 2, CHUNK_BYTES)
                buf.more(want)
                continue
            break
        start = buf.pos
        buf.advance(end)
        # The array itself is one level of nesting.
        if _too_deep(value, buf.text, start, end, max_depth - 1):
            yield RawRecord(number, start_line, error=f"nesting deeper than {max_depth} levels")
        else:
            yield RawRecord(number, start_line, value, may_hold_unstorable=buf.text.find("\\u", start, end) >= 0)
        nxt = buf.skip_ws()
        if nxt == ",":
            buf.advance(buf.pos + 1)
            if buf.skip_ws() == "]":
                raise ReadError("invalid JSON: trailing comma after the last record", record=number, line=buf.line)
            continue
        if nxt == "]":
            buf.advance(buf.pos + 1)
            trailing = buf.skip_ws()
            if trailing is not None:
                raise ReadError(f"invalid JSON: unexpected {trailing!r} after the closing ']'", line=buf.line)
            return
        if nxt is None:
            raise ReadError(
                "invalid JSON: the file ends inside the array (missing ']'; truncated?)", record=number, line=buf.line
            )
        raise ReadError(
            f"invalid JSON: expected ',' or ']' after this record, got {nxt!r}", record=number, line=buf.line
        )


def iter_lines(chunks: Iterator[str]) -> Iterator[str]:
    """Physical lines with their terminators, across chunk boundaries.

    Only ``\n`` ends a line (``\r\n`` lines keep their ``\r``); a line longer than a
    chunk is gathered in parts, so the work stays linear in its length.
    """
    pending: list[str] = []
    for chunk in chunks:
        start = 0
        while True:
            nl = chunk.find("\n", start)
            if nl < 0:
                break
            if pending:
                pending.append(chunk[start : nl + 1])
                yield "".join(pending)
                pending = []
            else:
                yield chunk[start : nl + 1]
            start = nl + 1
        if start < len(chunk):
            pending.append(chunk[start:])
    if pending:
        yield "".join(pending)


def read_json_lines(chunks: Iterator[str], *, max_depth: int = MAX_DEPTH) -> Iterator[RawRecord]:
    """One record per non-blank line. A bad line is reported and reading goes on."""
    decoder = _decoder()
    number = 0
    for line_no, line in enumerate(iter_lines(chunks), start=1):
        if not line.strip():
            continue
        number += 1
        try:
            value = decoder.decode(line)
        except json.JSONDecodeError as exc:
            yield RawRecord(number, line_no, error=f"invalid JSON: {exc.msg} (column {exc.colno})")
            continue
        except RecursionError:
            yield RawRecord(number, line_no, error=f"nesting deeper than {max_depth} levels")
            continue
        except ValueError as exc:
            yield RawRecord(number, line_no, error=_value_problem(exc))
            continue
        if _too_deep(value, line, 0, len(line), max_depth):
            yield RawRecord(number, line_no, error=f"nesting deeper than {max_depth} levels")
        else:
            yield RawRecord(number, line_no, value, may_hold_unstorable="\\u" in line)
    if number == 0:
        raise ReadError("no records")


def read_csv(chunks: Iterator[str]) -> Iterator[RawRecord]:
    """CSV with a header row; each row becomes a dict of strings keyed by the header.

    ``line`` is the physical line where the row starts (quoted fields may span lines).
    Blank lines before the header and between rows are skipped.
    """
    # The default limit (128 KiB per field) is smaller than some case reports.
    csv.field_size_limit(CSV_FIELD_LIMIT)
    reader = csv.reader(iter_lines(chunks), strict=True)
    header: list[str] = []
    while not header:
        header_start = reader.line_num + 1
        try:
            header = next(reader)
        except StopIteration:
            raise ReadError("no records") from None
        except csv.Error as exc:
            raise ReadError(f"invalid CSV header: {_csv_problem(exc)}", line=header_start) from None
        if len(header) == 1 and not header[0].strip():
            header = []
    header = [h.strip() for h in header]
    dupes = sorted({h for h in header if header.count(h) > 1})
    if dupes:
        raise ReadError(f"CSV header repeats column(s): {', '.join(dupes)}", line=header_start)
    for required in ("patient_id", "report"):
        if required not in header:
            raise ReadError(f"CSV header must hold '{required}' (found: {', '.join(header)})", line=header_start)
    number = 0
    prev_line = reader.line_num
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise ReadError(f"invalid CSV: {_csv_problem(exc)}", record=number + 1, line=prev_line + 1) from None
        start, prev_line = prev_line + 1, reader.line_num
        if not row or (len(row) == 1 and not row[0].strip()):
            continue
        number += 1
        if len(row) != len(header):
            yield RawRecord(
                number,
                start,
                header_line=header_start,
                error=f"expected {len(header)} columns as in the header, got {len(row)}",
            )
            continue
        yield RawRecord(number, start, dict(zip(header, row, strict=True)), header_line=header_start)
    if number == 0:
        raise ReadError("no records")


def _csv_problem(exc: csv.Error) -> str:
    text = str(exc)
    if text.startswith("unexpected end of data"):
        return "the file ends inside a quoted field (a missing closing '\"'?)"
    if text.startswith("new-line character seen in unquoted field"):
        return "a carriage return inside an unquoted field; quote the field or use \\n line endings"
    return text


FORMATS = ("json", "jsonl", "csv")
_EXTENSIONS = {".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv"}


def detect_format(name: str, head: bytes) -> str | None:
    """CLI.md's ``--format auto``: by extension, otherwise by the first non-space byte."""
    lower = name.lower()
    for ext, fmt in _EXTENSIONS.items():
        if lower.endswith(ext):
            return fmt
    text = head[3:] if head.startswith(codecs.BOM_UTF8) else head
    stripped = text.lstrip()
    if stripped.startswith(b"["):
        return "json"
    if stripped.startswith(b"{"):
        return "jsonl"
    return None


def read_records(fmt: str, chunks: Iterator[str]) -> Iterator[RawRecord]:
    if fmt == "json":
        return read_json_array(chunks)
    if fmt == "jsonl":
        return read_json_lines(chunks)
    if fmt == "csv":
        return read_csv(chunks)
    raise ValueError(f"unknown format {fmt!r}")
