"""ROUGE-1, ROUGE-2 and ROUGE-L, equal bit for bit to the ``rouge-score`` package.

The ELMTEX protocol scores with ``RougeScorer(['rouge1', 'rouge2', 'rougeL'],
use_stemmer=True).score(target=gold, prediction=pred)``. We keep its exact arithmetic
(integer overlap counts, then the same divisions and the same F formula) and its
tokenizer (lowercase, runs of ``[^a-z0-9]`` become separators, Porter stemmer from NLTK
on tokens longer than 3 characters), but:

- tokens and n-gram counts are computed once per distinct string (gold and model
  values repeat a lot: "None", "Unremarkable", the same drug list ...);
- each word's token (stem, validity) is memoised (NLTK's Porter stemmer is a pure
  function and slow); n-gram counts are plain dicts and the overlap walks the smaller one;
- the LCS length comes from a bit-parallel algorithm instead of an O(n*m) table in
  Python lists. It is an integer, so precision, recall and F are unchanged.

Pure: no Django. tests/evaluation/test_rouge.py checks equality with rouge-score.
"""

from __future__ import annotations

import re
from collections import _count_elements  # the C helper behind Counter(iterable)
from collections.abc import Callable, Iterable
from importlib.metadata import PackageNotFoundError, version
from typing import NamedTuple

from nltk.stem import porter
from rouge_score import tokenize as rs_tokenize

ROUGE_TYPES = ("rouge1", "rouge2", "rougeL")
TOKENIZER_DESCRIPTION = (
    "rouge-score default tokenizer: lowercase, every run of characters outside [a-z0-9] separates tokens "
    "(other letters are dropped), NLTK Porter stemmer on tokens longer than 3 characters"
)
# A cache past this many distinct strings is emptied and refilled, so memory stays bounded
# on large evaluations while repeated strings still hit.
# ~4 KB per cached string (tokens, n-gram counts, LCS masks): 10,000 strings ~ 40 MB. Values
# that repeat (None, N/A, common drugs) come back soon after each clear (benchmarks/evaluation_speed.py).
CACHE_MAX_STRINGS = 10_000


def rouge_score_version() -> str:
    try:
        return version("rouge-score")
    except PackageNotFoundError:  # pragma: no cover - the package is a requirement
        return "unknown"


class PRF(NamedTuple):
    """Field names as rouge-score's ``Score``."""

    precision: float
    recall: float
    fmeasure: float


ZERO = PRF(0.0, 0.0, 0.0)


class RougeTriple(NamedTuple):
    rouge1: PRF
    rouge2: PRF
    rougeL: PRF  # noqa: N815 - the metric's name in rouge-score and in CLI.md


class _Tokens:
    """One string's tokens and n-gram counts (plain dicts: only overlap counts matter)."""

    __slots__ = ("tokens", "unigrams", "bigrams", "_positions")

    def __init__(self, tokens: tuple[str, ...]):
        self.tokens = tokens
        self.unigrams: dict = {}
        _count_elements(self.unigrams, tokens)
        self.bigrams: dict = {}
        _count_elements(self.bigrams, zip(tokens, tokens[1:], strict=False))  # one shorter by design
        self._positions: dict[str, int] | None = None

    @property
    def positions(self) -> dict[str, int]:
        """token -> bitmask of its positions, for the bit-parallel LCS (gold side only,
        so built on first use)."""
        if self._positions is None:
            positions: dict[str, int] = {}
            for i, token in enumerate(self.tokens):
                positions[token] = positions.get(token, 0) | (1 << i)
            self._positions = positions
        return self._positions


_stemmer = porter.PorterStemmer()
WORD_CACHE_MAX = 200_000
# Runs of [a-z0-9] in lowercased text: exactly the non-empty pieces rouge-score gets from
# NON_ALPHANUM_RE.sub(" ", text) then SPACES_RE.split (the empty ones it drops later).
_WORD_RE = re.compile(r"[a-z0-9]+")


def _stem(word: str) -> str:
    return _stemmer.stem(word)


def _word_token(word: str) -> str:
    """rouge-score's per-word steps: Porter stem if longer than 3 characters, then dropped
    ("") unless it matches VALID_TOKEN_RE. A pure function of the word, so memoised."""
    token = _stem(word) if len(word) > 3 else word
    return token if rs_tokenize.VALID_TOKEN_RE.match(token) else ""


