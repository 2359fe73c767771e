"""The annotation flow in a real browser: an annotator opens an assigned document,
corrects a field, attaches evidence by selecting report text with the mouse, judges the
draft with the keyboard and submits; a reviewer adjudicates it into gold.

The live server answers from another thread, so the test commits (``transaction=True``).
Screenshots of the form and the adjudication page go to test-artifacts/.
"""

import os

import pytest
from django.db.models import Count
from playwright.sync_api import expect

from annotation.models import Assignment, Gold
from tests.browser.conftest import ARTIFACTS
from tests.factories import (
    AssignmentFactory,
    CandidateFactory,
    DocumentFactory,
    MembershipFactory,
    ProjectFactory,
    RunFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db(transaction=True)

REPORT = (
    "A 45-year-old woman presented with fever and a dry cough for five days.\r\n"
    "She smokes 10 cigarettes a day and drinks no alcohol. Her mother had breast cancer.\n\n"
    "Chest X-ray showed a right lower lobe consolidation; CRP was 85 mg/L. "
    "She was treated with amoxicillin 1 g three times daily and recovered within a week."
)
EVIDENCE = "dry cough"


def _member(project, username: str, role: str):
    return MembershipFactory(project=project, user=UserFactory(username=username), role=role).user


def _log_in(page, live_server, username: str, next_path: str):
    page.goto(f"{live_server.url}/accounts/login/?next={next_path}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("pw-123456")
    page.get_by_role("button", name="Log in").click()


def _select_with_mouse(page, needle: str):
    """Drag the mouse across ``needle`` in the report, as a person selects text."""
    box = page.evaluate(
        """(needle) => {
            const report = document.querySelector('[data-report]');
            const walker = document.createTreeWalker(report, NodeFilter.SHOW_TEXT);
            let node;
            while ((node = walker.nextNode())) {
                const at = node.data.indexOf(needle);
                if (at < 0) continue;
                const range = document.createRange();
                range.setStart(node, at); range.setEnd(node, at + 1);
                const first = range.getBoundingClientRect();
                range.setStart(node, at + needle.length - 1); range.setEnd(node, at + needle.length);
                const last = range.getBoundingClientRect();
                return {x1: first.left + 1, y1: first.top + first.height / 2, x2: last.right - 1, y2: last.top + last.height / 2};
            }
            return null;
        }""",
        needle,
    )
    assert box, f"{needle!r} not found in the report"
    page.mouse.move(box["x1"], box["y1"])
    page.mouse.down()
    page.mouse.move((box["x1"] + box["x2"]) / 2, box["y2"], steps=4)
    page.mouse.move(box["x2"], box["y2"], steps=4)
    page.mouse.up()


def test_annotate_submit_and_adjudicate(live_server, page, screenshot):
    project = ProjectFactory(slug="cardio", name="Cardiology cases")
    anna = _member(project, "anna", "annotator")
    _member(project, "rita", "reviewer")
    document = DocumentFactory(project=project, external_id="4711", text=REPORT)
    run = RunFactory(project=project, name="llama-naive")
    keys = list(project.categories.values_list("key", flat=True))
    draft = dict.fromkeys(keys, "N/A") | {
        "signs_symptoms": "fever; cough",
        "life_style": "smoker",
        "age": "45",
        "gender": "female",
    }
    CandidateFactory(run=run, document=document, values=draft)
    assignment = AssignmentFactory(document=document, annotator=anna, draft_run=run)
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    # The annotator: queue -> form.
    _log_in(page, live_server, "anna", "/p/cardio/work/")
    expect(page.get_by_text("0 done of 1 assigned")).to_be_visible()
    screenshot("annotation_queue")
    page.get_by_role("link", name="4711").click()
    expect(page.get_by_role("heading", name="Document 4711")).to_be_visible()
    card = page.locator(".field-card[data-field=signs_symptoms]")
    expect(card.locator(".draft-value")).to_have_text("fever; cough")

    # Correct a field, then attach evidence by selecting report text with the mouse.
    card.locator("textarea").fill("fever; dry cough")
    _select_with_mouse(page, EVIDENCE)
    chip = card.locator(".chip-show")
    expect(chip).to_have_text(f"\u201c{EVIDENCE}\u201d")
    expect(page.locator("mark.ev[data-keys=signs_symptoms]")).to_have_text(EVIDENCE)

    # Judge the draft with the keyboard: Esc leaves the text box, 2 = partially correct.
    card.locator("textarea").focus()
    page.keyboard.press("Escape")
    page.keyboard.press("2")
    expect(card.locator("input[value=partially_correct]")).to_be_checked()
    # J moves to the next field; 1 judges it correct.
    page.keyboard.press("j")
    expect(page.locator(".field-card.is-current")).to_have_attribute(
        "data-field", keys[keys.index("signs_symptoms") + 1]
    )
    page.keyboard.press("1")
    # The help overlay opens with ? and closes with Esc.
    page.keyboard.press("?")
    expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_be_hidden()
    # Autosave (PUT to the API) answers with the new version.
    expect(page.locator("[data-save-state]")).to_contain_text("Saved", timeout=10_000)
    card.click(position={"x": 5, "y": 5})
    page.evaluate("window.scrollTo(0, 0)")
    screenshot("annotation_form_full")
    # What the annotator sees (the action bar sticks to the bottom of the window).
    page.evaluate("document.querySelector('.field-card[data-field=signs_symptoms]').scrollIntoView({block: 'center'})")
    page.screenshot(path=os.path.join(ARTIFACTS, "annotation_form.png"))

    page.keyboard.press("Control+Enter")
    expect(page.get_by_text("Submitted document 4711")).to_be_visible()
    assignment = Assignment.objects.get(pk=assignment.pk)
    annotation = assignment.annotation
    start = REPORT.index(EVIDENCE)
    assert assignment.status == "submitted"
    assert assignment.time_spent_seconds > 0
    assert annotation.values["signs_symptoms"] == "fever; dry cough"
    assert annotation.judgements["signs_symptoms"] == "partially_correct"
    assert annotation.judgements[keys[keys.index("signs_symptoms") + 1]] == "correct"
    # Offsets count the stored text (its \r\n included), not what the browser shows.
    assert annotation.spans["signs_symptoms"] == [[start, start + len(EVIDENCE)]]

    # The reviewer adjudicates: the annotation's value by default, one field edited.
    page.context.clear_cookies()
    _log_in(page, live_server, "rita", "/p/cardio/review/")
    expect(page.get_by_role("link", name="4711")).to_be_visible()
    screenshot("review_queue")
    page.get_by_role("link", name="4711").click()
    expect(page.get_by_role("heading", name="Adjudicate document 4711")).to_be_visible()
    page.wait_for_load_state("load")  # review.js is deferred: typing before it runs picks nothing
    row = page.locator("tr[data-row=signs_symptoms]")
    expect(row.locator("input[type=radio]").first).to_be_checked()
    diagnosis = page.locator("tr[data-row=diagnosis] textarea")
    diagnosis.fill("community-acquired pneumonia")
    expect(page.locator("tr[data-row=diagnosis] input[value=edited]")).to_be_checked()
    screenshot("adjudication")
    page.get_by_role("button", name="Save gold").click()
    expect(page.get_by_text("Saved gold for document 4711")).to_be_visible()
    gold = Gold.objects.get(document=document)
    assert gold.origin == "adjudicated"
    assert gold.values["signs_symptoms"] == "fever; dry cough"
    assert gold.values["diagnosis"] == "community-acquired pneumonia"
    assert gold.provenance["sources"]["diagnosis"] == "edited"
    assert gold.provenance["sources"]["signs_symptoms"] == annotation.pk
    assert errors == []


def test_autosave_conflict_shows_the_banner_and_stops(live_server, page):
    from annotation.services.annotations import annotation_open, annotation_save

    project = ProjectFactory(slug="cardio2", name="Cardiology")
    anna = _member(project, "anna2", "annotator")
    document = DocumentFactory(project=project, external_id="77", text=REPORT)
    assignment = AssignmentFactory(document=document, annotator=anna)
    _log_in(page, live_server, "anna2", f"/p/cardio2/work/{assignment.pk}/")
    expect(page.get_by_role("heading", name="Document 77")).to_be_visible()
    # Another tab saves first.
    annotation_save(
        assignment=assignment,
        user=anna,
        version=annotation_open(assignment=assignment, user=anna).version,
        values={"age": "45"},
        judgements={},
        spans={},
    )
    page.locator("#value-diagnosis").fill("pneumonia")
    banner = page.locator("[data-conflict-banner]")
    expect(banner).to_be_visible(timeout=10_000)
    expect(banner).to_contain_text("Changed elsewhere; reload.")
    expect(page.locator("[data-save-state]")).to_have_text("Not saved: changed elsewhere.")
    assignment.refresh_from_db()
    assert assignment.annotation.values["diagnosis"] == ""
    assert assignment.annotation.values["age"] == "45"


def test_researcher_assigns_with_overlap(live_server, page, screenshot):
    project = ProjectFactory(slug="cardio3", name="Cardiology")
    _member(project, "ria", "researcher")
    for name in ("ann1", "ann2", "ann3"):
        _member(project, name, "annotator")
    for i in range(6):
        DocumentFactory(project=project, external_id=str(100 + i), split="test")
    _log_in(page, live_server, "ria", "/p/cardio3/")
    screenshot("project_page_researcher")
    page.get_by_role("link", name="Assign").click()
    page.get_by_label("Overlap k").fill("2")
    page.get_by_label("Split").select_option("test")
    page.get_by_role("button", name="Assign", exact=True).click()
    expect(page.get_by_text("Assigned 6 document(s): 12 new assignment(s)")).to_be_visible()
    coverage = page.locator("section", has=page.get_by_role("heading", name="Per document coverage"))
    expect(coverage.locator("tbody tr").filter(has_text="2").first).to_contain_text("6")
    screenshot("assign_page")
    counts = dict(
        Assignment.objects.filter(project=project).values_list("annotator__username").annotate(n=Count("id")).order_by()
    )
    assert counts == {"ann1": 4, "ann2": 4, "ann3": 4}
