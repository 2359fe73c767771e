"""inference.client.TGIClient against the baseline server: answers, settings, error mapping."""

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from inference.baseline.handler import Handler
from inference.client import (
    Completion,
    GenerationParams,
    TGIClient,
    TGIGenerationError,
    TGIIncompleteGeneration,
    TGIOverloaded,
    TGIProtocolError,
    TGITimeout,
    TGIUnavailable,
    TGIValidationError,
)
from tests.inference.conftest import free_port

SECRET_WORD = "Quokkasyndrome"
REPORT = f"A 45-year-old woman presented with fever. Blood tests showed CRP 85 mg/L. {SECRET_WORD} was suspected."
PROMPT = f"Fill age, gender and laboratory_values.\n\nReport:\n{REPORT}\n\nJSON:"
MESSAGES = [{"role": "system", "content": "Fill age and gender."}, {"role": "user", "content": REPORT}]
SCHEMA = {
    "type": "object",
    "properties": {"gender": {"type": "string"}, "age": {"anyOf": [{"type": "string"}, {"type": "null"}]}},
    "required": ["gender", "age"],
    "additionalProperties": False,
}
PARAMS = GenerationParams(max_new_tokens=300)


@pytest.fixture
def client_for(baseline_server):
    clients = []

    def make(timeout=10.0, **knobs):
        client = TGIClient(baseline_server(**knobs), timeout=timeout)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


def test_info_health_count_tokens(client_for):
    client = client_for(max_concurrent=9)
    info = client.info()
    assert info.model_id == "elmtex/rule-baseline"
    assert info.max_concurrent_requests == 9
    assert info.max_input_tokens == 8192 and info.max_total_tokens == 12288
    assert info.model_sha and info.version
    assert info.raw["max_stop_sequences"] == 4
    assert client.health() is True
    assert client.count_tokens("CRP 85 mg/L.") == 6


def test_generate(client_for):
    completion = client_for().generate(PROMPT, params=PARAMS)
    assert isinstance(completion, Completion)
    values = json.loads(completion.text)  # no prompt echo in front
    assert values["age"] == "45 years" and values["gender"] == "female"
    assert completion.finish_reason == "eos_token"
    assert completion.generated_tokens > 0
    assert completion.prompt_tokens is None  # the generate answer has no prompt count (see client.py)
    assert completion.latency_ms >= 0


def test_generate_with_schema_and_a_token_budget(client_for):
    client = client_for()
    completion = client.generate(PROMPT, params=PARAMS, schema=SCHEMA)
    assert list(json.loads(completion.text)) == ["gender", "age"]
    cut = client.generate(PROMPT, params=GenerationParams(max_new_tokens=3))
    assert cut.finish_reason == "length" and cut.generated_tokens == 3


def test_chat(client_for):
    completion = client_for().chat(MESSAGES, params=PARAMS, schema=SCHEMA)
    assert json.loads(completion.text) == {"gender": "female", "age": "45 years"}
    assert completion.finish_reason == "stop"
    assert completion.prompt_tokens > 0 and completion.generated_tokens > 0


