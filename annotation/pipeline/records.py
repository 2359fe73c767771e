"""Validation of one dataset record against a project schema (pure; no Django).

Implements the accept/refuse table of CLI.md ``import_dataset``. A record either
becomes a :class:`ParsedRecord` or yields a list of ``(field, problem)`` pairs.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any

from ..schema import NA, RESERVED_KEYS
from .readers import RawRecord, kind_of

LANGUAGE_RE = re.compile(r"^[a-z]{2,3}([-_][A-Za-z0-9]{2,8})?$")
SPLITS = ("train", "val", "test", "none")
SPLIT_ALIASES = {"validation": "val", "valid": "val", "dev": "val"}
CSV_COLUMNS = ("patient_id", "report", "language", "split")  # every other CSV column is a schema key
MAX_ID_CHARS = 200  # Document.external_id's max_length


@dataclass
class ParsedRecord:
    external_id: str
    language: str
    split: str
    report: str
    summary: dict[str, str] | None  # None = no gold
    metadata: dict[str, Any]
    set_to_na: int = 0
    dropped: int = 0
    content_hash: str = field(default="", repr=False)
    metadata_hash: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class RecordOptions:
    schema_keys: tuple[str, ...]
    language: str = "en"
    split: str = "none"
    drop_unknown: bool = False
    csv: bool = False  # values come from CSV cells (all strings; blanks mean N/A)


def normalise_patient_id(value: Any) -> tuple[str | None, str | None]:
    """``(id, None)`` for a valid id (an int becomes its decimal string), else ``(None, problem)``."""
    if value is None:
        return None, "is null; every record needs an id"
    if isinstance(value, bool):
        return None, "expected a string or an integer, got a boolean"
    if isinstance(value, int):
        value = str(value)
    if isinstance(value, str):
        stripped = value.strip()
        if not stripped:
            return None, "is blank; every record needs an id"
        if len(stripped) > MAX_ID_CHARS:
            return None, f"is longer than {MAX_ID_CHARS} characters"
        return stripped, None
    if isinstance(value, float):
        return None, "expected a string or an integer, got a number with a fraction or exponent"
    return None, f"expected a string or an integer, got {kind_of(value)}"


def check_language(value: Any) -> str | None:
    if not isinstance(value, str) or not LANGUAGE_RE.match(value):
        return f"expected a language code such as 'en' or 'de', got {value!r}"
    return None


def normalise_split(value: Any) -> tuple[str | None, str | None]:
    if isinstance(value, str):
        v = SPLIT_ALIASES.get(value.strip().lower(), value.strip().lower())
        if v in SPLITS:
            return v, None
    return None, f"expected one of {', '.join(SPLITS)}, got {value!r}"


def _text_problem(text: str) -> str | None:
    """Text that no database column can store: NUL characters, lone UTF-16 surrogates."""
    if "\x00" in text:
        return "holds a NUL character (\\u0000); remove it"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return f"holds a lone surrogate (\\u{ord(text[exc.start]):04x}) that is not a character; remove it"
    return None


def unstorable_text(value: Any, path: str) -> tuple[str, str] | None:
    """``(field path, problem)`` for the first string (or object key) in ``value`` that
    cannot be stored, else None. Walks nested values without recursion."""
    stack = [(value, path)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, str):
            problem = _text_problem(item)
            if problem:
                return where, problem
        elif isinstance(item, dict):
            for key, sub in item.items():
                sub_path = f"{where}.{key}" if where else str(key)
                problem = _text_problem(key)
                if problem:
                    return sub_path, f"the key {problem}"
                stack.append((sub, sub_path))
        elif isinstance(item, list):
            stack.extend((sub, f"{where}[{i}]") for i, sub in enumerate(item))
    return None


def content_hash(report: str, summary: dict | None, split: str) -> str:
    """Identity of a record's content (report, gold, split): same hash and no other
    metadata = re-importing it changes nothing. ``summary`` is in schema order (as
    parse_record builds it), so it needs no key sorting."""
    digest = hashlib.sha256(report.encode("utf-8", "surrogatepass"))
    digest.update(b"\x00")
    if summary is not None:
        digest.update(json.dumps(summary, ensure_ascii=False).encode("utf-8", "surrogatepass"))
    digest.update(b"\x00" + split.encode())
    return digest.hexdigest()


def metadata_hash(metadata: dict) -> str | None:
    """Identity of a record's metadata; None when it has none. A record without metadata
    (e.g. an export made without ``--with-metadata``) leaves the stored metadata alone."""
    if not metadata:
        return None
    payload = json.dumps(metadata, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _given(value: Any, default: str) -> Any:
    if value is None:
        return default
    if isinstance(value, str):
        return value.strip() or default
    return value


def parse_record(
    value: Any,
    opts: RecordOptions,
    *,
    check_text: bool = True,
) -> tuple[ParsedRecord | None, list[tuple[str | None, str]]]:
    """Validate one decoded record. Returns the parsed record or the problems found.

    ``check_text=False`` skips the search for unstorable characters when the reader has
    proved there can be none (RawRecord.may_hold_unstorable).
    """
    if not isinstance(value, dict):
        return None, [(None, f"expected an object (a record), got {kind_of(value)}")]
    bad_text = unstorable_text(value, "") if check_text else None
    if bad_text:
        return None, [bad_text]
    problems: list[tuple[str | None, str]] = []

    if "patient_id" not in value:
        problems.append(("patient_id", "missing; every record needs an id"))
        external_id = None
    else:
        external_id, problem = normalise_patient_id(value["patient_id"])
        if problem:
            problems.append(("patient_id", problem))

    report = value.get("report")
    if "report" not in value:
        problems.append(("report", "missing; every record needs the report text"))
    elif report is None:
        problems.append(("report", "is null; expected the report text"))
    elif not isinstance(report, str):
        problems.append(("report", f"expected a string, got {kind_of(report)}"))
    elif not report.strip():
        problems.append(("report", "is blank"))

    # A null or blank language or split means "not given": the flag applies.
    language = _given(value.get("language"), opts.language)
    problem = check_language(language)
    if problem:
        problems.append(("language", problem))

    split_value = _given(value.get("split"), opts.split)
    split, problem = normalise_split(split_value)
    if problem:
        problems.append(("split", problem))

    summary, set_to_na, dropped = None, 0, 0
    if opts.csv:
        raw_summary = {k: v for k, v in value.items() if k not in CSV_COLUMNS}
        has_summary = bool(raw_summary)
        metadata: dict[str, Any] = {}
    else:
        has_summary = "summary" in value
        raw_summary = value.get("summary")
        metadata = {k: v for k, v in value.items() if k not in RESERVED_KEYS}
        if has_summary and not isinstance(raw_summary, dict):
            problems.append(("summary", f"expected an object, got {kind_of(raw_summary)}"))
            has_summary = False

    if has_summary:
        known = set(opts.schema_keys)
        summary = {}
        for key, raw in raw_summary.items():
            path = key if opts.csv else f"summary.{key}"
            if key not in known:
                if opts.drop_unknown:
                    dropped += 1
                    continue
                what = "column" if opts.csv else "category"
                problems.append((path, f"unknown {what} (not in the project schema; use --drop-unknown to drop it)"))
                continue
            if raw is None:
                summary[key] = NA
                set_to_na += 1
            elif isinstance(raw, str):
                stripped = raw.strip()
                if stripped:
                    summary[key] = stripped
                else:
                    summary[key] = NA
                    set_to_na += 1
            else:
                problems.append((path, f"expected a string, got {kind_of(raw)}"))
        ordered = {}
        for key in opts.schema_keys:
            if key in summary:
                ordered[key] = summary[key]
            else:
                ordered[key] = NA
                set_to_na += 1
        summary = ordered

    if problems:
        return None, problems
    record = ParsedRecord(
        external_id=external_id,
        language=language,
        split=split,
        report=report,
        summary=summary,
        metadata=metadata,
        set_to_na=set_to_na,
        dropped=dropped,
    )
    record.content_hash = content_hash(report, summary, split)
    record.metadata_hash = metadata_hash(metadata)
    return record, []


class FirstSeen:
    """Where each id was first read, so that a repeat can name it. Holds one entry per
    distinct key (bounded by the ids, not the file)."""

    def __init__(self) -> None:
        self._at: dict[Hashable, tuple[int, int]] = {}

    def repeat_of(self, key: Hashable, *, record, raw: RawRecord) -> str | None:
        """The duplicate-id problem when ``key`` was read before; else None, remembering
        where ``raw`` stands. ``record`` carries the external_id and language to name."""
        first = self._at.get(key)
        if first is None:
            self._at[key] = (raw.number, raw.line)
            return None
        return (
            f"duplicate id {record.external_id!r} (language {record.language}): "
            f"also record {first[0]} (line {first[1]})"
        )
