"""The default entity matcher (CLI.md "Default entity matcher")."""

import pytest
from rapidfuzz import fuzz

from evaluation.metrics.entities import DefaultMatcher, entity_items, match_count, matcher_get, normalise_item


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Type 2 Diabetes-Mellitus", "type 2 diabetes mellitus"),
        ("  Fever,  cough. ", "fever cough"),
        ("Hb 10.5 g/dL", "hb 10.5 g dl"),  # '.' between digits kept, '/' is punctuation
        ("WBC 12,000/µL", "wbc 12,000 μl"),  # ',' between digits kept; NFKC turns micro sign into mu
        ("1. fever", "1 fever"),  # '.' after a digit but before a space: punctuation
        ("pH 7.", "ph 7"),
        (".5 mg", "5 mg"),
        ("T° 38°C (101°F)", "t° 38°c 101°f"),  # ° is a symbol (So), not punctuation
        ("STRASSE", "strasse"),
        ("Straße", "strasse"),  # casefold, not lower
        ("ﬁbrosis", "fibrosis"),  # NFKC ligature
        ("«quoted» — “text”", "quoted text"),
        ("½ tablet", "1⁄2 tablet"),  # NFKC; the fraction slash is a symbol
        ("---", ""),
    ],
)
def test_normalise_item(raw, expected):
    assert normalise_item(raw) == expected


def test_items_split_on_semicolons_drop_empties_and_na():
    assert entity_items("fever; cough;; ;  Fever ") == ["fever", "cough", "fever"]
    assert entity_items("N/A") == []
    assert entity_items(" N/A ") == []
    assert entity_items("") == []
    assert entity_items("; - ;") == []  # items that normalise to nothing are dropped
    assert entity_items("N/A; fever") == ["n a", "fever"]  # only a whole N/A value is the empty set


def score(pred, gold, threshold=90):
    return DefaultMatcher(threshold=threshold).score(pred, gold)


def test_exact_matches():
    s = score("Fever; cough", "cough; fever.")
    assert (s.matches, s.n_pred, s.n_gold) == (2, 2, 2)
    assert (s.precision, s.recall, s.f1) == (1.0, 1.0, 1.0)


def test_duplicates_match_as_multisets():
    s = score("fever; fever; fever", "fever; fever")
    assert (s.matches, s.n_pred, s.n_gold) == (2, 3, 2)
    assert s.precision == 2 / 3
    assert s.recall == 1.0
    assert s.f1 == pytest.approx(0.8)


def test_fuzzy_threshold_boundary():
    a, b = "abcdefghij", "abcdefghik"  # token_set_ratio exactly 90
    assert fuzz.token_set_ratio(a, b) == 90.0
    assert score(a, b, threshold=90).matches == 1
    assert score(a, b, threshold=90.0001).matches == 0
    # token sets: a subset scores 100
    assert score("fever", "fever and cough").matches == 1
    assert score("fever", "cough").matches == 0


def test_digits_keep_their_separators():
    # "1.5" stays one number: it equals neither "15" nor "1 5" after normalisation
    assert normalise_item("1.5 mg") == "1.5 mg"
    assert normalise_item("10,000 units") == "10,000 units"
    assert score("Metformin 1.5 mg", "metformin 1.5 mg.").matches == 1
    assert score("metformin 1.5 mg", "metformin 15 mg", threshold=100).matches == 0
    assert score("metformin 1.5 mg", "metformin 1 5 mg", threshold=100).matches == 0
    assert score("10,000 units", "10 000 units").matches == 0  # token_set_ratio 83


def test_punctuation_does_not_prevent_an_exact_match():
    s = score("Diabetes mellitus (type 2)", "diabetes mellitus type 2")
    assert s.matches == 1


def test_empty_sides():
    assert tuple(score("N/A", "fever")) == (0.0, 0.0, 0.0, 0, 0, 1)  # P = 0 when nothing predicted
    assert tuple(score("fever", "N/A")) == (0.0, 0.0, 0.0, 0, 1, 0)  # R = 0 when gold is empty
    assert tuple(score("N/A", "N/A")) == (0.0, 0.0, 0.0, 0, 0, 0)


def test_one_to_one_assignment_maximises_the_number_of_matches():
    # Taking each prediction's best partner in turn would pair "heart failure" with
    # "heart" (100) and leave "congestive heart failure" only "heart failur" (below 90):
    # one match. The assignment pairs "heart failure" with "heart failur" (96) instead: two.
    pred = ["heart failure", "congestive heart failure"]
    gold = ["heart", "heart failur"]
    scores = [[fuzz.token_set_ratio(p, g) for g in gold] for p in pred]
    assert scores[0][0] > scores[0][1] >= 90 and scores[1][0] >= 90 > scores[1][1]
    assert match_count(pred, gold, threshold=90) == 2
    s = score("; ".join(pred), "; ".join(gold))
    assert (s.precision, s.recall, s.f1) == (1.0, 1.0, 1.0)


def test_assignment_prefers_higher_total_score_for_equal_counts():
    pred = ["acute kidney injury"]
    gold = ["acute kidney injur", "acute kidney injury stage 2"]
    # both gold items are eligible (>= 90); one match either way
    assert match_count(pred, gold, threshold=90) == 1


def test_exact_matches_come_before_fuzzy_ones():
    # the exact pair is taken first; the remaining pair is fuzzy
    assert match_count(["fever", "feverr"], ["fever", "fevers"], threshold=80) == 2
    assert match_count(["fever"], ["fever", "feverr"], threshold=80) == 1


def test_matcher_by_name():
    matcher = matcher_get("default", threshold=85)
    assert matcher.name == "default"
    assert matcher.config()["matcher"] == "default"
    assert matcher.config()["fuzzy_threshold"] == 85.0
    with pytest.raises(ValueError, match="unknown entity matcher 'umls'"):
        matcher_get("umls")
    with pytest.raises(ValueError, match="between 0 and 100"):
        DefaultMatcher(threshold=101)


def _normalise_by_the_letter(item: str) -> str:
    """CLI.md's normalisation written out character by character."""
    import unicodedata

    text = unicodedata.normalize("NFKC", item).casefold()
    out = []
    for i, ch in enumerate(text):
        between_digits = 0 < i < len(text) - 1 and text[i - 1].isdecimal() and text[i + 1].isdecimal()
        if unicodedata.category(ch).startswith("P") and not (ch in ".," and between_digits):
            out.append(" ")
        else:
            out.append(ch)
    return " ".join("".join(out).split())


def test_normalisation_equals_the_definition_on_random_text():
    import random

    rng = random.Random(5)
    alphabet = "ab1 2.,;:-()/'\"«»–—…·٣٫०。、！？¿¡‰†‡§¶＂．，１２Ⅸ½²\u00a0\t\n"
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
        assert normalise_item(text) == _normalise_by_the_letter(text), repr(text)
