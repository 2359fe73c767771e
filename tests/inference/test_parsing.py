"""inference/parsing.py: messy model output in, exactly the schema keys out."""

import json

import pytest

from annotation.schema import ELMTEX_KEYS
from inference.parsing import NA, ParsedOutput, candidate_parse_output, values_coerce

KEYS = ["family_history", "signs_symptoms", "diagnosis", "age", "gender"]


def expect(**values):
    return {k: values.get(k, NA) for k in KEYS}


def parsed(raw, keys=KEYS):
    result = candidate_parse_output(raw, keys)
    assert result.ok, result.error
    assert list(result.values) == list(keys)
    assert all(isinstance(v, str) for v in result.values.values())
    return result.values


def failed(raw, keys=KEYS):
    result = candidate_parse_output(raw, keys)
    assert not result.ok
    assert result.values is None
    assert result.error
    return result.error


# --- what is accepted ---------------------------------------------------------------------------


def test_plain_json():
    assert parsed('{"diagnosis": "influenza", "age": "45"}') == expect(diagnosis="influenza", age="45")


@pytest.mark.parametrize(
    "raw",
    [
        '```json\n{"diagnosis": "flu"}\n```',
        '```JSON\n{"diagnosis": "flu"}\n```',
        '```\n{"diagnosis": "flu"}\n```',
        '```json {"diagnosis": "flu"}```',
        'Here is the summary:\n```json\n{"diagnosis": "flu"}\n```\nLet me know if you need more.',
        '```json\n{"diagnosis": "flu"}',  # the fence never closed
        "\ufeff" + '{"diagnosis": "flu"}',
    ],
)
def test_code_fences(raw):
    assert parsed(raw) == expect(diagnosis="flu")


def test_text_before_and_after_the_object_and_braces_inside_strings():
    raw = 'Sure {thing}! Output: {"diagnosis": "a {b} c", "gender": "f}"} Hope that helps {'
    assert parsed(raw) == expect(diagnosis="a {b} c", gender="f}")


def test_the_first_top_level_object_wins():
    raw = '{"diagnosis": "first", "age": {"diagnosis": "inner"}} then {"diagnosis": "second"}'
    assert parsed(raw) == expect(diagnosis="first", age="diagnosis: inner")


def test_single_quoted_python_dict():
    raw = "{'diagnosis': 'flu', 'age': None, 'gender': 'male', 'signs_symptoms': ['fever', \"patient's cough\"]}"
    assert parsed(raw) == expect(diagnosis="flu", gender="male", signs_symptoms="fever; patient's cough")


def test_python_literals_and_trailing_commas():
    raw = '{"diagnosis": "flu", "age": True, "gender": None, "signs_symptoms": ["a", "b",],}'
    assert parsed(raw) == expect(diagnosis="flu", age="true", signs_symptoms="a; b")


def test_missing_comma_unquoted_keys_and_raw_line_breaks():
    raw = '{diagnosis: "line one\nline two"\n "age": "3"}'
    assert parsed(raw) == expect(diagnosis="line one\nline two", age="3")


def test_curly_quotes_as_delimiters_but_kept_inside_strings():
    raw = '{\u201cdiagnosis\u201d: \u201cflu\u201d, "gender": "the \u201cfemale\u201d one"}'
    assert parsed(raw) == expect(diagnosis="flu", gender="the \u201cfemale\u201d one")


def test_escapes():
    raw = r'{"diagnosis": "a\"b\\c\u00e9\ud83d\ude00", "gender": "x\qy"}'
    assert parsed(raw + " trailing") == expect(diagnosis='a"b\\c\u00e9\U0001f600', gender="x\\qy")


def test_a_list_holding_one_object():
    assert parsed('[{"diagnosis": "flu"}]') == expect(diagnosis="flu")
    assert parsed('Answer: [{"diagnosis": "flu"}] done') == expect(diagnosis="flu")


@pytest.mark.parametrize(
    "raw",
    [
        '{"summary": {"diagnosis": "flu"}}',
        '{"patient_id": 7, "summary": {"diagnosis": "flu"}}',
        '{"output": {"summary": [{"diagnosis": "flu"}]}}',
    ],
)
def test_wrappers_are_unwrapped(raw):
    assert parsed(raw) == expect(diagnosis="flu")


