"""The baseline TGI-protocol server, spoken to with plain HTTP (TGI_PROTOCOL.md)."""

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx2
import pytest

from annotation.schema import ELMTEX_KEYS
from inference.baseline.protocol import tokenize

REPORT = "A 45-year-old woman presented with fever and cough. Blood tests showed CRP 85 mg/L."
PROMPT = f"Extract age, gender and laboratory_values as JSON.\n\nReport:\n{REPORT}\n\nJSON:"
SCHEMA = {
    "type": "object",
    "properties": {
        "gender": {"anyOf": [{"type": "string", "maxLength": 100}, {"type": "null"}]},
        "laboratory_values": {"type": "string", "maxLength": 10},
        "age": {"type": "string"},
    },
    "required": ["gender", "laboratory_values", "age"],
    "additionalProperties": False,
}


def post(url, path, body, **kwargs):
    return httpx2.post(url + path, json=body, timeout=kwargs.pop("timeout", 10), **kwargs)


def sse(response) -> list:
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events = []
    for line in response.text.splitlines():
        if line.startswith("data:"):
            payload = line[len("data:") :].strip()
            events.append(payload if payload == "[DONE]" else json.loads(payload))
    return events


def wait_until(predicate, what, seconds=20.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    pytest.fail(f"gave up waiting for {what}")


# -- generation ------------------------------------------------------------------------


def test_root_returns_a_list_and_echoes_the_prompt_unless_told_not_to(baseline_server):
    url = baseline_server()
    echoed = post(url, "/", {"inputs": PROMPT, "parameters": {"max_new_tokens": 200}})
    assert echoed.status_code == 200
    [answer] = echoed.json()
    assert answer["generated_text"].startswith(PROMPT)
    plain = post(url, "/", {"inputs": PROMPT, "parameters": {"max_new_tokens": 200, "return_full_text": False}})
    [answer] = plain.json()
    values = json.loads(answer["generated_text"])
    assert list(values) == ["laboratory_values", "age", "gender"]  # the keys the prompt names, ELMTEX order
    assert values["age"] == "45 years" and values["gender"] == "female"
    assert "CRP 85 mg/L" in values["laboratory_values"]


def test_generate_with_details_and_headers(baseline_server):
    url = baseline_server()
    response = post(url, "/generate", {"inputs": PROMPT, "parameters": {"max_new_tokens": 300, "details": True}})
    assert response.status_code == 200
    body = response.json()
    values = json.loads(body["generated_text"])
    assert values["age"] == "45 years" and values["gender"] == "female"
    details = body["details"]
    assert details["finish_reason"] == "eos_token"
    assert details["generated_tokens"] == len(details["tokens"])
    assert "".join(t["text"] for t in details["tokens"]) == body["generated_text"]
    assert details["prefill"] == []
    assert details["seed"] is None  # greedy
    assert response.headers["x-prompt-tokens"] == str(len(tokenize(PROMPT)))
    assert response.headers["x-generated-tokens"] == str(details["generated_tokens"])
    for header in ("x-queue-time", "x-inference-time", "x-compute-type"):
        assert header in response.headers


def test_generate_without_details_has_only_the_text(baseline_server):
    response = post(baseline_server(), "/generate", {"inputs": PROMPT})
    assert list(response.json()) == ["generated_text"]


def test_keys_come_from_the_prompt_or_all_fifteen(baseline_server):
    url = baseline_server()
    bare = post(url, "/generate", {"inputs": REPORT}).json()
    assert list(json.loads(bare["generated_text"])) == list(ELMTEX_KEYS)


def test_grammar_output_has_exactly_the_schema_properties_in_order(baseline_server):
    url = baseline_server()
    body = {"inputs": PROMPT, "parameters": {"grammar": {"type": "json", "value": SCHEMA}, "max_new_tokens": 300}}
    values = json.loads(post(url, "/generate", body).json()["generated_text"])
    assert list(values) == ["gender", "laboratory_values", "age"]
    assert len(values["laboratory_values"]) <= 10  # maxLength holds, as under a real grammar
    as_string = {"inputs": PROMPT, "parameters": {"grammar": {"type": "json", "value": json.dumps(SCHEMA)}}}
    assert list(json.loads(post(url, "/generate", as_string).json()["generated_text"])) == list(values)


def test_max_new_tokens_cuts_the_output(baseline_server):
    body = {"inputs": PROMPT, "parameters": {"max_new_tokens": 5, "details": True}}
    answer = post(baseline_server(), "/generate", body).json()
    assert answer["details"]["finish_reason"] == "length"
    assert answer["details"]["generated_tokens"] == 5


def test_stop_sequence(baseline_server):
    body = {"inputs": PROMPT, "parameters": {"stop": ["years"], "details": True}}
    answer = post(baseline_server(), "/generate", body).json()
    assert answer["details"]["finish_reason"] == "stop_sequence"
    assert answer["generated_text"].endswith("years")


@pytest.mark.parametrize(("path", "extra"), [("/generate_stream", {}), ("/", {"stream": True})])
def test_stream(baseline_server, path, extra):
    body = {"inputs": PROMPT, "parameters": {"max_new_tokens": 300, "return_full_text": False}, **extra}
    events = sse(post(baseline_server(), path, body))
    assert all(e["generated_text"] is None for e in events[:-1])
    last = events[-1]
    assert last["generated_text"] == "".join(e["token"]["text"] for e in events)
    assert last["details"]["finish_reason"] == "eos_token"
    assert last["details"]["generated_tokens"] == len(events)
    assert json.loads(last["generated_text"])["age"] == "45 years"


def test_chat_completions(baseline_server):
    url = baseline_server()
    messages = [{"role": "system", "content": "Fill age and gender."}, {"role": "user", "content": REPORT}]
    body = post(url, "/v1/chat/completions", {"model": "tgi", "messages": messages, "temperature": 0}).json()
    assert body["object"] == "chat.completion"
    assert body["id"] and isinstance(body["created"], int) and body["model"] == "elmtex/rule-baseline"
    [choice] = body["choices"]
    assert choice["message"]["role"] == "assistant" and choice["finish_reason"] == "stop"
    assert json.loads(choice["message"]["content"]) == {"age": "45 years", "gender": "female"}
    usage = body["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"] > 0


@pytest.mark.parametrize("kind", ["json", "json_object"])
def test_chat_response_format(baseline_server, kind):
    body = {"messages": [{"role": "user", "content": REPORT}], "response_format": {"type": kind, "value": SCHEMA}}
    content = post(baseline_server(), "/v1/chat/completions", body).json()["choices"][0]["message"]["content"]
    assert list(json.loads(content)) == list(SCHEMA["properties"])


def test_chat_response_format_json_schema_with_its_value(baseline_server):
    fmt = {"type": "json_schema", "value": {"name": "elmtex", "schema": SCHEMA}}
    body = {"messages": [{"role": "user", "content": REPORT}], "response_format": fmt}
    content = post(baseline_server(), "/v1/chat/completions", body).json()["choices"][0]["message"]["content"]
    assert list(json.loads(content)) == list(SCHEMA["properties"])


def test_chat_stream_ends_with_done(baseline_server):
    body = {
        "messages": [{"role": "user", "content": REPORT}],
        "stream": True,
        "max_tokens": 4,
        "stream_options": {"include_usage": True},
    }
    events = sse(post(baseline_server(), "/v1/chat/completions", body))
    assert events[-1] == "[DONE]"
    chunks = events[:-1]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["completion_tokens"] == 4
    assert [c["choices"][0]["finish_reason"] for c in chunks[:-1]] == [None, None, None, "length"]


# -- other endpoints ---------------------------------------------------------------------


def test_info_health_tokenize(baseline_server):
    url = baseline_server(max_concurrent=7)
    info = httpx2.get(url + "/info").json()
    assert info["model_id"] == "elmtex/rule-baseline"
    assert len(info["model_sha"]) == 40
    assert info["max_concurrent_requests"] == 7
    assert info["max_stop_sequences"] == 4
    assert info["max_input_tokens"] < info["max_total_tokens"]
    for name in ("max_client_batch_size", "version"):
        assert name in info
    health = httpx2.get(url + "/health")
    assert health.status_code == 200 and health.content == b""
    tokens = post(url, "/tokenize", {"inputs": "CRP 85 mg/L."}).json()
    assert [t["text"] for t in tokens] == ["CRP", " 85", " mg", "/", "L", "."]
    assert all({"id", "text", "start", "stop"} <= set(t) for t in tokens)
    assert tokens[1]["start"] == 3 and tokens[1]["stop"] == 6


def test_metrics(baseline_server):
    url = baseline_server()
    post(url, "/generate", {"inputs": PROMPT})
    post(url, "/generate", {"inputs": ""})
    text = httpx2.get(url + "/metrics").text
    lines = text.splitlines()
    assert "tgi_request_count 2" in lines
    assert "tgi_request_success 1" in lines
    assert 'tgi_request_failure{err="validation"} 1' in lines
    assert "tgi_queue_size 0" in lines
    assert "tgi_request_queue_duration_count 1" in lines
    assert "elmtex_baseline_in_flight 0" in lines


# -- errors ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"inputs": PROMPT, "parameters": {"max_new_tokens": 12288}},
            "`inputs` tokens + `max_new_tokens` must be <= 12288",
        ),
        ({"inputs": PROMPT, "parameters": {"temperature": 0}}, "`temperature` must be strictly positive"),
        ({"inputs": "  "}, "`inputs` cannot be empty"),
        (
            {"inputs": PROMPT, "parameters": {"stop": ["a", "b", "c", "d", "e"]}},
            "`stop` supports up to 4 stop sequences",
        ),
        (
            {
                "inputs": PROMPT,
                "parameters": {
                    "grammar": {"type": "json", "value": {"properties": {"a": {"type": ["string", "null"]}}}}
                },
            },
            "`type` list",
        ),
        (
            {"inputs": PROMPT, "parameters": {"grammar": {"type": "json", "value": {"type": "object"}}}},
            "Grammar must have a 'properties' field",
        ),
    ],
)
def test_validation_errors(baseline_server, body, message):
    response = post(baseline_server(), "/generate", body)
    assert response.status_code == 422
    assert response.json()["error_type"] == "validation"
    assert message in response.json()["error"]


