"""Storing check findings: checks_run over gold, candidates and annotations replaces what
was stored; the one-record runs F calls after submit/adjudication; the selectors."""

import pytest

from annotation.models import AnnotationSettings, CheckResult
from annotation.selectors_checks import (
    annotation_ids_for_user,
    checks_for_document,
    checks_list,
    checks_summary,
)
from annotation.services.checks import (
    checks_annotation_run,
    checks_candidate_run,
    checks_gold_run,
    checks_run,
    checks_targets_parse,
)
from elmtex_site.errors import ApplicationError
from tests.factories import (
    AnnotationFactory,
    AssignmentFactory,
    CandidateFactory,
    DocumentFactory,
    GoldFactory,
    RunFactory,
)

pytestmark = pytest.mark.django_db

TEXT = "A 45-year-old woman presented with fever and cough. She had hypertension."


def values(**kw) -> dict:
    from annotation.schema import ELMTEX_KEYS

    return {k: "N/A" for k in ELMTEX_KEYS} | {"gender": "female"} | kw


@pytest.fixture
def doc(project):
    return DocumentFactory(project=project, text=TEXT, external_id="p-1")


def stored(target=None, **filters):
    qs = CheckResult.objects.filter(**filters)
    if target:
        qs = qs.filter(target=target)
    return sorted(qs.values_list("target", "category", "code"))


def test_checks_run_stores_findings_per_target(project, doc, annotator):
    GoldFactory(document=doc, values=values(signs_symptoms="fever; cough", diagnosis="appendicitis"))
    run = RunFactory(project=project)
    cand = CandidateFactory(run=run, document=doc, values=values(age="54", comorbidities="N/A; hypertension"))
    CandidateFactory(run=RunFactory(project=project, name="failed"), document=doc, status="parse_error", values=None)
    ann = AnnotationFactory(
        assignment=AssignmentFactory(document=doc, annotator=annotator, status="submitted"),
        values=values(gender="woman"),
    )
    result = checks_run(project=project)
    assert result["documents"] == 1
    assert result["checked"] == {"gold": 1, "candidate": 1, "annotation": 1}
    assert result["findings"] == {"gold": 1, "candidate": 2, "annotation": 1}
    assert stored("gold") == [("gold", "diagnosis", "not_grounded")]
    assert stored("candidate") == [("candidate", "age", "not_grounded"), ("candidate", "comorbidities", "na_mixed")]
    assert stored("annotation") == [("annotation", "gender", "gender_unexpected")]
    rows = CheckResult.objects.filter(target="candidate")
    assert {r.target_id for r in rows} == {cand.pk}
    assert CheckResult.objects.get(target="annotation").target_id == ann.pk
    assert CheckResult.objects.get(target="gold").target_id == doc.pk


def test_a_second_run_replaces_findings_and_fixes_disappear(project, doc):
    gold = GoldFactory(document=doc, values=values(diagnosis="appendicitis"))
    checks_run(project=project, targets=("gold",))
    checks_run(project=project, targets=("gold",))
    assert stored("gold") == [("gold", "diagnosis", "not_grounded")]
    gold.values = values(diagnosis="hypertension")
    gold.save()
    checks_run(project=project, targets=("gold",))
    assert stored("gold") == []


def test_checks_run_limited_to_a_target_and_a_run_keeps_the_rest(project, doc):
    GoldFactory(document=doc, values=values(diagnosis="appendicitis"))
    run_a, run_b = RunFactory(project=project, name="a"), RunFactory(project=project, name="b")
    CandidateFactory(run=run_a, document=doc, values=values(diagnosis="gout"))
    cand_b = CandidateFactory(run=run_b, document=doc, values=values(diagnosis="gout"))
    checks_run(project=project)
    assert len(stored("candidate")) == 2
    cand_b.values = values()
    cand_b.save()
    result = checks_run(project=project, targets=("candidate",), run=run_b)
    assert result["checked"] == {"candidate": 1}
    assert stored("candidate") == [("candidate", "diagnosis", "not_grounded")]  # run a's kept, b's gone
    assert stored("gold") == [("gold", "diagnosis", "not_grounded")]


def test_threshold_comes_from_annotation_settings(project, doc):
    GoldFactory(document=doc, values=values(comorbidities="hypertensoin"))
    checks_run(project=project, targets=("gold",))
    assert stored("gold") == []  # fuzzy match at the default 90
    AnnotationSettings.objects.create(project=project, grounding_threshold=100)
    checks_run(project=project, targets=("gold",))
    assert stored("gold") == [("gold", "comorbidities", "not_grounded")]


def test_in_progress_annotations_are_not_checked_in_bulk(project, doc, annotator):
    AnnotationFactory(
        assignment=AssignmentFactory(document=doc, annotator=annotator, status="in_progress"),
        values=values(diagnosis="gout"),
    )
    assert checks_run(project=project, targets=("annotation",))["checked"] == {"annotation": 0}


def test_translation_checks_on_gold_of_the_german_document(project, doc):
    GoldFactory(document=doc, values=values(age="45 years"))
    de = DocumentFactory(project=project, external_id="p-1", language="de", text="Eine Patientin.", translation_of=doc)
    GoldFactory(document=de, values=values(gender="weiblich"))
    checks_run(project=project, targets=("gold",))
    assert stored("gold", document=de) == [
        ("gold", "", "translation_length"),
        ("gold", "age", "translation_na_mismatch"),
    ]
    assert checks_gold_run(document=de)
    assert stored("gold", document=de) == [
        ("gold", "", "translation_length"),
        ("gold", "age", "translation_na_mismatch"),
    ]


