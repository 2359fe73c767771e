"""A researcher in a real browser: compares three evaluated runs (tables, both SVG charts
loaded, a download), reads the other reports, and runs a gold export job to its download."""

import csv
import io
import json
from pathlib import Path

import pytest
from playwright.sync_api import expect

from elmtex_site.celery import app
from tests.evaluation.compare_helpers import build_runs
from tests.factories import MembershipFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

IMAGE_LOADED = "img => img.complete && img.naturalWidth > 0"


def _log_in(page, live_server, username: str, next_path: str):
    page.goto(f"{live_server.url}/accounts/login/?next={next_path}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("pw-123456")
    page.get_by_role("button", name="Log in").click()


@pytest.fixture
def evaluated(db):
    project = ProjectFactory(slug="cmp", name="Comparison")
    MembershipFactory(project=project, user=UserFactory(username="rosa"), role="researcher")
    return project, build_runs(project)


def test_researcher_compares_runs_with_charts_and_downloads(live_server, page, screenshot, evaluated):
    project, runs = evaluated
    _log_in(page, live_server, "rosa", "/p/cmp/")
    page.get_by_role("link", name="Compare models").click()
    page.locator("#compare-runs").select_option([str(run.pk) for run, _ in runs.values()])
    page.locator("#compare-language").select_option("en")
    page.locator("#compare-split").select_option("test")
    page.get_by_role("button", name="Compare").click()

    overall = page.locator("#table-overall")
    expect(overall).to_contain_text("baseline (ref.)")
    expect(overall).to_contain_text("advanced")
    images = page.locator("figure img")
    expect(images).to_have_count(2)
    for i in range(2):
        page.wait_for_function(IMAGE_LOADED, arg=images.nth(i).element_handle())
    screenshot("report_compare")

    with page.expect_download() as info:
        page.locator(".report-downloads").get_by_role("link", name="csv").click()
    rows = list(csv.reader(io.StringIO(Path(info.value.path()).read_text(encoding="utf-8"))))
    assert rows[0][0].startswith("# ")  # several tables, each after its title
    assert any(row and row[0] == "advanced" for row in rows)


def test_researcher_reads_the_other_reports(live_server, page, screenshot, evaluated):
    _log_in(page, live_server, "rosa", "/p/cmp/")
    page.get_by_role("link", name="Reports").click()
    for name, heading in (
        ("Error analysis", "Error analysis"),
        ("Dataset overview", "Dataset overview"),
        ("Agreement", "Agreement"),
    ):
        page.get_by_role("link", name=name, exact=True).first.click()
        expect(page.get_by_role("heading", level=1)).to_contain_text(heading)
        screenshot(f"report_{name.lower().replace(' ', '_')}")
        page.go_back()


def test_researcher_runs_an_export_job_and_downloads_it(
    live_server, page, screenshot, evaluated, monkeypatch, settings, tmp_path
):
    # No worker in this test: the job runs inside the web request once it commits.
    monkeypatch.setitem(app.conf, "task_always_eager", True)
    settings.ELMTEX_EXPORT_DIR = str(tmp_path / "exports")
    _log_in(page, live_server, "rosa", "/p/cmp/")
    page.get_by_role("link", name="Exports", exact=True).click()
    page.get_by_label("Format").select_option("jsonl")
    page.get_by_role("button", name="Start export").click()
    link = page.locator("a[download]").filter(has_text=".jsonl").first
    expect(link).to_be_visible()
    screenshot("export_jobs")
    with page.expect_download() as info:
        link.click()
    records = [json.loads(line) for line in Path(info.value.path()).read_text(encoding="utf-8").splitlines()]
    assert len(records) == 8
    assert list(records[0]) == ["patient_id", "language", "split", "report", "summary"]