class _WordTokens(dict):
    """word -> token ("" when dropped), computed on first sight; emptied when large."""

    def __missing__(self, word: str) -> str:
        if len(self) >= WORD_CACHE_MAX:
            self.clear()
        token = self[word] = _word_token(word)
        return token


_WORD_TOKENS = _WordTokens()


def tokenize(text: str) -> list[str]:
    """rouge-score's ``tokenize.tokenize(text, PorterStemmer())``, with memoised words."""
    return [token for token in map(_WORD_TOKENS.__getitem__, _WORD_RE.findall(text.lower())) if token]


def _lcs_length(gold: _Tokens, pred: tuple[str, ...]) -> int:
    """Length of the longest common subsequence (Allison-Dix / Crochemore et al.
    bit-parallel algorithm): bit i of ``v`` is 0 where the LCS grows at gold position i."""
    m = len(gold.tokens)
    mask = (1 << m) - 1
    v = mask
    positions = gold.positions
    for token in pred:
        match = positions.get(token)
        if match:
            u = v & match
            v = ((v + u) | (v - u)) & mask
    return m - v.bit_count()


def _fmeasure(precision: float, recall: float) -> float:
    # rouge_score.scoring.fmeasure, inlined (same expression, same result).
    if precision + recall > 0:
        return 2 * precision * recall / (precision + recall)
    return 0.0


def _score_ngrams(target: dict, prediction: dict, t_count: int, p_count: int) -> PRF:
    # rouge_scorer._score_ngrams: the overlap is an integer (sum of min counts), so
    # walking the smaller side gives the same number; then the same divisions.
    small, large = (target, prediction) if len(target) <= len(prediction) else (prediction, target)
    get = large.get
    intersection = 0
    for ngram, count in small.items():
        other = get(ngram)
        if other:
            intersection += count if count < other else other
    precision = intersection / max(p_count, 1)
    recall = intersection / max(t_count, 1)
    return PRF(precision, recall, _fmeasure(precision, recall))


class RougeCalculator:
    """Scores (prediction, reference) pairs; keeps the per-string caches between calls."""

    def __init__(self, *, cache_max_strings: int = CACHE_MAX_STRINGS, tokenizer: Callable[[str], list] | None = None):
        """``tokenizer`` None = rouge-score's (English, Porter stemmer): the reference.
        Another tokenizer (``evaluation.metrics.tokenize``) changes only how text becomes
        tokens; the counting, LCS and divisions stay rouge-score's."""
        self._cache: dict[str, _Tokens] = {}
        self._cache_max = cache_max_strings
        self._tokenize = tokenizer or tokenize

    def _tokens(self, text: str) -> _Tokens:
        hit = self._cache.get(text)
        if hit is not None:
            return hit
        if len(self._cache) >= self._cache_max:
            self._cache.clear()
        entry = _Tokens(tuple(self._tokenize(text)))
        self._cache[text] = entry
        return entry

    def score(self, prediction: str, reference: str) -> RougeTriple:
        """``RougeScorer(ROUGE_TYPES, use_stemmer=True).score(target=reference, prediction=prediction)``."""
        gold = self._tokens(reference)
        pred = self._tokens(prediction)
        n_gold, n_pred = len(gold.tokens), len(pred.tokens)
        rouge1 = _score_ngrams(gold.unigrams, pred.unigrams, n_gold, n_pred)
        rouge2 = _score_ngrams(gold.bigrams, pred.bigrams, max(n_gold - 1, 0), max(n_pred - 1, 0))
        if not n_gold or not n_pred:
            rouge_l = ZERO
        else:
            lcs = _lcs_length(gold, pred.tokens)
            precision = lcs / n_pred
            recall = lcs / n_gold
            rouge_l = PRF(precision, recall, _fmeasure(precision, recall))
        return RougeTriple(rouge1, rouge2, rouge_l)


def rouge_scores(pairs: Iterable[tuple[str, str]]) -> list[RougeTriple]:
    """ROUGE for each (prediction, reference) pair."""
    calculator = RougeCalculator()
    return [calculator.score(prediction, reference) for prediction, reference in pairs]
