"""Automated checks of extracted values (pure; no Django): the dataset's "manual checks",
assisted. They run over gold, model candidates and annotations alike and return
:class:`Finding` objects; :mod:`annotation.services.checks` stores them.

Rules (what each check flags and why):

- ``not_grounded`` (warning): an item (values split on ``"; "``) is not found in the report:
  not as a substring after normalisation (casefold, typographic quotes/dashes unified,
  whitespace collapsed), not by ``rapidfuzz.fuzz.partial_ratio`` at or above the project's
  threshold (default 90), and not by word coverage (at least the threshold share of the
  item's words occur in the report; items of two words or more). Possible hallucination.
  ``N/A`` is never checked. ``age``: the number must occur in the report as digits
  ("45-year-old" holds 45) or as an English number word ("forty-five"). ``gender`` is not
  checked: it is usually implied ("woman", "she", "Patientin") rather than written.
- ``cross_category`` (warning): the same item (normalised, at least 4 characters, not a bare
  number) in two categories: possibly the wrong category. Reported on the later category.
- ``duplicate_item`` (info): the same item twice in one value.
- ``na_mixed`` (warning): ``N/A`` (or a variant) next to content, e.g. ``"N/A; fever"``.
- ``na_variant`` (info): a spelling of "nothing" other than the literal ``N/A``
  (``n/a``, ``NA``, ``none``, ``unknown``, ``not mentioned``, ``k.A.``, ...).
- ``empty_value`` (warning): an empty or whitespace-only value (write ``N/A``);
  ``empty_item`` (info): an empty item between separators (``"fever; ; cough"``).
- ``missing_value`` (warning): a category without a value; ``unknown_key`` (info): a value
  for a key the project does not have; ``not_text`` (error): a value that is not a string.
- ``age_not_number`` (warning): age not a number with an optional unit (``45``,
  ``45 years``, ``6 months``, ``3 weeks``, ``50s``, ``newborn``; German units too);
  ``age_implausible`` (error): outside 0-120 years (months/weeks/days converted).
- ``gender_unexpected`` (warning): gender outside the allowed set: English ``male``,
  ``female``, ``other``, ``non-binary``, ``intersex``, ``diverse``; German ``männlich``,
  ``weiblich``, ``divers``, ``andere``. ``gender_language`` (info): an English word in a
  German document or the other way round.
- ``too_long`` (warning): a value over 1,000 characters; ``longer_than_report`` (warning): a
  value longer than the report itself.
- ``translation_length`` (warning): a translated report whose length is outside 0.7-1.6
  times the original's; ``translation_value_length`` (info): a value (both sides at least
  20 characters) outside 0.5-2.0 times the original's; ``translation_na_mismatch``
  (warning): ``N/A`` on one side only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field

NA = "N/A"
SEPARATOR = "; "
AGE_KEY = "age"
GENDER_KEY = "gender"

INFO, WARNING, ERROR = "info", "warning", "error"

CODES: dict[str, tuple[str, str]] = {
    # code: (severity, short description shown in summaries)
    "not_grounded": (WARNING, "item not found in the report (possible hallucination)"),
    "cross_category": (WARNING, "same item in two categories (possible wrong category)"),
    "duplicate_item": (INFO, "same item twice in one value"),
    "na_mixed": (WARNING, "N/A mixed with content"),
    "na_variant": (INFO, "'nothing' not written as N/A"),
    "empty_value": (WARNING, "empty value (write N/A)"),
    "empty_item": (INFO, "empty item between separators"),
    "missing_value": (WARNING, "category without a value"),
    "unknown_key": (INFO, "value for a key the project does not have"),
    "not_text": (ERROR, "value is not text"),
    "age_not_number": (WARNING, "age is not a number with a unit"),
    "age_implausible": (ERROR, "age outside 0-120 years"),
    "gender_unexpected": (WARNING, "gender outside the allowed set"),
    "gender_language": (INFO, "gender word in the other language"),
    "too_long": (WARNING, "value over the length limit"),
    "longer_than_report": (WARNING, "value longer than the report"),
    "translation_length": (WARNING, "translated report length out of range"),
    "translation_value_length": (INFO, "translated value length out of range"),
    "translation_na_mismatch": (WARNING, "N/A on one side of the translation only"),
}

NA_VARIANTS = frozenset(
    {
        "n/a", "na", "n.a.", "n. a.", "n / a", "n/a.", "none", "unknown", "not mentioned",
        "not stated", "not reported", "not available", "not applicable", "nil", "-", "--",
        "keine", "keine angabe", "keine angaben", "nicht angegeben", "nicht bekannt",
        "unbekannt", "k.a.", "k. a.", "entfällt",
    }
)  # fmt: skip

_NA_MAX_CHARS = max(map(len, NA_VARIANTS)) + 4  # longer values are never a variant (spaces)

GENDERS = {
    "en": frozenset({"male", "female", "other", "non-binary", "nonbinary", "intersex", "diverse"}),
    "de": frozenset({"männlich", "weiblich", "divers", "andere", "intersexuell"}),
}

_AGE_UNITS = {
    "years": 1.0, "year": 1.0, "yrs": 1.0, "yr": 1.0, "y": 1.0, "yo": 1.0, "y/o": 1.0, "years-old": 1.0,
    "year-old": 1.0, "jahre": 1.0, "jahr": 1.0, "j": 1.0, "jährig": 1.0, "jährige": 1.0, "jähriger": 1.0,
    "months": 1 / 12, "month": 1 / 12, "mo": 1 / 12, "monate": 1 / 12, "monat": 1 / 12, "monaten": 1 / 12,
    "weeks": 7 / 365.25, "week": 7 / 365.25, "wk": 7 / 365.25, "wochen": 7 / 365.25, "woche": 7 / 365.25,
    "days": 1 / 365.25, "day": 1 / 365.25, "d": 1 / 365.25, "tage": 1 / 365.25, "tag": 1 / 365.25,
}  # fmt: skip
_AGE_RE = re.compile(
    r"^(?:about |approximately |approx\. |ca\. |circa |etwa |~ ?)?"
    r"(?P<num>\d{1,4}(?:[.,]\d+)?)(?P<decade>s)?"
    r"(?:\s*[-–]\s*(?P<num2>\d{1,3}))?"
    r"(?:[\s-]*(?P<unit>[a-zäöü/]+(?:-old)?))?(?:[\s-]*(?:old|alt))?$"
)
_AGE_WORDS = frozenset({"newborn", "neonate", "neugeborenes", "neugeboren", "infant", "säugling"})
_NUMBER_RE = re.compile(r"\d+(?:[.,]\d+)?")
_WORD_RE = re.compile(r"\w+")
_SPACE_RE = re.compile(r"\s+")
_TRANSLATE = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "„": '"', "–": "-", "—": "-", "‑": "-"})

_ONES = "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen".split()  # noqa: E501
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()


_WORD_NUMBERS = {w: str(i) for i, w in enumerate(_ONES)} | {w: str(i * 10) for i, w in enumerate(_TENS) if i > 1}
_NUMBER_WORDS = {v: k for k, v in _WORD_NUMBERS.items()}


def _partial_ratio():
    """rapidfuzz's partial_ratio, imported on first use: web processes start without
    rapidfuzz (tests/test_site.py), the pages that import this module never call it."""
    from rapidfuzz.fuzz import partial_ratio

    return partial_ratio


def normalise(text: str) -> str:
    """Casefold, unify quotes and dashes, collapse whitespace, strip."""
    return _SPACE_RE.sub(" ", text.translate(_TRANSLATE).casefold()).strip()


def number_words(n: int) -> list[str]:
    """English spellings of 0-120 as they appear in reports ("forty-five", "forty five")."""
    if n < 20:
        return [_ONES[n]]
    if n < 100:
        tens, ones = divmod(n, 10)
        return [_TENS[tens]] if ones == 0 else [f"{_TENS[tens]}-{_ONES[ones]}", f"{_TENS[tens]} {_ONES[ones]}"]
    if n <= 120:
        rest = n - 100
        return ["one hundred"] if rest == 0 else [f"one hundred and {w}" for w in number_words(rest)]
    return []


@dataclass(frozen=True, slots=True)
class Finding:
    code: str
    category: str  # category key; "" for a whole-record finding
    severity: str
    message: str
    details: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class CheckConfig:
    grounding_threshold: int = 90
    max_value_chars: int = 1000
    min_cross_item_chars: int = 4
    report_ratio: tuple[float, float] = (0.7, 1.6)
    value_ratio: tuple[float, float] = (0.5, 2.0)
    min_ratio_chars: int = 20
    max_age_years: float = 120.0


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _finding(code: str, category: str, message: str, **details) -> Finding:
    return Finding(code, category, CODES[code][0], message, details)


class Report:
    """A report prepared once for many grounding look-ups: normalised text, word and
    number sets, and a memo of items already looked up (gold, candidates and annotations
    of one document share most items)."""

    __slots__ = ("_memo", "norm", "numbers", "text", "words")

    def __init__(self, text: str):
        self.text = text
        self.norm = normalise(text)
        words = set(_WORD_RE.findall(self.norm))
        # "3" in an item matches "three" in the report and the other way round.
        words.update(_WORD_NUMBERS[w] for w in words & _WORD_NUMBERS.keys())
        words.update(_NUMBER_WORDS[w] for w in words & _NUMBER_WORDS.keys())
        self.words = frozenset(words)
        self.numbers = frozenset(n.replace(",", ".") for n in _NUMBER_RE.findall(self.norm))
        self._memo: dict[tuple[str, int], tuple[str | None, float]] = {}

    def ground(self, item_norm: str, threshold: int) -> tuple[str | None, float]:
        """``(method, score)``: method ``exact``, ``words`` or ``fuzzy`` with its score when
        found, else ``(None, 0.0)``."""
        key = (item_norm, threshold)
        hit = self._memo.get(key)
        if hit is None:
            hit = self._memo[key] = self._ground(item_norm, threshold)
        return hit

    def _ground(self, item: str, threshold: int) -> tuple[str | None, float]:
        # Cheapest first: substring, then word coverage (set look-ups), then partial_ratio
        # with a cutoff (rapidfuzz stops early, 3-5x faster than the exact best score).
        if item in self.norm:
            return "exact", 100.0
        words = _WORD_RE.findall(item)
        if len(words) >= 2 and sum(w in self.words for w in words) * 100 >= threshold * len(words):
            return "words", 100.0 * sum(w in self.words for w in words) / len(words)
        score = _partial_ratio()(item, self.norm, score_cutoff=threshold) if self.norm else 0.0
        if score:
            return "fuzzy", round(score, 1)
        return None, 0.0

    def has_age(self, number: str) -> bool:
        if number in self.numbers:
            return True
        try:
            n = int(float(number))
        except ValueError:
            return False
        return any(w in self.norm for w in number_words(n))


def split_items(value: str) -> list[str]:
    return [item.strip() for item in value.split(";")]


def is_na(text: str) -> bool:
    return text.strip() == NA


def na_like(text: str) -> bool:
    """``N/A`` or one of its variants (casefolded)."""
    return normalise(text) in NA_VARIANTS


def parse_age_years(value: str) -> float | None:
    """The age in years ("45 years" -> 45, "6 months" -> 0.5, "50s" -> 50, "newborn" -> 0),
    or None when the value is not a number with a known unit."""
    text = normalise(value).rstrip(".")
    if text in _AGE_WORDS:
        return 0.0
    m = _AGE_RE.match(text)
    if m is None:
        return None
    unit = (m.group("unit") or "years").removesuffix("-old")
    if unit not in _AGE_UNITS:
        return None
    return float(m.group("num").replace(",", ".")) * _AGE_UNITS[unit]


def _age_number(value: str) -> str | None:
    m = _NUMBER_RE.search(value)
    return m.group().replace(",", ".") if m else None


def _check_value_shape(key: str, value) -> tuple[list[Finding], str | None]:
    """Type, emptiness and N/A spelling. Returns findings and the value to check further
    (None when there is nothing more to check)."""
    if not isinstance(value, str):
        kind = type(value).__name__
        return [_finding("not_text", key, f"the value is a {kind}, not text", type=kind)], None
    if not value.strip():
        return [_finding("empty_value", key, "empty value: write N/A when the report says nothing")], None
    if is_na(value):
        return [], None
    if len(value) <= _NA_MAX_CHARS and na_like(value):
        msg = f"{_short(value.strip())!r} means nothing is stated: write exactly N/A"
        return [_finding("na_variant", key, msg, value=value.strip())], None
    return [], value


def _check_items(key: str, items: list[str], norms: list[str]) -> list[Finding]:
    out = []
    contents = [i for i, n in zip(items, norms, strict=True) if n]
    if len(contents) < len(items):
        out.append(_finding("empty_item", key, "an empty item between '; ' separators", items=len(items)))
    na_items = [i for i, n in zip(items, norms, strict=True) if n in NA_VARIANTS]
    if na_items and len(na_items) < len(contents):
        out.append(_finding("na_mixed", key, f"{na_items[0]!r} next to content: keep the content or write N/A alone"))
    if len(set(norms)) < len(norms):
        seen = set()
        for item, norm in zip(items, norms, strict=True):
            if norm and norm in seen:
                out.append(_finding("duplicate_item", key, f"{_short(item)!r} appears twice", item=item))
            seen.add(norm)
    return out


def _check_age(value: str, report: Report, config: CheckConfig, grounding: bool) -> list[Finding]:
    years = parse_age_years(value)
    if years is None:
        msg = f"{_short(value)!r} is not an age: write a number with an optional unit, e.g. '45 years', '6 months'"
        return [_finding("age_not_number", AGE_KEY, msg, value=value)]
    if not 0 <= years <= config.max_age_years:
        msg = f"age {value!r} is {years:g} years: outside 0-{config.max_age_years:g}"
        return [_finding("age_implausible", AGE_KEY, msg, years=years)]
    number = _age_number(value)
    if grounding and number is not None and report.norm and not report.has_age(number):
        msg = f"the age {number} does not occur in the report (possible hallucination)"
        return [_finding("not_grounded", AGE_KEY, msg, item=value, method="age")]
    return []


def _check_gender(value: str, language: str) -> list[Finding]:
    word = normalise(value)
    lang = "de" if language.startswith("de") else "en"
    if word in GENDERS[lang]:
        return []
    other = "en" if lang == "de" else "de"
    if word in GENDERS[other]:
        return [_finding("gender_language", GENDER_KEY, f"{value!r} is {other}, the document is {lang}", value=value)]
    allowed = ", ".join(sorted(GENDERS[lang]))
    return [_finding("gender_unexpected", GENDER_KEY, f"{_short(value)!r} is not one of: {allowed} (or N/A)")]


def check_record(
    *,
    report: Report | str,
    values: Mapping,
    keys: Sequence[str],
    language: str = "en",
    config: CheckConfig = CheckConfig(),  # noqa: B008 - frozen
    grounding: bool = True,
) -> list[Finding]:
    """Every check of one record (gold, candidate or annotation values) against its report.
    ``keys``: the project's category keys in schema order."""
    if isinstance(report, str):
        report = Report(report)
    out: list[Finding] = []
    threshold = config.grounding_threshold
    first_seen: dict[str, str] = {}  # normalised item -> first category key
    for key in keys:
        if key not in values:
            out.append(_finding("missing_value", key, "no value for this category: write N/A when none"))
            continue
        findings, value = _check_value_shape(key, values[key])
        out.extend(findings)
        if value is None:
            continue
        value = value.strip()
        if len(value) > config.max_value_chars:
            msg = f"{len(value)} characters: over the {config.max_value_chars} limit"
            out.append(_finding("too_long", key, msg, chars=len(value)))
        elif report.text and len(value) > len(report.text):
            msg = f"{len(value)} characters, the report has {len(report.text)}"
            out.append(_finding("longer_than_report", key, msg, chars=len(value)))
        if key == AGE_KEY:
            out.extend(_check_age(value, report, config, grounding))
            continue
        if key == GENDER_KEY:
            out.extend(_check_gender(value, language))
            continue
        items = split_items(value)
        norms = [n.strip() for n in normalise(value).split(";")]
        out.extend(_check_items(key, items, norms))
        for item, norm in zip(items, norms, strict=True):
            if not norm or norm in NA_VARIANTS:
                continue
            if grounding and report.norm:
                method, _ = report.ground(norm, threshold)
                if method is None:
                    msg = f"{_short(item)!r} not found in the report (no match at {threshold}% or above)"
                    out.append(_finding("not_grounded", key, msg, item=item, threshold=threshold))
            if len(norm) >= config.min_cross_item_chars and not norm.replace(".", "").isdigit():
                other = first_seen.setdefault(norm, key)
                if other != key:
                    msg = f"{_short(item)!r} is also in {other}: possibly the wrong category"
                    out.append(_finding("cross_category", key, msg, item=item, other_category=other))
    known = set(keys)
    for key in values:
        if key not in known:
            out.append(_finding("unknown_key", "", f"value for {key!r}, which is not a category", key=key))
    return out


