"""add_endpoint, run_extraction, cancel_run, resume_run as a shell runs them (CLI.md)."""

import io
from datetime import timedelta

import pytest
from django.utils import timezone

from inference.management.commands import _run_wait
from inference.models import Candidate, ModelEndpoint, ModelRun
from tests.factories import CandidateFactory, DocumentFactory, EndpointFactory, RunFactory
from tests.inference.test_endpoints import closed_port_url

pytestmark = pytest.mark.django_db


@pytest.fixture
def endpoint():
    return EndpointFactory(name="tgi")


def test_add_endpoint_prints_one_line(run_cli, baseline_server):
    url = baseline_server(max_concurrent=10)
    result = run_cli("add_endpoint", "base", "--url", url)
    assert result.code == 0, result.err
    assert result.out.splitlines() == ["endpoint base added: model elmtex/rule-baseline, concurrency 8, mode chat"]
    again = run_cli("add_endpoint", "base", "--url", url, "--mode", "generate", "--concurrency", "3")
    assert again.out.splitlines() == ["endpoint base updated: model elmtex/rule-baseline, concurrency 3, mode generate"]


def test_add_endpoint_unreachable_exits_1_naming_the_url(run_cli):
    url = closed_port_url()
    result = run_cli("add_endpoint", "base", "--url", url)
    assert result.code == 1
    assert result.err_lines[0].startswith("error: endpoint " + url)
    assert not ModelEndpoint.objects.exists()


def test_run_extraction_first_line_is_the_run_id(run_cli, project, endpoint):
    for i in range(3):
        DocumentFactory(project=project, external_id=str(i + 1))
    result = run_cli("run_extraction", "p1", "--endpoint", "tgi", "--limit", "2", "--name", "first")
    assert result.code == 0, result.err
    run = ModelRun.objects.get(name="first")
    assert result.out.splitlines() == [f"run {run.pk}"]
    assert run.total == 2 and run.status == "queued"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nope", "--endpoint", "tgi"], "error: project 'nope' does not exist"),
        (["p1", "--endpoint", "nope"], "error: endpoint 'nope' does not exist"),
        (
            ["p1", "--endpoint", "tgi", "--strategy", "advanced"],
            "error: project 'p1' has no training-split documents with gold",
        ),
        (["p1", "--endpoint", "tgi", "--language", "xx"], "error: project 'p1' has no documents with language 'xx'"),
        (["p1", "--endpoint", "tgi", "--k", "3"], "error: --k and --embedding-model apply to --strategy advanced"),
    ],
)
def test_run_extraction_refusals_exit_1(run_cli, project, endpoint, args, message):
    DocumentFactory(project=project)
    result = run_cli("run_extraction", *args)
    assert result.code == 1
    assert result.err_lines[0].startswith(message), result.err
    assert not ModelRun.objects.exists()


def test_run_extraction_usage_error_exits_2(run_cli, project, endpoint):
    assert run_cli("run_extraction", "p1").code == 2  # --endpoint missing


def test_wait_without_a_worker_fails_with_what_to_do(run_cli, project, endpoint, settings):
    settings.ELMTEX_WORKER_WAIT_SECONDS = 1.0
    DocumentFactory(project=project)
    result = run_cli("run_extraction", "p1", "--endpoint", "tgi", "--wait")
    assert result.code == 1
    run = ModelRun.objects.get()
    assert result.out.splitlines()[0] == f"run {run.pk}"
    assert "celery -A elmtex_site worker" in result.err
    if "no worker" in result.err:  # the broker answered (else the message says how to start it)
        assert f"cancel_run {run.pk}" in result.err
    run.refresh_from_db()
    assert run.status == "queued"


def test_cancel_run(run_cli, project):
    run = RunFactory(project=project, status="running", started_at=timezone.now(), heartbeat_at=timezone.now())
    CandidateFactory(run=run, status="ok")
    CandidateFactory(run=run, status="pending", values=None)
    result = run_cli("cancel_run", str(run.pk))
    assert result.code == 0, result.err
    assert result.out.splitlines() == [f"run {run.pk} cancelled: 1 of 2 documents done, 1 pending"]
    again = run_cli("cancel_run", run.name)
    assert again.code == 1
    assert again.err_lines == [
        f"error: run {run.pk} is cancelled; only queued, running, paused or stalled runs can be cancelled"
    ]


