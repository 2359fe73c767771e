"""Batch processing against the baseline server, in-process (no worker): statuses,
retries, pausing, idempotence, run start and finish."""

import logging

import pytest
from django.utils import timezone

from inference.models import Candidate, ModelEndpoint, ModelRun
from inference.services import processing
from inference.services.endpoints import endpoint_add
from inference.services.processing import candidates_process, outcomes_write, run_start
from inference.services.retry import Outcome
from inference.services.runs import run_create
from tests.factories import DocumentFactory
from tests.inference.test_endpoints import closed_port_url

pytestmark = pytest.mark.django_db

REPORT = (
    "A 54-year-old man with a history of hypertension presented with chest pain and dyspnea. "
    "Electrocardiography showed ST elevation. He was diagnosed with acute myocardial infarction "
    "and treated with aspirin and percutaneous coronary intervention. He recovered well."
)


@pytest.fixture
def make_run(project, baseline_server):
    """A run over ``n`` documents on a fresh baseline server, marked running as
    ``run_start`` would (the start task itself is tested apart)."""

    def make(n=3, *, mode="chat", **knobs):
        url = baseline_server(**knobs)
        endpoint, _ = endpoint_add(name="base", url=url, mode=mode)
        for i in range(n):
            DocumentFactory(project=project, external_id=str(i + 1), text=f"{REPORT} Case {i + 1}.")
        run = run_create(project=project, endpoint=endpoint)  # the test transaction never commits: nothing sent
        now = timezone.now()
        ModelRun.objects.filter(pk=run.pk).update(status="running", started_at=now, heartbeat_at=now)
        return run

    return make


def process(run):
    ids = list(Candidate.objects.filter(run=run).order_by("pk").values_list("pk", flat=True))
    candidates_process(run_id=run.pk, candidate_ids=ids)
    run.refresh_from_db()
    return list(Candidate.objects.filter(run=run).order_by("pk"))


@pytest.mark.parametrize("mode", ["chat", "generate"])
def test_every_document_gets_parsed_values_and_the_run_finishes(make_run, mode):
    run = make_run(3, mode=mode)
    candidates = process(run)
    assert [c.status for c in candidates] == ["ok"] * 3
    for c in candidates:
        assert set(c.values) == set(run.config["keys"])  # jsonb keeps no key order
        assert c.attempts == 1
        assert c.latency_ms is not None
        assert c.generated_tokens and c.generated_tokens > 0
        assert c.raw_output
    assert run.status == "finished"
    assert run.finished_at is not None


def test_output_that_does_not_parse_is_kept_raw(make_run):
    run = make_run(2, garbage_rate=1)
    candidates = process(run)
    assert {c.status for c in candidates} == {"parse_error"}
    assert all(c.raw_output and c.values is None and c.error for c in candidates)
    assert run.status == "finished"


def test_generation_errors_are_retried_a_few_times_then_recorded(make_run, settings):
    settings.ELMTEX_RETRY_ERROR_ATTEMPTS = 3
    run = make_run(2, fail_rate=1, fail_status=(424,))
    candidates = process(run)
    assert {(c.status, c.attempts) for c in candidates} == {("failed", 3)}
    assert all(c.error for c in candidates)
    assert run.status == "finished"


def test_validation_errors_are_never_retried(make_run):
    run = make_run(1, fail_rate=1, fail_status=(422,))
    (candidate,) = process(run)
    assert (candidate.status, candidate.attempts) == ("failed", 1)
    assert "validation" in candidate.error.lower()


def test_an_overloaded_endpoint_pauses_the_run_and_keeps_documents_pending(make_run, settings):
    settings.ELMTEX_RETRY_BACKOFF_ATTEMPTS = 3
    run = make_run(2, fail_rate=1, fail_status=(429,))
    candidates = process(run)
    assert {c.status for c in candidates} == {"pending"}
    assert run.status == "paused"
    assert f"resume_run {run.pk}" in run.error


def test_an_unreachable_endpoint_pauses_the_run(make_run):
    run = make_run(2)
    ModelEndpoint.objects.filter(pk=run.endpoint_id).update(base_url=closed_port_url())
    candidates = process(run)
    assert {c.status for c in candidates} == {"pending"}
    assert run.status == "paused"
    assert "did not answer" in run.error


def test_a_report_over_the_input_limit_is_too_long_never_truncated(make_run):
    run = make_run(1, max_input_tokens=20, max_total_tokens=4096)
    (candidate,) = process(run)
    assert candidate.status == "too_long"
    assert "tokens" in candidate.error
    assert candidate.raw_output == ""
    assert run.status == "finished"


