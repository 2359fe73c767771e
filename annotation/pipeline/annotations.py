"""Validation of annotation content and of ``import_annotations`` records (pure; no Django).

One set of rules for the form (API saves) and for files (CLI.md "Annotations and
agreement"): values are strings under schema keys; judgements are ELMTEX labels;
evidence spans are ``[start, end]`` character offsets with ``0 <= start < end <=
len(report)``. Problems come back as ``(field path, message)`` pairs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..schema import NA
from .readers import kind_of
from .records import check_language, normalise_patient_id, unstorable_text

JUDGEMENT_LABELS = ("correct", "partially_correct", "incorrect", "missing", "hallucinated", "wrong_category")
MAX_VALUE_CHARS = 20_000
MAX_SPANS_PER_FIELD = 200
RECORD_KEYS = ("patient_id", "language", "annotator", "values", "judgements", "spans")

Problems = list[tuple[str, str]]


def _unknown_key(key: str, keys: tuple[str, ...]) -> str:
    return f"unknown category {key!r} (not in the project schema: {', '.join(keys)})"


def values_check(values: Any, keys: tuple[str, ...], *, path: str = "values") -> tuple[dict, Problems]:
    """``{key: str}`` with keys from ``keys``; a None value stays None (the caller decides)."""
    problems: Problems = []
    if not isinstance(values, dict):
        return {}, [(path, f"expected an object {{category key: text}}, got {kind_of(values)}")]
    clean = {}
    for key, value in values.items():
        where = f"{path}.{key}"
        if key not in keys:
            problems.append((where, _unknown_key(key, keys)))
        elif value is not None and not isinstance(value, str):
            problems.append((where, f"expected a string, got {kind_of(value)}"))
        elif value is not None and len(value) > MAX_VALUE_CHARS:
            problems.append((where, f"longer than {MAX_VALUE_CHARS} characters"))
        else:
            bad = unstorable_text(value, where) if value else None
            if bad:
                problems.append(bad)
            else:
                clean[key] = value
    return clean, problems


def judgements_check(judgements: Any, keys: tuple[str, ...], *, path: str = "judgements") -> tuple[dict, Problems]:
    """``{key: label}``; a None or "" label means "no judgement" and stays None."""
    if not isinstance(judgements, dict):
        return {}, [(path, f"expected an object {{category key: label}}, got {kind_of(judgements)}")]
    problems: Problems = []
    clean = {}
    for key, label in judgements.items():
        where = f"{path}.{key}"
        if key not in keys:
            problems.append((where, _unknown_key(key, keys)))
        elif label is None or label == "":
            clean[key] = None
        elif label not in JUDGEMENT_LABELS:
            problems.append((where, f"expected one of {', '.join(JUDGEMENT_LABELS)}, got {label!r}"))
        else:
            clean[key] = label
    return clean, problems


def _span_problem(span: Any, text_length: int | None) -> str | None:
    if not isinstance(span, list) or len(span) != 2:
        return f"expected a pair [start, end], got {kind_of(span) if not isinstance(span, list) else 'a list of ' + str(len(span))}"
    start, end = span
    for v in (start, end):
        if isinstance(v, bool) or not isinstance(v, int):
            return f"offsets must be whole numbers, got {kind_of(v)}"
    if start < 0 or start >= end:
        return f"expected 0 <= start < end, got [{start}, {end}]"
    if text_length is not None and end > text_length:
        return f"end {end} is past the end of the report ({text_length} characters)"
    return None


def spans_check(
    spans: Any, keys: tuple[str, ...], *, text_length: int | None, path: str = "spans"
) -> tuple[dict, Problems]:
    """``{key: [[start, end], ...]}``, sorted and without repeats; None or [] clears a field.
    ``text_length`` None skips the upper bound (checked later, when the report is known)."""
    if not isinstance(spans, dict):
        return {}, [(path, f"expected an object {{category key: [[start, end], ...]}}, got {kind_of(spans)}")]
    problems: Problems = []
    clean = {}
    for key, items in spans.items():
        where = f"{path}.{key}"
        if key not in keys:
            problems.append((where, _unknown_key(key, keys)))
            continue
        if items is None:
            clean[key] = None
            continue
        if not isinstance(items, list):
            problems.append((where, f"expected a list of [start, end] pairs, got {kind_of(items)}"))
            continue
        if len(items) > MAX_SPANS_PER_FIELD:
            problems.append((where, f"more than {MAX_SPANS_PER_FIELD} spans"))
            continue
        ok = True
        for i, span in enumerate(items):
            problem = _span_problem(span, text_length)
            if problem:
                problems.append((f"{where}[{i}]", problem))
                ok = False
        if ok:
            clean[key] = sorted({(s, e) for s, e in items}) if items else None
            if clean[key] is not None:
                clean[key] = [list(p) for p in clean[key]]
    return clean, problems


def spans_bounds_check(spans: dict, text_length: int, *, path: str = "spans") -> Problems:
    """The upper bound of already shape-checked spans against the report's length."""
    problems: Problems = []
    for key, items in spans.items():
        for i, (start, end) in enumerate(items or []):
            if end > text_length:
                problems.append(
                    (
                        f"{path}.{key}[{i}]",
                        f"[{start}, {end}] ends past the end of the report ({text_length} characters)",
                    )
                )
    return problems


