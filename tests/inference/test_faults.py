"""Faults: every knob of serve_baseline does what CLI.md says, the client maps every status
of TGI_PROTOCOL.md (the ones test_client.py does not cover), and a run against a server
failing ~20% of its requests ends with every document ok or failed with a reason, none
missing, none duplicated."""

import json
import time
import urllib.error
import urllib.request
from collections import Counter

import pytest
from django.utils import timezone

from inference.client import GenerationParams, TGIClient, TGIGenerationError, TGIValidationError
from inference.models import Candidate, ModelRun
from inference.services import processing
from inference.services.endpoints import endpoint_add
from inference.services.runs import run_create
from tests.factories import DocumentFactory

MESSAGES = [{"role": "system", "content": "Fill age and gender."}, {"role": "user", "content": "A 45-year-old woman."}]
PARAMS = GenerationParams(max_new_tokens=300)
REPORT = (
    "A {age}-year-old man with a history of hypertension presented with chest pain and dyspnea. "
    "Electrocardiography showed ST elevation. He was diagnosed with acute myocardial infarction "
    "and treated with aspirin. He recovered well."
)


def post(url: str, body: dict, timeout: float = 10.0) -> tuple[int, dict | str]:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        raw = exc.read().decode()
        try:
            return exc.code, json.loads(raw)
        except ValueError:
            return exc.code, raw


def chat_body(max_tokens: int = 300) -> dict:
    return {"model": "tgi", "messages": MESSAGES, "max_tokens": max_tokens, "temperature": 0}


def metrics(url: str) -> str:
    return urllib.request.urlopen(f"{url}/metrics", timeout=5).read().decode()


# -- every knob -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "error_type"), [(429, "overloaded"), (424, "generation"), (500, "incomplete_generation")]
)
def test_fail_rate_answers_the_chosen_status_with_tgi_error_bodies(baseline_server, status, error_type):
    url = baseline_server(fail_rate=1.0, fail_status=(status,))
    code, body = post(f"{url}/v1/chat/completions", chat_body())
    assert code == status
    assert body["error_type"] == error_type and body["error"]
    assert f'kind="fail",status="{status}"' in metrics(url)


def test_fail_rate_draws_about_that_share_of_requests(baseline_server):
    url = baseline_server(fail_rate=0.3, fail_status=(429, 424, 500), seed=7)
    codes = Counter(post(f"{url}/v1/chat/completions", chat_body())[0] for _ in range(200))
    assert 30 <= 200 - codes[200] <= 90
    assert set(codes) <= {200, 429, 424, 500}