def test_output_cut_at_max_new_tokens_is_retried_once_with_more_room(make_run):
    run = make_run(1, truncate_rate=1)
    (candidate,) = process(run)
    assert candidate.finish_reason == "length"
    assert candidate.attempts == 2
    assert candidate.status in ("ok", "parse_error")


def test_processing_a_batch_again_changes_nothing(make_run):
    run = make_run(3)
    fields = ("pk", "status", "values", "raw_output", "attempts", "latency_ms", "updated_at")
    process(run)
    before = list(Candidate.objects.filter(run=run).order_by("pk").values_list(*fields))
    ModelRun.objects.filter(pk=run.pk).update(status="running")  # as a redelivered batch would find it
    process(run)
    assert list(Candidate.objects.filter(run=run).order_by("pk").values_list(*fields)) == before


def test_ok_candidates_are_never_overwritten(make_run):
    run = make_run(1)
    (candidate,) = process(run)
    outcomes_write(run_id=run.pk, outcomes={candidate.pk: Outcome(status="failed", error="late duplicate")})
    candidate.refresh_from_db()
    assert (candidate.status, candidate.error) == ("ok", "")


def test_a_cancelled_run_sends_nothing(make_run):
    run = make_run(2)
    ModelRun.objects.filter(pk=run.pk).update(status="cancelled")
    candidates = process(run)
    assert {c.status for c in candidates} == {"pending"}
    assert run.status == "cancelled"


def test_logs_carry_ids_never_report_text_or_values(make_run, caplog):
    run = make_run(2, garbage_rate=0.5)
    with caplog.at_level(logging.DEBUG):
        candidates = process(run)
    assert "myocardial" not in caplog.text
    for c in candidates:
        assert c.raw_output[:20] not in caplog.text


def test_start_splits_pending_candidates_into_batches(
    project, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.ELMTEX_RUN_BATCH_SIZE = 2
    sent = []
    monkeypatch.setattr("inference.tasks.run_process_batch.apply_async", lambda args, queue: sent.append((args, queue)))
    endpoint = ModelEndpoint.objects.create(name="e", base_url="http://127.0.0.1:9", concurrency=2)
    for i in range(5):
        DocumentFactory(project=project, external_id=str(i + 1))
    run = run_create(project=project, endpoint=endpoint)
    with django_capture_on_commit_callbacks(execute=True):
        assert run_start(run_id=run.pk) == 3
    run.refresh_from_db()
    assert run.status == "running" and run.started_at and run.heartbeat_at
    ids = list(Candidate.objects.filter(run=run).order_by("pk").values_list("pk", flat=True))
    assert sent == [
        ((run.pk, ids[0:2]), "inference"),
        ((run.pk, ids[2:4]), "inference"),
        ((run.pk, ids[4:]), "inference"),
    ]
    # A second start message (duplicate delivery) finds the run running and does nothing.
    with django_capture_on_commit_callbacks(execute=True):
        assert run_start(run_id=run.pk) == 0
    assert len(sent) == 3


def test_a_batch_stops_sending_once_the_run_is_cancelled(make_run, monkeypatch):
    run = make_run(6, latency_ms=150)
    ModelEndpoint.objects.filter(pk=run.endpoint_id).update(concurrency=1)
    monkeypatch.setattr(processing, "STATUS_CHECK_INTERVAL", 0.0)
    monkeypatch.setattr(processing, "_run_heartbeat", lambda run_id: False)  # as after cancel_run
    candidates = process(run)
    statuses = [c.status for c in candidates]
    assert statuses.count("pending") >= 5  # at most the one request in flight went on
    assert set(statuses) <= {"pending", "ok"}  # stopped documents are not failures


def test_a_finished_run_queues_the_checks_of_its_candidates(make_run, settings, monkeypatch):
    import annotation.tasks

    sent = []
    monkeypatch.setattr(annotation.tasks, "checks_enqueue", lambda **kwargs: sent.append(kwargs))
    settings.ELMTEX_CHECK_CANDIDATES_ON_FINISH = True
    run = make_run(2)
    process(run)
    assert run.status == "finished"
    assert [(s["project_id"], s["targets"], s["run_id"]) for s in sent] == [(run.project_id, ["candidate"], run.pk)]


def test_checks_not_queued_when_turned_off(make_run, settings, monkeypatch):
    import annotation.tasks

    sent = []
    monkeypatch.setattr(annotation.tasks, "checks_enqueue", lambda **kwargs: sent.append(kwargs))
    settings.ELMTEX_CHECK_CANDIDATES_ON_FINISH = False
    process(make_run(1))
    assert sent == []
