"""ROUGE tokenizers per document language.

- English (``en``): rouge-score's own tokenizer and Porter stemmer
  (:func:`evaluation.metrics.rouge.tokenize`), so English scores stay bit-identical to
  ``rouge_score.RougeScorer(['rouge1', 'rouge2', 'rougeL'], use_stemmer=True)``.
- Every other language: rouge-score's tokenizer keeps only ``[a-z0-9]`` and would drop
  every ä, ö, ü and ß ("Übelkeit" -> "belkeit"), so a Unicode-aware tokenizer is used:
  Unicode NFKC, lowercase (``str.lower``: ß stays ß), tokens are the maximal runs of
  Unicode letters and digits (``[^\\W_]+``: punctuation, symbols and ``_`` separate).
  German (``de``) tokens longer than 3 characters are stemmed with NLTK's Snowball German
  stemmer by default (the stemmer itself folds ä/ö/ü to a/o/u and ß to ss);
  ``german_stemmer="none"`` leaves them unstemmed. Other languages are not stemmed.

The tokenizer used per language is recorded in the report's config. Pure: no Django.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable

ENGLISH = "en"
GERMAN = "de"
GERMAN_STEMMERS = ("snowball", "none")
DEFAULT_GERMAN_STEMMER = "snowball"

_WORD_RE = re.compile(r"[^\W_]+")


def unicode_tokenize(text: str) -> list[str]:
    """NFKC, lowercase, runs of Unicode letters/digits; no stemming."""
    return _WORD_RE.findall(unicodedata.normalize("NFKC", text).lower())


@functools.cache
def _german_stemmer():
    from nltk.stem.snowball import GermanStemmer  # heavy: only when German is scored

    return GermanStemmer()


@functools.lru_cache(maxsize=100_000)
def _german_stem(word: str) -> str:
    return _german_stemmer().stem(word)


def german_snowball_tokenize(text: str) -> list[str]:
    """:func:`unicode_tokenize`, then Snowball German stems of tokens longer than 3 characters."""
    return [_german_stem(t) if len(t) > 3 else t for t in unicode_tokenize(text)]


class TokenizerSpec:
    """A named tokenizer with the description a report records."""

    def __init__(self, name: str, function: Callable[[str], list[str]], description: str):
        self.name = name
        self.function = function
        self.description = description

    def config(self) -> dict:
        return {"name": self.name, "description": self.description}


def _english() -> TokenizerSpec:
    from evaluation.metrics.rouge import TOKENIZER_DESCRIPTION, rouge_score_version, tokenize

    return TokenizerSpec(
        "rouge-score", tokenize, f"{TOKENIZER_DESCRIPTION} (rouge-score {rouge_score_version()}, bit-identical)"
    )


UNICODE_BASE = "Unicode: NFKC, lowercase (str.lower), tokens = runs of Unicode letters and digits ([^\\W_]+)"
UNICODE_DESCRIPTION = f"{UNICODE_BASE}, no stemming"


def _nltk_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("nltk")
    except PackageNotFoundError:  # pragma: no cover - a requirement
        return "unknown"


def tokenizer_for_language(language: str | None, *, german_stemmer: str = DEFAULT_GERMAN_STEMMER) -> TokenizerSpec:
    """The ROUGE tokenizer of a document language (see the module docstring)."""
    if german_stemmer not in GERMAN_STEMMERS:
        raise ValueError(f"unknown German stemmer {german_stemmer!r}; choose from {', '.join(GERMAN_STEMMERS)}")
    language = (language or ENGLISH).lower()
    if language == ENGLISH:
        return _english()
    if language == GERMAN and german_stemmer == "snowball":
        return TokenizerSpec(
            "unicode-snowball-german",
            german_snowball_tokenize,
            f"{UNICODE_BASE}, NLTK {_nltk_version()} Snowball German stemmer on "
            "tokens longer than 3 characters (it folds ä/ö/ü to a/o/u and ß to ss)",
        )
    return TokenizerSpec("unicode", unicode_tokenize, UNICODE_DESCRIPTION)


class LanguageRouge:
    """ROUGE with the tokenizer of each document's language; one
    :class:`~evaluation.metrics.rouge.RougeCalculator` (and cache) per language."""

    def __init__(self, *, german_stemmer: str = DEFAULT_GERMAN_STEMMER):
        tokenizer_for_language(GERMAN, german_stemmer=german_stemmer)  # checks the name
        self.german_stemmer = german_stemmer
        self._calculators: dict[str, object] = {}
        self._specs: dict[str, TokenizerSpec] = {}

    def calculator(self, language: str | None):
        from evaluation.metrics.rouge import RougeCalculator

        language = (language or ENGLISH).lower()
        calc = self._calculators.get(language)
        if calc is None:
            spec = tokenizer_for_language(language, german_stemmer=self.german_stemmer)
            self._specs[language] = spec
            # English keeps the calculator's built-in rouge-score tokenizer (the reference path).
            calc = RougeCalculator(tokenizer=None if language == ENGLISH else spec.function)
            self._calculators[language] = calc
        return calc

    def score(self, prediction: str, reference: str, *, language: str | None = None):
        return self.calculator(language).score(prediction, reference)

    def tokenizers(self) -> dict[str, dict]:
        """Tokenizer config of every language scored so far."""
        return {language: spec.config() for language, spec in sorted(self._specs.items())}
