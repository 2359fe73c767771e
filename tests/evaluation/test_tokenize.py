"""ROUGE tokenizers per language: English stays rouge-score's; German keeps its letters.
Scores with the German tokenizers equal rouge-score's RougeScorer given the same tokenizer."""

import random

import pytest
from rouge_score import rouge_scorer

from evaluation.metrics.rouge import rouge_scores
from evaluation.metrics.tokenize import (
    LanguageRouge,
    german_snowball_tokenize,
    tokenizer_for_language,
    unicode_tokenize,
)

GERMAN_WORDS = [
    "Übelkeit",
    "Erbrechen",
    "Schmerzen",
    "schmerzhaft",
    "Straße",
    "Fieber",
    "fiebrig",
    "Patientin",
    "Patienten",
    "Häuser",
    "Größe",
    "Bauchschmerzen",
    "seit",
    "und",
    "mit",
    "N/A",
    "38,5",
    "°C",
    "mg/dl",
    ";",
    "(",
    ")",
    "Z.n.",
    "Typ-2-Diabetes",
    "u\u0308ber",  # decomposed ü
    "ﬁbrose",
]


class _Adapter:
    """rouge-score's tokenizer interface around one of ours."""

    def __init__(self, function):
        self.function = function

    def tokenize(self, text):
        return self.function(text)


def _german_pairs(count, seed):
    rng = random.Random(seed)

    def text():
        return " ".join(rng.choice(GERMAN_WORDS) for _ in range(rng.choice([0, 1, 2, 4, 8, 20, 90])))

    return [(text(), text()) for _ in range(count)]


def test_rouge_score_drops_umlauts_and_ours_keeps_them():
    assert tokenizer_for_language("en").function("Übelkeit") == ["belkeit"]
    assert unicode_tokenize("Übelkeit, Straße; Größe") == ["übelkeit", "straße", "größe"]
    assert unicode_tokenize("u\u0308ber ﬁbrose x_y") == ["über", "fibrose", "x", "y"]  # NFKC; _ separates
    assert german_snowball_tokenize("Schmerzen Patienten und") == ["schmerz", "patient", "und"]


@pytest.mark.parametrize(
    ("language", "stemmer", "name"),
    [
        ("en", "snowball", "rouge-score"),
        (None, "snowball", "rouge-score"),
        ("de", "snowball", "unicode-snowball-german"),
        ("de", "none", "unicode"),
        ("fr", "snowball", "unicode"),
    ],
)
def test_tokenizer_per_language(language, stemmer, name):
    spec = tokenizer_for_language(language, german_stemmer=stemmer)
    assert spec.name == name
    assert spec.config()["description"]


def test_unknown_stemmer_is_refused():
    with pytest.raises(ValueError, match="unknown German stemmer 'porter'"):
        tokenizer_for_language("de", german_stemmer="porter")


@pytest.mark.parametrize("stemmer", ["snowball", "none"])
def test_german_scores_equal_rouge_score_with_the_same_tokenizer(stemmer):
    spec = tokenizer_for_language("de", german_stemmer=stemmer)
    reference = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], tokenizer=_Adapter(spec.function))
    rouge = LanguageRouge(german_stemmer=stemmer)
    for pred, gold in _german_pairs(600, 3):
        expected = reference.score(target=gold, prediction=pred)
        got = rouge.score(pred, gold, language="de")
        for name, score in zip(("rouge1", "rouge2", "rougeL"), got, strict=True):
            assert tuple(score) == tuple(expected[name]), (name, pred, gold)


def test_german_text_scores_where_the_english_tokenizer_sees_nothing_alike():
    pred, gold = "Übelkeit", "Übelkeit und Erbrechen"
    (english,) = rouge_scores([(pred, gold)])
    german = LanguageRouge().score(pred, gold, language="de")
    assert german.rouge1.precision == 1.0 and german.rouge1.recall == pytest.approx(1 / 3)
    # rouge-score keeps "belkeit" from both, so both agree here; on "Größe" it splits the word
    assert english.rouge1.precision == 1.0
    assert LanguageRouge(german_stemmer="none").score("Größe", "Grösse", language="de").rouge1.fmeasure == 0.0
    assert LanguageRouge().score("Größe", "Grösse", language="de").rouge1.fmeasure == 1.0  # Snowball: "gross"
    assert rouge_scores([("Größe", "Gr e")])[0].rouge1.fmeasure == 1.0  # English: "gr", "e"


def test_language_rouge_records_the_tokenizers_used():
    rouge = LanguageRouge(german_stemmer="none")
    rouge.score("a", "b", language="en")
    rouge.score("a", "b", language="de")
    assert {k: v["name"] for k, v in rouge.tokenizers().items()} == {"de": "unicode", "en": "rouge-score"}
