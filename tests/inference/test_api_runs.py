"""The run API (``/api/projects/<slug>/runs/...``): who may call what, the progress
numbers, candidates, and starting / cancelling / resuming runs."""

from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone

from inference.models import Candidate, ModelRun
from tests.factories import CandidateFactory, DocumentFactory, EndpointFactory, ProjectFactory
from tests.inference.run_helpers import CONFIG, MIXED, ROLES, run_with_candidates

pytestmark = pytest.mark.django_db


def base(run) -> str:
    return f"/api/projects/p1/runs/{run.pk}/"


# --- role x endpoint matrix -------------------------------------------------------------

READ = {"researcher": 200, "reviewer": 200, "annotator": 403, "outsider": 404, "staff": 200}

# name: (method, url under the run or the project, body, {role: status})
MATRIX = {
    "list": ("get", "/api/projects/p1/runs/", None, READ),
    "create": (
        "post",
        "/api/projects/p1/runs/",
        {"endpoint": "tgi-x", "name": "matrix-run"},
        {"researcher": 201, "reviewer": 403, "annotator": 403, "outsider": 404, "staff": 201},
    ),
    "detail": ("get", "{run}", None, READ),
    "progress": ("get", "{run}progress/", None, READ),
    "candidates": ("get", "{run}candidates/", None, READ),
    "cancel": (
        "post",
        "{run}cancel/",
        None,
        {"researcher": 200, "reviewer": 403, "annotator": 403, "outsider": 404, "staff": 200},
    ),
    "resume": (
        "post",
        "{run}resume/",
        None,
        {"researcher": 200, "reviewer": 403, "annotator": 403, "outsider": 404, "staff": 200},
    ),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", list(MATRIX))
def test_permission_matrix(api_client, project, people, name, role, django_capture_on_commit_callbacks):
    method, url, body, expected = MATRIX[name]
    EndpointFactory(name="tgi-x")
    status = "paused" if name == "resume" else "running"
    run = run_with_candidates(project, {"ok": 1, "failed": 1}, status=status, heartbeat_at=timezone.now())
    api_client.force_authenticate(people[role])
    with django_capture_on_commit_callbacks(execute=False):
        response = getattr(api_client, method)(url.format(run=base(run)), data=body, format="json")
    assert response.status_code == expected[role], response.content
    if response.status_code in (403, 404):
        error = response.json()
        assert error["detail"] and error["error_count"] == 1
        assert "flu" not in response.content.decode()


@pytest.mark.parametrize("name", list(MATRIX))
def test_anonymous_gets_401(api_client, project, name):
    method, url, body, _ = MATRIX[name]
    run = run_with_candidates(project, {"ok": 1})
    response = getattr(api_client, method)(url.format(run=base(run)), data=body, format="json")
    assert response.status_code == 401
    assert "Token" in response.json()["detail"]


def test_a_run_of_another_project_is_not_found(api_client, project, researcher):
    other = run_with_candidates(ProjectFactory(slug="other"), {"ok": 1})
    api_client.force_authenticate(researcher)
    for suffix in ["", "progress/", "candidates/"]:
        response = api_client.get(f"/api/projects/p1/runs/{other.pk}/{suffix}")
        assert response.status_code == 404
        assert f"run {other.pk} does not exist in project 'p1'" in response.json()["detail"]


# --- numbers --------------------------------------------------------------------------


def test_progress_counts_the_candidates_statuses(api_client, researcher, run):
    api_client.force_authenticate(researcher)
    progress = api_client.get(base(run) + "progress/").json()
    assert progress["id"] == run.pk
    assert progress["status"] == "running"
    assert {k: progress[k] for k in MIXED} == MIXED
    assert progress["total"] == 15
    assert progress["done"] == 11
    assert progress["prompt_tokens"] == 11 * 100
    assert progress["generated_tokens"] == 11 * 20
    assert progress["docs_per_s"] > 0
    assert progress["eta_s"] > 0


def test_progress_follows_candidates_as_they_change(api_client, researcher, run):
    api_client.force_authenticate(researcher)
    Candidate.objects.filter(run=run, status="pending").update(status="ok")
    progress = api_client.get(base(run) + "progress/").json()
    assert (progress["pending"], progress["ok"], progress["done"]) == (0, 9, 15)
    assert progress["eta_s"] == 0


def test_detail_shows_config_progress_and_timestamps(api_client, researcher, run):
    api_client.force_authenticate(researcher)
    data = api_client.get(base(run)).json()
    assert data["name"] == run.name
    assert data["project"] == "p1"
    assert data["status"] == "running"
    assert data["strategy"] == "naive"
    assert data["endpoint"] == run.endpoint.name
    assert data["config"] == CONFIG
    assert {k: data["progress"][k] for k in MIXED} == MIXED
    assert data["progress"]["total"] == 15
    assert data["started_at"] and data["heartbeat_at"] and data["finished_at"] is None


def test_a_running_run_without_worker_progress_is_shown_stalled(api_client, researcher, project):
    old = timezone.now() - timedelta(hours=1)
    run = run_with_candidates(project, {"pending": 2}, status="running", started_at=old, heartbeat_at=old)
    api_client.force_authenticate(researcher)
    assert api_client.get(base(run)).json()["status"] == "stalled"
    assert api_client.get(base(run) + "progress/").json()["status"] == "stalled"
    assert api_client.get("/api/projects/p1/runs/").json()["results"][0]["status"] == "stalled"


def test_list_progress_equals_the_detail_progress(api_client, researcher, project, run):
    finished = run_with_candidates(project, {"ok": 3, "failed": 1}, status="finished")
    imported = run_with_candidates(project, {"ok": 2}, tokens=None, status="finished", endpoint=None, source="imported")
    empty = run_with_candidates(project, {}, status="queued", started_at=None)
    api_client.force_authenticate(researcher)
    listed = {r["id"]: r for r in api_client.get("/api/projects/p1/runs/").json()["results"]}
    assert list(listed) == [empty.pk, imported.pk, finished.pk, run.pk]  # newest first
    for r in (finished, imported, empty):
        detail = api_client.get(base(r) + "progress/").json()
        detail.pop("id")
        assert listed[r.pk]["progress"] == detail
    assert "config" not in listed[run.pk]
    assert listed[imported.pk]["endpoint"] is None
    assert listed[empty.pk]["progress"]["total"] == 0


def test_runs_list_costs_the_same_queries_for_many_runs(api_client, researcher, project, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    run_with_candidates(project, {"ok": 1})
    api_client.force_authenticate(researcher)
    with CaptureQueriesContext(connection) as few:
        assert api_client.get("/api/projects/p1/runs/").status_code == 200
    for _ in range(6):
        run_with_candidates(project, {"ok": 2, "failed": 1}, endpoint=EndpointFactory())
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = api_client.get("/api/projects/p1/runs/")
    assert response.json()["count"] == 7


# --- candidates -------------------------------------------------------------------------


def test_candidates_list_and_filter(api_client, researcher, run):
    api_client.force_authenticate(researcher)
    everything = api_client.get(base(run) + "candidates/").json()
    assert everything["count"] == 15
    item = everything["results"][0]
    assert set(item) >= {
        "id",
        "document",
        "patient_id",
        "language",
        "status",
        "values",
        "raw_output",
        "error",
        "attempts",
        "latency_ms",
        "prompt_tokens",
        "generated_tokens",
    }
    failed = api_client.get(base(run) + "candidates/?status=failed").json()
    assert failed["count"] == 3
    assert {c["status"] for c in failed["results"]} == {"failed"}
    assert {c["error"] for c in failed["results"]} == {"boom: HTTP 500"}
    ok = api_client.get(base(run) + "candidates/", {"status": "ok"}).json()
    assert [c["values"] for c in ok["results"]] == [{"diagnosis": "flu"}] * 5


def test_candidates_are_in_patient_id_order_and_paginated(api_client, researcher, project):
    run = run_with_candidates(project, {})
    for pid in ["b", "a", "c"]:
        CandidateFactory(run=run, document=DocumentFactory(project=project, external_id=pid))
    api_client.force_authenticate(researcher)
    data = api_client.get(base(run) + "candidates/").json()
    assert [c["patient_id"] for c in data["results"]] == ["a", "b", "c"]
    assert data["next"] is None


def test_an_unknown_candidate_status_is_refused(api_client, researcher, run):
    api_client.force_authenticate(researcher)
    response = api_client.get(base(run) + "candidates/?status=great")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "status"


# --- create, cancel, resume -------------------------------------------------------------


@pytest.fixture
def documents(project):
    return [DocumentFactory(project=project, external_id=str(i), split="test" if i < 3 else "train") for i in range(5)]


def test_create_starts_a_queued_run_and_enqueues_it(
    api_client, researcher, project, documents, django_capture_on_commit_callbacks
):
    EndpointFactory(name="tgi-x")
    api_client.force_authenticate(researcher)
    body = {"endpoint": "tgi-x", "strategy": "naive", "name": "first", "split": "test", "limit": 2}
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = api_client.post("/api/projects/p1/runs/", body, format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    run = ModelRun.objects.get(pk=data["id"])
    assert (data["name"], data["status"], data["endpoint"]) == ("first", "queued", "tgi-x")
    assert data["selection"] == {"language": None, "split": "test", "limit": 2}
    assert data["progress"]["total"] == data["progress"]["pending"] == 2
    assert data["config"]["endpoint"]["name"] == "tgi-x"
    assert run.created_by == researcher
    assert list(run.candidates.values_list("document__external_id", flat=True).order_by("document__external_id")) == [
        "0",
        "1",
    ]
    assert len(callbacks) == 1
    with mock.patch("inference.tasks.run_start.delay") as delay:
        callbacks[0]()
    delay.assert_called_once_with(run.pk)


@pytest.mark.parametrize(
    "body, field, message",
    [
        ({"endpoint": "nope"}, "endpoint", "endpoint 'nope' does not exist"),
        ({}, "endpoint", "This field is required"),
        ({"endpoint": "tgi-x", "strategy": "clever"}, "strategy", "not a valid choice"),
        ({"endpoint": "tgi-x", "limit": 0}, "limit", "greater than or equal to 1"),
        ({"endpoint": "tgi-x", "split": "dev"}, "split", "not a valid choice"),
        ({"endpoint": "tgi-x", "name": "taken"}, None, "already has a run named 'taken'"),
        ({"endpoint": "tgi-x", "language": "fr"}, None, "has no documents with language 'fr'"),
        ({"endpoint": "tgi-x", "strategy": "advanced"}, None, "no training-split documents with gold"),
    ],
)
def test_create_refusals_name_the_problem_and_write_nothing(
    api_client, researcher, project, documents, body, field, message, django_capture_on_commit_callbacks
):
    EndpointFactory(name="tgi-x")
    run_with_candidates(project, {}, name="taken")
    api_client.force_authenticate(researcher)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = api_client.post("/api/projects/p1/runs/", body, format="json")
    assert response.status_code == 400
    error = response.json()
    assert message in error["detail"]
    assert error["errors"][0]["field"] == field
    assert ModelRun.objects.count() == 1 and not callbacks


def test_cancel_stops_a_running_run(api_client, researcher, run):
    api_client.force_authenticate(researcher)
    response = api_client.post(base(run) + "cancel/")
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert response.json()["progress"]["pending"] == 4  # pending documents stay pending
    run.refresh_from_db()
    assert run.status == "cancelled" and run.finished_at is not None


def test_cancelling_a_finished_run_is_refused(api_client, researcher, project):
    run = run_with_candidates(project, {"ok": 1}, status="finished")
    api_client.force_authenticate(researcher)
    response = api_client.post(base(run) + "cancel/")
    assert response.status_code == 400
    assert "is finished" in response.json()["detail"]
    run.refresh_from_db()
    assert run.status == "finished"


def test_resume_requeues_documents_without_an_ok_candidate(
    api_client, researcher, project, django_capture_on_commit_callbacks
):
    run = run_with_candidates(project, {"ok": 2, "failed": 1, "parse_error": 1}, status="paused")
    api_client.force_authenticate(researcher)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = api_client.post(base(run) + "resume/")
    assert response.status_code == 200
    data = response.json()
    assert data["status"] == "queued"
    assert (data["progress"]["ok"], data["progress"]["pending"]) == (2, 2)
    assert len(callbacks) == 1


def test_resuming_a_run_with_nothing_left_is_refused(api_client, researcher, project):
    run = run_with_candidates(project, {"ok": 2}, status="finished")
    api_client.force_authenticate(researcher)
    response = api_client.post(base(run) + "resume/")
    assert response.status_code == 400
    assert "nothing to resume" in response.json()["detail"]


def test_post_with_a_session_needs_the_csrf_token(project, researcher, run):
    from rest_framework.test import APIClient

    client = APIClient(enforce_csrf_checks=True)
    client.force_login(researcher)
    response = client.post(base(run) + "cancel/")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
    run.refresh_from_db()
    assert run.status == "running"


def test_create_advanced_with_k_and_temperature_freezes_them(
    api_client, researcher, project, documents, django_capture_on_commit_callbacks
):
    from tests.factories import GoldFactory

    for doc in documents[3:]:
        GoldFactory(document=doc)  # the training split's gold: the example pool
    EndpointFactory(name="tgi-x")
    api_client.force_authenticate(researcher)
    body = {"endpoint": "tgi-x", "strategy": "advanced", "split": "test", "k": 2, "temperature": 0.1}
    with django_capture_on_commit_callbacks(execute=False):
        response = api_client.post("/api/projects/p1/runs/", body, format="json")
    assert response.status_code == 201, response.content
    config = ModelRun.objects.get(pk=response.json()["id"]).config
    assert config["retrieval"]["k"] == 2
    assert config["generation"]["temperature"] == 0.1


def test_create_refuses_k_for_the_naive_strategy(api_client, researcher, project, documents):
    EndpointFactory(name="tgi-x")
    api_client.force_authenticate(researcher)
    body = {"endpoint": "tgi-x", "strategy": "naive", "k": 2}
    response = api_client.post("/api/projects/p1/runs/", body, format="json")
    assert response.status_code == 400
    assert "advanced" in response.json()["detail"]
    assert not ModelRun.objects.exists()
