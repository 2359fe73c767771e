"""The rule-based baseline extractor and the prompt rule it reads reports with."""

from statistics import mean

import pytest
from rouge_score import rouge_scorer

from annotation.demo import generate_demo_records
from annotation.schema import ELMTEX_KEYS
from inference.baseline.extractor import extract
from inference.baseline.prompting import chat_report, report_from_prompt, wanted_keys

REPORT_EN = (
    "A 45-year-old man presented to the emergency department with chest pain and dyspnea. "
    "He smokes 20 cigarettes per day. Family history was notable for diabetes in his mother. "
    "Laboratory tests revealed troponin T 85 ng/L and CRP 12 mg/L. "
    "Coronary angiography showed a proximal LAD occlusion. "
    "The diagnosis of acute anterior myocardial infarction was made. "
    "He was treated with aspirin 500 mg and heparin 5000 IU. "
    "He underwent percutaneous coronary intervention with stent implantation. "
    "He was discharged on day 4 in good condition."
)
REPORT_DE = (
    "Ein 62-jähriger Mann stellte sich in unserer Notaufnahme vor. "
    "Aktuelle Beschwerden: Fieber, Husten und Luftnot. "
    "Labor: CRP 180 mg/l, Leukozyten 15,2 /nl. "
    "Diagnose: ambulant erworbene Pneumonie. "
    "Medikamentöse Therapie: Ampicillin/Sulbactam 3 g dreimal täglich. "
    "Verlauf: Entlassung nach 7 Tagen in gutem Allgemeinzustand."
)


def test_every_requested_key_in_the_given_order_and_unknown_keys_are_na():
    keys = ["gender", "age", "favourite_colour", "diagnosis"]
    out = extract(REPORT_EN, keys)
    assert list(out) == keys
    assert out["favourite_colour"] == "N/A"


def test_english_report_fills_the_categories_it_has_cues_for():
    out = extract(REPORT_EN, ELMTEX_KEYS)
    assert out["age"] == "45 years"
    assert out["gender"] == "male"
    assert "cigarettes" in out["life_style"]
    assert "diabetes in his mother" in out["family_history"]
    assert "troponin T 85 ng/L" in out["laboratory_values"]
    assert "myocardial infarction" in out["diagnosis"]
    assert "aspirin 500 mg" in out["pharmacological_therapy"]
    assert "stent implantation" in out["interventional_therapy"]
    assert "discharged on day 4" in out["patient_outcome_assessment"]
    assert "chest pain" in out["signs_symptoms"]
    # nothing in the report about these
    assert out["pathology"] == "N/A"
    assert out["social_history"] == "N/A"


def test_german_report():
    out = extract(REPORT_DE, ELMTEX_KEYS)
    assert out["age"] == "62 Jahre"
    assert out["gender"] == "männlich"
    assert "Fieber" in out["signs_symptoms"]
    assert "CRP 180 mg/l" in out["laboratory_values"]
    assert "Pneumonie" in out["diagnosis"]
    assert "Ampicillin" in out["pharmacological_therapy"]
    assert "Entlassung" in out["patient_outcome_assessment"]


@pytest.mark.parametrize(
    ("text", "age", "gender"),
    [
        ("A 7-year-old girl was admitted.", "7 years", "female"),
        ("A woman aged 81 presented with falls.", "81 years", "female"),
        ("An infant, 8 months old, was referred.", "8 months", "N/A"),
        ("We report the case of a male patient, 53 years of age.", "53 years", "male"),
        ("Eine 34-jährige Patientin wurde aufgenommen.", "34 Jahre", "weiblich"),
        ("Ein Junge im Alter von 3 Jahren stellte sich vor.", "3 Jahre", "männlich"),
        ("Eine weibliche Patientin im Alter von 8 Monaten wurde aufgenommen.", "8 Monate", "weiblich"),
        ("The patient presented with fever.", "N/A", "N/A"),
    ],
)
def test_age_and_gender(text, age, gender):
    out = extract(text, ["age", "gender"])
    assert out == {"age": age, "gender": gender}


def test_an_empty_report_gives_na_everywhere():
    assert set(extract("", ELMTEX_KEYS).values()) == {"N/A"}


def test_deterministic():
    english, german = generate_demo_records(12, seed=5)
    for record in english + german:
        assert extract(record["report"], ELMTEX_KEYS) == extract(record["report"], ELMTEX_KEYS)


def test_a_weak_baseline_on_the_demo_data():
    """Useful enough to show the pipeline works, far enough from perfect to be beaten."""
    scorer = rouge_scorer.RougeScorer(["rougeL"])
    english, german = generate_demo_records(60, seed=11)
    for records in (english, german):
        scores, exact = [], []
        for record in records:
            predicted = extract(record["report"], ELMTEX_KEYS)
            for key, gold in record["summary"].items():
                if gold == "N/A":
                    continue
                if key in ("age", "gender"):
                    exact.append(predicted[key] == gold)
                else:
                    scores.append(scorer.score(gold, predicted[key])["rougeL"].fmeasure)
        assert 0.3 < mean(scores) < 0.85
        assert mean(exact) > 0.8


# -- where the report is in a prompt -----------------------------------------------------


def test_report_after_the_last_marker_and_before_the_json_marker():
    prompt = "Extract age and gender.\nExample:\nReport:\nold one\n\nJSON: {}\n\nReport:\nThe real report.\n\nJSON:"
    report, rest = report_from_prompt(prompt)
    assert report == "The real report."
    assert "Extract age and gender." in rest and "The real report." not in rest


def test_leading_marker_and_no_marker():
    assert report_from_prompt("Report:\nOnly this.")[0] == "Only this."
    assert report_from_prompt("  Just a report.  ")[0] == "Just a report."


def test_keys_named_outside_the_report_in_elmtex_order_else_all():
    _, rest = report_from_prompt("Fill gender, age and diagnosis.\n\nReport:\nHe mentions life_style.\n\nJSON:")
    assert wanted_keys(rest, None) == ["diagnosis", "age", "gender"]
    assert wanted_keys("", None) == list(ELMTEX_KEYS)
    assert wanted_keys(rest, {"properties": {"b": {}, "a": {}}}) == ["b", "a"]


def test_chat_report_is_the_last_user_message():
    messages = [
        {"role": "system", "content": "Keys: age, gender."},
        {"role": "user", "content": "first report"},
        {"role": "assistant", "content": "{}"},
        {"role": "user", "content": [{"type": "text", "text": "Report:\nsecond report"}]},
    ]
    report, rest = chat_report(messages)
    assert report == "second report"
    assert wanted_keys(rest, None) == ["age", "gender"]
