"""Assignments: overlap, balance, seeds, queue pulls, withdrawing (issue 4)."""

from collections import Counter

import pytest

from annotation.models import Annotation, Assignment, AssignmentStatus
from annotation.services.assignments import assignment_next, assignments_create, assignments_withdraw
from elmtex_site.errors import ApplicationError, NotFound
from tests.factories import DocumentFactory, RunFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def team(project, make_member):
    return [make_member(project, "annotator", f"a{i}") for i in range(4)]


@pytest.fixture
def docs(project):
    return [DocumentFactory(project=project, split="test" if i % 2 else "train") for i in range(30)]


def _pairs(project):
    return sorted(Assignment.objects.filter(project=project).values_list("document_id", "annotator__username"))


def test_overlap_counts_per_document_and_balance_per_annotator(project, team, docs):
    result = assignments_create(project=project, annotators=team, overlap=2, seed=1)
    assert result["created"] == 60 and result["documents"] == 30
    per_doc = Counter(Assignment.objects.filter(project=project).values_list("document_id", flat=True))
    assert set(per_doc.values()) == {2}
    # Two distinct annotators per document (one row per pair by construction).
    assert all(
        len(set(Assignment.objects.filter(document_id=d).values_list("annotator", flat=True))) == 2 for d in per_doc
    )
    loads = result["per_annotator"]
    assert sum(loads.values()) == 60 and max(loads.values()) - min(loads.values()) <= 1


def test_same_seed_gives_the_same_assignments_and_another_seed_differs(project, team, docs, make_member):
    assignments_create(project=project, annotators=team, overlap=2, seed=7)
    first = _pairs(project)
    Assignment.objects.all().delete()
    assignments_create(project=project, annotators=list(reversed(team)), overlap=2, seed=7)
    assert _pairs(project) == first
    Assignment.objects.all().delete()
    assignments_create(project=project, annotators=team, overlap=2, seed=8)
    assert _pairs(project) != first


def test_running_again_tops_up_instead_of_doubling(project, team, docs):
    assignments_create(project=project, annotators=team[:2], overlap=1, seed=0)
    result = assignments_create(project=project, annotators=team, overlap=2, seed=0)
    assert result["created"] == 30
    assert set(Counter(Assignment.objects.values_list("document_id", flat=True)).values()) == {2}
    again = assignments_create(project=project, annotators=team, overlap=2, seed=0)
    assert again["created"] == again["reopened"] == again["documents"] == 0


def test_selection_by_split_language_and_ids(project, team, docs):
    result = assignments_create(project=project, annotators=team, overlap=1, split="test")
    assert result["documents"] == 15
    assert set(Assignment.objects.values_list("document__split", flat=True)) == {"test"}
    de = DocumentFactory(project=project, language="de", external_id=docs[0].external_id)
    assert assignments_create(project=project, annotators=team, language="de")["documents"] == 1
    assert Assignment.objects.filter(document=de).count() == 1
    ids = [docs[0].external_id, docs[2].external_id]
    result = assignments_create(project=project, annotators=team, overlap=2, external_ids=ids, language="en")
    assert result["documents"] == 2
    with pytest.raises(ApplicationError, match="unknown patient_id"):
        assignments_create(project=project, annotators=team, external_ids=["nope"])


def test_refusals(project, team, docs, outsider):
    with pytest.raises(ApplicationError, match="needs at least 3 annotators"):
        assignments_create(project=project, annotators=team[:2], overlap=3)
    with pytest.raises(ApplicationError, match="not members"):
        assignments_create(project=project, annotators=[outsider])
    assert not Assignment.objects.exists()


def test_default_draft_run_comes_from_the_settings(project, team, docs):
    from annotation.models import AnnotationSettings

    run = RunFactory(project=project)
    AnnotationSettings.objects.create(project=project, prefill="run", prefill_run=run)
    assignments_create(project=project, annotators=team[:1], document_ids=[docs[0].pk])
    assert Assignment.objects.get().draft_run == run


def test_withdraw_keeps_submitted_work_and_reassign_reopens(project, team, docs):
    assignments_create(project=project, annotators=team[:1], document_ids=[d.pk for d in docs[:3]])
    a0, a1, a2 = Assignment.objects.order_by("document_id")
    a0.status = AssignmentStatus.SUBMITTED
    a0.save()
    Annotation.objects.create(assignment=a0, values={"age": "40"})
    a1.status = AssignmentStatus.IN_PROGRESS
    a1.save()
    Annotation.objects.create(assignment=a1, values={"age": "41"})
    assert assignments_withdraw(project=project, annotator=team[0]) == 2
    a0.refresh_from_db()
    assert a0.status == "submitted" and a0.annotation.values == {"age": "40"}
    assert Annotation.objects.filter(assignment=a1).exists()  # the draft is kept
    result = assignments_create(project=project, annotators=team[:1], document_ids=[d.pk for d in docs[:3]])
    assert result["reopened"] == 2 and result["created"] == 0
    statuses = dict(Assignment.objects.values_list("pk", "status"))
    assert statuses == {a0.pk: "submitted", a1.pk: "in_progress", a2.pk: "assigned"}
    with pytest.raises(NotFound):
        assignments_withdraw(project=project, assignment_ids=[999999])


def test_queue_pull(project, team, docs):
    first = assignment_next(project=project, annotator=team[0], overlap=2)
    assert first.document == docs[0]
    # Asking again gives the same open assignment.
    assert assignment_next(project=project, annotator=team[0], overlap=2) == first
    second = assignment_next(project=project, annotator=team[1], overlap=2)
    assert second.document == docs[0]  # overlap 2: the first document needs one more
    third = assignment_next(project=project, annotator=team[2], overlap=2)
    assert third.document == docs[1]
    first.status = "submitted"
    first.save()
    assert assignment_next(project=project, annotator=team[0], overlap=2).document == docs[1]


def test_queue_pull_ends_and_candidate_drafts(project, team):
    doc = DocumentFactory(project=project)
    a = assignment_next(project=project, annotator=team[0])
    a.status = "submitted"
    a.save()
    assert assignment_next(project=project, annotator=team[0]) is None
    assert assignment_next(project=project, annotator=team[1]) is None  # overlap 1 reached
    assert doc.assignments.count() == 1
