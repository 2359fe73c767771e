"""Report pages and the admin."""

import pytest

from evaluation.models import EvaluationReport
from evaluation.services import evaluation_run
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def stored(run, small_case):
    return evaluation_run(run=run)


def test_detail_page_shows_the_table(client, researcher, stored):
    client.force_login(researcher)
    response = client.get(f"/p/p1/evaluations/{stored.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    diagnosis = stored.results["categories"]["diagnosis"]
    assert "Evaluation " + str(stored.pk) in html
    assert "Diagnosis" in html and "diagnosis" in html
    assert f"{diagnosis['rouge1']:.3f}" in html
    lo, hi = diagnosis["ci"]["rouge1"]
    assert f"[{lo:.3f}, {hi:.3f}]" in html
    assert "Overall (macro mean)" in html
    assert stored.gold_version in html
    assert "skip gold N/A" in html  # the configuration
    assert f"/api/projects/p1/evaluations/{stored.pk}/" in html
    assert "life_style" in html and "age</span>" not in html


def test_detail_page_with_compare(client, researcher, run, other_run, small_case):
    report = evaluation_run(run=run, compare=other_run)
    client.force_login(researcher)
    html = client.get(f"/p/p1/evaluations/{report.pk}/").content.decode()
    assert "Compared with finetuned" in html


def test_queued_report_page(client, researcher, run):
    report = EvaluationReport.objects.create(project=run.project, run=run, status="queued", config={})
    client.force_login(researcher)
    html = client.get(f"/p/p1/evaluations/{report.pk}/").content.decode()
    assert "queued on a worker" in html


def test_list_page(client, reviewer, stored):
    client.force_login(reviewer)
    response = client.get("/p/p1/evaluations/")
    assert response.status_code == 200
    html = response.content.decode()
    assert f"/p/p1/evaluations/{stored.pk}/" in html
    assert "baseline" in html
    assert f"{stored.results['overall']['rouge1']:.3f}" in html
    filtered = client.get(f"/p/p1/evaluations/?run={stored.run_id + 1000}").content.decode()
    assert f"/p/p1/evaluations/{stored.pk}/" not in filtered


def test_empty_list_page_says_how(client, researcher):
    client.force_login(researcher)
    assert "python manage.py evaluate p1 --run RUN" in client.get("/p/p1/evaluations/").content.decode()


@pytest.mark.parametrize(("who", "status"), [("outsider", 404), ("annotator", 403)])
def test_pages_refuse_outsiders_and_annotators(client, stored, who, status, request):
    client.force_login(request.getfixturevalue(who))
    assert client.get("/p/p1/evaluations/").status_code == status
    assert client.get(f"/p/p1/evaluations/{stored.pk}/").status_code == status


def test_unknown_report_is_404(client, researcher):
    client.force_login(researcher)
    assert client.get("/p/p1/evaluations/999999/").status_code == 404


def test_admin_lists_and_shows_reports(client, stored):
    client.force_login(UserFactory(username="admin", is_staff=True, is_superuser=True))
    assert client.get("/admin/evaluation/evaluationreport/").status_code == 200
    assert client.get(f"/admin/evaluation/evaluationreport/{stored.pk}/change/").status_code == 200
