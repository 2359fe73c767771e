"""Dispatch: batch sizes that keep an endpoint busy, the shared limit across concurrent
batches (no 429 from the server), pausing after consecutive connection errors, the
advanced strategy's examples hooks, bulk writes."""

import sys
import threading
import types
import urllib.request

import pytest
from django.db import connection
from django.utils import timezone

from elmtex_site.errors import ApplicationError
from inference.limiter import endpoint_limiter
from inference.models import Candidate, ModelEndpoint, ModelRun
from inference.services import processing
from inference.services.endpoints import endpoint_add
from inference.services.processing import candidates_process, outcomes_write, run_batch_size, run_start
from inference.services.retry import Outcome
from inference.services.runs import run_create
from tests.factories import DocumentFactory
from tests.inference.test_endpoints import closed_port_url

REPORT = (
    "A {age}-year-old woman presented with fever and cough. She was diagnosed with pneumonia "
    "and treated with amoxicillin. She recovered fully."
)


def make_run(project, url, n, *, concurrency, mode="chat", name="ep"):
    endpoint, _ = endpoint_add(name=name, url=url, mode=mode, concurrency=concurrency)
    for i in range(n):
        DocumentFactory(project=project, external_id=f"{i + 1:03d}", text=REPORT.format(age=20 + i))
    run = run_create(project=project, endpoint=endpoint)
    now = timezone.now()
    ModelRun.objects.filter(pk=run.pk).update(status="running", started_at=now, heartbeat_at=now)
    return run


def ids_of(run):
    return list(Candidate.objects.filter(run=run).order_by("pk").values_list("pk", flat=True))


def test_batches_hold_several_times_the_concurrency_unless_the_setting_is_larger(settings):
    settings.ELMTEX_RUN_BATCH_SIZE = 16
    assert run_batch_size(concurrency=64) == 64 * processing.BATCH_WAVES
    assert run_batch_size(concurrency=4) == 16
    assert run_batch_size(concurrency=10_000) == processing.MAX_BATCH_SIZE
    settings.ELMTEX_RUN_BATCH_SIZE = 500
    assert run_batch_size(concurrency=64) == 500


@pytest.mark.django_db(transaction=True)
def test_concurrent_batches_share_the_endpoint_limit_and_never_draw_a_429(project, baseline_server):
    url = baseline_server(latency_ms=60, max_concurrent=3)
    run = make_run(project, url, 24, concurrency=3)
    ids = ids_of(run)

    def batch(part):
        try:
            candidates_process(run_id=run.pk, candidate_ids=part)
        finally:
            connection.close()  # this thread's own connection

    threads = [
        threading.Thread(target=batch, args=(ids[i::3],)) for i in range(3)
    ]  # three batches at once, as three worker processes would run them
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert set(Candidate.objects.filter(run=run).values_list("status", flat=True)) == {"ok"}
    metrics = urllib.request.urlopen(f"{url}/metrics", timeout=5).read().decode()
    assert "elmtex_baseline_refused_total 0" in metrics
    assert "elmtex_baseline_in_flight_max 3" in metrics
    assert Candidate.objects.filter(run=run, attempts=1).count() == 24  # nobody had to retry
    assert endpoint_limiter(endpoint=run.endpoint).in_flight() == 0  # every slot given back


@pytest.mark.django_db
def test_consecutive_connection_errors_pause_the_run_with_the_reason(project, baseline_server, settings):
    settings.ELMTEX_PAUSE_AFTER_CONSECUTIVE_FAILURES = 5
    settings.ELMTEX_RETRY_BACKOFF_ATTEMPTS = 1000  # no single document gives up first
    settings.ELMTEX_RETRY_MAX_WAIT = 1000.0
    run = make_run(project, baseline_server(), 12, concurrency=2)
    ModelEndpoint.objects.filter(pk=run.endpoint_id).update(base_url=closed_port_url())
    candidates_process(run_id=run.pk, candidate_ids=ids_of(run))
    run.refresh_from_db()
    assert run.status == "paused"
    assert "requests in a row could not connect" in run.error
    assert f"resume_run {run.pk}" in run.error
    assert set(Candidate.objects.filter(run=run).values_list("status", flat=True)) == {"pending"}


@pytest.mark.django_db
def test_an_answer_in_between_resets_the_count(project, baseline_server, settings):
    settings.ELMTEX_PAUSE_AFTER_CONSECUTIVE_FAILURES = 3
    run = make_run(project, baseline_server(fail_rate=0.5, fail_status=(424,), seed=1), 20, concurrency=2)
    candidates_process(run_id=run.pk, candidate_ids=ids_of(run))
    run.refresh_from_db()
    assert run.status == "finished"  # HTTP errors are answers: the server is there


