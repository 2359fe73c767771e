"""``/api/projects/<slug>/evaluations/``: who may call it, and that it answers what
``evaluate --json`` writes."""

import pytest

from evaluation.models import EvaluationReport
from evaluation.services import evaluation_run
from tests.factories import MembershipFactory, ProjectFactory, RunFactory, UserFactory

pytestmark = pytest.mark.django_db

LIST = "/api/projects/p1/evaluations/"


@pytest.fixture
def stored(run, small_case):
    return evaluation_run(run=run)


def detail_url(report):
    return f"/api/projects/p1/evaluations/{report.pk}/"


@pytest.mark.parametrize("method", ["get", "post"])
def test_anonymous_is_refused(api_client, stored, method):
    for url in (LIST, detail_url(stored)):
        response = getattr(api_client, method)(url, {"run": "baseline"}, format="json")
        assert response.status_code in (401, 403)
        if method == "get" or url == LIST:
            assert response.status_code == 401


@pytest.mark.parametrize(
    ("who", "status"),
    [("outsider", 404), ("annotator", 403), ("researcher", 200), ("reviewer", 200), ("staff", 200)],
)
def test_permission_matrix(api_client, stored, who, status, request):
    user = UserFactory(username="boss", is_staff=True) if who == "staff" else request.getfixturevalue(who)
    api_client.force_authenticate(user)
    assert api_client.get(LIST).status_code == status
    assert api_client.get(detail_url(stored)).status_code == status
    post = api_client.post(LIST, {"run": "baseline", "metrics": ["rouge"]}, format="json")
    assert post.status_code == (201 if status == 200 else status)
    if status != 200:
        assert "detail" in post.json()
        assert EvaluationReport.objects.count() == 1  # nothing written


def test_post_evaluates_and_answers_the_report(api_client, researcher, run, other_run, small_case):
    api_client.force_authenticate(researcher)
    response = api_client.post(
        LIST,
        {"run": str(run.pk), "compare": "finetuned", "metrics": "rouge,entity", "language": "en", "split": "test"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    report = EvaluationReport.objects.get(pk=body["id"])
    assert report.created_by == researcher
    assert body["status"] == "done"
    for key in ("run", "gold_version", "config", "categories", "overall", "compare"):
        assert body[key] == report.results[key], key
    assert body["compare"]["run"]["name"] == "finetuned"
    assert body["config"]["language"] == "en"

    detail = api_client.get(detail_url(report)).json()
    assert detail == body
    listing = api_client.get(LIST).json()
    assert listing["count"] == 1
    entry = listing["results"][0]
    assert entry["id"] == report.pk
    assert entry["run"] == {"id": run.pk, "name": "baseline"}
    assert entry["compare"] == {"id": other_run.pk, "name": "finetuned"}
    assert entry["overall"] == report.results["overall"]
    assert "categories" not in entry


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({}, 400, "run"),
        ({"run": "nosuch"}, 404, "no run is named 'nosuch'"),
        ({"run": "baseline", "metrics": ["bleu"]}, 400, "unknown metric 'bleu'"),
        ({"run": "baseline", "unparsed": "drop"}, 400, "unparsed"),
        ({"run": "baseline", "metrics": [1, 2]}, 400, "metrics"),
        ({"run": "baseline", "split": "dev"}, 400, "unknown split 'dev'"),
        ({"run": "baseline", "fuzzy_threshold": 101}, 400, "fuzzy_threshold"),
        ({"run": "baseline", "matcher": "umls"}, 400, "matcher"),
        ({"run": "baseline", "compare": "baseline"}, 400, "compared with itself"),
    ],
)
def test_post_refusals(api_client, researcher, run, body, status, message):
    api_client.force_authenticate(researcher)
    response = api_client.post(LIST, body, format="json")
    assert response.status_code == status
    assert message in str(response.json())
    assert not EvaluationReport.objects.exists()


def test_run_of_another_project_is_not_found(api_client, researcher, run):
    RunFactory(project=ProjectFactory(slug="p2"), name="theirs")
    api_client.force_authenticate(researcher)
    response = api_client.post(LIST, {"run": "theirs"}, format="json")
    assert response.status_code == 404


def test_report_of_another_project_is_not_found(api_client, researcher, stored):
    other = ProjectFactory(slug="p2")
    MembershipFactory(project=other, user=researcher, role="researcher")
    api_client.force_authenticate(researcher)
    assert api_client.get(f"/api/projects/p2/evaluations/{stored.pk}/").status_code == 404
    assert api_client.get("/api/projects/p1/evaluations/999999/").status_code == 404


def test_post_async_answers_202_with_a_queued_report(
    api_client, researcher, run, monkeypatch, django_capture_on_commit_callbacks
):
    from evaluation import tasks

    sent = []
    monkeypatch.setattr(tasks.evaluation_evaluate, "apply_async", lambda **kw: sent.append(kw))
    api_client.force_authenticate(researcher)
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(LIST, {"run": "baseline", "async": True}, format="json")
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "queued"
    assert body["categories"] is None and body["run"] == {"id": run.pk, "name": "baseline"}
    assert sent == [{"args": [body["id"]], "queue": "evaluation"}]


def test_schema_lists_the_endpoints(api_client, researcher):
    api_client.force_authenticate(researcher)
    schema = api_client.get("/api/schema/?format=json").json()
    assert "/api/projects/{slug}/evaluations/" in schema["paths"]
    assert "post" in schema["paths"]["/api/projects/{slug}/evaluations/"]
    assert "/api/projects/{slug}/evaluations/{id}/" in schema["paths"]


def test_stored_report_lists_categories_in_schema_order(api_client, researcher, run, other_run, small_case):
    # PostgreSQL's jsonb sorts object keys by length; the answer restores the schema order.
    report = evaluation_run(run=run, compare=other_run)
    api_client.force_authenticate(researcher)
    body = api_client.get(detail_url(report)).json()
    keys = [c.key for c in run.project.categories.order_by("order") if c.text_metrics]
    assert list(body["categories"]) == keys
    assert list(body["compare"]["categories"]) == keys