def test_requests_are_greedy_seeded_bounded_and_carry_no_hf_token(client_for, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", "hf_thisMustNotLeave")
    seen = []
    original = Handler._json_body

    def spy(self):
        body = original(self)
        seen.append((self.path, self.headers.get("Authorization"), body))
        return body

    monkeypatch.setattr(Handler, "_json_body", spy)
    client = client_for()
    client.generate(PROMPT, params=GenerationParams(max_new_tokens=50, seed=7))
    client.chat(MESSAGES, params=GenerationParams(max_new_tokens=50, seed=7))
    (gen_path, gen_auth, gen_body), (chat_path, chat_auth, chat_body) = seen
    assert gen_auth is None and chat_auth is None
    assert gen_path == "/" and chat_path == "/v1/chat/completions"
    expected = {"do_sample": False, "seed": 7, "max_new_tokens": 50, "return_full_text": False, "details": True}
    assert gen_body["parameters"].items() >= expected.items()
    assert "temperature" not in gen_body["parameters"]
    assert chat_body["temperature"] == 0 and chat_body["seed"] == 7 and chat_body["max_tokens"] == 50


@pytest.mark.parametrize(
    ("status", "error", "retryable"),
    [
        (429, TGIOverloaded, True),
        (424, TGIGenerationError, True),
        (500, TGIIncompleteGeneration, True),
        (503, TGIUnavailable, True),
        (422, TGIValidationError, False),
        (400, TGIValidationError, False),
        (504, TGITimeout, True),
    ],
)
@pytest.mark.parametrize("mode", ["generate", "chat"])
def test_error_statuses_map_to_error_types(client_for, status, error, retryable, mode):
    client = client_for(fail_rate=1.0, fail_status=[status])
    with pytest.raises(error) as caught:
        if mode == "generate":
            client.generate(PROMPT, params=PARAMS)
        else:
            client.chat(MESSAGES, params=PARAMS)
    assert caught.value.status == status
    assert caught.value.retryable is retryable
    assert SECRET_WORD not in str(caught.value)


@pytest.mark.parametrize("mode", ["generate", "chat"])
def test_a_prompt_too_long_is_a_validation_error_without_prompt_text(client_for, mode):
    client = client_for(max_input_tokens=10, max_total_tokens=400)
    with pytest.raises(TGIValidationError) as caught:
        if mode == "generate":
            client.generate(PROMPT, params=GenerationParams(max_new_tokens=20))
        else:
            client.chat(MESSAGES, params=GenerationParams(max_new_tokens=20))
    assert caught.value.status == 422 and caught.value.error_type == "validation"
    assert "must have less than 10 tokens" in str(caught.value)
    assert SECRET_WORD not in str(caught.value) and not caught.value.retryable


def test_a_bad_schema_is_a_validation_error(client_for):
    bad = {"properties": {"age": {"type": ["string", "null"]}}}
    client = client_for()
    with pytest.raises(TGIValidationError):
        client.generate(PROMPT, params=PARAMS, schema=bad)
    with pytest.raises(TGIValidationError):
        client.chat(MESSAGES, params=PARAMS, schema={"type": "object"})


def test_timeout(client_for):
    client = client_for(timeout=0.5, timeout_rate=1.0)
    with pytest.raises(TGITimeout) as caught:
        client.generate(PROMPT, params=PARAMS)
    assert caught.value.retryable
    with pytest.raises(TGITimeout):
        client.chat(MESSAGES, params=PARAMS)


def test_closed_port_is_unavailable():
    client = TGIClient(f"http://127.0.0.1:{free_port()}", timeout=5)
    for call in (
        lambda: client.generate(PROMPT, params=PARAMS),
        lambda: client.chat(MESSAGES, params=PARAMS),
        client.info,
        lambda: client.count_tokens("x"),
    ):
        with pytest.raises(TGIUnavailable) as caught:
            call()
        assert caught.value.retryable and caught.value.status is None
    assert client.health() is False


def test_loading_server_is_unavailable_then_healthy(client_for):
    client = client_for(startup_delay=30)
    assert client.health() is False
    with pytest.raises(TGIUnavailable):
        client.info()


class _NotTGI(BaseHTTPRequestHandler):
    """A server that is not TGI: 404 for /tokenize, a non-TGI /info."""

    def do_GET(self):
        self._answer(200, b'{"name": "something else"}')

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self._answer(404, b"")

    def _answer(self, status, body):
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def not_tgi():
    server = HTTPServer(("127.0.0.1", 0), _NotTGI)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_server_without_tokenize_or_tgi_info(not_tgi):
    client = TGIClient(not_tgi, timeout=5)
    assert client.count_tokens("x") is None
    with pytest.raises(TGIProtocolError):
        client.info()
    with pytest.raises(TGIProtocolError):
        client.generate(PROMPT, params=PARAMS)  # 404 on POST /


def test_generation_params_as_dict():
    params = GenerationParams(max_new_tokens=64, stop=("}",))
    assert params.as_dict() == {"max_new_tokens": 64, "seed": 1234, "temperature": 0.0, "stop": ["}"]}


def test_telemetry_is_off():
    from huggingface_hub import constants

    assert constants.HF_HUB_DISABLE_TELEMETRY is True


def test_hf_hub_offline_gets_a_clear_message(client_for, monkeypatch):
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(TGIProtocolError, match="HF_HUB_OFFLINE is set") as caught:
        client_for().generate(PROMPT, params=PARAMS)
    assert not caught.value.retryable
