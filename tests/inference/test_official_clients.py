"""Off-the-shelf clients get well-formed answers from the baseline server, as from a real TGI."""

import json

import openai
import pytest
from huggingface_hub import InferenceClient
from huggingface_hub.errors import OverloadedError, ValidationError

REPORT = "A 60-year-old man presented with dyspnea. Laboratory tests revealed NT-proBNP 3400 pg/mL."
PROMPT = f"Fill age, gender and laboratory_values.\n\nReport:\n{REPORT}\n\nJSON:"
MESSAGES = [{"role": "system", "content": "Fill age and gender."}, {"role": "user", "content": REPORT}]


@pytest.fixture
def hf(baseline_server, monkeypatch):
    monkeypatch.delenv("HF_TOKEN", raising=False)
    return lambda **knobs: InferenceClient(base_url=baseline_server(**knobs), timeout=10)


def test_hf_text_generation(hf):
    output = hf().text_generation(
        PROMPT, max_new_tokens=200, details=True, return_full_text=False, do_sample=False, seed=1
    )
    assert json.loads(output.generated_text) == {
        "laboratory_values": "Laboratory tests revealed NT-proBNP 3400 pg/mL",
        "age": "60 years",
        "gender": "male",
    }
    assert output.details.finish_reason == "eos_token"
    assert output.details.generated_tokens == len(output.details.tokens)


def test_hf_text_generation_stream(hf):
    client = hf()  # the client holds the open stream: keep it alive while reading
    chunks = list(client.text_generation(PROMPT, max_new_tokens=200, stream=True, details=True, return_full_text=False))
    assert chunks[-1].details.finish_reason == "eos_token"
    assert "".join(c.token.text for c in chunks) == chunks[-1].generated_text


def test_hf_text_generation_grammar_and_errors(hf):
    client = hf()
    grammar = {"type": "json", "value": {"properties": {"gender": {"type": "string"}}}}
    text = client.text_generation(PROMPT, grammar=grammar, max_new_tokens=50, return_full_text=False)
    assert json.loads(text) == {"gender": "male"}
    assert client.text_generation(PROMPT, max_new_tokens=5).startswith(PROMPT)  # "/" echoes by default
    with pytest.raises(ValidationError):
        client.text_generation(PROMPT, max_new_tokens=10**6)
    with pytest.raises(OverloadedError):
        hf(fail_rate=1.0, fail_status=[429]).text_generation(PROMPT, max_new_tokens=10)


def test_hf_chat_completion(hf):
    output = hf().chat_completion(MESSAGES, max_tokens=200, temperature=0, seed=1)
    assert json.loads(output.choices[0].message.content) == {"age": "60 years", "gender": "male"}
    assert output.choices[0].finish_reason == "stop"
    assert output.usage.completion_tokens > 0


def test_hf_chat_completion_stream(hf):
    client = hf()
    chunks = list(client.chat_completion(MESSAGES, max_tokens=200, temperature=0, stream=True))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert json.loads(text) == {"age": "60 years", "gender": "male"}
    assert chunks[-1].choices[0].finish_reason == "stop"


def test_hf_chat_completion_openai_style_json_schema(hf):
    # huggingface_hub rewrites OpenAI's json_schema shape into TGI's {"type", "value"}.
    fmt = {"type": "json_schema", "json_schema": {"name": "x", "schema": {"properties": {"age": {"type": "string"}}}}}
    output = hf().chat_completion(MESSAGES, max_tokens=50, temperature=0, response_format=fmt)
    assert json.loads(output.choices[0].message.content) == {"age": "60 years"}


@pytest.fixture
def oai(baseline_server):
    return openai.OpenAI(base_url=f"{baseline_server()}/v1", api_key="-", max_retries=0, timeout=10)


def test_openai_chat_completions(oai):
    response = oai.chat.completions.create(model="tgi", messages=MESSAGES, max_tokens=200, temperature=0)
    assert response.object == "chat.completion"
    assert json.loads(response.choices[0].message.content) == {"age": "60 years", "gender": "male"}
    assert response.choices[0].finish_reason == "stop"
    assert response.usage.total_tokens == response.usage.prompt_tokens + response.usage.completion_tokens


def test_openai_chat_completions_stream(oai):
    stream = oai.chat.completions.create(model="tgi", messages=MESSAGES, max_tokens=200, temperature=0, stream=True)
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert json.loads(text) == {"age": "60 years", "gender": "male"}
    assert chunks[-1].choices[0].finish_reason == "stop"


def test_openai_chat_completions_with_tgi_response_format(oai):
    schema = {"properties": {"gender": {"type": "string"}}}
    response = oai.chat.completions.create(
        model="tgi",
        messages=MESSAGES,
        max_tokens=50,
        temperature=0,
        extra_body={"response_format": {"type": "json_object", "value": schema}},
    )
    assert json.loads(response.choices[0].message.content) == {"gender": "male"}
