"""Progress as users see it: why a run is paused or stalled (API, run page), and the
``--wait`` progress bar's throughput and ETA."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from inference.management.commands._run_wait import progress_postfix
from inference.models import ModelRun
from inference.selectors import run_progress
from inference.selectors_pages import runs_progress
from tests.inference.run_helpers import MIXED, run_with_candidates

pytestmark = pytest.mark.django_db

PAUSED = "endpoint tgi-a (http://127.0.0.1:9) did not answer: 50 requests in a row could not connect"


def progress_api(api_client, user, run) -> dict:
    api_client.force_authenticate(user)
    return api_client.get(f"/api/projects/p1/runs/{run.pk}/progress/").json()


def test_a_paused_run_says_why_in_the_api(api_client, researcher, project):
    run = run_with_candidates(project, MIXED, status="paused", error=PAUSED)
    progress = progress_api(api_client, researcher, run)
    assert progress["status"] == "paused"
    assert progress["reason"] == PAUSED
    assert progress["pending"] == MIXED["pending"]


def test_a_stalled_run_says_what_to_do(api_client, researcher, project, settings):
    settings.ELMTEX_RUN_STALL_SECONDS = 60
    run = run_with_candidates(project, MIXED, status="running", heartbeat_at=timezone.now() - timedelta(seconds=600))
    progress = progress_api(api_client, researcher, run)
    assert progress["status"] == "stalled"
    assert "no worker has written progress" in progress["reason"]
    assert f"resume_run {run.pk}" in progress["reason"]


def test_a_running_run_has_no_reason_and_reports_rates(api_client, researcher, run):
    progress = progress_api(api_client, researcher, run)
    assert progress["status"] == "running" and progress["reason"] == ""
    assert progress["docs_per_s"] > 0 and progress["tokens_per_s"] > 0 and progress["eta_s"] > 0


def test_list_and_single_progress_agree_on_the_reason(project):
    run = run_with_candidates(project, MIXED, status="paused", error=PAUSED)
    assert runs_progress(runs=[run])[run.pk].reason == run_progress(run=run).reason == PAUSED


def test_the_run_page_shows_the_pause_reason_and_has_a_live_reason_field(client, researcher, project):
    run = run_with_candidates(project, MIXED, status="paused", error=PAUSED)
    client.force_login(researcher)
    html = client.get(reverse("run-detail", args=["p1", run.pk])).content.decode()
    assert PAUSED in html
    assert 'data-field="reason"' in html  # run_progress.js fills it while the run is live


def test_the_wait_bar_shows_throughput_and_eta(run):
    run = ModelRun.objects.get(pk=run.pk)
    text = progress_postfix(run_progress(run=run))
    assert text.startswith("running, 5 ok, 6 not ok, ")
    assert "docs/s" in text and "tok/s" in text and "ETA " in text
    assert "ETA -" not in text  # 4 pending at a known rate
