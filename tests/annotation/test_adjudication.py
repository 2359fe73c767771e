"""Adjudication: gold with provenance, versions, history; bulk accept of agreed documents."""

import pytest

from annotation.models import AccessLog, GoldRevision
from annotation.schema import ELMTEX_CATEGORIES
from annotation.services.adjudication import gold_accept_agreed, gold_adjudicate
from elmtex_site.errors import ApplicationError, Conflict, PermissionDenied
from tests.factories import AnnotationFactory, AssignmentFactory, DocumentFactory, GoldFactory

pytestmark = pytest.mark.django_db

KEYS = [c.key for c in ELMTEX_CATEGORIES]


def _values(**overrides):
    return {k: "N/A" for k in KEYS} | overrides


def _annotated(project, doc, user, **values):
    return AnnotationFactory(
        assignment__document=doc, assignment__project=project, assignment__annotator=user, values=_values(**values)
    )


@pytest.fixture
def doc(project):
    return DocumentFactory(project=project)


@pytest.fixture
def two(project, make_member):
    return make_member(project, "annotator", "a1"), make_member(project, "annotator", "a2")


def test_adjudicate_creates_gold_with_provenance_and_history(project, doc, two, reviewer):
    x = _annotated(project, doc, two[0], age="40")
    y = _annotated(project, doc, two[1], age="41")
    gold = gold_adjudicate(
        document=doc,
        user=reviewer,
        values={"age": "41", "gender": "female"},
        version=None,
        sources={"age": y.pk, "gender": "edited"},
    )
    assert gold.origin == "adjudicated" and gold.version == 1
    assert gold.values["age"] == "41" and gold.values["diagnosis"] == "N/A" and list(gold.values) == KEYS
    prov = gold.provenance
    assert prov["annotations"] == [x.pk, y.pk] and prov["annotators"] == ["a1", "a2"]
    assert prov["reviewer"] == "rev" and prov["at"] and prov["sources"] == {"age": y.pk, "gender": "edited"}
    gold = gold_adjudicate(document=doc, user=reviewer, values={"age": "40"}, version=1)
    assert gold.version == 2 and gold.values["gender"] == "female"  # left out: kept
    revisions = list(GoldRevision.objects.filter(document=doc).order_by("version"))
    assert [r.version for r in revisions] == [1, 2]
    assert revisions[1].changes == {"age": ["41", "40"]} and revisions[1].user == reviewer
    assert AccessLog.objects.filter(action="adjudicate", document=doc).count() == 2


def test_stale_gold_version_is_a_conflict(doc, reviewer, researcher):
    gold_adjudicate(document=doc, user=reviewer, values={"age": "1"}, version=None)
    gold_adjudicate(document=doc, user=researcher, values={"age": "2"}, version=1)
    with pytest.raises(Conflict, match=r"changed by res at .* \(version 2\); reload"):
        gold_adjudicate(document=doc, user=reviewer, values={"age": "3"}, version=1)
    with pytest.raises(Conflict):
        gold_adjudicate(document=doc, user=reviewer, values={"age": "3"}, version=None)
    doc.gold.refresh_from_db()
    assert doc.gold.values["age"] == "2"


def test_imported_gold_is_adjudicated_from_its_version(project, reviewer):
    gold = GoldFactory(document__project=project)
    new = gold_adjudicate(document=gold.document, user=reviewer, values={"age": "5"}, version=gold.version)
    assert new.version == gold.version + 1 and new.origin == "adjudicated"


def test_annotators_may_not_adjudicate(doc, annotator):
    with pytest.raises(PermissionDenied):
        gold_adjudicate(document=doc, user=annotator, values={}, version=None)


def test_bad_values_and_sources_are_refused(doc, reviewer):
    with pytest.raises(ApplicationError) as exc:
        gold_adjudicate(document=doc, user=reviewer, values={"nope": "x"}, version=None, sources={"age": 12345})
    assert [p.field for p in exc.value.problems] == ["values.nope", "sources.age"]
    assert not hasattr(doc, "gold") or doc.gold is None


