"""The automated checks (annotation/checks.py) on crafted cases: each flags what it should
and stays quiet on what is fine."""

import pytest

from annotation.checks import (
    CODES,
    CheckConfig,
    Report,
    check_record,
    check_translation,
    normalise,
    parse_age_years,
)

REPORT = (
    "A 45-year-old woman presented with fever for three days and a productive cough. "
    "She had hypertension and type 2 diabetes mellitus. She smoked 20 pack-years. "
    "Chest X-ray showed pneumonia of the left lower lobe. Her mother had breast cancer."
)
KEYS = ["life_style", "family_history", "signs_symptoms", "comorbidities", "diagnosis", "age", "gender"]


def full(**values) -> dict:
    return {k: "N/A" for k in KEYS} | values


def codes(findings, category=None) -> list[str]:
    return [f.code for f in findings if category is None or f.category == category]


def run(values, report=REPORT, **kwargs):
    return check_record(report=report, values=values, keys=KEYS, **kwargs)


def test_a_clean_record_has_no_findings():
    values = full(
        life_style="smoked 20 pack-years",
        family_history="mother: breast cancer",
        signs_symptoms="fever for three days; productive cough",
        comorbidities="hypertension; type 2 diabetes mellitus",
        diagnosis="pneumonia of the left lower lobe",
        age="45 years",
        gender="female",
    )
    assert run(values) == []


# --- grounding ----------------------------------------------------------------------------


def test_an_item_not_in_the_report_is_flagged_as_possible_hallucination():
    findings = run(full(signs_symptoms="productive cough; chest pain"))
    [f] = findings
    assert (f.code, f.category, f.severity) == ("not_grounded", "signs_symptoms", "warning")
    assert f.details["item"] == "chest pain"
    assert "not found in the report" in f.message


def test_grounding_ignores_case_spacing_and_typographic_dashes():
    assert run(full(diagnosis="PNEUMONIA  of the left\nlower lobe", life_style="smoked 20 pack–years")) == []


def test_fuzzy_match_above_threshold_counts_and_below_does_not():
    # one typo: partial_ratio well above 90
    assert run(full(comorbidities="hypertensoin")) == []
    # a strict threshold rejects it
    strict = run(full(comorbidities="hypertensoin"), config=CheckConfig(grounding_threshold=100))
    assert codes(strict) == ["not_grounded"]


def test_reordered_words_and_digits_for_number_words_count_as_found():
    assert run(full(diagnosis="left lower lobe pneumonia", signs_symptoms="fever for 3 days")) == []


def test_na_is_never_grounded_and_gender_is_not_grounding_checked():
    # "female" is not written in the report ("woman", "she"): not flagged
    assert run(full(gender="female")) == []


def test_age_must_occur_in_the_report_as_digits_or_words():
    assert run(full(age="45")) == []
    assert run(full(age="45 years"), report="A forty-five-year-old man.") == []
    [f] = run(full(age="54 years"))
    assert (f.code, f.category) == ("not_grounded", "age")


def test_grounding_can_be_turned_off_and_empty_report_skips_it():
    assert run(full(diagnosis="appendicitis"), grounding=False) == []
    assert codes(run(full(diagnosis="appendicitis"), report="")) == []


# --- wrong category, duplicates -------------------------------------------------------------


def test_the_same_item_in_two_categories_is_flagged_on_the_later_one():
    findings = run(full(comorbidities="hypertension", diagnosis="pneumonia; Hypertension"))
    [f] = findings
    assert (f.code, f.category) == ("cross_category", "diagnosis")
    assert f.details["other_category"] == "comorbidities"


def test_short_items_and_numbers_are_not_cross_category():
    report = "Dose 20 mg. Hb 9. Flu."
    values = full(signs_symptoms="flu", comorbidities="20", diagnosis="20; flu")
    assert "cross_category" not in codes(run(values, report=report))


def test_the_same_item_twice_in_one_value():
    assert codes(run(full(comorbidities="hypertension; hypertension"))) == ["duplicate_item"]


# --- N/A consistency ------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["N/A; hypertension", "hypertension; n/a", "none; hypertension"])
def test_na_mixed_with_content(value):
    assert codes(run(full(comorbidities=value))) == ["na_mixed"]