def test_429_bursts_when_more_requests_than_max_concurrent_are_in_flight(baseline_server):
    import threading

    url = baseline_server(latency_ms=300, max_concurrent=2)
    codes = []
    threads = [
        threading.Thread(target=lambda: codes.append(post(f"{url}/v1/chat/completions", chat_body())[0]))
        for _ in range(6)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(codes).count(200) == 2 and codes.count(429) == 4
    assert "elmtex_baseline_refused_total 4" in metrics(url)
    assert "elmtex_baseline_in_flight_max 2" in metrics(url)


def test_timeout_rate_holds_the_request_past_the_client_timeout(baseline_server):
    url = baseline_server(timeout_rate=1.0)
    with pytest.raises((TimeoutError, urllib.error.URLError)):
        post(f"{url}/v1/chat/completions", chat_body(), timeout=0.5)


def test_garbage_rate_answers_text_that_is_not_json(baseline_server):
    url = baseline_server(garbage_rate=1.0)
    code, body = post(f"{url}/v1/chat/completions", chat_body())
    assert code == 200
    text = body["choices"][0]["message"]["content"]
    with pytest.raises(ValueError):
        json.loads(text)


def test_truncate_rate_cuts_the_output_with_finish_reason_length(baseline_server):
    url = baseline_server(truncate_rate=1.0)
    code, body = post(f"{url}/v1/chat/completions", chat_body(max_tokens=2000))
    assert code == 200 and body["choices"][0]["finish_reason"] == "length"
    code, body = post(
        f"{url}/generate", {"inputs": "Fill age.\nReport:\nA 45-year-old woman.", "parameters": {"details": True}}
    )
    assert code == 200 and body["details"]["finish_reason"] == "length"


def test_startup_delay_keeps_the_port_closed_then_serves(baseline_server):
    url = baseline_server(startup_delay=1.0)
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(f"{url}/health", timeout=0.5)
    deadline = time.monotonic() + 10
    while True:
        try:
            assert urllib.request.urlopen(f"{url}/health", timeout=0.5).status == 200
            break
        except (urllib.error.URLError, ConnectionError):
            assert time.monotonic() < deadline, "the port never opened"
            time.sleep(0.1)


# -- client error mapping: the statuses test_client.py does not cover ------------------


def test_a_payload_over_2_mb_is_a_413_validation_error(baseline_server):
    client = TGIClient(baseline_server(), timeout=30)
    huge = [{"role": "user", "content": "x " * 1_100_000}]
    with pytest.raises(TGIValidationError) as caught:
        client.chat(huge, params=PARAMS)
    assert caught.value.status == 413 and not caught.value.retryable
    client.close()


@pytest.mark.parametrize(("status", "error"), [(413, TGIValidationError), (424, TGIGenerationError)])
def test_injected_statuses_map_on_generate_and_chat(baseline_server, status, error):
    client = TGIClient(baseline_server(fail_rate=1.0, fail_status=(status,)), timeout=10)
    for call in (
        lambda: client.generate("Fill age.\nReport:\nx", params=PARAMS),
        lambda: client.chat(MESSAGES, params=PARAMS),
    ):
        with pytest.raises(error) as caught:
            call()
        assert caught.value.status == status
    client.close()


def test_malformed_json_bodies_are_plain_text_errors_never_retried(baseline_server):
    url = baseline_server()
    request = urllib.request.Request(f"{url}/generate", data=b"{not json", headers={"Content-Type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=5)
    assert caught.value.code in (400, 422)
    request = urllib.request.Request(f"{url}/generate", data=b"{}", headers={"Content-Type": "text/plain"})
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=5)
    assert caught.value.code == 415


# -- a whole run through the faults ----------------------------------------------------


@pytest.mark.django_db
def test_a_run_through_20_percent_faults_accounts_for_every_document(project, baseline_server, settings):
    settings.ELMTEX_TGI_TIMEOUT = 1.0
    settings.ELMTEX_RETRY_ERROR_ATTEMPTS = 3
    settings.ELMTEX_RETRY_BACKOFF_ATTEMPTS = 8
    settings.ELMTEX_RETRY_MAX_WAIT = 5.0
    url = baseline_server(
        fail_rate=0.10, fail_status=(429, 424, 500), timeout_rate=0.03, garbage_rate=0.04, truncate_rate=0.04, seed=3
    )
    endpoint, _ = endpoint_add(name="faulty", url=url, mode="chat", concurrency=8)
    for i in range(60):
        DocumentFactory(project=project, external_id=f"{i + 1:03d}", text=REPORT.format(age=20 + i))
    run = run_create(project=project, endpoint=endpoint)
    now = timezone.now()
    ModelRun.objects.filter(pk=run.pk).update(status="running", started_at=now, heartbeat_at=now)
    ids = list(Candidate.objects.filter(run=run).order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), 20):  # three batches, as run_start would split them
        processing.candidates_process(run_id=run.pk, candidate_ids=ids[start : start + 20])

    run.refresh_from_db()
    candidates = list(Candidate.objects.filter(run=run))
    assert run.status == "finished", run.error
    assert len(candidates) == 60
    assert sorted(c.document_id for c in candidates) == sorted(project.documents.values_list("pk", flat=True))
    statuses = Counter(c.status for c in candidates)
    assert "pending" not in statuses
    assert statuses["ok"] >= 40
    for c in candidates:
        if c.status != "ok":
            assert c.error, f"{c.status} without a reason"
        if c.status == "parse_error":
            assert c.raw_output
    text = metrics(url)
    assert 'kind="fail"' in text and 'kind="garbage"' in text  # the faults really happened
