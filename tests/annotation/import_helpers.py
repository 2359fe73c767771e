"""Builders for dataset files in the ELMTEX shape, shared by the import/export tests."""

from __future__ import annotations

import csv
import io
import json

from annotation.models import Document, Gold
from annotation.schema import ELMTEX_KEYS


def gold_of(pid, language="en") -> dict:
    return Gold.objects.get(document__external_id=pid, document__language=language).values


def summary(**values: str) -> dict:
    """A complete ELMTEX summary: every key ``N/A`` except those given."""
    return {key: values.get(key, "N/A") for key in ELMTEX_KEYS}


_DEFAULT = object()


def record(pid, report=_DEFAULT, *, with_summary: bool = True, **extra) -> dict:
    """A valid record (unless told otherwise); its summary sets diagnosis and gender, the
    other 13 values are the string ``N/A`` (which is not counted as "set to N/A")."""
    rec = {"patient_id": pid, "report": f"Report of case {pid}." if report is _DEFAULT else report}
    if with_summary:
        rec["summary"] = summary(diagnosis=f"diagnosis {pid}", gender="female")
    rec.update(extra)
    return rec


def jsonl(records) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode("utf-8")


def json_array(records) -> bytes:
    """One record per line, so record N starts on line N + 1."""
    lines = ",\n".join(json.dumps(r, ensure_ascii=False) for r in records)
    return f"[\n{lines}\n]\n".encode()


def csv_bytes(header: list[str], rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def counts() -> tuple[int, int]:
    return Document.objects.count(), Gold.objects.count()


def success_line(new=0, unchanged=0, replaced=0, na=0, dropped=0) -> str:
    return f"imported {new} new, {unchanged} unchanged, {replaced} replaced ({na} values set to N/A, {dropped} dropped)"


def error_prefix(path, record: int, line: int, field: str | None) -> str:
    """CLI.md's error line up to the problem text (up to the field when it is None)."""
    return f"error: {path}: record {record} (line {line}): " + (f"{field}: " if field else "")


def assert_refused(
    result, *, before: tuple[int, int], path=None, record=None, line=None, field=None, problem: str | None = None
) -> str:
    """Exit 1, nothing written, no traceback; when a location is given, some error line
    carries exactly that location (and ``problem`` in its text). Returns that line."""
    assert result.code == 1, (result.code, result.out, result.err)
    assert result.out == "", result.out
    assert "Traceback" not in result.err
    assert result.err_lines and all(line_.startswith("error: ") for line_ in result.err_lines), result.err
    assert counts() == before
    if path is None:
        return result.err_lines[0]
    if record is not None:
        prefix = error_prefix(path, record, line, field)
    elif line is not None:
        prefix = f"error: {path}: line {line}: " + (f"{field}: " if field else "")
    else:
        prefix = f"error: {path}: " + (f"{field}: " if field else "")
    matching = [e for e in result.err_lines if e.startswith(prefix)]
    assert matching, f"no line starts with {prefix!r}:\n{result.err}"
    if problem is not None:
        assert any(problem in e for e in matching), f"{problem!r} not in {matching}"
    return matching[0]


class CountingStream(io.RawIOBase):
    """A huge file made up on demand; counts the bytes handed out."""

    def __init__(self, head: bytes, unit: bytes, total_bytes: int, tail: bytes = b""):
        self.parts = iter([head])
        self.unit, self.left, self.tail = unit, total_bytes, tail
        self.pending = b""
        self.bytes_read = 0

    def readable(self):
        return True

    def read(self, n=-1):
        assert n is not None and n > 0, "a streaming reader never asks for everything"
        while len(self.pending) < n:
            part = next(self.parts, None)
            if part is None:
                if self.left <= 0:
                    part, self.tail = self.tail, b""
                    if not part:
                        break
                else:
                    part = self.unit * max(1, (64 * 1024) // len(self.unit))
                    self.left -= len(part)
            self.pending += part
        data, self.pending = self.pending[:n], self.pending[n:]
        self.bytes_read += len(data)
        return data
