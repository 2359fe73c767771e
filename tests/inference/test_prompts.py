"""inference/prompts.py: the naive prompt, the output schema, the generate-mode shape."""

import json

import pytest

from annotation.schema import ELMTEX_CATEGORIES, ELMTEX_KEYS
from inference import prompts
from inference.prompts import CategoryPrompt

CATEGORIES = [CategoryPrompt(c.key, c.label, c.guideline) for c in ELMTEX_CATEGORIES]
REPORT = "A 45-year-old man with {braces} and fever.\nSecond line."


def keys_in(text):
    return [k for k in ELMTEX_KEYS if k in text]


def test_naive_system_prompt_lists_every_key_and_the_rules():
    text = prompts.naive_system_prompt(CATEGORIES)
    for key in ELMTEX_KEYS:
        assert f"- {key}\n" in text
    assert "N/A" in text
    assert '"; "' in text
    assert "JSON object" in text


def test_fixed_wording_names_no_other_key():
    """The baseline server finds the keys in the prompt text: a subset of the schema must
    not pull in other keys through the wording (e.g. "age" inside "language")."""
    subset = [c for c in CATEGORIES if c.key in ("diagnosis", "life_style")]
    text = prompts.naive_system_prompt(subset)
    assert keys_in(text) == ["life_style", "diagnosis"]


def test_naive_messages_are_the_instruction_then_the_report_unchanged():
    messages = prompts.naive_messages(report=REPORT, categories=CATEGORIES)
    assert messages == [
        {"role": "system", "content": prompts.naive_system_prompt(CATEGORIES)},
        {"role": "user", "content": REPORT},
    ]


def test_generate_prompt_shape():
    messages = prompts.naive_messages(report="  the report  \n", categories=CATEGORIES)
    text = prompts.generate_prompt(messages)
    system = prompts.naive_system_prompt(CATEGORIES)
    assert text == f"{system}\n\nReport:\nthe report\n\nJSON:"
    # How the baseline server finds the report: after the last "\nReport:\n", before "\n\nJSON:".
    report = text.rsplit("\nReport:\n", 1)[1].removesuffix("\n\nJSON:")
    assert report == "the report"


def test_generate_prompt_with_worked_examples_ends_with_the_last_report():
    messages = [
        {"role": "system", "content": "Do it."},
        {"role": "user", "content": "first report"},
        {"role": "assistant", "content": '{"age": "3"}'},
        {"role": "user", "content": "second report"},
    ]
    text = prompts.generate_prompt(messages)
    assert text == 'Do it.\n\nReport:\nfirst report\n\nJSON:\n{"age": "3"}\n\nReport:\nsecond report\n\nJSON:'
    assert text.rsplit("\nReport:\n", 1)[1].removesuffix("\n\nJSON:") == "second report"


def test_generate_prompt_refuses_bad_messages():
    with pytest.raises(ValueError):
        prompts.generate_prompt([])
    with pytest.raises(ValueError, match="role"):
        prompts.generate_prompt([{"role": "tool", "content": "x"}])


def test_output_schema_shape():
    schema = prompts.output_schema(["diagnosis", "age"], max_length=50)
    assert schema == {
        "type": "object",
        "properties": {
            "diagnosis": {"anyOf": [{"type": "string", "maxLength": 50}, {"type": "null"}]},
            "age": {"anyOf": [{"type": "string", "maxLength": 50}, {"type": "null"}]},
        },
        "required": ["diagnosis", "age"],
        "additionalProperties": False,
    }


def test_output_schema_is_byte_identical_for_the_same_keys():
    first = json.dumps(prompts.output_schema(list(ELMTEX_KEYS)))
    again = json.dumps(prompts.output_schema(tuple(ELMTEX_KEYS)))
    assert first == again
    assert list(json.loads(first)["properties"]) == list(ELMTEX_KEYS)  # schema order, not sorted


def test_output_schema_refuses_no_keys_and_repeated_keys():
    with pytest.raises(ValueError):
        prompts.output_schema([])
    with pytest.raises(ValueError, match="age"):
        prompts.output_schema(["age", "age"])


def test_prompt_template_is_json_and_renders_the_same_prompts():
    template = prompts.prompt_template(strategy="naive", categories=CATEGORIES)
    assert json.loads(json.dumps(template)) == template
    assert template["strategy"] == "naive"
    assert template["version"] == prompts.PROMPT_VERSION
    assert template["keys"] == list(ELMTEX_KEYS)
    assert template["user"] == "{report}"
    messages = prompts.template_messages(template, report=REPORT)
    assert messages == prompts.naive_messages(report=REPORT, categories=CATEGORIES)
    assert prompts.template_prompt(template, report=REPORT) == prompts.generate_prompt(messages)


def test_a_template_with_only_a_system_prompt_still_renders():
    template = {"version": "x", "system": "Do it."}
    assert prompts.template_messages(template, report="r") == [
        {"role": "system", "content": "Do it."},
        {"role": "user", "content": "r"},
    ]
    assert prompts.template_prompt(template, report="r") == "Do it.\n\nReport:\nr\n\nJSON:"


@pytest.mark.parametrize("strategy", ["clever"])
def test_prompt_template_refuses_strategies_not_built(strategy):
    with pytest.raises(ValueError, match=strategy):
        prompts.prompt_template(strategy=strategy, categories=CATEGORIES)