def test_input_longer_than_max_input_tokens(baseline_server):
    url = baseline_server(max_input_tokens=10, max_total_tokens=1000)
    response = post(url, "/generate", {"inputs": PROMPT, "parameters": {"max_new_tokens": 5}})
    assert response.status_code == 422
    assert response.json()["error"].startswith("`inputs` must have less than 10 tokens")


def test_validation_error_in_a_stream_is_an_error_event(baseline_server):
    events = sse(post(baseline_server(), "/generate_stream", {"inputs": ""}))
    assert events == [{"error": "`inputs` cannot be empty", "error_type": "validation"}]


@pytest.mark.parametrize(
    "fmt",
    [
        {"type": "json"},  # `value` is required
        {"type": "json_schema", "json_schema": {"name": "x", "schema": SCHEMA}},  # OpenAI's shape: TGI wants `value`
        {"type": "text"},
    ],
)
def test_chat_response_format_shape_errors_are_plain_422(baseline_server, fmt):
    body = {"messages": [{"role": "user", "content": REPORT}], "response_format": fmt}
    response = post(baseline_server(), "/v1/chat/completions", body)
    assert response.status_code == 422
    assert response.text.startswith("Failed to deserialize the JSON body into the target type")


def test_malformed_bodies(baseline_server):
    url = baseline_server()
    headers = {"Content-Type": "application/json"}
    broken = httpx2.post(url + "/generate", content=b'{"inputs": ', headers=headers)
    assert broken.status_code == 400
    assert broken.text.startswith("Failed to parse the request body as JSON")
    wrong_shape = post(url, "/generate", {"inputs": 5})
    assert wrong_shape.status_code == 422
    assert wrong_shape.text.startswith("Failed to deserialize the JSON body into the target type")
    no_type = httpx2.post(url + "/generate", content=b'{"inputs": "x"}')
    assert no_type.status_code == 415


