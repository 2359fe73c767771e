"""The annotation work pages: an annotator's queue and form (also without JavaScript),
the review queue and adjudication page, gold history, assigning and members; who may
open what, and a constant number of queries per page."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from annotation.diffs import diff_html
from annotation.models import AccessLog, Annotation, Assignment, Gold, GoldRevision, Membership
from annotation.services.annotations import annotation_open, annotation_save
from tests.factories import (
    AnnotationFactory,
    AssignmentFactory,
    CandidateFactory,
    DocumentFactory,
    GoldFactory,
    RunFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

REPORT = "A 45-year-old woman presented with fever and a dry cough. She smokes 10 cigarettes a day."


def text_of(response) -> str:
    return response.content.decode()


@pytest.fixture
def document(project):
    return DocumentFactory(project=project, external_id="101", text=REPORT)


@pytest.fixture
def draft_run(project, document):
    run = RunFactory(project=project, name="draft-run")
    values = {c: "N/A" for c in project.categories.values_list("key", flat=True)}
    values.update({"signs_symptoms": "fever; cough", "life_style": "smoker", "age": "45", "gender": "female"})
    CandidateFactory(run=run, document=document, values=values)
    return run


@pytest.fixture
def assignment(project, document, annotator, draft_run):
    return AssignmentFactory(document=document, annotator=annotator, draft_run=draft_run)


def form_url(assignment):
    return reverse("work-form", args=[assignment.project.slug, assignment.pk])


def form_post(project, annotation, **overrides) -> dict:
    data = {"version": str(annotation.version), "time_spent_seconds": "12", "action": "save"}
    for key in project.categories.values_list("key", flat=True):
        data[f"value-{key}"] = annotation.values.get(key, "")
        data[f"spans-{key}"] = json.dumps(annotation.spans.get(key, []))
    data.update(overrides)
    return data


# --- annotator queue -------------------------------------------------------------------


def test_queue_shows_only_my_assignments_and_progress(client, project, annotator, assignment, make_member):
    other = make_member(project, "annotator", "other")
    AssignmentFactory(document=DocumentFactory(project=project, external_id="999"), annotator=other)
    AssignmentFactory(
        document=DocumentFactory(project=project, external_id="202"), annotator=annotator, status="submitted"
    )
    client.force_login(annotator)
    response = client.get(reverse("work-queue", args=["p1"]))
    assert response.status_code == 200
    body = text_of(response)
    assert "101" in body and "202" in body
    assert "999" not in body
    assert "<strong data-progress-done>1</strong> done of <strong>2</strong> assigned" in body
    assert "Next document" in body


def test_next_document_pulls_from_the_queue(client, project, annotator, document):
    client.force_login(annotator)
    response = client.post(reverse("work-next", args=["p1"]))
    created = Assignment.objects.get(annotator=annotator)
    assert response.status_code == 302
    assert response["Location"] == form_url(created)


def test_next_document_when_nothing_is_left(client, project, annotator):
    client.force_login(annotator)
    response = client.post(reverse("work-next", args=["p1"]), follow=True)
    assert "No documents left to annotate" in text_of(response)


def test_outsider_gets_404_on_the_queue(client, project, outsider):
    client.force_login(outsider)
    assert client.get(reverse("work-queue", args=["p1"])).status_code == 404


# --- annotation form -------------------------------------------------------------------


def test_form_shows_report_fields_guidelines_and_draft(client, project, annotator, assignment):
    client.force_login(annotator)
    response = client.get(form_url(assignment))
    assert response.status_code == 200
    body = text_of(response)
    assert REPORT in body
    assert 'id="report-text"' in body  # the exact text for the offsets, as JSON
    for category in project.categories.all():
        assert f'name="value-{category.key}"' in body
        assert category.label in body
    assert 'title="Habits that shape health' in body  # guideline on hover
    assert "fever; cough" in body  # the draft, shown and pre-filled
    assert 'value="hallucinated"' in body and 'value="wrong_category"' in body
    assert "/api/projects/p1/assignments/" in body
    assert AccessLog.objects.filter(user=annotator, action="view").count() == 1


def test_another_annotators_assignment_is_404(client, project, assignment, make_member):
    intruder = make_member(project, "annotator", "intruder")
    client.force_login(intruder)
    assert client.get(form_url(assignment)).status_code == 404
    assert client.post(form_url(assignment), {"action": "save", "version": "1"}).status_code == 404


def test_german_document_links_to_its_original_only_for_document_viewers(
    client, project, annotator, reviewer, document
):
    german = DocumentFactory(
        project=project, external_id="101", language="de", text="Eine Frau mit Fieber.", translation_of=document
    )
    mine = AssignmentFactory(document=german, annotator=annotator)
    client.force_login(annotator)
    body = text_of(client.get(form_url(mine)))
    assert ">de</span>" in body
    assert "Translation of" in body
    assert reverse("document-detail", args=["p1", document.pk]) not in body
    # the annotator reads the original report (its text only, never its gold)
    assert "Original report (en, " in body and document.text in body
    client.force_login(reviewer)
    body = text_of(client.get(form_url(mine)))
    assert reverse("document-detail", args=["p1", document.pk]) in body
    assert "Read-only" in body


def test_form_saves_without_javascript(client, project, annotator, assignment):
    client.force_login(annotator)
    annotation = annotation_open(assignment=assignment, user=annotator)
    start = REPORT.index("fever")
    data = form_post(
        project,
        annotation,
        **{
            "value-signs_symptoms": "fever; dry cough",
            "judgement-signs_symptoms": "partially_correct",
            "spans-signs_symptoms": json.dumps([[start, start + 5]]),
        },
    )
    response = client.post(form_url(assignment), data)
    assert response.status_code == 302 and response["Location"] == form_url(assignment)
    annotation.refresh_from_db()
    assignment.refresh_from_db()
    assert annotation.values["signs_symptoms"] == "fever; dry cough"
    assert annotation.judgements == {"signs_symptoms": "partially_correct"}
    assert annotation.spans["signs_symptoms"] == [[start, start + 5]]
    assert annotation.version == 2
    assert assignment.status == "in_progress"
    assert assignment.time_spent_seconds == 12
    assert "Draft saved." in text_of(client.get(form_url(assignment)))


def test_form_submit_without_javascript_goes_to_the_next_open_assignment(client, project, annotator, assignment):
    following = AssignmentFactory(document=DocumentFactory(project=project, external_id="102"), annotator=annotator)
    client.force_login(annotator)
    annotation = annotation_open(assignment=assignment, user=annotator)
    response = client.post(form_url(assignment), form_post(project, annotation, action="submit"))
    assert response.status_code == 302 and response["Location"] == form_url(following)
    assignment.refresh_from_db()
    assert assignment.status == "submitted"


def test_stale_version_gets_409_and_keeps_the_typed_values(client, project, annotator, assignment):
    client.force_login(annotator)
    annotation = annotation_open(assignment=assignment, user=annotator)
    annotation_save(assignment=assignment, user=annotator, version=1, values={"age": "46"}, judgements={}, spans={})
    response = client.post(form_url(assignment), form_post(project, annotation, **{"value-diagnosis": "my typed text"}))
    assert response.status_code == 409
    body = text_of(response)
    assert "changed elsewhere" in body and "not saved" in body
    assert "my typed text" in body
    annotation.refresh_from_db()
    assert annotation.values["diagnosis"] != "my typed text"


def test_bad_spans_are_refused_with_the_field_named(client, project, annotator, assignment):
    client.force_login(annotator)
    annotation = annotation_open(assignment=assignment, user=annotator)
    response = client.post(form_url(assignment), form_post(project, annotation, **{"spans-diagnosis": "[[5, 99999]]"}))
    assert response.status_code == 400
    assert "diagnosis" in text_of(response)
    annotation.refresh_from_db()
    assert annotation.version == 1


def test_skip_needs_a_reason_and_keeps_it(client, project, annotator, assignment):
    client.force_login(annotator)
    annotation = annotation_open(assignment=assignment, user=annotator)
    response = client.post(form_url(assignment), form_post(project, annotation, action="skip", skip_reason=""))
    assert response.status_code == 400
    response = client.post(
        form_url(assignment), form_post(project, annotation, action="skip", skip_reason="not a case report")
    )
    assert response.status_code == 302
    assignment.refresh_from_db()
    assert (assignment.status, assignment.skip_reason) == ("skipped", "not a case report")


# --- review and adjudication --------------------------------------------------------------


@pytest.fixture
def two_annotations(project, document, make_member):
    first = make_member(project, "annotator", "alice")
    second = make_member(project, "annotator", "bob")
    keys = list(project.categories.values_list("key", flat=True))
    base = dict.fromkeys(keys, "N/A")
    a1 = AnnotationFactory(
        assignment=AssignmentFactory(document=document, annotator=first, status="submitted"),
        values=base | {"signs_symptoms": "fever; dry cough"},
        judgements={"signs_symptoms": "partially_correct"},
    )
    a2 = AnnotationFactory(
        assignment=AssignmentFactory(document=document, annotator=second, status="submitted"),
        values=base | {"signs_symptoms": "fever; cough <b>"},
    )
    return a1, a2


def test_review_pages_refuse_annotators_and_outsiders(client, project, annotator, outsider, document):
    for user, status in ((annotator, 403), (outsider, 404)):
        client.force_login(user)
        assert client.get(reverse("review-list", args=["p1"])).status_code == status
        assert client.get(reverse("review-document", args=["p1", document.pk])).status_code == status
        assert client.get(reverse("gold-history", args=["p1", document.pk])).status_code == status


def test_review_queue_lists_documents_needing_adjudication(client, project, reviewer, two_annotations):
    client.force_login(reviewer)
    body = text_of(client.get(reverse("review-list", args=["p1"]) + "?status=disagreed"))
    assert "101" in body and "needs adjudication" in body
    assert (
        "101"
        not in text_of(client.get(reverse("review-list", args=["p1"]) + "?status=adjudicated")).split("<tbody>")[-1]
    )


def test_adjudication_page_shows_annotations_side_by_side_with_diffs(client, project, reviewer, two_annotations):
    client.force_login(reviewer)
    response = client.get(reverse("review-document", args=["p1", two_annotations[0].assignment.document_id]))
    assert response.status_code == 200
    body = text_of(response)
    assert "alice" in body and "bob" in body
    assert "partially correct" in body
    assert "<del>dry </del>" in body
    assert "<ins> &lt;b&gt;</ins>" in body  # escaped, never markup
    assert "<b>" not in body.split("<tbody>")[1]


def test_adjudication_saves_gold_with_provenance(client, project, reviewer, two_annotations):
    a1, a2 = two_annotations
    document = a1.assignment.document
    client.force_login(reviewer)
    url = reverse("review-document", args=["p1", document.pk])
    data = {"version": ""}
    for key in project.categories.values_list("key", flat=True):
        data[f"pick-{key}"] = str(a1.pk)
        data[f"edit-{key}"] = a1.values[key]
        data[f"orig-{key}"] = a1.values[key]
    data["pick-signs_symptoms"] = str(a2.pk)  # picked bob's (the text box still holds alice's: not edited)
    data["edit-diagnosis"] = "pneumonia"  # typed: edited
    response = client.post(url, data)
    assert response.status_code == 302
    gold = Gold.objects.get(document=document)
    assert gold.values["signs_symptoms"] == "fever; cough <b>"
    assert gold.values["diagnosis"] == "pneumonia"
    assert gold.origin == "adjudicated"
    assert gold.provenance["sources"]["signs_symptoms"] == a2.pk
    assert gold.provenance["sources"]["diagnosis"] == "edited"
    assert gold.provenance["reviewer"] == "rev"
    # The same form again, from the version it started with: 409, nothing saved.
    response = client.post(url, data)
    assert response.status_code == 409
    assert "Gold changed elsewhere" in text_of(response)
    assert Gold.objects.get(document=document).version == 1


def test_accept_agreed_in_bulk(client, project, reviewer, document, make_member):
    keys = list(project.categories.values_list("key", flat=True))
    for name in ("carl", "dora"):
        user = make_member(project, "annotator", name)
        AnnotationFactory(
            assignment=AssignmentFactory(document=document, annotator=user, status="submitted"),
            values=dict.fromkeys(keys, "N/A") | {"age": "45"},
        )
    client.force_login(reviewer)
    response = client.post(reverse("review-accept-agreed", args=["p1"]), follow=True)
    assert "Accepted 1 document" in text_of(response)
    assert Gold.objects.get(document=document).values["age"] == "45"


def test_gold_history_shows_who_when_old_and_new(client, project, reviewer, document):
    gold = GoldFactory(document=document)
    GoldRevision.objects.create(
        document=document, version=2, origin="adjudicated", changes={"age": ["40", "45"]}, user=reviewer
    )
    client.force_login(reviewer)
    body = text_of(client.get(reverse("gold-history", args=["p1", document.pk])))
    assert "rev" in body and "Age" in body
    assert "<del>0</del><ins>5</ins>" in body
    assert gold.pk


# --- researcher pages ---------------------------------------------------------------------


def test_assign_and_members_pages_are_for_researchers(client, project, reviewer, annotator, researcher):
    for user, status in ((reviewer, 403), (annotator, 403), (researcher, 200)):
        client.force_login(user)
        assert client.get(reverse("work-assign", args=["p1"])).status_code == status
        assert client.get(reverse("work-members", args=["p1"])).status_code == status


def test_assign_with_overlap_and_withdraw(client, project, researcher, make_member, draft_run):
    users = [make_member(project, "annotator", name) for name in ("a1", "a2", "a3")]
    for i in range(5):
        DocumentFactory(project=project, external_id=str(500 + i), split="test")
    client.force_login(researcher)
    url = reverse("work-assign", args=["p1"])
    data = {
        "action": "assign",
        "annotators": ["a1", "a2", "a3"],
        "overlap": "2",
        "seed": "7",
        "split": "test",
        "draft_run": str(draft_run.pk),
    }
    response = client.post(url, data, follow=True)
    assert "Assigned 5 document(s): 10 new assignment(s)" in text_of(response)
    assert Assignment.objects.filter(project=project).count() == 10
    assert set(Assignment.objects.values_list("draft_run", flat=True)) == {draft_run.pk}
    body = text_of(client.get(url))
    assert "Per document coverage" in body
    response = client.post(url, {"action": "withdraw", "annotator": "a1"}, follow=True)
    assert "Withdrew" in text_of(response)
    assert not Assignment.objects.filter(annotator=users[0]).exclude(status="withdrawn").exists()
    response = client.post(url, {"action": "assign", "annotators": ["a1"], "overlap": "x"}, follow=True)
    assert "Nothing changed: overlap: expected a whole number" in text_of(response)


def test_settings_form_sets_the_prefill_run(client, project, researcher, draft_run):
    client.force_login(researcher)
    client.post(
        reverse("work-assign", args=["p1"]), {"action": "settings", "prefill": "run", "prefill_run": str(draft_run.pk)}
    )
    assert project.annotation_settings.prefill_run == draft_run


def test_members_add_change_remove(client, project, researcher):
    UserFactory(username="newbie")
    client.force_login(researcher)
    url = reverse("work-members", args=["p1"])
    assert "Added newbie as annotator" in text_of(
        client.post(url, {"action": "add", "username": "newbie", "role": "annotator"}, follow=True)
    )
    client.post(url, {"action": "add", "username": "newbie", "role": "reviewer"})
    assert Membership.objects.get(project=project, user__username="newbie").role == "reviewer"
    assert "does not exist" in text_of(
        client.post(url, {"action": "add", "username": "ghost", "role": "annotator"}, follow=True)
    )
    client.post(url, {"action": "remove", "username": "newbie"})
    assert not Membership.objects.filter(project=project, user__username="newbie").exists()
    assert "cannot remove yourself" in text_of(client.post(url, {"action": "remove", "username": "res"}, follow=True))


def test_project_page_links_by_role(client, project, annotator, reviewer, researcher):
    links = {
        annotator: ({"work-queue"}, {"review-list", "work-assign", "work-members"}),
        reviewer: ({"work-queue", "review-list"}, {"work-assign", "work-members"}),
        researcher: ({"work-queue", "review-list", "work-assign", "work-members"}, set()),
    }
    for user, (shown, hidden) in links.items():
        client.force_login(user)
        body = text_of(client.get(reverse("project-detail", args=["p1"])))
        for name in shown:
            assert f'href="{reverse(name, args=["p1"])}"' in body, (user, name)
        for name in hidden:
            assert f'href="{reverse(name, args=["p1"])}"' not in body, (user, name)


# --- query counts -----------------------------------------------------------------------


def count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_queue_query_count_is_constant(client, project, annotator, django_assert_max_num_queries):
    client.force_login(annotator)
    url = reverse("work-queue", args=["p1"])
    AssignmentFactory(document=DocumentFactory(project=project), annotator=annotator)
    few = count_queries(client, url)
    for _ in range(30):
        AssignmentFactory(document=DocumentFactory(project=project), annotator=annotator, status="submitted")
    assert count_queries(client, url) == few
    with django_assert_max_num_queries(10):
        client.get(url)


def test_form_query_count_is_constant(client, project, annotator, assignment, django_assert_max_num_queries):
    client.force_login(annotator)
    count_queries(client, form_url(assignment))  # first open creates the annotation
    with django_assert_max_num_queries(16):
        client.get(form_url(assignment))


def test_review_query_count_does_not_grow_with_annotations(
    client, project, reviewer, document, make_member, django_assert_max_num_queries
):
    keys = list(project.categories.values_list("key", flat=True))

    def add(name):
        user = make_member(project, "annotator", name)
        AnnotationFactory(
            assignment=AssignmentFactory(document=document, annotator=user, status="submitted"),
            values=dict.fromkeys(keys, name),
        )

    add("x1")
    GoldFactory(document=document)
    client.force_login(reviewer)
    url = reverse("review-document", args=["p1", document.pk])
    few = count_queries(client, url)
    for name in ("x2", "x3", "x4"):
        add(name)
    assert count_queries(client, url) == few
    list_url = reverse("review-list", args=["p1"]) + "?status=all"
    assert count_queries(client, list_url) <= 10
    with django_assert_max_num_queries(12):
        client.get(url)


# --- diffs ----------------------------------------------------------------------------


def test_diff_html_marks_changes_and_escapes():
    assert diff_html("fever; cough", "fever; dry cough") == "fever; <ins>dry </ins>cough"
    assert diff_html("a<b", "a>b") == "a<del>&lt;</del><ins>&gt;</ins>b"
    assert diff_html(None, "x") == "<ins>x</ins>"
    assert diff_html("same", "same") == "same"
    assert Annotation  # imported for the fixtures' sake


def test_form_shows_check_findings_on_my_annotation_only(client, project, annotator, assignment, make_member):
    from annotation.models import CheckResult

    annotation = annotation_open(assignment=assignment, user=annotator)
    other = AnnotationFactory(
        assignment=AssignmentFactory(document=assignment.document, annotator=make_member(project, "annotator", "zed"))
    )
    document = assignment.document
    for target_id, message in (
        (annotation.pk, "'smoker' not found in the report"),
        (other.pk, "secret finding of zed"),
    ):
        CheckResult.objects.create(
            project=project,
            document=document,
            target="annotation",
            target_id=target_id,
            category="life_style",
            code="not_grounded",
            message=message,
        )
    CheckResult.objects.create(
        project=project,
        document=document,
        target="gold",
        target_id=document.pk,
        category="life_style",
        code="x",
        message="gold finding",
    )
    client.force_login(annotator)
    body = text_of(client.get(form_url(assignment)))
    assert "&#x27;smoker&#x27; not found in the report" in body
    assert "secret finding of zed" not in body
    assert "gold finding" not in body


def test_reviewer_sees_an_unopened_assignment_read_only(client, project, reviewer, assignment):
    client.force_login(reviewer)
    response = client.get(form_url(assignment))
    assert response.status_code == 200
    body = text_of(response)
    assert "Read-only" in body and '<fieldset class="fields" disabled>' in body
    assert not Annotation.objects.filter(assignment=assignment).exists()  # opening is the annotator's
    assert client.post(form_url(assignment), {"action": "save", "version": "1"}).status_code == 403


def test_review_page_rows_match_the_review_queue_selector(project, make_member):
    from annotation.selectors_work import review_queue
    from annotation.selectors_work_pages import review_page_rows

    keys = list(project.categories.values_list("key", flat=True))
    users = [make_member(project, "annotator", f"u{i}") for i in range(2)]

    def doc(ext, values_per_user, status="submitted", gold=None):
        d = DocumentFactory(project=project, external_id=ext)
        for user, values in zip(users, values_per_user, strict=False):
            AnnotationFactory(
                assignment=AssignmentFactory(document=d, annotator=user, status=status),
                values=dict.fromkeys(keys, values),
            )
        if gold:
            GoldFactory(document=d, origin=gold)
        return d

    doc("agreed", ["a", "a"])
    doc("disagreed", ["a", "b"])
    doc("single", ["a"])
    doc("adjudicated", ["a", "b"], gold="adjudicated")
    doc("imported-gold", ["a", "a"], gold="imported")
    doc("open-only", ["a"], status="in_progress")
    for status in ("pending", "agreed", "disagreed", "adjudicated", None):
        expected = [
            (d.pk, d.agreed, d.adjudicated, d.has_gold, d.n_submitted)
            for d in review_queue(project=project, status=status)
        ]
        rows, more = review_page_rows(project=project, status=status or "all", offset=0, limit=50)
        assert [(d.pk, d.agreed, d.adjudicated, d.has_gold, d.n_submitted) for d in rows] == expected, status
        assert not more
    rows, more = review_page_rows(project=project, status="all", offset=0, limit=2)
    assert len(rows) == 2 and more


def test_queue_lists_open_assignments_first(client, project, annotator):
    done = AssignmentFactory(
        document=DocumentFactory(project=project, external_id="first-done"), annotator=annotator, status="submitted"
    )
    todo = AssignmentFactory(document=DocumentFactory(project=project, external_id="later-open"), annotator=annotator)
    AssignmentFactory(
        document=DocumentFactory(project=project, external_id="gone"), annotator=annotator, status="withdrawn"
    )
    client.force_login(annotator)
    body = text_of(client.get(reverse("work-queue", args=["p1"])))
    assert body.index("later-open") < body.index("first-done")
    assert "gone" not in body
    assert done.pk < todo.pk


def test_adjudication_page_shows_findings_on_annotations_drafts_and_gold(
    client, project, reviewer, document, draft_run, two_annotations
):
    from annotation.models import CheckResult

    a1, _ = two_annotations
    Assignment.objects.filter(pk=a1.assignment_id).update(draft_run=draft_run)
    candidate = draft_run.candidates.get(document=document)
    GoldFactory(document=document)
    for target, target_id, message in (
        ("annotation", a1.pk, "finding on alice"),
        ("candidate", candidate.pk, "finding on the draft"),
        ("gold", document.pk, "finding on gold"),
    ):
        CheckResult.objects.create(
            project=project,
            document=document,
            target=target,
            target_id=target_id,
            category="diagnosis",
            code="c",
            message=message,
        )
    client.force_login(reviewer)
    body = text_of(client.get(reverse("review-document", args=["p1", document.pk])))
    for message in ("finding on alice", "finding on the draft", "finding on gold"):
        assert message in body