def test_cancel_unknown_run_exits_1(run_cli, db):
    result = run_cli("cancel_run", "999")
    assert (result.code, result.err_lines) == (1, ["error: run 999 does not exist"])


def test_resume_run(run_cli, project):
    run = RunFactory(project=project, status="finished", finished_at=timezone.now())
    CandidateFactory(run=run, status="ok")
    CandidateFactory(run=run, status="failed", values=None)
    result = run_cli("resume_run", run.name)
    assert result.code == 0, result.err
    assert result.out.splitlines() == [f"run {run.pk}"]
    assert "queued again for 1 documents" in result.err
    run.refresh_from_db()
    assert run.status == "queued"
    assert Candidate.objects.filter(run=run, status="pending").count() == 1
    nothing = RunFactory(project=project, status="finished")
    CandidateFactory(run=nothing, status="ok")
    refused = run_cli("resume_run", str(nothing.pk))
    assert refused.code == 1
    assert "nothing to resume" in refused.err


@pytest.mark.parametrize(
    ("status", "statuses", "code", "summary"),
    [
        ("finished", ["ok", "ok"], 0, "finished: 2 ok, 0 parse errors, 0 failed, 0 too long"),
        (
            "finished",
            ["ok", "parse_error", "failed", "too_long"],
            3,
            "finished: 1 ok, 1 parse errors, 1 failed, 1 too long",
        ),
        ("paused", ["ok", "pending"], 1, "paused: 1 ok, 0 parse errors, 0 failed, 0 too long, 1 pending"),
        ("cancelled", ["pending"], 1, "cancelled: 0 ok, 0 parse errors, 0 failed, 0 too long, 1 pending"),
        ("failed", ["pending"], 1, "failed: 0 ok, 0 parse errors, 0 failed, 0 too long, 1 pending"),
    ],
)
def test_wait_exit_codes_and_summary(project, monkeypatch, status, statuses, code, summary):
    monkeypatch.setattr(_run_wait, "workers_wait", lambda **kwargs: ["worker@test"])
    run = RunFactory(project=project, status=status, error="endpoint down" if status == "paused" else "")
    for s in statuses:
        CandidateFactory(run=run, status=s, values=None if s != "ok" else {"diagnosis": "x"})
    out = io.StringIO()
    assert _run_wait.run_wait(run, stdout=out) == code
    assert out.getvalue().strip() == f"run {run.pk} {summary}"


def test_ctrl_c_while_waiting_leaves_the_run_going(project, monkeypatch, capsys):
    monkeypatch.setattr(_run_wait, "workers_wait", lambda **kwargs: ["worker@test"])

    def interrupt(seconds):
        raise KeyboardInterrupt

    monkeypatch.setattr(_run_wait.time, "sleep", interrupt)
    run = RunFactory(project=project, status="running", started_at=timezone.now(), heartbeat_at=timezone.now())
    CandidateFactory(run=run, status="pending", values=None)
    assert _run_wait.run_wait(run, stdout=io.StringIO()) == 1
    assert f"run {run.pk} goes on in the background" in capsys.readouterr().err
    run.refresh_from_db()
    assert run.status == "running"


def test_wait_stops_on_a_stalled_run(project, monkeypatch, capsys):
    monkeypatch.setattr(_run_wait, "workers_wait", lambda **kwargs: ["worker@test"])
    long_ago = timezone.now() - timedelta(hours=2)
    run = RunFactory(project=project, status="running", started_at=long_ago, heartbeat_at=long_ago)
    CandidateFactory(run=run, status="pending", values=None)
    out = io.StringIO()
    assert _run_wait.run_wait(run, stdout=out) == 1
    assert out.getvalue().startswith(f"run {run.pk} stalled: 0 ok")
    assert "no worker has reported progress" in capsys.readouterr().err
