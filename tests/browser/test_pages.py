"""A researcher's first steps in a real browser: log in, import a file, find a document."""

import json

import pytest

from tests.factories import MembershipFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _records():
    return [
        {
            "patient_id": i,
            "report": f"Case {i}: a {30 + i}-year-old man presented with chest pain radiating to the left arm.",
            "summary": {"signs_symptoms": "chest pain radiating to the left arm", "age": f"{30 + i}", "gender": "male"},
        }
        for i in range(1, 4)
    ]


def test_researcher_logs_in_imports_and_reads_a_document(live_server, page, screenshot, tmp_path):
    project = ProjectFactory(slug="cardio", name="Cardiology cases")
    MembershipFactory(project=project, user=UserFactory(username="rita"), role="researcher")
    data = tmp_path / "cases.json"
    data.write_text(json.dumps(_records()), encoding="utf-8")

    page.goto(f"{live_server.url}/")
    assert "/accounts/login/" in page.url
    page.get_by_label("Username").fill("rita")
    page.get_by_label("Password").fill("pw-123456")
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="Cardiology cases").click()

    page.get_by_role("link", name="Import data").click()
    page.set_input_files("input[type=file]", str(data))
    page.get_by_role("button", name="Import").click()
    page.get_by_text("imported 3 new, 0 unchanged, 0 replaced").wait_for()
    screenshot("project-after-import")

    page.get_by_role("link", name="Browse documents").click()
    page.get_by_label("Search").fill("32-year-old")
    page.get_by_role("button", name="Apply").click()
    page.get_by_text("1 document found").wait_for()
    page.get_by_role("link", name="2", exact=True).click()
    assert page.get_by_text("chest pain radiating to the left arm").first.is_visible()
    screenshot("document-page")


def test_a_refused_import_lists_its_problems(live_server, page, tmp_path):
    project = ProjectFactory(slug="cardio", name="Cardiology cases")
    MembershipFactory(project=project, user=UserFactory(username="rita"), role="researcher")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{"patient_id": 1, "report": "x", "summary": {"diagnosis": ["a", "b"]}}]))
    page.goto(f"{live_server.url}/accounts/login/?next=/p/cardio/import/")
    page.get_by_label("Username").fill("rita")
    page.get_by_label("Password").fill("pw-123456")
    page.get_by_role("button", name="Log in").click()
    page.set_input_files("input[type=file]", str(bad))
    page.get_by_role("button", name="Import").click()
    page.get_by_text("Import refused: nothing was written").wait_for()
    assert page.get_by_text("expected a string, got a list").is_visible()
    assert page.get_by_text("summary.diagnosis").is_visible()
