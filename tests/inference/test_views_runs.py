"""The run pages: who sees what, server-rendered progress, the start form, cancel and
resume buttons, candidates on the run and document pages, and the endpoint list."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from inference.models import ModelRun
from tests.factories import CandidateFactory, DocumentFactory, EndpointFactory
from tests.inference.run_helpers import MIXED, ROLES, run_with_candidates

pytestmark = pytest.mark.django_db


def text(response) -> str:
    return response.content.decode()


def field(html: str, name: str) -> str:
    """The server-rendered text of the first element with data-field=name."""
    match = re.search(rf'data-field="{name}"[^>]*>([^<]*)<', html)
    assert match, name
    return match.group(1)


# --- access -----------------------------------------------------------------------------

READ = {"researcher": 200, "reviewer": 200, "annotator": 403, "outsider": 404, "staff": 200}
MANAGE_POST = {"researcher": 302, "reviewer": 403, "annotator": 403, "outsider": 404, "staff": 302}
PAGES = {
    "run-list": ("get", lambda run: reverse("run-list", args=["p1"]), READ),
    "run-detail": ("get", lambda run: reverse("run-detail", args=["p1", run.pk]), READ),
    "run-start": ("post", lambda run: reverse("run-list", args=["p1"]), MANAGE_POST),
    "run-cancel": ("post", lambda run: reverse("run-cancel", args=["p1", run.pk]), MANAGE_POST),
    "run-resume": ("post", lambda run: reverse("run-resume", args=["p1", run.pk]), MANAGE_POST),
    "endpoint-list": (
        "get",
        lambda run: reverse("endpoint-list"),
        {"researcher": 200, "reviewer": 200, "annotator": 403, "outsider": 403, "staff": 200},
    ),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("page", list(PAGES))
def test_page_permission_matrix(client, project, people, page, role, django_capture_on_commit_callbacks):
    method, url, expected = PAGES[page]
    endpoint = EndpointFactory(name="tgi-x")
    DocumentFactory(project=project)
    status = "paused" if page == "run-resume" else "running"
    run = run_with_candidates(project, {"ok": 1, "failed": 1}, status=status, endpoint=endpoint)
    client.force_login(people[role])
    data = {"endpoint": "tgi-x", "strategy": "naive", "name": "from-page"} if method == "post" else None
    with django_capture_on_commit_callbacks(execute=False):
        response = getattr(client, method)(url(run), data=data)
    assert response.status_code == expected[role], text(response)[:500]
    if response.status_code in (403, 404):
        assert "Traceback" not in text(response)
        assert "flu" not in text(response)


@pytest.mark.parametrize("page", list(PAGES))
def test_anonymous_is_sent_to_login(client, project, page):
    method, url, _ = PAGES[page]
    run = run_with_candidates(project, {"ok": 1})
    response = getattr(client, method)(url(run))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert ModelRun.objects.get().status == "finished"


def test_cancel_and_resume_refuse_get(client, researcher, run):
    client.force_login(researcher)
    assert client.get(reverse("run-cancel", args=["p1", run.pk])).status_code == 405
    run.refresh_from_db()
    assert run.status == "running"


# --- run page ---------------------------------------------------------------------------


def test_run_page_renders_the_progress_numbers(client, researcher, run):
    client.force_login(researcher)
    html = text(client.get(reverse("run-detail", args=["p1", run.pk])))
    expected = {**{k: str(v) for k, v in MIXED.items()}, "done": "11", "total": "15", "status": "running"}
    for name, value in expected.items():
        assert field(html, name) == value, name
    assert re.search(r'<progress data-field="bar" max="15" value="11"', html)
    assert field(html, "percent") == "73.3"
    assert field(html, "docs_per_s") != "—"  # started 100 s ago with 11 done
    assert field(html, "eta_s").endswith("s")


def test_a_live_run_page_polls_the_progress_api(client, researcher, run):
    client.force_login(researcher)
    html = text(client.get(reverse("run-detail", args=["p1", run.pk])))
    assert f'data-progress-url="/api/projects/p1/runs/{run.pk}/progress/"' in html
    assert 'data-status="running"' in html
    assert "inference/run_progress.js" in html
    assert "<noscript>" in html


def test_a_finished_run_page_does_not_poll(client, researcher, project):
    run = run_with_candidates(project, {"ok": 2}, status="finished")
    client.force_login(researcher)
    html = text(client.get(reverse("run-detail", args=["p1", run.pk])))
    assert 'data-status="finished"' in html
    assert "<noscript>" not in html


def test_run_page_shows_the_frozen_config(client, researcher, run):
    client.force_login(researcher)
    html = text(client.get(reverse("run-detail", args=["p1", run.pk])))
    for fragment in [
        "org/llama-test",
        "abc123sha",
        "9.9.9",
        "naive-v1",
        "Extract the fields.\nAnswer with JSON only.",
        "2048",
    ]:
        assert fragment in html, fragment


def test_stalled_run_page_says_what_to_do(client, researcher, project):
    old = timezone.now() - timedelta(hours=1)
    run = run_with_candidates(project, {"pending": 1}, status="running", started_at=old, heartbeat_at=old)
    client.force_login(researcher)
    html = text(client.get(reverse("run-detail", args=["p1", run.pk])))
    assert field(html, "status") == "stalled"
    assert "celery -A elmtex_site worker" in html


def test_buttons_only_for_researchers(client, researcher, reviewer, project):
    paused = run_with_candidates(project, {"ok": 1, "failed": 1}, status="paused")
    client.force_login(researcher)
    html = text(client.get(reverse("run-detail", args=["p1", paused.pk])))
    assert reverse("run-cancel", args=["p1", paused.pk]) in html
    assert reverse("run-resume", args=["p1", paused.pk]) in html
    client.force_login(reviewer)
    html = text(client.get(reverse("run-detail", args=["p1", paused.pk])))
    assert reverse("run-cancel", args=["p1", paused.pk]) not in html
    assert reverse("run-resume", args=["p1", paused.pk]) not in html


def test_a_finished_all_ok_run_offers_neither_button(client, researcher, project):
    run = run_with_candidates(project, {"ok": 2}, status="finished")
    client.force_login(researcher)
    html = text(client.get(reverse("run-detail", args=["p1", run.pk])))
    assert reverse("run-cancel", args=["p1", run.pk]) not in html
    assert reverse("run-resume", args=["p1", run.pk]) not in html


def test_candidates_table_filters_and_links_to_documents(client, researcher, run):
    client.force_login(researcher)
    url = reverse("run-detail", args=["p1", run.pk])
    html = text(client.get(url, {"status": "failed"}))
    assert "<strong>3</strong> candidates with status failed" in html
    assert html.count("boom: HTTP 500") == 3
    failed_doc = run.candidates.filter(status="failed").first().document
    assert reverse("document-detail", args=["p1", failed_doc.pk]) in html
    ok_doc = run.candidates.filter(status="ok").first().document
    assert reverse("document-detail", args=["p1", ok_doc.pk]) not in html
    bad = text(client.get(url, {"status": "great"}))
    assert "Status filter ignored" in bad
    assert "<strong>15</strong> candidates" in bad


def test_evaluation_link_when_the_evaluation_pages_exist(client, researcher, run):
    client.force_login(researcher)
    html = text(client.get(reverse("run-detail", args=["p1", run.pk])))
    assert reverse("evaluation-list", args=["p1"]) in html


# --- run list and start form ------------------------------------------------------------


def test_run_list_shows_runs_with_progress(client, researcher, run):
    client.force_login(researcher)
    html = text(client.get(reverse("run-list", args=["p1"])))
    assert run.name in html and run.endpoint.name in html
    assert field(html, "done") == "11" and field(html, "total") == "15" and field(html, "failed") == "3"
    assert f'data-progress-url="/api/projects/p1/runs/{run.pk}/progress/"' in html


def test_reviewer_sees_the_list_without_the_start_form(client, reviewer, run):
    client.force_login(reviewer)
    html = text(client.get(reverse("run-list", args=["p1"])))
    assert run.name in html
    assert "Start a run" not in html


def test_run_list_query_count_does_not_grow_with_runs(client, researcher, project, django_assert_max_num_queries):
    run_with_candidates(project, {"ok": 1})
    client.force_login(researcher)
    url = reverse("run-list", args=["p1"])
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    for _ in range(8):
        run_with_candidates(project, {"ok": 2, "failed": 1, "pending": 1}, status="running")
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(url)
    assert text(response).count('class="badge status-running"') == 8


def test_start_form_creates_a_run_and_goes_to_its_page(client, researcher, project, django_capture_on_commit_callbacks):
    EndpointFactory(name="tgi-x")
    for i in range(3):
        DocumentFactory(project=project, external_id=str(i))
    client.force_login(researcher)
    body = {"endpoint": "tgi-x", "strategy": "naive", "name": "page-run", "language": "", "split": "", "limit": "2"}
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(reverse("run-list", args=["p1"]), body)
    run = ModelRun.objects.get(name="page-run")
    assert response.status_code == 302
    assert response["Location"] == reverse("run-detail", args=["p1", run.pk])
    assert run.candidates.count() == 2 and run.status == "queued"
    assert len(callbacks) == 1
    page = text(client.get(response["Location"]))
    assert "is queued" in page


@pytest.mark.parametrize(
    "body, message",
    [
        ({"endpoint": "nope"}, "Select a valid choice"),
        ({"endpoint": "tgi-x", "limit": "0"}, "greater than or equal to 1"),
        ({"endpoint": "tgi-x", "name": "taken"}, "already has a run named &#x27;taken&#x27;"),
        ({"endpoint": "tgi-x", "strategy": "advanced"}, "no training-split documents with gold"),
    ],
)
def test_start_form_shows_refusals(client, researcher, project, body, message, django_capture_on_commit_callbacks):
    EndpointFactory(name="tgi-x")
    DocumentFactory(project=project)
    run_with_candidates(project, {}, name="taken")
    client.force_login(researcher)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(reverse("run-list", args=["p1"]), {"strategy": "naive", **body})
    assert response.status_code == 400
    assert message in text(response)
    assert ModelRun.objects.count() == 1 and not callbacks


def test_start_form_without_endpoints_explains_how_to_add_one(client, researcher, project):
    client.force_login(researcher)
    html = text(client.get(reverse("run-list", args=["p1"])))
    assert "add_endpoint NAME --url URL" in html


# --- cancel / resume buttons ------------------------------------------------------------


def test_cancel_button_cancels(client, researcher, run):
    client.force_login(researcher)
    response = client.post(reverse("run-cancel", args=["p1", run.pk]), follow=True)
    assert "is cancelled" in text(response)
    run.refresh_from_db()
    assert run.status == "cancelled"


def test_cancel_refusal_is_shown_on_the_run_page(client, researcher, project):
    run = run_with_candidates(project, {"ok": 1}, status="finished")
    client.force_login(researcher)
    response = client.post(reverse("run-cancel", args=["p1", run.pk]), follow=True)
    assert response.status_code == 200
    assert "only queued, running, paused or stalled runs can be cancelled" in text(response)


def test_resume_button_requeues(client, researcher, project, django_capture_on_commit_callbacks):
    run = run_with_candidates(project, {"ok": 1, "failed": 2}, status="paused")
    client.force_login(researcher)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(reverse("run-resume", args=["p1", run.pk]))
    assert response.status_code == 302
    run.refresh_from_db()
    assert run.status == "queued"
    assert run.candidates.filter(status="pending").count() == 2
    assert len(callbacks) == 1


# --- project and document pages ---------------------------------------------------------


def test_project_page_lists_latest_runs(client, researcher, run):
    client.force_login(researcher)
    html = text(client.get(reverse("project-detail", args=["p1"])))
    assert "Model runs" in html
    assert reverse("run-detail", args=["p1", run.pk]) in html
    assert reverse("run-list", args=["p1"]) in html
    assert reverse("evaluation-list", args=["p1"]) in html


def test_annotators_project_page_has_no_runs(client, annotator, run):
    client.force_login(annotator)
    html = text(client.get(reverse("project-detail", args=["p1"])))
    assert reverse("run-detail", args=["p1", run.pk]) not in html
    assert reverse("evaluation-list", args=["p1"]) not in html


def test_document_page_shows_candidates_per_run(client, researcher, project):
    document = DocumentFactory(project=project)
    first = run_with_candidates(project, {}, name="first-run")
    second = run_with_candidates(project, {}, name="second-run")
    CandidateFactory(run=first, document=document, values={"diagnosis": "pneumonia"})
    CandidateFactory(run=second, document=document, status="failed", values=None, error="HTTP 424 from the server")
    client.force_login(researcher)
    html = text(client.get(reverse("document-detail", args=["p1", document.pk])))
    assert "first-run" in html and "second-run" in html
    assert "pneumonia" in html
    assert "HTTP 424 from the server" in html
    assert reverse("run-detail", args=["p1", first.pk]) in html


# --- endpoint list ----------------------------------------------------------------------


def test_endpoint_list_shows_endpoints(client, reviewer):
    EndpointFactory(name="tgi-big", base_url="http://gpu-1:8080", model_id="org/llama-70b", concurrency=12)
    client.force_login(reviewer)
    html = text(client.get(reverse("endpoint-list")))
    for fragment in ["tgi-big", "http://gpu-1:8080", "org/llama-70b", "12", "max concurrent 5"]:
        assert fragment in html, fragment