def test_payload_over_two_megabytes_is_413(baseline_server):
    response = post(baseline_server(), "/generate", {"inputs": "x " * 1_100_000})
    assert response.status_code == 413


def test_unknown_path_and_wrong_method(baseline_server):
    url = baseline_server()
    assert httpx2.get(url + "/nope").status_code == 404
    assert httpx2.get(url + "/generate").status_code == 405


def test_overloaded_once_more_than_max_concurrent_are_in_flight(baseline_server):
    url = baseline_server(max_concurrent=1, latency_ms=3000)
    first = {}
    thread = threading.Thread(target=lambda: first.update(r=post(url, "/generate", {"inputs": PROMPT})))
    thread.start()
    wait_until(lambda: "tgi_batch_current_size 1" in httpx2.get(url + "/metrics").text, "the first request in flight")
    second = post(url, "/generate", {"inputs": PROMPT})
    assert second.status_code == 429
    assert second.json() == {"error": "Model is overloaded", "error_type": "overloaded"}
    thread.join()
    assert first["r"].status_code == 200


@pytest.mark.parametrize(
    ("status", "error_type"),
    [(424, "generation"), (500, "incomplete_generation"), (429, "overloaded"), (503, "healthcheck")],
)
def test_injected_failures_carry_tgi_bodies(baseline_server, status, error_type):
    url = baseline_server(fail_rate=1.0, fail_status=[status])
    response = post(url, "/generate", {"inputs": PROMPT})
    assert response.status_code == status
    assert response.json()["error_type"] == error_type
    assert f'elmtex_baseline_injected_total{{kind="fail",status="{status}"}} 1' in httpx2.get(url + "/metrics").text


