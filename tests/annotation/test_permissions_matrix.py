"""The annotation-work API: role x endpoint, blinding, 409 on stale saves (issue 4)."""

import pytest

from annotation.models import AccessLog, Assignment
from annotation.services.annotations import annotation_open
from tests.factories import AnnotationFactory, AssignmentFactory, DocumentFactory, UserFactory

pytestmark = pytest.mark.django_db

ROLES = ["researcher", "reviewer", "annotator", "other", "outsider", "staff"]
B = "/api/projects/p1/"


@pytest.fixture
def world(project, researcher, reviewer, annotator, outsider, make_member):
    other = make_member(project, "annotator", "ann2")
    doc = DocumentFactory(project=project, text="A 40-year-old woman with fever.")
    mine = AssignmentFactory(document=doc, project=project, annotator=annotator)
    annotation_open(assignment=mine, user=annotator)
    theirs = AnnotationFactory(
        assignment__document=doc, assignment__project=project, assignment__annotator=other, values={"age": "SECRET-77"}
    )
    return {
        "people": {
            "researcher": researcher,
            "reviewer": reviewer,
            "annotator": annotator,
            "other": other,
            "outsider": outsider,
            "staff": UserFactory(username="admin", is_staff=True),
        },
        "doc": doc,
        "mine": mine,
        "theirs": theirs,
    }


def _all(code, **overrides):
    return {r: code for r in ROLES} | {"outsider": 404} | overrides


MANAGE = {"reviewer": 403, "annotator": 403, "other": 403}
REVIEW = {"annotator": 403, "other": 403}
OWN = {"other": 404}