@pytest.mark.django_db
def test_an_unreachable_limiter_pauses_the_run_and_says_redis(project, baseline_server, monkeypatch):
    run = make_run(project, baseline_server(), 3, concurrency=2)

    def broken(*, endpoint):
        raise ConnectionError("redis down")

    monkeypatch.setattr(processing, "endpoint_limiter", broken)
    candidates_process(run_id=run.pk, candidate_ids=ids_of(run))
    run.refresh_from_db()
    assert run.status == "paused"
    assert "Redis" in run.error and f"resume_run {run.pk}" in run.error
    assert set(Candidate.objects.filter(run=run).values_list("status", flat=True)) == {"pending"}


@pytest.mark.django_db
def test_bulk_writes_store_every_field_and_never_touch_ok_rows(project, baseline_server):
    run = make_run(project, baseline_server(), 2, concurrency=1)
    first, second = ids_of(run)
    Candidate.objects.filter(pk=first).update(status="ok", values={"diagnosis": "kept"})
    written = outcomes_write(
        run_id=run.pk,
        outcomes={
            first: Outcome(status="failed", error="late duplicate"),
            second: Outcome(
                status="parse_error",
                raw_output="not json",
                error="no object",
                finish_reason="length",
                attempts=2,
                latency_ms=12,
                prompt_tokens=30,
                generated_tokens=4,
            ),
        },
    )
    assert written == 1
    a, b = Candidate.objects.get(pk=first), Candidate.objects.get(pk=second)
    assert (a.status, a.values, a.error) == ("ok", {"diagnosis": "kept"}, "")
    assert (b.status, b.raw_output, b.error, b.finish_reason, b.attempts) == (
        "parse_error",
        "not json",
        "no object",
        "length",
        2,
    )
    assert (b.latency_ms, b.prompt_tokens, b.generated_tokens, b.values) == (12, 30, 4, None)


def fake_examples(monkeypatch, *, assign=None, per_batch=None):
    module = types.ModuleType("inference.services.examples")
    module.run_examples_assign = assign or (lambda *, run: 0)
    module.batch_examples = per_batch or (lambda *, run, candidates: {})
    monkeypatch.setitem(sys.modules, "inference.services.examples", module)
    monkeypatch.setattr("inference.services.examples", module, raising=False)


@pytest.mark.django_db
def test_an_advanced_run_whose_examples_cannot_be_chosen_fails_with_the_reason(
    project, monkeypatch, django_capture_on_commit_callbacks
):
    def assign(*, run):
        raise ApplicationError("no training-split gold documents to draw examples from")

    fake_examples(monkeypatch, assign=assign)
    sent = []
    monkeypatch.setattr("inference.tasks.run_process_batch.apply_async", lambda args, queue: sent.append(args))
    endpoint = ModelEndpoint.objects.create(name="e", base_url="http://127.0.0.1:9", concurrency=2)
    DocumentFactory(project=project, external_id="1")
    run = run_create(project=project, endpoint=endpoint)
    ModelRun.objects.filter(pk=run.pk).update(strategy="advanced")
    with django_capture_on_commit_callbacks(execute=True):
        assert run_start(run_id=run.pk) == 0
    run.refresh_from_db()
    assert run.status == "failed"
    assert "no training-split gold" in run.error
    assert sent == []


@pytest.mark.django_db
def test_an_advanced_batch_sends_each_document_its_examples(project, baseline_server, monkeypatch):
    run = make_run(project, baseline_server(), 2, concurrency=2)
    ModelRun.objects.filter(pk=run.pk).update(strategy="advanced")
    first, second = ids_of(run)
    chosen = {first: [{"report": "r1", "summary": {"diagnosis": "flu"}}], second: []}
    fake_examples(monkeypatch, per_batch=lambda *, run, candidates: {c.pk: chosen[c.pk] for c in candidates})
    seen = {}
    real = processing.candidate_generate

    def spy(**kwargs):
        seen[kwargs["report"]] = kwargs.get("examples")
        return real(**kwargs)

    monkeypatch.setattr(processing, "candidate_generate", spy)
    candidates_process(run_id=run.pk, candidate_ids=[first, second])
    texts = {c.pk: c.document.text for c in Candidate.objects.filter(run=run).select_related("document")}
    assert seen == {texts[first]: chosen[first], texts[second]: []}
