"""A rule-based ELMTEX extractor: the weak, deterministic baseline behind ``serve_baseline`` (pure).

Each sentence of a report goes to at most one category, the one with the strongest
clinical cue (English or German), and the category's value is those sentences joined
with "; ". Age and gender come from a few patterns. No model, no randomness: the same report always gives the same answer, which is
what a reproducible baseline and the tests need. It is meant to be beaten.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

NA = "N/A"
SEPARATOR = "; "

# (category, weight, pattern). A header ("Labor: ...") or a phrase that names the
# category outright weighs 3; a typical lead-in 2; a word that merely suggests it 1.
_CUES: tuple[tuple[str, int, str], ...] = (
    ("life_style", 3, r"life ?style|lebensstil|gewohnheiten|habits"),
    ("life_style", 2, r"smok\w*|cigarettes?|pack[- ]years?|alcohol\w*|raucher\w*|nikotin\w*|alkohol\w*"),
    ("life_style", 1, r"exercis\w*|diet|vegetarian|works? as|occupation|beruf\w*|ernährung|sport\w*"),
    ("family_history", 3, r"family history|familienanamnese|in der familie"),
    ("family_history", 1, r"mother|father|sibling|brother|sister|mutter|vater|bruder|schwester|familial"),
    ("social_history", 3, r"social history|socially|sozialanamnese|soziale\w* situation"),
    ("social_history", 2, r"married|widow\w*|divorced|lives (?:alone|with)|homeless|verheiratet|verwitwet|lebt"),
    ("medical_surgical_history", 3, r"past medical|medical history|vorgeschichte|anamnestisch|vorerkrankung\w*"),
    ("medical_surgical_history", 2, r"history of|previous\w*|prior|known|z\. ?n\.|zustand nach"),
    ("signs_symptoms", 3, r"complain\w*|symptoms?|beschwerden|symptom\w*|leitsymptom\w*|klinische\w* befund"),
    ("signs_symptoms", 2, r"presented|admitted|referred|on examination|examination|untersuchung\w*|aufnahme"),
    ("signs_symptoms", 1, r"pain|fever|cough|dyspnea|nausea|schmerz\w*|fieber|husten|luftnot"),
    ("comorbidities", 3, r"comorbidit\w*|coexisting|begleiterkrankung\w*|nebendiagnose\w*"),
    ("comorbidities", 2, r"also (?:had|has|suffered)"),
    ("diagnostic_techniques_procedures", 3, r"work-?up|investigations?|diagnostik|imaging"),
    (
        "diagnostic_techniques_procedures",
        2,
        r"ct|mri|mrt|ultraso\w*|sonograph\w*|echocardiograph\w*|ecg|ekg|x-ray|radiograph\w*|endoscop\w*|"
        r"colonoscop\w*|scan|angiograph\w*|röntgen\w*|endoskop\w*|koloskop\w*|angiograph\w*",
    ),
    ("diagnosis", 3, r"diagnos\w*|differenzialdiagnos\w*"),
    ("diagnosis", 1, r"consistent with|confirmed|bestätigt"),
    ("laboratory_values", 3, r"laborator\w*|blood tests?|labor\w*|blutwerte|lab values"),
    ("laboratory_values", 1, r"serum|levels?|count|mg/dl|mmol/l|g/dl|u/l|mg/l|/l"),
    ("pathology", 3, r"histolog\w*|histopatholog\w*|patholog\w*|cytolog\w*|autopsy|zytolog\w*|obduktion"),
    (
        "pathology",
        3,
        r"(?:biops\w*|aspiration|specimens?)\b.{0,120}?\b(?:showed|revealed|demonstrated)|befund \(|\w*biopsie:",
    ),
    (
        "pharmacological_therapy",
        3,
        r"treated with|medication\w*|medikament\w*|therapy was started|treatment consisted|drug therapy",
    ),
    ("pharmacological_therapy", 2, r"therap\w*|treatment|administered|started on|received|erhielt|mg"),
    ("interventional_therapy", 3, r"underwent|interventional\w*|eingriff\w*|maßnahmen|procedures were performed"),
    (
        "interventional_therapy",
        2,
        r"surgery|surgical|operation|operativ\w*|resection|resektion|\w+ectomy|\w+ektomie|drainage|stent\w*|"
        r"dialys\w*|radiotherap\w*|strahlentherap\w*",
    ),
    ("patient_outcome_assessment", 3, r"outcome|follow-up|verlauf\w*|nachsorge|discharged|entlass\w*"),
    ("patient_outcome_assessment", 2, r"recovered|died|remained|symptom-free|beschwerdefrei|verstarb|erholt\w*"),
)
_COMPILED = tuple((key, weight, re.compile(rf"(?<!\w)(?:{pattern})(?!\w)", re.I)) for key, weight, pattern in _CUES)
CATEGORY_KEYS: tuple[str, ...] = tuple(dict.fromkeys(key for key, _, _ in _CUES)) + ("age", "gender")

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[]?[A-ZÄÖÜ0-9])|\n+")

_AGE_EN = (
    re.compile(r"\b(\d{1,3})[- ](year|month|week|day)s?[- ]old\b", re.I),
    re.compile(r"\baged (\d{1,3})(?: (year|month|week|day)s?)?\b", re.I),
    re.compile(r"\b(\d{1,3}) (year|month|week|day)s? (?:of age|old)\b", re.I),
    re.compile(r"\bage of (\d{1,3})(?: (year|month|week|day)s?)?\b", re.I),
)
_AGE_DE = (
    re.compile(r"\b(\d{1,3})[- ]?(jährig|monatig|wöchig)\w*", re.I),
    re.compile(r"\bim alter von (\d{1,3}) (jahr|monat|woche|tag)\w*", re.I),
    re.compile(r"\b(\d{1,3}) (jahr|monat|woche|tag)\w* alt\b", re.I),
)
_AGE_DE_HEADER = re.compile(r"^\s*\w+, (\d{1,3}) (jahr|monat|woche|tag)\w*", re.I)
_UNITS_EN = {"year": "years", "month": "months", "week": "weeks", "day": "days"}
_UNITS_DE = {
    "jahr": "Jahre",
    "jährig": "Jahre",
    "monat": "Monate",
    "monatig": "Monate",
    "woche": "Wochen",
    "wöchig": "Wochen",
    "tag": "Tage",
}
_GENDER_EN = (
    (re.compile(r"\b(?:female|woman|girl|lady)\b", re.I), "female"),
    (re.compile(r"\b(?:male|man|boy|gentleman)\b", re.I), "male"),
    (re.compile(r"\b(?:she|her)\b", re.I), "female"),
    (re.compile(r"\b(?:he|his|him)\b", re.I), "male"),
)
_GENDER_DE = (
    (re.compile(r"\b(?:weiblich\w*|frau|mädchen)\b", re.I), "weiblich"),
    (re.compile(r"\b(?:männlich\w*|mann|junge)\b", re.I), "männlich"),
    (re.compile(r"\bpatientin\b", re.I), "weiblich"),
    (re.compile(r"\bpatienten?\b", re.I), "männlich"),
)
_GERMAN_WORDS = re.compile(r"\b(?:der|die|das|und|mit|bei|wurde|eine?|nach|über|für|sich|im)\b", re.I)
_ENGLISH_WORDS = re.compile(r"\b(?:the|and|with|was|were|of|for|an?|on|he|she)\b", re.I)


_BY_WEIGHT = sorted((cue for cue in _COMPILED if cue[1] > 0), key=lambda cue: -cue[1])


def sentences(report: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(report) if s.strip()]


def _best_category(sentence: str) -> str | None:
    """The category whose cue weighs most (the first in table order on a tie): the first
    match in the cues sorted by weight (a stable sort keeps table order on ties)."""
    for key, _weight, pattern in _BY_WEIGHT:
        if pattern.search(sentence):
            return key
    return None


def _items(sentence: str) -> list[str]:
    # The whole sentence is the item: no attempt to cut lead-ins or split lists, which
    # keeps this a sentence-retrieval baseline (fair ROUGE, poor entity scores).
    items = [item.strip(" ,;:.") for item in sentence.rstrip(" .!?").split("; ")]
    return [item for item in items if item]


def is_german(report: str) -> bool:
    return len(_GERMAN_WORDS.findall(report)) > len(_ENGLISH_WORDS.findall(report))


def _age(report: str, german: bool) -> str:
    patterns, units = (_AGE_DE, _UNITS_DE) if german else (_AGE_EN, _UNITS_EN)
    for pattern in patterns:
        match = pattern.search(report)
        if match:
            unit = (match.group(2) or "").lower()
            return f"{match.group(1)} {units.get(unit, 'Jahre' if german else 'years')}"
    first = sentences(report)[:1]
    match = _AGE_DE_HEADER.search(first[0]) if german and first else None
    return f"{match.group(1)} {_UNITS_DE[match.group(2).lower()]}" if match else NA


def _gender(report: str, german: bool) -> str:
    # The opening sentences introduce the patient; later ones may be about relatives.
    for text in (" ".join(sentences(report)[:2]), report):
        for pattern, value in _GENDER_DE if german else _GENDER_EN:
            if pattern.search(text):
                return value
    return NA


def extract(report: str, keys: Sequence[str]) -> dict[str, str]:
    """``{key: "item; item" or "N/A"}`` for every key, in the order given.

    Keys the rules do not know get ``N/A``. Deterministic: a pure function of its input.
    """
    found: dict[str, list[str]] = {}
    for sentence in sentences(report):
        key = _best_category(sentence)
        if key is None:
            continue
        bucket = found.setdefault(key, [])
        for item in _items(sentence):
            if item.casefold() not in {seen.casefold() for seen in bucket}:
                bucket.append(item)
    german = is_german(report)
    out: dict[str, str] = {}
    for key in keys:
        if key == "age":
            out[key] = _age(report, german)
        elif key == "gender":
            out[key] = _gender(report, german)
        else:
            out[key] = SEPARATOR.join(found.get(key, [])) or NA
    return out