def test_accept_agreed(project, two, reviewer, make_member):
    agreed, differ, single, open_doc, done = (DocumentFactory(project=project) for _ in range(5))
    for user in two:
        _annotated(project, agreed, user, age="40", gender="female")
        _annotated(project, open_doc, user, age="40")
    _annotated(project, differ, two[0], age="40")
    _annotated(project, differ, two[1], age="41")
    _annotated(project, single, two[0], age="40")
    # A third annotator is still working on open_doc: not accepted yet.
    AssignmentFactory(document=open_doc, project=project, annotator=make_member(project, "annotator", "a3"))
    for user in two:
        _annotated(project, done, user, age="9")
    gold_adjudicate(document=done, user=reviewer, values={"age": "8"}, version=None)

    assert gold_accept_agreed(project=project, user=reviewer) == 1
    agreed.refresh_from_db()
    assert agreed.gold.values["age"] == "40" and agreed.gold.origin == "adjudicated"
    assert agreed.gold.provenance["method"] == "accept_agreed"
    assert agreed.gold.provenance["annotators"] == ["a1", "a2"]
    done.gold.refresh_from_db()
    assert done.gold.values["age"] == "8"  # adjudicated gold is left alone
    for d in (differ, single, open_doc):
        d.refresh_from_db()
        assert not hasattr(d, "gold")
    assert gold_accept_agreed(project=project, user=reviewer) == 0  # idempotent


def test_accept_agreed_blank_and_missing_count_as_na(project, two, reviewer):
    doc = DocumentFactory(project=project)
    _annotated(project, doc, two[0], age="40")
    a = _annotated(project, doc, two[1], age="40")
    a.values = {"age": "40", "diagnosis": " "}
    a.save()
    assert gold_accept_agreed(project=project, user=reviewer, document_ids=[doc.pk]) == 1


def test_accept_agreed_needs_reviewer(project, annotator):
    with pytest.raises(PermissionDenied):
        gold_accept_agreed(project=project, user=annotator)


def test_review_queue_flags_and_filters(project, two, reviewer, make_member):
    from annotation.selectors_work import review_queue

    agreed, differ, single, adjudicated = (DocumentFactory(project=project) for _ in range(4))
    DocumentFactory(project=project)  # nothing submitted: not in the queue
    for user in two:
        _annotated(project, agreed, user, age="40")
        _annotated(project, adjudicated, user, age="40")
    _annotated(project, differ, two[0], age="40")
    _annotated(project, differ, two[1], age="41")
    _annotated(project, single, two[0], age="40")
    AssignmentFactory(document=single, project=project, annotator=make_member(project, "annotator", "a3"))
    gold_adjudicate(document=adjudicated, user=reviewer, values={"age": "40"}, version=None)

    rows = {d.pk: d for d in review_queue(project=project)}
    assert set(rows) == {agreed.pk, differ.pk, single.pk, adjudicated.pk}
    assert (rows[agreed.pk].n_submitted, rows[agreed.pk].agreed, rows[agreed.pk].adjudicated) == (2, True, False)
    assert rows[differ.pk].agreed is False
    assert (rows[single.pk].n_submitted, rows[single.pk].n_open, rows[single.pk].agreed) == (1, 1, False)
    assert rows[adjudicated.pk].adjudicated and rows[adjudicated.pk].has_gold

    def ids(status):
        return {d.pk for d in review_queue(project=project, status=status)}

    assert ids("agreed") == {agreed.pk}
    assert ids("disagreed") == {differ.pk, single.pk}
    assert ids("pending") == {agreed.pk, differ.pk, single.pk}
    assert ids("adjudicated") == {adjudicated.pk}
    with pytest.raises(ApplicationError):
        review_queue(project=project, status="bogus")
