"""Runs without an evaluation of the compared selection: the page's box and button, the
API's missing_runs and evaluate endpoint, queueing each missing run once."""

import re
from urllib.parse import parse_qs, urlparse

import pytest
from django.test import Client

from annotation.models import Document
from evaluation import tasks
from evaluation.models import EvaluationReport
from evaluation.services.comparison_evaluations import EvaluationPlan, evaluation_plan
from evaluation.services.reports import evaluation_process
from tests.factories import CandidateFactory, RunFactory

from .compare_helpers import build_runs
from .helpers import values

pytestmark = pytest.mark.django_db

SELECTION = "language=en&split=test"
PAGE = "/p/p1/reports/compare/"
EVALUATE = "/p/p1/reports/compare/evaluate/"
API = "/api/projects/p1/reports/compare/"
API_EVALUATE = "/api/projects/p1/reports/compare/evaluate/"


@pytest.fixture
def evaluated(project):
    return build_runs(project)


def _unevaluated_run(project, name):
    run = RunFactory(project=project, name=name)
    for i, document in enumerate(Document.objects.filter(project=project).order_by("pk")):
        CandidateFactory(
            run=run, document=document, status="ok", values=values(diagnosis="Pneumonia" if i % 2 else "Migraine")
        )
    return run


@pytest.fixture
def late(project, evaluated):
    return _unevaluated_run(project, "late")


@pytest.fixture
def later(project, evaluated):
    return _unevaluated_run(project, "later")


@pytest.fixture
def sent(monkeypatch):
    """The tasks handed to the broker (none reaches a real one)."""
    calls = []
    monkeypatch.setattr(tasks.evaluation_evaluate, "apply_async", lambda **kw: calls.append(kw))
    return calls


@pytest.fixture
def page_client(client, researcher):
    client.force_login(researcher)
    return client


def _post(client, capture, runs, language="en", split="test"):
    with capture(execute=True):
        return client.post(EVALUATE, {"runs": runs, "language": language, "split": split})


def _reports(run):
    return list(EvaluationReport.objects.filter(run=run).order_by("pk"))


def test_missing_evaluation_shows_the_form_the_box_and_the_button(page_client, evaluated, late):
    response = page_client.get(f"{PAGE}?runs=baseline,late&{SELECTION}")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="runs"' in html  # the selection form stays
    assert "Evaluations missing for language en, split test" in html
    assert f"python manage.py evaluate p1 --run {late.pk} --split test --language en" in html
    assert "Evaluate the missing runs" in html
    assert f'action="{EVALUATE}"' in html and "csrfmiddlewaretoken" in html
    assert "Cannot compare" not in html and "Model comparison: overall" not in html
    assert "Refresh" not in response.headers and 'http-equiv="refresh"' not in html
    # the button follows the configuration of the reference's evaluation
    assert f"evaluation {evaluated['baseline'][1].pk}</a> (run baseline)" in html
    assert "metrics rouge, entity" in html


def test_post_queues_one_evaluation_per_missing_run_once(
    page_client, evaluated, late, later, sent, django_capture_on_commit_callbacks
):
    response = _post(page_client, django_capture_on_commit_callbacks, "baseline,late,later")
    assert response.status_code == 302
    target = urlparse(response["Location"])
    assert target.path == PAGE
    assert parse_qs(target.query) == {"runs": ["baseline,late,later"], "language": ["en"], "split": ["test"]}
    assert len(_reports(evaluated["baseline"][0])) == 1  # evaluated already: nothing queued
    queued = [*_reports(late), *_reports(later)]
    assert [(r.run.name, r.status, r.metrics) for r in queued] == [
        ("late", "queued", ["rouge", "entity"]),
        ("later", "queued", ["rouge", "entity"]),
    ]
    assert all(r.config["language"] == "en" and r.config["split"] == "test" for r in queued)
    assert sent == [{"args": [r.pk], "queue": "evaluation"} for r in queued]
    shown = page_client.get(response["Location"]).content.decode()
    assert "Queued evaluations of language en, split test" in shown

    again = _post(page_client, django_capture_on_commit_callbacks, "baseline,late,later")
    assert again.status_code == 302
    assert [*_reports(late), *_reports(later)] == queued
    assert len(sent) == 2
    assert "Already in progress, not queued again" in page_client.get(again["Location"]).content.decode()


def test_in_progress_page_reloads_until_done_then_shows_the_comparison(
    page_client, evaluated, late, sent, django_capture_on_commit_callbacks
):
    _post(page_client, django_capture_on_commit_callbacks, "baseline,late")
    report = EvaluationReport.objects.get(run=late)
    url = f"{PAGE}?runs=baseline,late&{SELECTION}"

    response = page_client.get(url)
    assert response.status_code == 200 and response["Refresh"] == "5"
    html = response.content.decode()
    assert '<meta http-equiv="refresh" content="5">' in html
    assert f'evaluation {report.pk}</a> <span class="badge">queued</span>' in html
    assert "Evaluate the missing runs" not in html  # nothing left to queue

    EvaluationReport.objects.filter(pk=report.pk).update(status="running", progress_done=3, progress_total=8)
    html = page_client.get(url).content.decode()
    assert '<progress max="8" value="3">' in html and "3 of 8 (38%)" in html

    EvaluationReport.objects.filter(pk=report.pk).update(status="queued", progress_done=0, progress_total=0)
    evaluation_process(report_id=report.pk)
    response = page_client.get(url)
    assert response.status_code == 200 and "Refresh" not in response.headers
    html = response.content.decode()
    assert "Model comparison: overall" in html and "Evaluations missing" not in html
    done = EvaluationReport.objects.get(pk=report.pk)
    assert done.status == "done"
    assert f"evaluation {done.pk}</a>" in html
    assert f"{done.results['overall']['rougeL']:.3f}" in html


