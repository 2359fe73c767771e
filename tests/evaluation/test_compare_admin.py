"""The admin action "Compare selected runs" on model runs."""

from urllib.parse import parse_qs, urlparse

import pytest

from tests.factories import ProjectFactory, RunFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(username="admin", is_staff=True, is_superuser=True))
    return client


def _act(client, runs):
    return client.post(
        "/admin/inference/modelrun/",
        {"action": "compare_runs", "_selected_action": [r.pk for r in runs]},
    )


def test_compare_action_redirects_to_the_comparison(admin_client, project):
    runs = [RunFactory(project=project, name="a"), RunFactory(project=project, name="b")]
    response = _act(admin_client, runs)
    assert response.status_code == 302
    url = urlparse(response["Location"])
    assert url.path == "/p/p1/reports/compare/"
    assert parse_qs(url.query)["runs"] == [f"{runs[0].pk},{runs[1].pk}"]


def test_compare_action_refuses_runs_of_several_projects(admin_client, project):
    other = ProjectFactory(slug="p2")
    runs = [RunFactory(project=project), RunFactory(project=other)]
    response = _act(admin_client, runs)
    assert response.status_code == 302
    assert urlparse(response["Location"]).path == "/admin/inference/modelrun/"
    page = admin_client.get(response["Location"]).content.decode()
    assert "Runs of one project can be compared" in page and "p1, p2" in page
