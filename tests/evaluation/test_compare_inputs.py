"""Odd query strings on the comparison and error-analysis pages and APIs answer 400 naming
the parameter, never 500, and queue nothing."""

import pytest

from evaluation.models import EvaluationReport

from .compare_helpers import build_runs

pytestmark = pytest.mark.django_db

COMPARE_URLS = ("/p/p1/reports/compare/", "/p/p1/reports/compare/bars.svg", "/api/projects/p1/reports/compare/")


@pytest.fixture
def ids(project):
    runs = build_runs(project)
    return [runs[name][0].pk for name in ("baseline", "finetuned", "advanced")]


def _field(response):
    return response.json()["errors"][0]["field"]


@pytest.mark.parametrize("runs", ["²", "1,²", "999999999999999999999"])
def test_unicode_digits_and_huge_ids_are_unknown_runs(client, researcher, ids, runs):
    client.force_login(researcher)
    for url in COMPARE_URLS:
        response = client.get(url, {"runs": runs, "language": "en", "split": "test"})
        assert response.status_code == 400, url
        assert "no run" in response.content.decode()
    response = client.get("/api/projects/p1/reports/errors/", {"runs": runs})
    assert response.status_code == 400
    assert _field(response) == "runs"


@pytest.mark.parametrize(("reference", "message"), [("nope", "no run 'nope'"), ("1,2", "name one run")])
def test_a_bad_reference_is_named_as_such(client, researcher, ids, reference, message):
    client.force_login(researcher)
    runs = ",".join(map(str, ids))
    response = client.get(
        "/api/projects/p1/reports/compare/",
        {"runs": runs, "reference": reference.replace("1,2", f"{ids[0]},{ids[1]}"), "split": "test"},
    )
    assert response.status_code == 400
    assert _field(response) == "reference"
    assert message.split("'")[0] in response.json()["detail"]


@pytest.mark.parametrize("language", ["\x00", "xx<script>", "zz"])
def test_a_language_the_project_lacks_is_refused_and_queues_nothing(client, researcher, ids, language):
    client.force_login(researcher)
    runs = ",".join(map(str, ids))
    before = EvaluationReport.objects.count()
    page = client.post(f"/p/p1/reports/compare/evaluate/?runs={runs}", {"runs": runs, "language": language})
    api = client.post(f"/api/projects/p1/reports/compare/evaluate/?runs={runs}&language={language}")
    assert page.status_code == 400 and api.status_code == 400
    assert _field(api) == "language"
    assert EvaluationReport.objects.count() == before
    for url in ("/api/projects/p1/reports/errors/", "/api/projects/p1/reports/agreement/"):
        response = client.get(url, {"language": language})
        assert response.status_code == 400, url
        assert _field(response) == "language"


def test_the_unknown_language_message_lists_each_language_once(client, researcher, ids):
    client.force_login(researcher)
    response = client.get("/api/projects/p1/reports/errors/", {"language": "de"})
    assert response.status_code == 400
    assert response.json()["detail"].endswith("choose from en")


@pytest.mark.parametrize(("params", "field"), [({"metric": "xyz"}, "metric"), ({"format": "pdf"}, "format")])
def test_bad_metric_and_format_name_their_parameter(client, researcher, ids, params, field):
    client.force_login(researcher)
    runs = ",".join(map(str, ids))
    response = client.get("/api/projects/p1/reports/compare/", {"runs": runs, "split": "test", **params})
    assert response.status_code == 400
    assert _field(response) == field
