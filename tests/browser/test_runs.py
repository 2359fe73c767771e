"""Model runs and evaluations in a real browser: live progress, starting, cancelling and
resuming a run, an evaluation's table, and what an annotator may not see.

The live server answers from another thread, so every test commits its writes
(``transaction=True``) and the page sees them on its next request or poll.
"""

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from annotation.schema import ELMTEX_CATEGORIES
from evaluation.services.reports import evaluation_run
from inference.models import Candidate, ModelRun
from tests.factories import (
    CandidateFactory,
    DocumentFactory,
    EndpointFactory,
    GoldFactory,
    MembershipFactory,
    ProjectFactory,
    UserFactory,
)
from tests.inference.run_helpers import run_with_candidates

pytestmark = pytest.mark.django_db(transaction=True)

# run_progress.js polls every 2 s; a few polls' worth, never a fixed sleep.
POLL_TIMEOUT_MS = 10_000
TEXT_CATEGORY_LABELS = [
    "Life style",
    "Family history",
    "Social history",
    "Medical and surgical history",
    "Signs and symptoms",
    "Comorbidities",
    "Diagnostic techniques and procedures",
    "Diagnosis",
    "Laboratory values",
    "Pathology",
    "Pharmacological therapy",
    "Interventional therapy",
    "Patient outcome assessment",
]


@pytest.fixture
def cardio():
    return ProjectFactory(slug="cardio", name="Cardiology cases")


def _member(project, username: str, role: str):
    return MembershipFactory(project=project, user=UserFactory(username=username), role=role).user


def _log_in(page, live_server, username: str, next_path: str):
    page.goto(f"{live_server.url}/accounts/login/?next={next_path}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("pw-123456")
    page.get_by_role("button", name="Log in").click()


def _progress(page):
    return page.locator("[data-run-progress]")


def test_run_page_follows_a_running_run_without_reloading(live_server, page, cardio):
    _member(cardio, "rita", "researcher")
    run = run_with_candidates(cardio, {"ok": 2, "pending": 8}, status="running", heartbeat_at=timezone.now())
    _log_in(page, live_server, "rita", f"/p/cardio/runs/{run.pk}/")

    progress = _progress(page)
    expect(progress.get_by_text("2 of 10 documents done")).to_be_visible()
    expect(progress.locator("[data-field=status]")).to_have_text("running")
    expect(page.get_by_role("button", name="Cancel run")).to_be_visible()
    # A marker the page loses when it reloads: the numbers below must change in place.
    page.evaluate("window.__not_reloaded = true")

    pending = list(Candidate.objects.filter(run=run, status="pending").order_by("pk").values_list("pk", flat=True))
    Candidate.objects.filter(pk__in=pending[:6]).update(status="ok", values={"diagnosis": "flu"})
    Candidate.objects.filter(pk=pending[6]).update(status="failed", error="boom: HTTP 500")
    ModelRun.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now())

    expect(progress.get_by_text("9 of 10 documents done")).to_be_visible(timeout=POLL_TIMEOUT_MS)
    expect(progress.locator("dd[data-field=ok]")).to_have_text("8")
    expect(progress.locator("dd[data-field=failed]")).to_have_text("1")
    expect(progress.locator("dd[data-field=pending]")).to_have_text("1")
    assert page.evaluate("window.__not_reloaded === true")

    ModelRun.objects.filter(pk=run.pk).update(status="finished", finished_at=timezone.now())
    # The page reloads once the run stops, so the server-rendered buttons follow too.
    expect(page.get_by_role("button", name="Cancel run")).to_have_count(0, timeout=POLL_TIMEOUT_MS)
    expect(progress.locator("[data-field=status]")).to_have_text("finished")
    assert page.evaluate("window.__not_reloaded === undefined")


def test_researcher_starts_a_run_from_the_runs_page(live_server, page, screenshot, cardio):
    _member(cardio, "rita", "researcher")
    EndpointFactory(name="tgi-a")
    EndpointFactory(name="tgi-b")
    for _ in range(5):
        DocumentFactory(project=cardio)
    _log_in(page, live_server, "rita", "/p/cardio/")
    page.get_by_role("link", name="Model runs").click()
    expect(page.get_by_role("heading", name="Model runs")).to_be_visible()

    page.get_by_label("Endpoint").select_option("tgi-b")
    page.get_by_label("Limit").fill("3")
    page.get_by_label("Name").fill("first-try")
    page.get_by_role("button", name="Start run").click()

    expect(page.get_by_role("heading", name="Run first-try")).to_be_visible()
    run = ModelRun.objects.get(project=cardio, name="first-try")
    assert page.url.endswith(f"/p/cardio/runs/{run.pk}/")
    expect(page.get_by_text(f"Run {run.pk} (first-try) is queued")).to_be_visible()
    progress = _progress(page)
    expect(progress.locator("[data-field=status]")).to_have_text("queued")
    expect(progress.get_by_text("0 of 3 documents done")).to_be_visible()
    expect(page.get_by_text("3 candidates")).to_be_visible()
    assert run.endpoint.name == "tgi-b"
    screenshot("run-queued")


