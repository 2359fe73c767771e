"""Entity-level precision, recall and F1 per document (CLI.md "Default entity matcher").

The ELMTEX paper recognises entities with scispaCy and compares UMLS concept ids: that
adapter is ``--matcher scispacy`` (``entities_scispacy.py``, when its models are
installed). The default matcher treats the ``;``-separated items of a
value as its entities and matches them one-to-one: equal normalised items first, then
fuzzy pairs (rapidfuzz ``token_set_ratio``) chosen to maximise the number of matches and
then their total score. Matchers share the small :class:`Matcher` protocol so another
one (scispaCy + UMLS) plugs in by name.

Pure: no Django.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from importlib.metadata import PackageNotFoundError, version
from typing import NamedTuple, Protocol

NA = "N/A"
ITEM_SEPARATOR = ";"
DEFAULT_FUZZY_THRESHOLD = 90.0
# Items normalised per distinct value are cached; past this many values the cache restarts.
CACHE_MAX_VALUES = 50_000


class EntityScore(NamedTuple):
    precision: float
    recall: float
    f1: float
    matches: int
    n_pred: int
    n_gold: int


class Matcher(Protocol):
    """Compares the entities of a predicted value with those of a gold value."""

    name: str

    def score(self, prediction: str, gold: str) -> EntityScore: ...

    def config(self) -> dict:
        """What a report records about this matcher (name, settings, package versions)."""
        ...


def _package_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:  # pragma: no cover - requirements
        return "unknown"


class _PunctuationToSpace(dict):
    """``str.translate`` table: every Unicode punctuation character (category P*) to a
    space, everything else to itself; filled per character on first sight."""

    def __missing__(self, code: int):
        value = " " if unicodedata.category(chr(code)).startswith("P") else code
        self[code] = value
        return value


_PUNCTUATION_TO_SPACE = _PunctuationToSpace()
# A '.' or ',' with a decimal digit (Unicode Nd, as str.isdecimal) on both sides is kept.
_NUMBER_SEPARATOR = re.compile(r"(?<=\d)([.,])(?=\d)")


def normalise_item(item: str) -> str:
    """NFKC, casefold, Unicode punctuation (category P*) to spaces except a ``.`` or ``,``
    between two digits (``1.5``, ``10,000``), whitespace collapsed, stripped."""
    text = unicodedata.normalize("NFKC", item).casefold()
    # re.split with a group: even pieces are text, odd pieces the kept separators.
    pieces = _NUMBER_SEPARATOR.split(text)
    for i in range(0, len(pieces), 2):
        pieces[i] = pieces[i].translate(_PUNCTUATION_TO_SPACE)
    return " ".join("".join(pieces).split())


def entity_items(value: str) -> list[str]:
    """The normalised items of a value: split on ``;``; ``N/A`` is the empty set; items
    that normalise to nothing are dropped. Duplicates are kept (multiset)."""
    if value is None or value.strip() == NA:
        return []
    items = []
    for raw in value.split(ITEM_SEPARATOR):
        raw = raw.strip()
        if not raw:
            continue
        normalised = normalise_item(raw)
        if normalised:
            items.append(normalised)
    return items


def match_count(pred: list[str], gold: list[str], *, threshold: float = DEFAULT_FUZZY_THRESHOLD) -> int:
    """One-to-one matches between two multisets of normalised items."""
    if not pred or not gold:
        return 0
    if len(pred) == 1 and len(gold) == 1:  # the common case, without the assignment machinery
        if pred[0] == gold[0]:
            return 1
        from rapidfuzz import fuzz

        return int(fuzz.token_set_ratio(pred[0], gold[0]) >= threshold)
    pred_counts, gold_counts = Counter(pred), Counter(gold)
    exact = pred_counts & gold_counts
    matches = sum(exact.values())
    pred_rest = list((pred_counts - exact).elements())
    gold_rest = list((gold_counts - exact).elements())
    if not pred_rest or not gold_rest:
        return matches
    # Heavy imports here, not at the top: web processes import this module for its names.
    import numpy as np
    from rapidfuzz import fuzz
    from scipy.optimize import linear_sum_assignment

    scores = np.array([[fuzz.token_set_ratio(p, g) for g in gold_rest] for p in pred_rest], dtype=float)
    eligible = scores >= threshold
    if not eligible.any():
        return matches
    # Maximise the number of eligible pairs first, then their total score: every eligible
    # pair weighs more than the whole score any assignment can collect (<= 100 per pair).
    big = 100.0 * (min(len(pred_rest), len(gold_rest)) + 1)
    weights = np.where(eligible, big + scores, 0.0)
    rows, cols = linear_sum_assignment(weights, maximize=True)
    return matches + int(eligible[rows, cols].sum())


def prf(matches: int, n_pred: int, n_gold: int) -> EntityScore:
    precision = matches / n_pred if n_pred else 0.0
    recall = matches / n_gold if n_gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
    return EntityScore(precision, recall, f1, matches, n_pred, n_gold)


class DefaultMatcher:
    """``;``-items, normalised, exact then fuzzy one-to-one (CLI.md)."""

    name = "default"

    def __init__(self, *, threshold: float = DEFAULT_FUZZY_THRESHOLD):
        if not 0 <= threshold <= 100:
            raise ValueError(f"the fuzzy threshold must lie between 0 and 100, got {threshold}")
        self.threshold = float(threshold)
        self._items: dict[str, list[str]] = {}

    def items(self, value: str) -> list[str]:
        hit = self._items.get(value)
        if hit is None:
            if len(self._items) >= CACHE_MAX_VALUES:
                self._items.clear()
            hit = self._items[value] = entity_items(value)
        return hit

    def score(self, prediction: str, gold: str) -> EntityScore:
        pred_items, gold_items = self.items(prediction), self.items(gold)
        matches = match_count(pred_items, gold_items, threshold=self.threshold)
        return prf(matches, len(pred_items), len(gold_items))

    def config(self) -> dict:
        return {
            "matcher": self.name,
            "fuzzy_threshold": self.threshold,
            "items": "value split on ';', stripped, empties dropped; N/A is the empty set",
            "normalisation": "NFKC, casefold, punctuation (Unicode P*) to space except '.' or ',' between digits, "
            "whitespace collapsed",
            "matching": "exact multiset matches, then rapidfuzz fuzz.token_set_ratio >= threshold, one-to-one, "
            "maximising the number of matches then the total score (scipy linear_sum_assignment)",
            "rapidfuzz": _package_version("rapidfuzz"),
            "scipy": _package_version("scipy"),
        }


def _scispacy_matcher(*, threshold: float = DEFAULT_FUZZY_THRESHOLD, **options) -> Matcher:
    # spaCy and scispaCy load only when this matcher is asked for.
    from evaluation.metrics.entities_scispacy import ScispacyMatcher

    return ScispacyMatcher(threshold=threshold, **options)


MATCHERS: dict[str, object] = {"default": DefaultMatcher, "scispacy": _scispacy_matcher}


def matcher_get(name: str = "default", *, threshold: float = DEFAULT_FUZZY_THRESHOLD, **options) -> Matcher:
    """A matcher by name; ``ValueError`` naming the known ones for an unknown name, and
    ``entities_scispacy.MatcherUnavailable`` (a ValueError) when its models are missing.
    ``options`` go to the matcher (``model=`` for scispacy)."""
    factory = MATCHERS.get(name)
    if factory is None:
        raise ValueError(f"unknown entity matcher {name!r}; known: {', '.join(sorted(MATCHERS))}")
    return factory(threshold=threshold, **options)
