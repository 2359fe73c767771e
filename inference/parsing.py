"""Turning model output into category values (pure; no Django).

ELMTEX cleaned outputs of Markdown code fences and parsed them as JSON; an output that
did not parse was kept as raw text and left out of scoring. We do the same, a little
more tolerantly, because a value lost to a stray comma is a scoring artefact, not a
model error:

- a reasoning model's ``<think>...</think>`` block is dropped;
- a ```json fence (any case, with or without a language tag, closed or not) is looked
  in first, then the whole output;
- text before and after the object is ignored: the first balanced top-level object
  that holds a schema key wins (braces inside strings do not count);
- a forgiving parser (``forgiving_json``) takes what ``json`` refuses: single quotes,
  True/False/None, trailing commas, curly quotes as delimiters, ...;
- a list holding one object, and a wrapper such as ``{"summary": {...}}`` whose inner
  object holds the keys, are unwrapped;
- keys are matched to the schema ignoring case, spaces, hyphens, slashes, "&"/"and"
  ("Signs & Symptoms" -> signs_symptoms, "Lifestyle" -> life_style).

A truncated object (the model ran out of tokens) is a parse error, never repaired:
guessing the missing half would put words into the model's mouth. Error messages are
short and never quote the output (it is patient text).

Values (:func:`values_coerce`) become one string per key: lists (nested ones too) are
flattened and joined with "; "; null, blank and "n/a" become "N/A"; numbers become
their decimal text (45.0 -> "45"); booleans "true"/"false"; an object becomes
"k: v" parts, joined with "; " at the top of a value and with ", " inside a list item
(so one list item stays one item).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from annotation.pipeline.readers import kind_of  # pure, like this module

from .forgiving_json import MAX_DEPTH, ForgivingParser, SyntaxProblem, Truncated

NA = "N/A"
ITEM_SEPARATOR = "; "
MAX_STARTS = 50  # object starts tried in one text, so garbage full of braces stays cheap
MAX_UNWRAP = 3  # wrapper levels ({"output": {"summary": {...}}})


@dataclass(frozen=True)
class ParsedOutput:
    values: dict[str, str] | None
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.values is not None


# --- keys ---------------------------------------------------------------------------------------

_KEY_SEPARATORS = re.compile(r"[\s\-_/&.,:;+]+")


def _compact_key(key: str) -> str:
    words = _KEY_SEPARATORS.sub(" ", key.casefold()).split()
    return "".join(w for w in words if w != "and")


def _key_lookup(keys: Sequence[str]) -> dict[str, str]:
    """Compact form -> schema key; forms two schema keys share are left out."""
    lookup: dict[str, str] = {}
    clashes = set()
    for key in keys:
        compact = _compact_key(key)
        if compact in lookup and lookup[compact] != key:
            clashes.add(compact)
        lookup[compact] = key
    for compact in clashes:
        del lookup[compact]
    return lookup


def _schema_entries(obj: Mapping, keys: Sequence[str]) -> dict[str, Any]:
    """The entries of ``obj`` that belong to schema keys: exact keys first, then keys
    that differ only in case and separators (the first of those wins)."""
    wanted = set(keys)
    found = {k: v for k, v in obj.items() if isinstance(k, str) and k in wanted}
    lookup = None
    for raw_key, value in obj.items():
        if isinstance(raw_key, str) and raw_key in wanted:
            continue
        lookup = lookup if lookup is not None else _key_lookup(keys)
        target = lookup.get(_compact_key(str(raw_key)))
        if target is not None and target not in found:
            found[target] = value
    return found


# --- values -------------------------------------------------------------------------------------

_SURROGATE = re.compile("[\ud800-\udfff]")


def _clean(text: str) -> str:
    """Text a database can store: no NUL, no lone surrogate (a JSON \\ud800 escape)."""
    if "\x00" in text:
        text = text.replace("\x00", "")
    return _SURROGATE.sub("\ufffd", text)


def _number(value: int | float) -> str:
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer() and abs(value) < 1e16:
            return str(int(value))
        return repr(value)
    return str(value)


def _items(value: Any, *, in_list: bool, depth: int = 0) -> list[str]:
    """The items of one value, flattened; N/A and blanks dropped."""
    if value is None or depth > MAX_DEPTH:
        return []
    if isinstance(value, str):
        text = _clean(value).strip()
        return [] if not text or text.casefold() == NA.casefold() else [text]
    if isinstance(value, bool):
        return ["true" if value else "false"]
    if isinstance(value, (int, float)):
        return [_number(value)]
    if isinstance(value, Mapping):
        parts = []
        for key, sub in value.items():
            inner = ", ".join(_items(sub, in_list=True, depth=depth + 1))
            if inner:
                parts.append(f"{_clean(str(key)).strip()}: {inner}")
        if in_list and parts:
            return [", ".join(parts)]
        return parts
    if isinstance(value, (list, tuple)):
        out: list[str] = []
        for item in value:
            out.extend(_items(item, in_list=True, depth=depth + 1))
        return out
    return [_clean(str(value)).strip()]


def value_text(value: Any) -> str:
    """One category value as text ("N/A" when nothing is left)."""
    items = _items(value, in_list=False)
    return ITEM_SEPARATOR.join(items) if items else NA


def values_coerce(obj: Mapping, keys: Sequence[str]) -> dict[str, str]:
    """Exactly ``keys`` (in their order), each a string; unknown keys dropped, missing
    keys "N/A". See the module docstring for how values become text."""
    found = _schema_entries(obj, keys)
    return {key: value_text(found.get(key)) for key in keys}


# --- finding the object -------------------------------------------------------------------------

_THINK = re.compile(r"<think>.*?</think>", re.DOTALL | re.IGNORECASE)
_FENCE = re.compile(r"```[ \t]*[A-Za-z0-9_+.-]*[ \t]*\r?\n?(.*?)(?:```|\Z)", re.DOTALL)
_START = re.compile(r"[{\[]")


def _holds_keys(obj: dict, keys: Sequence[str]) -> bool:
    return bool(_schema_entries(obj, keys))


def _select(value: Any, keys: Sequence[str]) -> tuple[dict | None, str]:
    """The object holding the values: unwraps a one-object list and wrapper objects."""
    if isinstance(value, list):
        if len(value) == 1 and isinstance(value[0], dict):
            value = value[0]
        else:
            return None, f"expected one JSON object, got a list of {len(value)} items"
    if not isinstance(value, dict):
        return None, f"expected a JSON object, got {kind_of(value)}"
    for _ in range(MAX_UNWRAP + 1):
        if _holds_keys(value, keys):
            return value, ""
        subs = [sub[0] if isinstance(sub, list) and len(sub) == 1 else sub for sub in value.values()]
        subs = [sub for sub in subs if isinstance(sub, dict) and sub]
        match = next((sub for sub in subs if _holds_keys(sub, keys)), None)
        if match is not None:
            return match, ""
        if len(subs) != 1:
            break
        value = subs[0]  # a wrapper of a wrapper: look one level deeper
    return None, "the JSON object holds none of the expected keys"


def _object_in(text: str, keys: Sequence[str]) -> tuple[dict | None, str]:
    """The first top-level object in ``text`` that holds schema keys, or why none."""
    stripped = text.strip()
    if not stripped:
        return None, "empty output"
    try:
        value = json.loads(stripped)
    except (ValueError, RecursionError):
        pass
    else:
        if isinstance(value, str) and value.strip()[:1] in ("{", "["):
            return _object_in(value, keys)  # JSON encoded twice
        return _select(value, keys)
    error = keyless = ""
    parser = ForgivingParser(text)
    pos = 0
    for _ in range(MAX_STARTS):
        m = _START.search(text, pos)
        if m is None:
            break
        try:
            value, end = parser.value(m.start())
        except Truncated as exc:
            # Any later brace lies inside this unfinished object: none of them is top-level.
            return None, f"truncated JSON: {exc}"
        except SyntaxProblem as exc:
            error = error or f"invalid JSON: {exc}"
            pos = m.start() + 1
            continue
        except RecursionError:
            error = error or f"invalid JSON: nesting deeper than {MAX_DEPTH} levels"
            pos = m.start() + 1
            continue
        if isinstance(value, dict) or (isinstance(value, list) and any(isinstance(v, dict) for v in value)):
            obj, problem = _select(value, keys)
            if obj is not None:
                return obj, ""
            keyless = keyless or problem
        pos = end  # skip what this value spans: its inner objects are not top-level
    # Valid JSON without the keys says more than a stray brace in the prose before it.
    return None, keyless or error or "no JSON object found"


def candidate_parse_output(raw: str | None, keys: Sequence[str]) -> ParsedOutput:
    """Parse one model output into ``{key: text}`` for exactly ``keys``.

    Returns ``ParsedOutput(values)`` or ``ParsedOutput(None, error)``; the error is a
    short reason that never quotes the output.
    """
    if raw is None or not isinstance(raw, str) or not raw.strip():
        return ParsedOutput(None, "empty output")
    # A reasoning model's <think> block may hold drafts of the object: the answer follows it.
    text = _THINK.sub("", raw.lstrip("\ufeff"))
    first_error = ""
    for m in _FENCE.finditer(text):
        obj, error = _object_in(m.group(1), keys)
        if obj is not None:
            return ParsedOutput(values_coerce(obj, keys))
        first_error = first_error or error
    obj, error = _object_in(text, keys)
    if obj is not None:
        return ParsedOutput(values_coerce(obj, keys))
    return ParsedOutput(None, first_error or error)