def test_a_refused_start_shows_why_and_creates_no_run(live_server, page, cardio):
    _member(cardio, "rita", "researcher")
    EndpointFactory(name="tgi-a")
    DocumentFactory(project=cardio, split="train")
    _log_in(page, live_server, "rita", "/p/cardio/runs/")
    form = page.locator("form.run-start-form")

    form.get_by_label("Limit").fill("0")
    form.get_by_role("button", name="Start run").click()
    limit_field = form.locator(".field", has=page.get_by_label("Limit"))
    expect(limit_field.locator(".field-error")).to_contain_text("greater than or equal to 1")

    form.get_by_label("Limit").fill("")
    form.get_by_label("Split").select_option("test")
    form.get_by_role("button", name="Start run").click()
    expect(form.get_by_role("alert")).to_contain_text("project 'cardio' has no documents with split 'test'")
    # The form keeps what was chosen, so the user fixes only the selection.
    expect(form.get_by_label("Split")).to_have_value("test")
    expect(page.get_by_text("0 runs")).to_be_visible()
    assert not ModelRun.objects.exists()


def test_researcher_cancels_and_resumes_a_run(live_server, page, cardio):
    _member(cardio, "rita", "researcher")
    run = run_with_candidates(cardio, {"ok": 1, "pending": 3}, status="running", heartbeat_at=timezone.now())
    _log_in(page, live_server, "rita", f"/p/cardio/runs/{run.pk}/")
    status = _progress(page).locator("[data-field=status]")
    expect(status).to_have_text("running")
    expect(page.get_by_role("button", name="Resume")).to_have_count(0)

    page.get_by_role("button", name="Cancel run").click()
    expect(page.get_by_text(f"Run {run.pk} is cancelled")).to_be_visible()
    expect(status).to_have_text("cancelled")
    expect(page.get_by_role("button", name="Cancel run")).to_have_count(0)
    expect(page.get_by_text("cancelled by rita")).to_be_visible()

    page.get_by_role("button", name="Resume").click()
    expect(page.get_by_text(f"Run {run.pk} is resumed")).to_be_visible()
    expect(status).to_have_text("queued")
    expect(page.get_by_role("button", name="Cancel run")).to_be_visible()
    run.refresh_from_db()
    assert run.status == "queued"


def _gold_and_candidate(run, *, gold: dict, pred: dict):
    document = DocumentFactory(project=run.project)
    na = {c.key: "N/A" for c in ELMTEX_CATEGORIES}
    GoldFactory(document=document, values=na | gold)
    CandidateFactory(run=run, document=document, status="ok", values=na | pred)


def test_evaluation_page_shows_scores_per_category(live_server, page, screenshot, cardio):
    _member(cardio, "rita", "researcher")
    run = run_with_candidates(cardio, {}, status="finished", name="llama-naive")
    # Diagnosis: prediction = gold (ROUGE-L 1); signs and symptoms: no word in common (0).
    for diagnosis in ("community-acquired pneumonia", "acute appendicitis"):
        _gold_and_candidate(
            run,
            gold={"diagnosis": diagnosis, "signs_symptoms": "fever"},
            pred={"diagnosis": diagnosis, "signs_symptoms": "cough"},
        )
    report = evaluation_run(run=run, metrics=["rouge", "entity"])
    _log_in(page, live_server, "rita", f"/p/cardio/evaluations/{report.pk}/")

    expect(page.get_by_role("heading", name=f"Evaluation {report.pk}")).to_be_visible()
    table = page.locator("table.evaluation-scores")
    rows = table.locator("tbody tr")
    expect(rows).to_have_count(13)
    expect(rows.locator("th")).to_contain_text(TEXT_CATEGORY_LABELS)
    expect(table.get_by_role("rowheader", name="Age age", exact=True)).to_have_count(0)

    # Columns: n, ROUGE-1, ROUGE-2, ROUGE-L, ...
    diagnosis = rows.filter(has=page.get_by_role("rowheader", name="Diagnosis diagnosis", exact=True)).locator("td")
    expect(diagnosis.nth(0)).to_have_text("2")
    expect(diagnosis.nth(3)).to_contain_text("1.000")
    signs = rows.filter(
        has=page.get_by_role("rowheader", name="Signs and symptoms signs_symptoms", exact=True)
    ).locator("td")
    expect(signs.nth(3)).to_contain_text("0.000")
    life_style = rows.filter(has=page.get_by_role("rowheader", name="Life style life_style", exact=True)).locator("td")
    expect(life_style.nth(0)).to_have_text("0")
    expect(life_style.nth(3)).to_have_text("—")

    overall = table.locator("tfoot tr")
    expect(overall.get_by_role("rowheader")).to_have_text("Overall (macro mean)")
    expect(overall.locator("td").nth(0)).to_have_text("4")
    expect(overall.locator("td").nth(3)).to_have_text("0.500")
    screenshot("evaluation-detail")


def test_annotator_sees_no_runs(live_server, page, cardio):
    _member(cardio, "ann", "annotator")
    run_with_candidates(cardio, {"ok": 1}, status="finished")
    _log_in(page, live_server, "ann", "/p/cardio/")
    expect(page.get_by_role("heading", name="Cardiology cases")).to_be_visible()
    expect(page.get_by_role("link", name="Model runs")).to_have_count(0)

    response = page.goto(f"{live_server.url}/p/cardio/runs/")
    assert response.status == 403
    expect(page.get_by_role("heading", name="Permission denied")).to_be_visible()
    expect(page.get_by_role("button", name="Start run")).to_have_count(0)
