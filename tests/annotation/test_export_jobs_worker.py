"""An export job end to end with a REAL Celery worker process (the worker fixture of
tests/inference/test_integration_worker.py): created over the API, enqueued on commit,
written by the worker, downloaded."""

import time

import pytest
from django.urls import reverse

from tests.factories import DocumentFactory, GoldFactory, MembershipFactory, ProjectFactory, UserFactory
from tests.inference.test_integration_worker import worker  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def export_env(monkeypatch, settings, tmp_path):
    """The worker process reads ELMTEX_EXPORT_DIR from its environment (set before it starts)."""
    path = str(tmp_path / "exports")
    monkeypatch.setenv("ELMTEX_EXPORT_DIR", path)
    settings.ELMTEX_EXPORT_DIR = path
    return path


def test_an_export_job_on_a_real_worker(export_env, worker, api_client, run_cli, tmp_path):  # noqa: F811
    project = ProjectFactory(slug="live-export")
    for i in range(1, 6):
        GoldFactory(document=DocumentFactory(project=project, external_id=str(i)))
    user = UserFactory(username="live-res")
    MembershipFactory(project=project, user=user, role="researcher")
    api_client.force_authenticate(user)

    created = api_client.post(reverse("api-export-list", args=[project.slug]), {"format": "jsonl"}, format="json")
    assert created.status_code == 202, created.json()
    url = reverse("api-export-detail", args=[project.slug, created.json()["id"]])
    deadline = time.monotonic() + 60
    while (detail := api_client.get(url).json())["status"] in ("queued", "running"):
        assert time.monotonic() < deadline, detail
        time.sleep(0.2)
    assert detail["status"] == "done", detail["error"]
    assert detail["progress"] == {"done": 5, "total": 5, "percent": 100.0}

    out = tmp_path / "cli.jsonl"
    assert run_cli("export_gold", project.slug, "--out", str(out)).code == 0
    download = api_client.get(detail["download_url"])
    assert b"".join(download.streaming_content) == out.read_bytes()