def test_fault_draws_follow_the_seed(baseline_server):
    def statuses(url):
        return [post(url, "/generate", {"inputs": PROMPT}).status_code for _ in range(12)]

    first = statuses(baseline_server(fail_rate=0.5, fail_status=[424, 500], seed=3))
    again = statuses(baseline_server(fail_rate=0.5, fail_status=[424, 500], seed=3))
    assert first == again
    assert {200, 424, 500} & set(first) and len(set(first)) > 1


def test_garbage_is_not_json(baseline_server):
    text = post(baseline_server(garbage_rate=1.0), "/generate", {"inputs": PROMPT}).json()["generated_text"]
    with pytest.raises(json.JSONDecodeError):
        json.loads(text)
    assert "{" not in text


def test_truncate_cuts_with_finish_reason_length(baseline_server):
    answer = post(baseline_server(truncate_rate=1.0), "/generate", {"inputs": PROMPT, "parameters": {"details": True}})
    assert answer.json()["details"]["finish_reason"] == "length"
    with pytest.raises(json.JSONDecodeError):
        json.loads(answer.json()["generated_text"])


def test_timeout_rate_holds_the_request_past_the_client_timeout(baseline_server):
    url = baseline_server(timeout_rate=1.0)
    with pytest.raises(httpx2.ReadTimeout):
        post(url, "/generate", {"inputs": PROMPT}, timeout=0.5)
    assert httpx2.get(url + "/health").status_code == 200  # the server itself still answers


def test_startup_delay_keeps_the_port_closed_while_loading(baseline_server):
    url = baseline_server(startup_delay=1.0)
    with pytest.raises(httpx2.ConnectError):
        httpx2.get(url + "/health")

    def healthy():
        try:
            return httpx2.get(url + "/health").status_code == 200
        except httpx2.ConnectError:
            return False

    wait_until(healthy, "the port to open")
    assert post(url, "/generate", {"inputs": PROMPT}).status_code == 200


def test_logs_name_paths_never_report_text(baseline_server, caplog):
    caplog.set_level(logging.DEBUG, logger="elmtex.baseline")
    url = baseline_server()
    post(url, "/generate", {"inputs": PROMPT})
    post(url, "/generate", {"inputs": "Zebrafinch " * 5, "parameters": {"temperature": -1}})
    assert "/generate" in caplog.text
    assert "woman" not in caplog.text and "Zebrafinch" not in caplog.text


# -- the serve_baseline command ---------------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]


def serve(*args):
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}  # the command needs no database
    return subprocess.Popen(
        [sys.executable, "manage.py", "serve_baseline", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_serve_baseline_serves_until_interrupted():
    from tests.inference.conftest import free_port

    port = free_port()
    proc = serve("--port", str(port), "--max-concurrent", "3")
    try:

        def healthy():
            assert proc.poll() is None, proc.stderr.read()
            try:
                return httpx2.get(f"http://127.0.0.1:{port}/health").status_code == 200
            except httpx2.ConnectError:
                return False

        wait_until(healthy, "serve_baseline to answer /health", seconds=60)
        assert httpx2.get(f"http://127.0.0.1:{port}/info").json()["max_concurrent_requests"] == 3
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0
    assert err.splitlines()[0] == f"baseline TGI server on http://127.0.0.1:{port} (model elmtex/rule-baseline)"
    assert "Traceback" not in err


def test_serve_baseline_port_in_use():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = serve("--port", str(port))
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 1
    assert err.strip().splitlines() == [
        f"error: port {port} on 127.0.0.1 is already in use; stop the other server or choose another --port"
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--fail-rate", "2"], "error: --fail-rate must be between 0 and 1, got 2.0"),
        (["--fail-status", "418"], "error: --fail-status must be a non-empty list of"),
        (["--port", "0", "--startup-delay", "3"], "error: --port 0 (any free port) cannot be combined"),
    ],
)
def test_serve_baseline_refuses_bad_knobs(run_cli, args, message):
    result = run_cli("serve_baseline", *args)
    assert result.code == 1
    assert len(result.err_lines) == 1 and result.err_lines[0].startswith(message)
