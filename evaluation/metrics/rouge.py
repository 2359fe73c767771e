"""ROUGE-1, ROUGE-2 and ROUGE-L, equal bit for bit to the ``rouge-score`` package.

The ELMTEX protocol scores with ``RougeScorer(['rouge1', 'rouge2', 'rougeL'],
use_stemmer=True).score(target=gold, prediction=pred)``. We keep its exact arithmetic
(integer overlap counts, then the same divisions and the same F formula) and its
tokenizer (lowercase, runs of ``[^a-z0-9]`` become separators, Porter stemmer from NLTK
on tokens longer than 3 characters), but:

- tokens and n-gram counts are computed once per distinct string (gold and model
  values repeat a lot: "None", "Unremarkable", the same drug list ...);
- stems are memoised per word (NLTK's Porter stemmer is a pure function and slow);
- the LCS length comes from a bit-parallel algorithm instead of an O(n*m) table in
  Python lists. It is an integer, so precision, recall and F are unchanged.

Pure: no Django. tests/evaluation/test_rouge.py checks equality with rouge-score.
"""

from __future__ import annotations

import collections
import functools
from collections.abc import Iterable
from importlib.metadata import PackageNotFoundError, version
from typing import NamedTuple

from nltk.stem import porter
from rouge_score import scoring
from rouge_score import tokenize as rs_tokenize

ROUGE_TYPES = ("rouge1", "rouge2", "rougeL")
TOKENIZER_DESCRIPTION = (
    "rouge-score default tokenizer: lowercase, every run of characters outside [a-z0-9] separates tokens "
    "(other letters are dropped), NLTK Porter stemmer on tokens longer than 3 characters"
)
# A cache past this many distinct strings is emptied and refilled, so memory stays bounded
# on large evaluations while repeated strings still hit.
CACHE_MAX_STRINGS = 50_000  # ~120 MB of long category values at most (benchmarks/runs_evaluation.py)


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


class _Tokens(NamedTuple):
    tokens: tuple[str, ...]
    unigrams: collections.Counter
    bigrams: collections.Counter
    # token -> bitmask of its positions, for the bit-parallel LCS (used on the gold side)
    positions: dict[str, int]


_stemmer = porter.PorterStemmer()


@functools.lru_cache(maxsize=100_000)
def _stem(word: str) -> str:
    return _stemmer.stem(word)


def tokenize(text: str) -> list[str]:
    """rouge-score's ``tokenize.tokenize(text, PorterStemmer())``, with memoised stems."""
    text = rs_tokenize.NON_ALPHANUM_RE.sub(" ", text.lower())
    tokens = rs_tokenize.SPACES_RE.split(text)
    tokens = [_stem(x) if len(x) > 3 else x for x in tokens]
    return [x for x in tokens if rs_tokenize.VALID_TOKEN_RE.match(x)]


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


def _score_ngrams(target: collections.Counter, prediction: collections.Counter, t_count: int, p_count: int) -> PRF:
    # Same operations, in the same order, as rouge_scorer._score_ngrams.
    intersection = 0
    for ngram, count in target.items():
        intersection += min(count, prediction[ngram])
    precision = intersection / max(p_count, 1)
    recall = intersection / max(t_count, 1)
    return PRF(precision, recall, scoring.fmeasure(precision, recall))


class RougeCalculator:
    """Scores (prediction, reference) pairs; keeps the per-string caches between calls."""

    def __init__(self, *, cache_max_strings: int = CACHE_MAX_STRINGS):
        self._cache: dict[str, _Tokens] = {}
        self._cache_max = cache_max_strings

    def _tokens(self, text: str) -> _Tokens:
        hit = self._cache.get(text)
        if hit is not None:
            return hit
        if len(self._cache) >= self._cache_max:
            self._cache.clear()
        tokens = tuple(tokenize(text))
        positions: dict[str, int] = {}
        for i, token in enumerate(tokens):
            positions[token] = positions.get(token, 0) | (1 << i)
        # Only the overlap counts matter, so unigrams are keyed by the token itself.
        bigrams = collections.Counter(zip(tokens, tokens[1:], strict=False))  # one shorter by design
        entry = _Tokens(tokens, collections.Counter(tokens), bigrams, positions)
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
            rouge_l = PRF(precision, recall, scoring.fmeasure(precision, recall))
        return RougeTriple(rouge1, rouge2, rouge_l)


def rouge_scores(pairs: Iterable[tuple[str, str]]) -> list[RougeTriple]:
    """ROUGE for each (prediction, reference) pair."""
    calculator = RougeCalculator()
    return [calculator.score(prediction, reference) for prediction, reference in pairs]