# name: (method, url, body, {role: status})
MATRIX = {
    "assignments-list": ("get", "assignments/", None, _all(200)),
    "assignments-create": ("post", "assignments/", {"annotators": ["ann2"], "overlap": 1}, _all(201, **MANAGE)),
    "assignments-next": ("post", "assignments/next/", {}, _all(200, staff=403)),
    "assignments-withdraw": ("post", "assignments/withdraw/", {"annotator": "ann2"}, _all(200, **MANAGE)),
    "assignments-counts": ("get", "assignments/counts/", None, _all(200, **MANAGE)),
    "assignment-detail": ("get", "assignments/{mine}/", None, _all(200, **OWN)),
    "assignment-annotation": ("get", "assignments/{mine}/annotation/", None, _all(200, **OWN)),
    "assignment-annotation-put": (
        "put",
        "assignments/{mine}/annotation/",
        {"version": 1, "values": {"age": "40"}},
        _all(403, annotator=200, other=404),
    ),
    "assignment-skip": (
        "post",
        "assignments/{mine}/skip/",
        {"reason": "unreadable"},
        _all(403, annotator=200, other=404),
    ),
    "annotations-list": ("get", "annotations/", None, _all(200)),
    "annotation-detail": ("get", "annotations/{theirs}/", None, _all(200, annotator=404)),
    "annotation-history": ("get", "annotations/{theirs}/history/", None, _all(200, annotator=404)),
    "review-queue": ("get", "review/", None, _all(200, **REVIEW)),
    "review-detail": ("get", "review/{doc}/", None, _all(200, **REVIEW)),
    "adjudicate": (
        "post",
        "documents/{doc}/adjudicate/",
        {"version": None, "values": {"age": "40"}},
        _all(200, **REVIEW),
    ),
    "accept-agreed": ("post", "adjudication/accept-agreed/", {}, _all(200, **REVIEW)),
    "gold-history": ("get", "documents/{doc}/gold/history/", None, _all(200, **REVIEW)),
    "access-log": ("get", "access-log/", None, _all(200, **MANAGE)),
    "settings-get": ("get", "annotation-settings/", None, _all(200)),
    "settings-put": ("put", "annotation-settings/", {"prefill": "empty"}, _all(200, **MANAGE)),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", list(MATRIX))
def test_permission_matrix(api_client, world, endpoint, role):
    method, url, body, expected = MATRIX[endpoint]
    api_client.force_authenticate(world["people"][role])
    url = B + url.format(mine=world["mine"].pk, theirs=world["theirs"].pk, doc=world["doc"].pk)
    kwargs = {"data": body, "format": "json"} if body is not None else {}
    response = getattr(api_client, method)(url, **kwargs)
    assert response.status_code == expected[role], response.content
    if response.status_code >= 400:
        error = response.json()
        assert error["detail"] and error["errors"] and error["error_count"] >= 1
    # Blinding: an annotator never receives another annotator's values.
    if role == "annotator":
        assert "SECRET-77" not in response.content.decode()


def test_annotator_lists_only_their_own_work(api_client, world):
    api_client.force_authenticate(world["people"]["annotator"])
    assignments = api_client.get(B + "assignments/").json()["results"]
    assert [a["id"] for a in assignments] == [world["mine"].pk]
    annotations = api_client.get(B + "annotations/").json()["results"]
    assert [a["annotator"] for a in annotations] == ["ann"]
    # Filters cannot widen what an annotator sees.
    assert api_client.get(B + "annotations/?annotator=ann2").json()["count"] == 0
    theirs = world["theirs"].assignment_id
    assert api_client.get(B + f"assignments/{theirs}/").status_code == 404
    assert api_client.get(B + f"assignments/{theirs}/annotation/").status_code == 404
    doc = world["doc"].pk
    assert api_client.get(B + f"documents/{doc}/gold/").status_code == 403


def test_stale_put_answers_409_with_the_error_shape(api_client, world):
    api_client.force_authenticate(world["people"]["annotator"])
    url = B + f"assignments/{world['mine'].pk}/annotation/"
    opened = api_client.get(url).json()
    first = api_client.put(url, {"version": opened["version"], "values": {"age": "41"}}, format="json")
    assert first.status_code == 200 and first.json()["version"] == opened["version"] + 1
    second = api_client.put(url, {"version": opened["version"], "values": {"age": "42"}}, format="json")
    assert second.status_code == 409
    body = second.json()
    assert "changed by ann" in body["detail"] and "nothing was saved" in body["detail"]
    assert body["errors"][0]["field"] == "version" and body["error_count"] == 1
    assert api_client.get(url).json()["values"]["age"] == "41"


def test_put_validation_names_fields(api_client, world):
    api_client.force_authenticate(world["people"]["annotator"])
    url = B + f"assignments/{world['mine'].pk}/annotation/"
    response = api_client.put(
        url, {"version": 1, "judgements": {"age": "meh"}, "spans": {"age": [[0, 999]]}}, format="json"
    )
    assert response.status_code == 400
    fields = [e["field"] for e in response.json()["errors"]]
    assert fields == ["judgements.age", "spans.age[0]"]


def test_submit_history_and_review_through_the_api(api_client, world):
    people = world["people"]
    api_client.force_authenticate(people["annotator"])
    url = B + f"assignments/{world['mine'].pk}/annotation/"
    saved = api_client.put(
        url,
        {
            "version": 1,
            "values": {"age": "40"},
            "judgements": {"age": "correct"},
            "spans": {"age": [[2, 13]]},
            "submit": True,
        },
        format="json",
    ).json()
    assert saved["status"] == "submitted"
    history = api_client.get(B + f"annotations/{saved['id']}/history/").json()
    assert history[-1]["user"] == "ann" and history[-1]["changes"]["status"] == ["assigned", "submitted"]

    api_client.force_authenticate(people["reviewer"])
    doc = world["doc"].pk
    review = api_client.get(B + f"review/{doc}/").json()
    assert {a["annotator"] for a in review["annotations"]} == {"ann", "ann2"}
    assert review["gold"] is None
    gold = api_client.post(
        B + f"documents/{doc}/adjudicate/",
        {"version": None, "values": {"age": "40"}, "sources": {"age": saved["id"]}},
        format="json",
    )
    assert gold.status_code == 200 and gold.json()["version"] == 1
    assert gold.json()["provenance"]["reviewer"] == "rev"
    stale = api_client.post(
        B + f"documents/{doc}/adjudicate/", {"version": None, "values": {"age": "1"}}, format="json"
    )
    assert stale.status_code == 409
    history = api_client.get(B + f"documents/{doc}/gold/history/").json()
    assert history[0]["changes"]["age"] == [None, "40"] and history[0]["user"] == "rev"
    queue = api_client.get(B + "review/?status=adjudicated").json()
    assert [d["document"] for d in queue["results"]] == [doc]

    api_client.force_authenticate(people["researcher"])
    log = api_client.get(B + "access-log/?user=ann").json()["results"]
    assert {e["action"] for e in log} >= {"view", "submit"}
    assert AccessLog.objects.filter(action="adjudicate").count() == 1


def test_assign_and_pull_through_the_api(api_client, world, project):
    api_client.force_authenticate(world["people"]["researcher"])
    DocumentFactory.create_batch(4, project=project)
    created = api_client.post(
        B + "assignments/", {"annotators": ["ann", "ann2"], "overlap": 2, "seed": 3}, format="json"
    )
    assert created.status_code == 201
    assert created.json()["created"] == 8 and created.json()["per_annotator"] == {"ann": 4, "ann2": 4}
    bad = api_client.post(B + "assignments/", {"annotators": ["ghost"]}, format="json")
    assert bad.status_code == 400 and "ghost" in bad.json()["detail"]
    counts = api_client.get(B + "assignments/counts/").json()
    assert {c["annotator"]: c["assigned"] for c in counts} == {"ann": 5, "ann2": 5}
    api_client.force_authenticate(world["people"]["annotator"])
    nxt = api_client.post(B + "assignments/next/", {}, format="json").json()
    assert nxt["assignment"]["id"] == world["mine"].pk  # the oldest open one first
    assert Assignment.objects.filter(annotator__username="ann").count() == 5