def test_a_failed_evaluation_shows_its_error_and_can_be_queued_again(
    page_client, evaluated, late, monkeypatch, django_capture_on_commit_callbacks
):
    def unreachable(**kwargs):
        raise ConnectionError("no broker")

    monkeypatch.setattr(tasks.evaluation_evaluate, "apply_async", unreachable)
    response = _post(page_client, django_capture_on_commit_callbacks, "baseline,late")
    [failed] = _reports(late)
    assert failed.status == "failed"
    response = page_client.get(response["Location"])
    html = response.content.decode()
    assert response.status_code == 200 and "Refresh" not in response.headers
    assert '<span class="missing-error">the task broker (CELERY_BROKER_URL) could not be reached' in html
    assert "Evaluate the missing runs" in html

    sent = []
    monkeypatch.setattr(tasks.evaluation_evaluate, "apply_async", lambda **kw: sent.append(kw))
    _post(page_client, django_capture_on_commit_callbacks, "baseline,late")
    first, second = _reports(late)
    assert first.pk == failed.pk and second.status == "queued"
    assert sent == [{"args": [second.pk], "queue": "evaluation"}]


@pytest.mark.django_db(transaction=True)
def test_an_unreachable_broker_is_reported_at_once(page_client, evaluated, late, monkeypatch):
    """Outside a test transaction the enqueue runs when the request's transaction commits."""

    def unreachable(**kwargs):
        raise ConnectionError("no broker")

    monkeypatch.setattr(tasks.evaluation_evaluate, "apply_async", unreachable)
    response = page_client.post(EVALUATE, {"runs": "baseline,late", "language": "en", "split": "test"}, follow=True)
    [failed] = _reports(late)
    html = response.content.decode()
    assert f"Evaluation {failed.pk} of run late could not be queued: the task broker (CELERY_BROKER_URL)" in html
    assert "Queued evaluations" not in html


def test_the_queued_evaluation_follows_the_comparisons_configuration(
    page_client, evaluated, late, sent, django_capture_on_commit_callbacks
):
    """BERTScore (with its model) when another run's evaluation has it; the reference's
    matcher threshold and policies; queue gpu for BERTScore."""
    reference = evaluated["finetuned"][1]
    reference.config = {
        **reference.config,
        "entity": {**reference.config["entity"], "fuzzy_threshold": 80.0},
        "policies": {**reference.config["policies"], "gold_na": "score"},
    }
    reference.save()
    other = evaluated["advanced"][1]
    other.metrics = ["rouge", "entity", "bertscore"]
    other.config = {**other.config, "bertscore": {"requested": {"model": "/models/roberta"}, "pairs": "all"}}
    other.save()
    html = page_client.get(f"{PAGE}?runs=baseline,advanced,late&reference=finetuned&{SELECTION}").content.decode()
    assert (
        f"python manage.py evaluate p1 --run {late.pk} --split test --language en --metrics rouge,entity,bertscore "
        "--fuzzy-threshold 80 --gold-na score --bertscore-model /models/roberta"
    ) in html
    with django_capture_on_commit_callbacks(execute=True):
        page_client.post(
            EVALUATE, {"runs": "baseline,advanced,late", "reference": "finetuned", "language": "en", "split": "test"}
        )
    [queued] = _reports(late)
    assert queued.metrics == ["rouge", "entity", "bertscore"]
    assert queued.config["entity"]["fuzzy_threshold"] == 80.0
    assert queued.config["policies"]["gold_na"] == "score"
    assert queued.config["bertscore"]["requested"]["model"] == "/models/roberta"
    assert sent == [{"args": [queued.pk], "queue": "gpu"}]


def test_plan_without_finished_evaluations_uses_the_defaults(late):
    plan = evaluation_plan(runs=[late], reference=late, reports={})
    assert plan == EvaluationPlan(metrics=["rouge", "entity"], settings={})
    assert plan.command(project=late.project, run=late, language=None, split=None) == (
        f"python manage.py evaluate p1 --run {late.pk}"
    )


