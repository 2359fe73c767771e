"""ROUGE equals rouge-score's RougeScorer(['rouge1', 'rouge2', 'rougeL'], use_stemmer=True)
bit for bit: every precision, recall and F compared with ==."""

import functools
import random

import pytest
from rouge_score import rouge_scorer

from evaluation.metrics.rouge import RougeCalculator, rouge_scores, tokenize


@functools.cache
def reference_scorer():
    # Built in a test, not at import: absl logs when a scorer is made, and during
    # collection that logging meets pytest's stderr capture (a crash at exit).
    return rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=True)


WORDS = [
    # clinical words, with inflections the stemmer folds
    "fever",
    "fevers",
    "cough",
    "coughing",
    "coughed",
    "hypertension",
    "hypertensive",
    "diabetes",
    "mellitus",
    "type",
    "2",
    "running",
    "runs",
    "ran",
    "patient",
    "patients",
    "patient's",
    "denied",
    "denies",
    "smoking",
    "alcohol",
    "biopsy",
    "biopsies",
    "showed",
    "showing",
    "carcinoma",
    "metastatic",
    "the",
    "a",
    "of",
    "and",
    "with",
    "on",
    "in",
    "no",
    "not",
    "N/A",
    "n/a",
    "None",
    "none",
    # numbers, units, punctuation
    "10",
    "mg",
    "mg/dL",
    "1.5",
    "3,000",
    "12.5%",
    "x10^9/L",
    "37.8°C",
    "b.i.d.",
    "q.d.",
    "(",
    ")",
    ";",
    ",",
    ".",
    ":",
    "-",
    "–",
    "—",
    "/",
    "'",
    '"',
    "...",
    "+",
    "±",
    "→",
    # unicode: letters outside [a-z0-9] are dropped by the tokenizer, some lower-case into ASCII
    "Ångström",
    "café",
    "naïve",
    "über",
    "Schmerzen",
    "Übelkeit",
    "straße",
    "İstanbul",
    "KELVIN",
    "\u212a",
    "ﬁbrosis",
    "Ⅳ",
    "①",
    "²",
    "日本",
    "αβ",
    "Ω",
    "\u00a0",
    "\t",
    "\n",
    # short and long tokens around the stemmer's length-3 cut
    "ab",
    "abc",
    "abcd",
    "was",
    "has",
    "does",
    "ies",
    "sses",
    "ing",
    "ed",
]


def _random_text(rng: random.Random) -> str:
    length = rng.choice([0, 0, 1, 1, 2, 3, 5, 8, 13, 30, 80])
    sep = rng.choice([" ", " ", "", "; ", "\n", ", "])
    return sep.join(rng.choice(WORDS) for _ in range(length))


def _generated_pairs(count: int, seed: int) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    pool = [_random_text(rng) for _ in range(300)]  # repeated strings, as real values repeat
    pairs = []
    for _ in range(count):
        pred = rng.choice(pool) if rng.random() < 0.5 else _random_text(rng)
        gold = rng.choice(pool) if rng.random() < 0.5 else _random_text(rng)
        if rng.random() < 0.05:
            pred = gold  # identical pairs
        pairs.append((pred, gold))
    return pairs


EDGE_PAIRS = [
    ("", ""),
    ("", "fever"),
    ("fever", ""),
    ("N/A", "N/A"),
    ("N/A", "fever and cough"),
    ("fever and cough", "N/A"),
    ("...", "fever"),
    ("!!!", "???"),
    ("日本 αβ", "日本 αβ"),  # nothing survives the tokenizer on either side
    ("fever", "fever"),
    ("a a a a", "a a"),
    ("the the the cat", "the cat the"),
    ("hypertension; diabetes mellitus type 2", "Diabetes mellitus (type 2), hypertension."),
    ("Metformin 500 mg b.i.d.", "metformin 500mg twice daily"),
    ("Hb 10.5 g/dL, WBC 12,000/µL", "Hb 10.5 g/dL; WBC 12,000/µL; CRP 45 mg/L"),
    ("İstanbul \u212aelvin", "istanbul kelvin"),
    ("running runs ran", "run run run"),
    (" ".join(["fever cough"] * 60), " ".join(["cough fever"] * 70)),  # long: beyond 64-bit masks
]