def check_translation(
    *,
    text: str,
    original_text: str,
    values: Mapping | None = None,
    original_values: Mapping | None = None,
    keys: Iterable[str] = (),
    config: CheckConfig = CheckConfig(),  # noqa: B008 - frozen
) -> list[Finding]:
    """A translated report against its original: report length ratio; with values on both
    sides (gold), per-category value length ratio and N/A on one side only."""
    out: list[Finding] = []
    low, high = config.report_ratio
    if original_text:
        ratio = len(text) / len(original_text)
        if not low <= ratio <= high:
            msg = f"the translation is {ratio:.2f} times as long as the original (expected {low}-{high})"
            out.append(_finding("translation_length", "", msg, ratio=round(ratio, 3), low=low, high=high))
    if values is None or original_values is None:
        return out
    low, high = config.value_ratio
    for key in keys:
        mine, theirs = values.get(key), original_values.get(key)
        if not isinstance(mine, str) or not isinstance(theirs, str):
            continue
        if is_na(mine) != is_na(theirs):
            msg = f"N/A in the {'translation' if is_na(mine) else 'original'} only"
            out.append(_finding("translation_na_mismatch", key, msg))
            continue
        if min(len(mine), len(theirs)) < config.min_ratio_chars:
            continue
        ratio = len(mine) / len(theirs)
        if not low <= ratio <= high:
            msg = f"{ratio:.2f} times as long as the original's value (expected {low}-{high})"
            out.append(_finding("translation_value_length", key, msg, ratio=round(ratio, 3)))
    return out
