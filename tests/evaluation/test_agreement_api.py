"""Agreement over the API and pages: who may see it, the background job with progress,
the stale marker."""

import pytest

from evaluation import tasks_agreement
from evaluation.models import AgreementReport
from evaluation.services.agreement import agreement_run
from tests.factories import UserFactory

from .agreement_helpers import annotate, small_agreement_case

pytestmark = pytest.mark.django_db

LIST = "/api/projects/p1/agreement/"


@pytest.fixture
def case(project, make_member):
    return small_agreement_case(project, make_member)


@pytest.fixture
def sent(monkeypatch):
    calls = []
    monkeypatch.setattr(tasks_agreement.agreement_compute_task, "apply_async", lambda **kw: calls.append(kw))
    return calls


@pytest.mark.parametrize(
    ("role", "expected"), [("researcher", 200), ("reviewer", 200), ("annotator", 403), ("outsider", 404)]
)
def test_who_may_list_reports(api_client, project, case, role, expected, make_member):
    user = UserFactory(username="outsider2") if role == "outsider" else make_member(project, role)
    report = agreement_run(project=project)
    api_client.force_authenticate(user)
    assert api_client.get(LIST).status_code == expected
    assert api_client.get(f"{LIST}{report.pk}/").status_code == expected
    response = api_client.post(LIST, {}, format="json")
    assert response.status_code == (202 if expected == 200 else expected)
    if expected != 200:
        assert "alice" not in response.content.decode()


def test_staff_may_start_and_read(api_client, project, case, sent, django_capture_on_commit_callbacks):
    api_client.force_authenticate(UserFactory(username="boss", is_staff=True))
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(LIST, {"language": "en"}, format="json")
    assert response.status_code == 202
    assert response.json()["status"] == "queued"


def test_post_starts_a_job_that_the_worker_computes_with_progress(
    api_client, project, researcher, case, sent, django_capture_on_commit_callbacks
):
    api_client.force_authenticate(researcher)
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(LIST, {"language": "en"}, format="json")
    assert response.status_code == 202
    body = response.json()
    report_id = body["id"]
    assert body["status"] == "queued" and body["categories"] is None
    assert body["progress"] == {"done": 0, "total": 4}
    assert sent == [{"args": [report_id], "queue": "evaluation"}]

    tasks_agreement.agreement_compute_task(report_id)  # what the worker runs
    detail = api_client.get(f"{LIST}{report_id}/").json()
    assert detail["status"] == "done" and detail["error"] == ""
    assert detail["progress"] == {"done": 4, "total": 4}
    assert detail["stale"] is False
    in_process = agreement_run(project=project, language="en")
    assert detail["categories"] == in_process.results["categories"]
    assert detail["categories"]["diagnosis"]["items"] == 4
    assert detail["config"]["language"] == "en"

    listed = api_client.get(LIST).json()
    entries = listed["results"] if isinstance(listed, dict) else listed
    assert [e["id"] for e in entries] == [in_process.pk, report_id]

    # a later annotation makes both reports stale
    annotate(case["documents"][2], case["annotators"][1], judgements={"diagnosis": "correct"})
    assert api_client.get(f"{LIST}{report_id}/").json()["stale"] is True
    entries = api_client.get(LIST).json()
    entries = entries["results"] if isinstance(entries, dict) else entries
    assert all(e["stale"] for e in entries)


def test_a_queued_report_is_computed_once(project, case, sent, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        report = agreement_run(project=project, asynchronous=True)
    tasks_agreement.agreement_compute_task(report.pk)
    first = AgreementReport.objects.get(pk=report.pk).results
    tasks_agreement.agreement_compute_task(report.pk)  # redelivered: skipped
    assert AgreementReport.objects.get(pk=report.pk).results == first


def test_a_failure_is_stored_on_the_report(project, case, sent, monkeypatch, django_capture_on_commit_callbacks):
    from evaluation.services import agreement as service

    with django_capture_on_commit_callbacks(execute=True):
        report = agreement_run(project=project, asynchronous=True)

    def broken(**kwargs):
        raise RuntimeError("patient text must not leak")

    monkeypatch.setattr(service, "agreement_compute", broken)
    with pytest.raises(RuntimeError):
        tasks_agreement.agreement_compute_task(report.pk)
    report.refresh_from_db()
    assert report.status == "failed" and report.error == "unexpected failure (RuntimeError)"


def test_an_unreachable_broker_fails_the_report(project, case, monkeypatch, django_capture_on_commit_callbacks):
    def down(**kwargs):
        raise ConnectionError("no broker")

    monkeypatch.setattr(tasks_agreement.agreement_compute_task, "apply_async", down)
    with django_capture_on_commit_callbacks(execute=True):
        report = agreement_run(project=project, asynchronous=True)
    report.refresh_from_db()
    assert report.status == "failed" and "CELERY_BROKER_URL" in report.error


def test_api_refuses_a_project_without_submitted_annotations(api_client, project, researcher):
    api_client.force_authenticate(researcher)
    response = api_client.post(LIST, {"split": "test"}, format="json")
    assert response.status_code == 400
    assert "no submitted annotations in project 'p1' (split 'test')" in response.json()["detail"]
    response = api_client.post(LIST, {"split": "dev"}, format="json")
    assert response.status_code == 400 and "unknown split 'dev'" in response.json()["detail"]
    assert api_client.get(f"{LIST}999/").status_code == 404


# --- pages ------------------------------------------------------------------------------


def test_pages_show_the_latest_report_and_the_stale_marker(client, project, researcher, case):
    report = agreement_run(project=project, language="en")
    client.force_login(researcher)
    page = client.get("/p/p1/agreement/").content.decode()
    assert "Inter-annotator agreement" in page and "Compute agreement" in page
    assert f"agreement {report.pk}" in page and 'data-category="diagnosis"' in page
    assert "Stale:" not in page
    detail = client.get(f"/p/p1/agreement/{report.pk}/").content.decode()
    assert "Agreement per category" in detail and "alice" in detail
    annotate(case["documents"][2], case["annotators"][1], judgements={"diagnosis": "correct"})
    assert "Stale:" in client.get("/p/p1/agreement/").content.decode()
    assert "Stale:" in client.get(f"/p/p1/agreement/{report.pk}/").content.decode()


def test_start_button_queues_a_job(client, project, researcher, case, sent, django_capture_on_commit_callbacks):
    client.force_login(researcher)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/p/p1/agreement/", {"language": "en", "split": ""})
    report = AgreementReport.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/p/p1/agreement/{report.pk}/"
    assert sent == [{"args": [report.pk], "queue": "evaluation"}]
    page = client.get(response["Location"]).content.decode()
    assert "queued on a worker" in page and "0 of 4" in page


@pytest.mark.parametrize(("role", "expected"), [("annotator", 403), ("outsider", 404)])
def test_pages_refuse_annotators_and_outsiders(client, project, case, role, expected, make_member):
    user = UserFactory(username="outsider2") if role == "outsider" else make_member(project, role)
    report = agreement_run(project=project)
    client.force_login(user)
    assert client.get("/p/p1/agreement/").status_code == expected
    assert client.get(f"/p/p1/agreement/{report.pk}/").status_code == expected
    assert client.post("/p/p1/agreement/").status_code == expected