def values_complete(values: dict, keys: tuple[str, ...]) -> tuple[dict, int]:
    """Every schema key in order; missing, null or blank values become ``N/A``. Returns the
    values and how many were set to ``N/A``."""
    out = {}
    set_to_na = 0
    for key in keys:
        value = values.get(key)
        if value is None or not value.strip():
            out[key] = NA
            set_to_na += 1
        else:
            out[key] = value
    return out, set_to_na


@dataclass
class ParsedAnnotation:
    external_id: str
    language: str
    annotator: str
    values: dict[str, str]
    judgements: dict[str, str]
    spans: dict[str, list[list[int]]]
    set_to_na: int = 0
    keys: tuple = field(default=(), repr=False)


def parse_annotation_record(
    value: Any, *, keys: tuple[str, ...], language: str = "en"
) -> tuple[ParsedAnnotation | None, Problems]:
    """One ``import_annotations`` record. Span ends are checked later against the report."""
    if not isinstance(value, dict):
        return None, [("", f"expected a JSON object (one annotation), got {kind_of(value)}")]
    problems: Problems = []
    for key in value:
        if key not in RECORD_KEYS:
            problems.append((str(key), f"unknown field; a record holds {', '.join(RECORD_KEYS)}"))
    external_id, problem = normalise_patient_id(value.get("patient_id"))
    if "patient_id" not in value:
        problem = "missing; every record needs an id"
    if problem:
        problems.append(("patient_id", problem))
    lang = value.get("language", language)
    problem = check_language(lang)
    if problem:
        problems.append(("language", problem))
    annotator = value.get("annotator")
    if not isinstance(annotator, str) or not annotator.strip():
        problems.append(("annotator", f"expected a username (a non-blank string), got {kind_of(annotator)}"))
    values, found = values_check(value.get("values", {}), keys)
    problems.extend(found)
    judgements, found = judgements_check(value.get("judgements", {}), keys)
    problems.extend(found)
    spans, found = spans_check(value.get("spans", {}), keys, text_length=None)
    problems.extend(found)
    if problems:
        return None, problems
    complete, set_to_na = values_complete(values, keys)
    return (
        ParsedAnnotation(
            external_id=external_id,
            language=lang,
            annotator=annotator.strip(),
            values=complete,
            judgements=content_judgements(judgements, keys),
            spans=content_spans(spans, keys),
            set_to_na=set_to_na,
        ),
        [],
    )


def content_judgements(judgements: dict, keys: tuple[str, ...]) -> dict:
    """Judgements in schema order without the cleared ones."""
    return {k: judgements[k] for k in keys if judgements.get(k)}


def content_spans(spans: dict, keys: tuple[str, ...]) -> dict:
    """Spans in schema order without the empty ones."""
    return {k: spans[k] for k in keys if spans.get(k)}


def export_record(
    *, external_id: str, language: str, annotator: str, values: dict, judgements: dict, spans: dict, keys: tuple
) -> dict:
    """The record ``export_annotations`` writes (the shape ``import_annotations`` reads)."""
    return {
        "patient_id": external_id,
        "language": language,
        "annotator": annotator,
        "values": {k: values.get(k, NA) for k in keys},
        "judgements": content_judgements(judgements, keys),
        "spans": content_spans(spans, keys),
    }
