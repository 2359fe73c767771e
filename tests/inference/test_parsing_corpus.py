"""The parser on a corpus of messy model outputs, as chat models write them around the
object (issue 3 "Parsing"): each entry is one realistic answer and what a reader of the
run should see for it. test_parsing.py tests the rules one by one; this file mixes them."""

import json

import pytest

from inference.parsing import candidate_parse_output

KEYS = ["signs_symptoms", "diagnosis", "pharmacological_therapy", "family_history", "age", "gender"]
NA = "N/A"


def values(**given):
    return {key: given.get(key, NA) for key in KEYS}


CORPUS = [
    (
        "chatty preamble, fenced json, closing remark",
        'Here is the extracted information:\n\n```json\n{\n  "signs_symptoms": "fever; cough",\n'
        '  "diagnosis": "pneumonia",\n  "age": "45"\n}\n```\n\nLet me know if you need anything else!',
        values(signs_symptoms="fever; cough", diagnosis="pneumonia", age="45"),
    ),
    (
        "python dict with single quotes and an apostrophe in a double-quoted value",
        "{'diagnosis': \"Crohn's disease\", 'age': '32', 'gender': 'female', 'family_history': None}",
        values(diagnosis="Crohn's disease", age="32", gender="female"),
    ),
    (
        "escaped apostrophe inside a single-quoted value",
        "{'diagnosis': 'Crohn\\'s disease'}",
        values(diagnosis="Crohn's disease"),
    ),
    (
        "lists, nested lists and a number",
        '{"signs_symptoms": ["fever", "cough", ["night sweats"]], "pharmacological_therapy": '
        '["amoxicillin 500 mg three times daily", "paracetamol"], "age": 45}',
        values(
            signs_symptoms="fever; cough; night sweats",
            pharmacological_therapy="amoxicillin 500 mg three times daily; paracetamol",
            age="45",
        ),
    ),
    (
        "missing keys, null, blank and n/a all become N/A",
        '{"diagnosis": "asthma", "signs_symptoms": null, "family_history": "", "gender": "n/a"}',
        values(diagnosis="asthma"),
    ),
    (
        "keys written as labels",
        '{"Signs and Symptoms": "rash", "Pharmacological Therapy": "prednisolone", "Gender": "male"}',
        values(signs_symptoms="rash", pharmacological_therapy="prednisolone", gender="male"),
    ),
    (
        "a code block of another language before the json one",
        '```python\nresult = {}\n```\n```json\n{"diagnosis": "gout"}\n```',
        values(diagnosis="gout"),
    ),
    (
        "an unclosed fence around a complete object",
        '```json\n{"diagnosis": "gout", "age": "70"}',
        values(diagnosis="gout", age="70"),
    ),
    (
        "trailing comma, then prose with braces",
        '{"diagnosis": "migraine", "gender": "female",}\n\nNote: {age} was not given.',
        values(diagnosis="migraine", gender="female"),
    ),
    (
        "windows line endings and a byte order mark",
        '\ufeff{\r\n  "diagnosis": "otitis media",\r\n  "age": "3"\r\n}\r\n',
        values(diagnosis="otitis media", age="3"),
    ),
    (
        "german text with unicode escapes",
        '{"diagnosis": "Lungenentz\\u00fcndung", "signs_symptoms": "Fieber; Husten", "age": "63 Jahre"}',
        values(diagnosis="Lungenentzündung", signs_symptoms="Fieber; Husten", age="63 Jahre"),
    ),
    (
        "the prompt's answer marker echoed",
        'JSON:\n{"diagnosis": "sepsis"}',
        values(diagnosis="sepsis"),
    ),
    (
        "comments after values (a URL in a string stays whole)",
        '{\n  "diagnosis": "sarcoidosis", // the final diagnosis\n  /* none listed */ "family_history": "N/A",\n'
        '  "pharmacological_therapy": "see https://example.org/x"\n}',
        values(diagnosis="sarcoidosis", pharmacological_therapy="see https://example.org/x"),
    ),
    (
        "python literals True and None inside an unlabelled fence",
        "```\n{'diagnosis': 'flu', 'age': None, 'signs_symptoms': True}\n```",
        values(diagnosis="flu", signs_symptoms="true"),
    ),
    (
        "a reasoning block with a draft before the answer",
        '<think>Maybe {"diagnosis": "viral infection"}? No.</think>\n{"diagnosis": "bacterial pneumonia"}',
        values(diagnosis="bacterial pneumonia"),
    ),
    (
        "an object for a value",
        '{"diagnosis": {"primary": "type 2 diabetes", "differential": ["MODY", "LADA"]}}',
        values(diagnosis="primary: type 2 diabetes; differential: MODY, LADA"),
    ),
    (
        "a wrapper object and a missing comma",
        '{"summary": {"diagnosis": "anemia" "age": "29"}}',
        values(diagnosis="anemia", age="29"),
    ),
    (
        "a stray closing brace after the object",
        '{"diagnosis": "flu", "age": "3"}}',
        values(diagnosis="flu", age="3"),
    ),
]

ERRORS = [
    ("truncated inside a string", '```json\n{"diagnosis": "flu", "age": "4', "truncated JSON"),
    (
        "truncated after a preamble, cut by max_new_tokens",
        'Sure! {"diagnosis": "pneumonia", "signs_symptoms": "fever; cough", "age": "45"',
        "truncated JSON",
    ),
    ("truncated inside a nested number", '{"diagnosis": "flu", "extra": {"nested": [1, 2', "truncated JSON"),
    ("truncated after a comment", '{"diagnosis": "flu", // more follows', "truncated JSON"),
    ("prose only", "The patient has the flu; diagnosis: influenza.", "no JSON object found"),
    ("empty output", "   \n", "empty output"),
    ("several objects in a list", '[{"diagnosis": "a"}, {"diagnosis": "b"}]', "expected one JSON object"),
    ("an object without any wanted key", '{"title": "case report", "pmid": 123}', "holds none of the expected keys"),
]


@pytest.mark.parametrize(("raw", "expected"), [c[1:] for c in CORPUS], ids=[c[0] for c in CORPUS])
def test_messy_outputs_parse_to_the_values_a_reader_expects(raw, expected):
    parsed = candidate_parse_output(raw, KEYS)
    assert parsed.ok, parsed.error
    assert parsed.values == expected
    assert list(parsed.values) == KEYS  # every key, in schema order


@pytest.mark.parametrize(("raw", "fragment"), [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS])
def test_outputs_that_cannot_be_read_are_errors_that_never_quote_the_output(raw, fragment):
    parsed = candidate_parse_output(raw, KEYS)
    assert not parsed.ok
    assert fragment in parsed.error
    for word in ("pneumonia", "flu", "influenza", "case report"):
        assert word not in parsed.error


def test_the_corpus_values_round_trip_as_json():
    # What a run stores must be plain JSON strings (jsonb), whatever the output looked like.
    for _, raw, _ in CORPUS:
        stored = candidate_parse_output(raw, KEYS).values
        assert json.loads(json.dumps(stored)) == stored
        assert all(isinstance(v, str) and v for v in stored.values())