def test_keys_differing_in_case_spaces_hyphens_and_and():
    raw = json.dumps(
        {
            "Family History": "mother: asthma",
            "Signs & Symptoms": "fever",
            "DIAGNOSIS": "flu",
            "Gender-": "male",
            "life style": "ignored: not in these keys",
        }
    )
    assert parsed(raw) == expect(
        family_history="mother: asthma", signs_symptoms="fever", diagnosis="flu", gender="male"
    )
    elmtex = parsed('{"Lifestyle": "smoker", "Medical and Surgical History": "appendectomy"}', ELMTEX_KEYS)
    assert elmtex["life_style"] == "smoker"
    assert elmtex["medical_surgical_history"] == "appendectomy"


def test_an_exact_key_beats_a_look_alike():
    assert parsed('{"Diagnosis": "look-alike", "diagnosis": "exact"}') == expect(diagnosis="exact")


def test_unknown_keys_are_dropped_and_missing_keys_are_na():
    assert parsed('{"diagnosis": "flu", "mood": "grumpy"}') == expect(diagnosis="flu")


def test_a_reasoning_block_before_the_answer_is_dropped():
    raw = '<think>Draft: {"diagnosis": "draft"}</think>\n{"diagnosis": "final"}'
    assert parsed(raw) == expect(diagnosis="final")


def test_json_encoded_twice():
    assert parsed(json.dumps(json.dumps({"diagnosis": "flu"}))) == expect(diagnosis="flu")


# --- values -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (["fever", "cough"], "fever; cough"),
        (["fever", ["cough", ["rash"]]], "fever; cough; rash"),
        (["fever", None, "", "N/A", "  "], "fever"),
        ([], NA),
        (None, NA),
        ("", NA),
        ("   ", NA),
        ("n/a", NA),
        ("  flu  ", "flu"),
        (45, "45"),
        (45.0, "45"),
        (45.5, "45.5"),
        (True, "true"),
        (False, "false"),
        ({"mother": "asthma", "father": None}, "mother: asthma"),
        ({"mother": ["asthma", "eczema"], "father": "gout"}, "mother: asthma, eczema; father: gout"),
        ([{"drug": "aspirin", "dose": "100 mg"}, {"drug": "heparin"}], "drug: aspirin, dose: 100 mg; drug: heparin"),
        ({}, NA),
        ("a\x00b\ud800", "ab\ufffd"),
    ],
)
def test_values_coerce(value, text):
    assert values_coerce({"diagnosis": value}, KEYS) == expect(diagnosis=text)


def test_values_coerce_gives_exactly_the_keys_in_order():
    values = values_coerce({"gender": "f", "other": "x", "Age": 3}, KEYS)
    assert values == expect(gender="f", age="3")
    assert list(values) == KEYS


# --- what is refused ----------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["", "   \n", None])
def test_empty_output(raw):
    assert failed(raw) == "empty output"


@pytest.mark.parametrize(
    "raw",
    [
        '{"diagnosis": "flu", "age": "4',
        '{"diagnosis": "flu", "age": ',
        '{"diagnosis": "flu", "signs_symptoms": ["fever", "co',
        '```json\n{"diagnosis": "flu",\n',
        '{"diagnosis": "flu", "age": {"inner": "x"}, "gender": "ma',  # no inner object is taken instead
    ],
)
def test_truncated_json(raw):
    assert failed(raw).startswith("truncated JSON")


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        ("I could not find anything.", "no JSON object found"),
        ('{"mood": "grumpy"}', "the JSON object holds none of the expected keys"),
        ("{}", "the JSON object holds none of the expected keys"),
        ("[1, 2]", "expected one JSON object, got a list of 2 items"),
        ('[{"diagnosis": "a"}, {"diagnosis": "b"}]', "expected one JSON object, got a list of 2 items"),
        ("45", "expected a JSON object, got a number"),
        ('"just text"', "expected a JSON object, got a string"),
    ],
)
def test_unparseable(raw, error):
    assert failed(raw) == error


def test_broken_syntax_names_the_position_but_not_the_text():
    error = failed('{"diagnosis": "secret words" : "x"}')
    assert error.startswith("invalid JSON: ")
    assert "secret" not in error


def test_deep_nesting_is_refused_not_crashing():
    assert not candidate_parse_output("{'a': " * 5000, KEYS).ok
    assert not candidate_parse_output("[" * 5000 + "]" * 5000, KEYS).ok


def test_parsed_output_ok():
    assert ParsedOutput({"a": "b"}).ok
    assert not ParsedOutput(None, "x").ok