@pytest.mark.parametrize("value", ["n/a", "NA", "None", "unknown", "not mentioned", "nicht angegeben", "-"])
def test_na_variants_should_be_written_n_a(value):
    findings = run(full(family_history=value))
    assert codes(findings) == ["na_variant"]
    assert findings[0].severity == "info"


@pytest.mark.parametrize("value", ["", "   ", "\n"])
def test_empty_values(value):
    assert codes(run(full(diagnosis=value))) == ["empty_value"]


def test_empty_item_between_separators():
    assert codes(run(full(comorbidities="hypertension; ; type 2 diabetes mellitus"))) == ["empty_item"]


def test_missing_unknown_and_non_text_values():
    values = full(diagnosis=3) | {"extra": "x"}
    del values["gender"]
    findings = run(values)
    assert sorted(codes(findings)) == ["missing_value", "not_text", "unknown_key"]
    assert {f.code: f.category for f in findings} == {
        "not_text": "diagnosis",
        "missing_value": "gender",
        "unknown_key": "",
    }


# --- age and gender -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "years"),
    [
        ("45", 45),
        ("45 years", 45),
        ("45-year-old", 45),
        ("45 y/o", 45),
        ("6 months", 0.5),
        ("3 weeks", 3 * 7 / 365.25),
        ("50s", 50),
        ("45 Jahre", 45),
        ("newborn", 0),
        ("about 70 years", 70),
    ],
)
def test_age_parsing(value, years):
    assert parse_age_years(value) == pytest.approx(years)


@pytest.mark.parametrize("value", ["forty", "old", "45 parsecs", "adult"])
def test_age_that_is_not_a_number(value):
    assert parse_age_years(value) is None
    assert codes(run(full(age=value))) == ["age_not_number"]


@pytest.mark.parametrize("value", ["130", "150 years", "2000 months"])
def test_implausible_age(value):
    findings = run(full(age=value), report=f"Age {value}.")
    assert codes(findings) == ["age_implausible"]
    assert findings[0].severity == "error"


@pytest.mark.parametrize("value", ["male", "Female", "other", "non-binary"])
def test_allowed_genders_in_english(value):
    assert run(full(gender=value)) == []


def test_gender_outside_the_set_and_in_the_other_language():
    assert codes(run(full(gender="woman"))) == ["gender_unexpected"]
    assert codes(run(full(gender="weiblich"))) == ["gender_language"]
    assert run(full(gender="weiblich"), language="de") == []
    assert codes(run(full(gender="female"), language="de")) == ["gender_language"]


# --- length ----------------------------------------------------------------------------------


def test_over_long_values():
    long_value = "pneumonia " * 120
    assert "too_long" in codes(run(full(diagnosis=long_value.strip()), grounding=False))
    short_report = "Pneumonia."
    assert codes(run(full(diagnosis="pneumonia of the left lung"), report=short_report, grounding=False)) == [
        "longer_than_report"
    ]


# --- translations ---------------------------------------------------------------------------


def test_translation_length_ratio_out_of_range():
    original = "x" * 1000
    assert check_translation(text="y" * 1200, original_text=original) == []
    [f] = check_translation(text="y" * 400, original_text=original)
    assert (f.code, f.category, f.details["ratio"]) == ("translation_length", "", 0.4)
    assert codes(check_translation(text="y" * 1700, original_text=original)) == ["translation_length"]


def test_translation_values_length_and_na_mismatch():
    findings = check_translation(
        text="y" * 1000,
        original_text="x" * 1000,
        values={"diagnosis": "Lungenentzündung", "comorbidities": "a" * 100, "age": "N/A"},
        original_values={"diagnosis": "pneumonia", "comorbidities": "b" * 30, "age": "45 years"},
        keys=["diagnosis", "comorbidities", "age"],
    )
    assert {(f.code, f.category) for f in findings} == {
        ("translation_value_length", "comorbidities"),  # 100 / 30 > 2.0
        ("translation_na_mismatch", "age"),
    }


# --- helpers --------------------------------------------------------------------------------


def test_every_code_has_a_severity_and_description():
    for severity, description in CODES.values():
        assert severity in {"info", "warning", "error"} and description


def test_report_memoises_lookups():
    report = Report(REPORT)
    assert report.ground(normalise("Hypertension"), 90) == ("exact", 100.0)
    assert report.ground("hypertension", 90) is report.ground("hypertension", 90)