def test_single_record_runs_replace_their_own_findings_only(project, doc, annotator):
    gold = GoldFactory(document=doc, values=values(diagnosis="gout"))
    cand = CandidateFactory(run=RunFactory(project=project), document=doc, values=values(diagnosis="gout"))
    ann = AnnotationFactory(
        assignment=AssignmentFactory(document=doc, annotator=annotator), values=values(diagnosis="gout")
    )
    assert [r.code for r in checks_gold_run(document=doc)] == ["not_grounded"]
    assert [r.code for r in checks_candidate_run(candidate=cand)] == ["not_grounded"]
    rows = checks_annotation_run(annotation=ann)
    assert [(r.category, r.code, r.target_id) for r in rows] == [("diagnosis", "not_grounded", ann.pk)]
    ann.values = values()
    ann.save()
    assert checks_annotation_run(annotation=ann) == []
    assert stored() == [("candidate", "diagnosis", "not_grounded"), ("gold", "diagnosis", "not_grounded")]
    gold.values = values()
    gold.save()
    checks_gold_run(document=doc)
    assert stored("gold") == []


def test_bad_targets_are_refused_with_the_choices():
    with pytest.raises(ApplicationError, match="choose from gold, candidate, annotation"):
        checks_targets_parse(targets="gold,drafts")
    assert checks_targets_parse(targets="annotation, gold") == ("gold", "annotation")


def test_progress_reports_documents(project):
    for i in range(3):
        DocumentFactory(project=project, external_id=f"d{i}")
    calls = []
    checks_run(project=project, progress=lambda done, total: calls.append((done, total)))
    assert calls[0] == (0, 3) and calls[-1] == (3, 3)


# --- selectors --------------------------------------------------------------------------------


def test_checks_for_document_groups_and_blinds(project, doc, make_member):
    alice, bob = make_member(project, "annotator", "alice"), make_member(project, "annotator", "bob")
    GoldFactory(document=doc, values=values(diagnosis="gout"))
    mine = AnnotationFactory(
        assignment=AssignmentFactory(document=doc, annotator=alice, status="submitted"), values=values(diagnosis="gout")
    )
    theirs = AnnotationFactory(
        assignment=AssignmentFactory(document=doc, annotator=bob, status="submitted"), values=values(diagnosis="flu")
    )
    checks_run(project=project)
    everything = checks_for_document(document=doc)
    assert set(everything) == {"gold", "candidate", "annotation"}
    assert set(everything["annotation"]) == {mine.pk, theirs.pk}
    [finding] = everything["gold"][doc.pk]["diagnosis"]
    assert finding["code"] == "not_grounded" and finding["severity"] == "warning"
    assert finding["details"] == {"item": "gout", "threshold": 90}
    own_ids = annotation_ids_for_user(user=alice, project=project, document=doc)
    blinded = checks_for_document(document=doc, targets=("annotation",), annotation_ids=own_ids)
    assert blinded == {"annotation": {mine.pk: {"diagnosis": [everything["annotation"][mine.pk]["diagnosis"][0]]}}}


def test_summary_and_list(project, doc):
    other = DocumentFactory(project=project, text=TEXT, external_id="p-2")
    for d in (doc, other):
        GoldFactory(document=d, values=values(diagnosis="gout", comorbidities="n/a"))
    checks_run(project=project)
    summary = {(r["target"], r["code"]): r for r in checks_summary(project=project)}
    assert set(summary) == {("gold", "not_grounded"), ("gold", "na_variant")}
    row = summary[("gold", "not_grounded")]
    assert (row["findings"], row["documents"], row["categories"]) == (2, 2, {"diagnosis": 2})
    assert row["example_documents"] == [doc.pk, other.pk]
    assert row["severity"] == "warning" and "hallucination" in row["description"]
    listing = checks_list(project=project, code="na_variant")
    assert listing["count"] == 2
    assert [r["patient_id"] for r in listing["results"]] == ["p-1", "p-2"]
    assert checks_list(project=project, category="age")["count"] == 0
    with pytest.raises(ApplicationError):
        checks_list(project=project, target="drafts")


def test_findings_of_deleted_candidates_and_annotations_go_on_the_next_run(project, doc, annotator):
    cand = CandidateFactory(run=RunFactory(project=project), document=doc, values=values(diagnosis="gout"))
    ann = AnnotationFactory(
        assignment=AssignmentFactory(document=doc, annotator=annotator, status="submitted"),
        values=values(diagnosis="gout"),
    )
    checks_run(project=project)
    assert len(stored()) == 2
    cand.run.delete()
    ann.assignment.delete()
    checks_run(project=project)
    assert stored() == []


@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_leave_one_set_of_findings(project):
    """Each chunk's delete + insert holds a per-project lock: no duplicated findings."""
    import threading

    from django.db import connection, connections

    if connection.vendor != "postgresql":
        pytest.skip("the lock is PostgreSQL's; SQLite writes one transaction at a time")
    for i in range(40):
        GoldFactory(
            document=DocumentFactory(project=project, text=TEXT, external_id=f"c{i}"), values=values(diagnosis="gout")
        )
    errors = []

    def work():
        try:
            for _ in range(3):
                checks_run(project=project, targets=("gold",))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert CheckResult.objects.filter(project=project).count() == 40
