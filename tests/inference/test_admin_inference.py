"""The admin lists endpoints, runs and candidates, with a constant number of queries per page."""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import EndpointFactory
from tests.inference.run_helpers import run_with_candidates

pytestmark = pytest.mark.django_db

MODELS = ["modelendpoint", "modelrun", "candidate"]


@pytest.fixture
def admin_client(client):
    user = get_user_model().objects.create_superuser("root", password="pw-123456")
    client.force_login(user)
    return client


@pytest.mark.parametrize("model", MODELS)
def test_every_model_has_a_list_and_a_change_page(admin_client, project, model):
    run = run_with_candidates(project, {"ok": 1, "failed": 1})
    obj = {"modelendpoint": run.endpoint, "modelrun": run, "candidate": run.candidates.first()}[model]
    assert admin_client.get(reverse(f"admin:inference_{model}_changelist")).status_code == 200
    assert admin_client.get(reverse(f"admin:inference_{model}_change", args=[obj.pk])).status_code == 200


def test_run_list_shows_status_and_counts(admin_client, project):
    run_with_candidates(project, {"ok": 4, "failed": 2, "pending": 3}, status="running", name="counted")
    html = admin_client.get(reverse("admin:inference_modelrun_changelist")).content.decode()
    assert "counted" in html and "running" in html
    assert '<td class="field-done">6</td>' in html
    assert '<td class="field-failed">2</td>' in html


def test_admin_is_staff_only(client, researcher):
    client.force_login(researcher)
    response = client.get(reverse("admin:inference_modelrun_changelist"))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


@pytest.mark.parametrize("model", ["modelrun", "candidate"])
def test_admin_lists_need_no_query_per_row(admin_client, project, model):
    url = reverse(f"admin:inference_{model}_changelist")
    run_with_candidates(project, {"ok": 1})
    with CaptureQueriesContext(connection) as few:
        assert admin_client.get(url).status_code == 200
    for _ in range(5):
        run_with_candidates(project, {"ok": 2, "failed": 1}, endpoint=EndpointFactory())
    with CaptureQueriesContext(connection) as many:
        assert admin_client.get(url).status_code == 200
    assert len(many) == len(few)
