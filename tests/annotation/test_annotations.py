"""Annotating: open with a draft, save, submit, locking, history, skip (issue 4)."""

import re

import pytest

from annotation.models import AccessLog, AnnotationSettings, Assignment
from annotation.services.annotations import annotation_open, annotation_save, assignment_skip
from annotation.services.assignments import assignments_create
from elmtex_site.errors import ApplicationError, Conflict, NotFound
from tests.factories import CandidateFactory, DocumentFactory, RunFactory

pytestmark = pytest.mark.django_db

TEXT = "A 40-year-old woman presented with fever and cough."


@pytest.fixture
def doc(project):
    return DocumentFactory(project=project, text=TEXT)


@pytest.fixture
def assignment(project, doc, annotator):
    run = RunFactory(project=project)
    CandidateFactory(run=run, document=doc, values={"age": "40", "gender": "female", "bogus": "x"})
    AnnotationSettings.objects.create(project=project, prefill="run", prefill_run=run)
    assignments_create(project=project, annotators=[annotator])
    return Assignment.objects.get()


def _save(assignment, user, version, **kwargs):
    kwargs.setdefault("values", {})
    kwargs.setdefault("judgements", {})
    kwargs.setdefault("spans", {})
    return annotation_save(assignment=assignment, user=user, version=version, **kwargs)


def test_open_prefills_from_the_run_candidate(assignment, annotator):
    annotation = annotation_open(assignment=assignment, user=annotator)
    assert annotation.draft == {"age": "40", "gender": "female"}
    assert annotation.values["age"] == "40" and annotation.values["diagnosis"] == ""
    assert len(annotation.values) == 15 and annotation.version == 1
    # Opening again does not reset anything.
    assert annotation_open(assignment=assignment, user=annotator).pk == annotation.pk


def test_open_empty_when_the_project_says_so(project, doc, annotator):
    AnnotationSettings.objects.create(project=project, prefill="empty")
    assignments_create(project=project, annotators=[annotator])
    annotation = annotation_open(assignment=Assignment.objects.get(), user=annotator)
    assert annotation.draft == {} and set(annotation.values.values()) == {""}


def test_another_annotator_cannot_open_or_save(assignment, project, make_member):
    other = make_member(project, "annotator", "other")
    with pytest.raises(NotFound):
        annotation_open(assignment=assignment, user=other)
    with pytest.raises(NotFound):
        _save(assignment, other, 1)


def test_save_submit_history_and_time(assignment, annotator):
    a = annotation_open(assignment=assignment, user=annotator)
    a = _save(
        assignment,
        annotator,
        a.version,
        values={"age": "41"},
        judgements={"age": "incorrect"},
        spans={"age": [[2, 13], [2, 13]]},
        time_spent_seconds=12.5,
    )
    assert a.version == 2 and a.values["age"] == "41" and a.spans == {"age": [[2, 13]]}
    assignment.refresh_from_db()
    assert assignment.status == "in_progress" and assignment.time_spent_seconds == 12.5
    a = _save(assignment, annotator, 2, submit=True, time_spent_seconds=3)
    assignment.refresh_from_db()
    assert assignment.status == "submitted" and assignment.submitted_at and assignment.time_spent_seconds == 15.5
    assert a.values["diagnosis"] == "N/A"  # blank becomes N/A on submit
    history = list(a.revisions.order_by("version"))
    assert [r.version for r in history] == [2, 3]
    assert history[0].changes["values.age"] == ["40", "41"]
    assert history[0].changes["judgements.age"] == [None, "incorrect"]
    assert history[0].user == annotator
    assert history[1].changes["status"] == ["in_progress", "submitted"]
    # Clearing a judgement and spans.
    a = _save(assignment, annotator, 3, judgements={"age": None}, spans={"age": []})
    assert a.judgements == {} and a.spans == {}
    assignment.refresh_from_db()
    assert assignment.status == "submitted"


def test_two_saves_from_the_same_version_one_conflict(assignment, annotator):
    a = annotation_open(assignment=assignment, user=annotator)
    _save(assignment, annotator, a.version, values={"age": "41"})
    with pytest.raises(Conflict) as exc:
        _save(assignment, annotator, a.version, values={"age": "42"})
    assert exc.value.status == 409
    assert "changed by ann at" in exc.value.message and "(version 2)" in exc.value.message
    assert "nothing was saved" in exc.value.message
    assignment.annotation.refresh_from_db()
    assert assignment.annotation.values["age"] == "41"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"values": {"nope": "x"}}, "values.nope"),
        ({"values": {"age": 40}}, "values.age"),
        ({"judgements": {"age": "great"}}, "judgements.age"),
        ({"spans": {"age": [[5, 2]]}}, "spans.age[0]"),
        ({"spans": {"age": [[0, len(TEXT) + 1]]}}, "spans.age[0]"),
        ({"spans": {"age": [[0.5, 3]]}}, "spans.age[0]"),
        ({"spans": {"age": [[-1, 3]]}}, "spans.age[0]"),
        ({"spans": {"age": "0-3"}}, "spans.age"),
        ({"time_spent_seconds": -1}, "time_spent_seconds"),
    ],
)
def test_invalid_content_is_refused_naming_the_field(assignment, annotator, kwargs, field):
    a = annotation_open(assignment=assignment, user=annotator)
    with pytest.raises(ApplicationError) as exc:
        _save(assignment, annotator, a.version, **kwargs)
    assert exc.value.problems[0].field == field
    a.refresh_from_db()
    assert a.version == 1


def test_span_up_to_the_end_of_the_report_is_fine(assignment, annotator):
    a = annotation_open(assignment=assignment, user=annotator)
    a = _save(assignment, annotator, 1, spans={"diagnosis": [[len(TEXT) - 6, len(TEXT)]]})
    assert a.spans["diagnosis"] == [[len(TEXT) - 6, len(TEXT)]]


def test_skip_with_a_reason(assignment, annotator):
    with pytest.raises(ApplicationError, match="reason"):
        assignment_skip(assignment=assignment, user=annotator, reason="  ")
    skipped = assignment_skip(assignment=assignment, user=annotator, reason="not a case report")
    assert skipped.status == "skipped" and skipped.skip_reason == "not a case report"
    # Working on it again un-skips it.
    a = annotation_open(assignment=assignment, user=annotator)
    _save(assignment, annotator, a.version, values={"age": "1"})
    assignment.refresh_from_db()
    assert assignment.status == "in_progress" and assignment.skip_reason == ""


def test_withdrawn_assignment_cannot_be_saved(assignment, annotator):
    a = annotation_open(assignment=assignment, user=annotator)
    Assignment.objects.filter(pk=assignment.pk).update(status="withdrawn")
    with pytest.raises(ApplicationError, match="withdrawn"):
        _save(assignment, annotator, a.version, values={"age": "1"})


def test_access_log_records_ids_only(assignment, annotator):
    a = annotation_open(assignment=assignment, user=annotator)
    _save(assignment, annotator, a.version, values={"age": "41"})
    _save(assignment, annotator, 2, submit=True)
    actions = list(AccessLog.objects.order_by("id").values_list("action", "user__username", "document_id"))
    assert actions == [
        ("view", "ann", assignment.document_id),
        ("save", "ann", assignment.document_id),
        ("submit", "ann", assignment.document_id),
    ]
    for detail in AccessLog.objects.values_list("detail", flat=True):
        # Ids only: "assignment 3 annotation 4 version 2", never report text or values.
        assert re.fullmatch(r"((assignment|annotation|version) \d+ ?)+", detail), detail
