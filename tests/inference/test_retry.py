"""One document's request: retry policy, length handling, too-long checks (fake client)."""

import threading

import pytest

from inference import prompts
from inference.client import (
    Completion,
    GenerationParams,
    TGIGenerationError,
    TGIOverloaded,
    TGITimeout,
    TGIUnavailable,
    TGIValidationError,
)
from inference.services.retry import RetryPolicy, RunSettings, Stopped, candidate_generate

KEYS = ["diagnosis"]
OK_JSON = '{"diagnosis": "pneumonia"}'
POLICY = RetryPolicy(backoff_attempts=4, base_delay=0.0, max_wait=1.0, error_attempts=3)


def run_settings(**kwargs) -> RunSettings:
    categories = [prompts.CategoryPrompt(key="diagnosis", label="Diagnosis", guideline="")]
    values = {
        "mode": "chat",
        "template": prompts.prompt_template(strategy="naive", categories=categories),
        "keys": KEYS,
        "schema": prompts.output_schema(KEYS),
        "params": GenerationParams(max_new_tokens=100),
        "max_input_tokens": None,
        "max_total_tokens": None,
    }
    return RunSettings(**(values | kwargs))


def done(text=OK_JSON, finish_reason="stop"):
    return Completion(text=text, finish_reason=finish_reason, prompt_tokens=12, generated_tokens=7, latency_ms=5)


class FakeClient:
    """Answers (or raises) from a script; records what it was asked."""

    def __init__(self, *answers, tokens=10):
        self.answers = list(answers)
        self.tokens = tokens
        self.sent = []  # (kind, max_new_tokens)

    def count_tokens(self, text):
        return self.tokens

    def _answer(self, kind, params):
        self.sent.append((kind, params.max_new_tokens))
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    def chat(self, messages, *, params, schema=None):
        assert messages[-1] == {"role": "user", "content": "the report"}
        return self._answer("chat", params)

    def generate(self, prompt, *, params, schema=None):
        assert prompt.endswith("Report:\nthe report\n\nJSON:")
        return self._answer("generate", params)


def generate(client, *, policy=POLICY, stop=None, **kwargs):
    return candidate_generate(
        client=client, report="the report", run=run_settings(**kwargs), policy=policy, stop=stop or threading.Event()
    )


@pytest.mark.parametrize("mode", ["chat", "generate"])
def test_ok_in_either_mode(mode):
    client = FakeClient(done())
    outcome = generate(client, mode=mode)
    assert (outcome.status, outcome.values, outcome.attempts) == ("ok", {"diagnosis": "pneumonia"}, 1)
    assert client.sent == [(mode, 100)]


def test_overload_is_retried_until_it_passes():
    outcome = generate(FakeClient(TGIOverloaded("busy"), TGIUnavailable("down"), done()))
    assert (outcome.status, outcome.attempts) == ("ok", 3)


def test_overload_that_lasts_fails_with_the_endpoint_marked_down():
    outcome = generate(FakeClient(*[TGIOverloaded("HTTP 429 (overloaded)")] * 4))
    assert (outcome.status, outcome.attempts, outcome.endpoint_down) == ("failed", 4, True)
    assert "429" in outcome.error


def test_backoff_never_waits_past_its_bound():
    policy = RetryPolicy(backoff_attempts=10, base_delay=60.0, max_wait=1.0, error_attempts=3)
    outcome = generate(FakeClient(TGIUnavailable("down")), policy=policy)
    assert (outcome.status, outcome.attempts) == ("failed", 1)


@pytest.mark.parametrize("error", [TGIGenerationError("HTTP 424"), TGITimeout("no answer within 120 s")])
def test_generation_errors_and_timeouts_get_a_few_attempts_and_do_not_mark_the_endpoint_down(error):
    outcome = generate(FakeClient(*[error] * 3))
    assert (outcome.status, outcome.attempts, outcome.endpoint_down) == ("failed", 3, False)


def test_validation_errors_are_not_retried():
    outcome = generate(FakeClient(TGIValidationError("HTTP 422 (validation): bad grammar")))
    assert (outcome.status, outcome.attempts) == ("failed", 1)
    assert "bad grammar" in outcome.error


def test_a_422_for_input_length_is_too_long():
    error = TGIValidationError("HTTP 422: `inputs` tokens + `max_new_tokens` must be <= 4096. Given: 4000")
    outcome = generate(FakeClient(error))
    assert outcome.status == "too_long"


def test_a_prompt_over_max_input_tokens_is_too_long_without_a_request():
    client = FakeClient(tokens=50)
    outcome = generate(client, max_input_tokens=40)
    assert outcome.status == "too_long"
    assert outcome.prompt_tokens == 50
    assert client.sent == []


def test_new_tokens_are_capped_to_what_the_endpoint_allows():
    client = FakeClient(done(), tokens=10)
    generate(client, max_input_tokens=100, max_total_tokens=90)
    assert client.sent == [("chat", 80)]
    outcome = generate(FakeClient(tokens=30), max_input_tokens=100, max_total_tokens=90)
    assert outcome.status == "too_long"  # 60 tokens left: too few for an answer


def test_output_cut_at_length_is_asked_again_with_twice_the_room():
    client = FakeClient(done('{"diagnosis": "pneu', "length"), done())
    outcome = generate(client)
    assert client.sent == [("chat", 100), ("chat", 200)]
    assert (outcome.status, outcome.attempts, outcome.finish_reason) == ("ok", 2, "stop")


def test_output_cut_twice_keeps_what_came():
    client = FakeClient(done("not json", "length"), done("still not json", "length"))
    outcome = generate(client)
    assert (outcome.status, outcome.raw_output, outcome.finish_reason) == ("parse_error", "still not json", "length")


def test_a_stopped_run_sends_nothing():
    stop = threading.Event()
    stop.set()
    client = FakeClient(done())
    with pytest.raises(Stopped):
        generate(client, stop=stop)
    assert client.sent == []
