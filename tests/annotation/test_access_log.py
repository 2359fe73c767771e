"""The access log: who opened or changed which document, when — ids only (issue 4)."""

import pytest

from annotation.models import AccessLog
from annotation.services.access import access_record
from annotation.services.adjudication import gold_adjudicate
from annotation.services.annotations import annotation_open, annotation_save, assignment_skip
from tests.factories import AssignmentFactory, DocumentFactory

pytestmark = pytest.mark.django_db

SECRET = "Mrs Example, 40, presented with fever."


@pytest.fixture
def work(project, annotator, reviewer):
    doc = DocumentFactory(project=project, text=SECRET)
    other = DocumentFactory(project=project)
    a = AssignmentFactory(document=doc, project=project, annotator=annotator)
    b = AssignmentFactory(document=other, project=project, annotator=annotator)
    annotation = annotation_open(assignment=a, user=annotator)
    annotation_save(
        assignment=a,
        user=annotator,
        version=annotation.version,
        values={"age": "40"},
        judgements={},
        spans={},
        submit=True,
    )
    assignment_skip(assignment=b, user=annotator, reason="Mrs Example is not a case")
    gold_adjudicate(document=doc, user=reviewer, values={"age": "40"}, version=None)
    return doc, other


def test_every_action_is_logged_with_ids_only(work, annotator, reviewer):
    doc, other = work
    rows = list(AccessLog.objects.order_by("id").values_list("user__username", "action", "document_id"))
    assert rows == [
        ("ann", "view", doc.pk),
        ("ann", "submit", doc.pk),
        ("ann", "skip", other.pk),
        ("rev", "adjudicate", doc.pk),
    ]
    for detail in AccessLog.objects.values_list("detail", flat=True):
        assert "Example" not in detail and "fever" not in detail and detail != "40"


def test_unknown_action_is_a_programming_error(project, annotator):
    with pytest.raises(ValueError):
        access_record(user=annotator, project=project, action="peek")


def test_researchers_read_the_log_with_filters(api_client, work, researcher, reviewer, annotator):
    doc, _ = work
    api_client.force_authenticate(researcher)
    everything = api_client.get("/api/projects/p1/access-log/").json()
    assert everything["count"] == 4
    assert everything["results"][0]["action"] == "adjudicate"  # newest first
    skips = api_client.get("/api/projects/p1/access-log/?action=skip").json()["results"]
    assert [e["user"] for e in skips] == ["ann"]
    mine = api_client.get(f"/api/projects/p1/access-log/?document={doc.pk}&user=ann").json()["results"]
    assert {e["action"] for e in mine} == {"view", "submit"}
    assert "Example" not in api_client.get("/api/projects/p1/access-log/").content.decode()
    for user in (reviewer, annotator):
        api_client.force_authenticate(user)
        assert api_client.get("/api/projects/p1/access-log/").status_code == 403


def test_opening_a_document_for_review_is_logged(api_client, work, reviewer):
    doc, _ = work
    api_client.force_authenticate(reviewer)
    assert api_client.get(f"/api/projects/p1/review/{doc.pk}/").status_code == 200
    entry = AccessLog.objects.order_by("-id").first()
    assert (entry.user, entry.action, entry.document_id, entry.detail) == (reviewer, "view", doc.pk, "review")