def _assert_equal(pairs):
    ours = rouge_scores(pairs)
    assert len(ours) == len(pairs)
    for (pred, gold), triple in zip(pairs, ours, strict=True):
        expected = reference_scorer().score(target=gold, prediction=pred)
        for name, score in zip(("rouge1", "rouge2", "rougeL"), triple, strict=True):
            ref = expected[name]
            assert score.precision == ref.precision, (name, pred, gold)
            assert score.recall == ref.recall, (name, pred, gold)
            assert score.fmeasure == ref.fmeasure, (name, pred, gold)


@pytest.mark.parametrize("seed", [1, 2])
def test_equal_to_rouge_score_on_generated_pairs(seed):
    _assert_equal(_generated_pairs(1500, seed))


def test_equal_to_rouge_score_on_edge_cases():
    _assert_equal(EDGE_PAIRS)


def test_argument_order_is_prediction_then_reference():
    # precision is about the prediction, recall about the reference
    (triple,) = rouge_scores([("fever", "fever and cough")])
    assert triple.rouge1.precision == 1.0
    assert triple.rouge1.recall == pytest.approx(1 / 3)


def test_tokenizer_is_rouge_scores():
    from nltk.stem import porter
    from rouge_score import tokenize as rs_tokenize

    stemmer = porter.PorterStemmer()
    for text in [p for pair in EDGE_PAIRS for p in pair]:
        assert tokenize(text) == rs_tokenize.tokenize(text, stemmer)


def test_cache_gives_the_same_scores_when_reused_and_when_full():
    pairs = _generated_pairs(300, 3)
    fresh = rouge_scores(pairs)
    calculator = RougeCalculator(cache_max_strings=7)  # restarts its cache many times
    assert [calculator.score(p, g) for p, g in pairs] == fresh
    assert [calculator.score(p, g) for p, g in pairs] == fresh


UNICODE_TEXTS = [
    "Übelkeit und Erbrechen seit 3 Tagen",
    "Schmerzen im rechten Unterbauch; Fieber 38,5 °C",
    "Patientin (72 J.) mit Diabetes mellitus Typ 2",
    "straße STRASSE Straße",
    "naïve café résumé coöperate",
    "e\u0301 é e\u0301te\u0301",  # combining accents
    "ΑΒΓ αβγ Ωμέγα",
    "日本語のテキスト 123",
    "🙂 emoji 🙂 smile",
    "\u200b zero\u200bwidth",
    "tab\tseparated\tvalues",
    "line\nbreaks\r\nand\rcarriage",
    "İIıi KELVIN \u212a",
    "ﬁbrosis ﬂ ligatures",
    "x² m³ ½ ⅓",
]


def _large_fixture(seed: int = 11) -> list[tuple[str, str]]:
    """Thousands of pairs: generated clinical text, unicode, empty, N/A and long texts."""
    rng = random.Random(seed)
    pairs = _generated_pairs(3000, seed)
    specials = ["", " ", "N/A", "n/a", "None", *UNICODE_TEXTS]
    for _ in range(1200):
        a = rng.choice(specials) if rng.random() < 0.6 else _random_text(rng)
        b = rng.choice(specials) if rng.random() < 0.6 else _random_text(rng)
        if rng.random() < 0.3:
            a = f"{a} {rng.choice(UNICODE_TEXTS)} {_random_text(rng)}"
        pairs.append((a, b))
    for _ in range(24):  # long values (several sentences; beyond 64-bit LCS masks)
        long_a = " ".join(rng.choice(WORDS + UNICODE_TEXTS) for _ in range(rng.randint(150, 400)))
        long_b = " ".join(rng.choice(WORDS) for _ in range(rng.randint(150, 400)))
        pairs += [(long_a, long_b), (long_b, long_a), (long_a, long_a)]
    return pairs


def test_equal_to_rouge_score_on_a_large_fixture():
    pairs = _large_fixture()
    assert len(pairs) > 4000
    _assert_equal(pairs)


def test_english_through_language_rouge_is_the_reference():
    from evaluation.metrics.tokenize import LanguageRouge

    rouge = LanguageRouge()
    for pred, gold in _generated_pairs(300, 5) + EDGE_PAIRS:
        expected = reference_scorer().score(target=gold, prediction=pred)
        got = rouge.score(pred, gold, language="en")
        assert got.rougeL.fmeasure == expected["rougeL"].fmeasure
        assert got.rouge2.precision == expected["rouge2"].precision