def test_api_400_lists_the_missing_runs(api_client, researcher, evaluated, late, later):
    api_client.force_authenticate(researcher)
    response = api_client.get(f"{API}?runs=baseline,late,later&{SELECTION}")
    assert response.status_code == 400
    data = response.json()
    assert set(data) == {"detail", "errors", "error_count", "missing_runs"}
    assert data["error_count"] == 2
    assert [e["field"] for e in data["errors"]] == ["runs", "runs"]
    assert "'late'" in data["errors"][0]["message"] and "'later'" in data["errors"][1]["message"]
    assert [(m["id"], m["name"], m["evaluation"]) for m in data["missing_runs"]] == [
        (late.pk, "late", None),
        (later.pk, "later", None),
    ]
    assert (
        data["missing_runs"][0]["command"] == f"python manage.py evaluate p1 --run {late.pk} --split test --language en"
    )


def test_api_evaluate_answers_202_with_the_queued_ids(
    api_client, researcher, evaluated, late, later, sent, django_capture_on_commit_callbacks
):
    api_client.force_authenticate(researcher)
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(f"{API_EVALUATE}?runs=baseline,late,later&{SELECTION}")
    assert response.status_code == 202
    data = response.json()
    queued = [*_reports(late), *_reports(later)]
    assert [e["id"] for e in data["queued"]] == [r.pk for r in queued]
    assert [e["run"]["name"] for e in data["queued"]] == ["late", "later"]
    assert data["in_progress"] == []
    assert (data["language"], data["split"], data["metrics"]) == ("en", "test", ["rouge", "entity"])
    assert data["configuration_from"] == evaluated["baseline"][1].pk
    assert len(sent) == 2

    # the compare endpoint now names the pending evaluations
    missing = api_client.get(f"{API}?runs=baseline,late,later&{SELECTION}").json()["missing_runs"]
    assert [m["evaluation"]["id"] for m in missing] == [r.pk for r in queued]
    assert {m["evaluation"]["status"] for m in missing} == {"queued"}

    with django_capture_on_commit_callbacks(execute=True):
        again = api_client.post(f"{API_EVALUATE}?runs=baseline,late,later&{SELECTION}")
    assert again.status_code == 202
    assert again.json()["queued"] == []
    assert [e["id"] for e in again.json()["in_progress"]] == [r.pk for r in queued]
    assert len(sent) == 2 and EvaluationReport.objects.filter(run__in=[late, later]).count() == 2

    for report in queued:
        evaluation_process(report_id=report.pk)
    assert api_client.get(f"{API}?runs=baseline,late,later&{SELECTION}").status_code == 200
    nothing = api_client.post(f"{API_EVALUATE}?runs=baseline,late,later&{SELECTION}")
    assert nothing.status_code == 200 and nothing.json()["queued"] == nothing.json()["in_progress"] == []


def test_api_evaluate_refuses_bad_input(api_client, researcher, evaluated):
    api_client.force_authenticate(researcher)
    assert api_client.post(API_EVALUATE).json()["errors"][0]["field"] == "runs"
    unknown = api_client.post(f"{API_EVALUATE}?runs=ghost")
    assert unknown.status_code == 400 and "'ghost'" in unknown.json()["detail"]
    bad_split = api_client.post(f"{API_EVALUATE}?runs=baseline&split=dev")
    assert bad_split.status_code == 400 and bad_split.json()["errors"][0]["field"] == "split"
    assert api_client.get(f"{API_EVALUATE}?runs=baseline").status_code == 405


def test_downloads_and_charts_still_refuse_a_missing_evaluation(page_client, evaluated, late):
    assert page_client.get(f"{PAGE}?runs=baseline,late&{SELECTION}&format=csv").status_code == 400
    assert page_client.get(f"{PAGE}bars.svg?runs=baseline,late&{SELECTION}").status_code == 400


@pytest.mark.parametrize(("who", "status"), [("annotator", 403), ("reviewer", 403), ("outsider", 404)])
def test_evaluating_is_refused_to_annotators_reviewers_and_outsiders(
    client, api_client, evaluated, late, sent, who, status, request, django_capture_on_commit_callbacks
):
    user = request.getfixturevalue(who)
    client.force_login(user)
    api_client.force_authenticate(user)
    assert client.get(f"{PAGE}?runs=baseline,late&{SELECTION}").status_code == status
    assert _post(client, django_capture_on_commit_callbacks, "baseline,late").status_code == status
    with django_capture_on_commit_callbacks(execute=True):
        assert api_client.post(f"{API_EVALUATE}?runs=baseline,late&{SELECTION}").status_code == status
    assert _reports(late) == [] and sent == []


def test_login_and_csrf_required(client, researcher, evaluated, late, sent):
    response = client.post(EVALUATE, {"runs": "baseline,late", "language": "en", "split": "test"})
    assert response.status_code == 302 and "login" in response["Location"]
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(researcher)
    assert strict.post(EVALUATE, {"runs": "baseline,late", "language": "en", "split": "test"}).status_code == 403
    page = strict.get(f"{PAGE}?runs=baseline,late&{SELECTION}").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    accepted = strict.post(
        EVALUATE, {"runs": "baseline,late", "language": "en", "split": "test", "csrfmiddlewaretoken": token}
    )
    assert accepted.status_code == 302
    assert [r.status for r in _reports(late)] == ["queued"]
    assert client.get(f"{API_EVALUATE}").status_code in (401, 403)
    assert _reports(evaluated["baseline"][0])[0].status == "done"
