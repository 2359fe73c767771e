"""The export filter ``min_agreement``: a document's annotator agreement is the share of
categories on which all its submitted annotations agree (whitespace and case aside)."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from annotation.models import Document
from annotation.schema import ELMTEX_KEYS
from annotation.services.document_agreement import documents_agreement, normalise_value
from annotation.services.exports import GoldFilter, gold_export_write, gold_filter_build
from annotation.services.exports_read import gold_count, gold_documents
from elmtex_site.errors import ApplicationError
from tests.factories import AnnotationFactory, AssignmentFactory, DocumentFactory, GoldFactory

from .import_helpers import summary

pytestmark = pytest.mark.django_db

KEYS = list(ELMTEX_KEYS)


def values(**changes) -> dict:
    return summary(**({"diagnosis": "Influenza", "gender": "female"} | changes))


def annotate(document, *value_sets, status="submitted"):
    for v in value_sets:
        AnnotationFactory(assignment__document=document, assignment__status=status, values=v)


def make_document(project, pid, language="en"):
    document = DocumentFactory(project=project, external_id=str(pid), language=language)
    GoldFactory(document=document)
    return document


@pytest.fixture
def annotated(project):
    """Documents with known agreement (share of the 15 categories)."""
    docs = {name: make_document(project, name) for name in "ABCDEF"}
    docs["G"] = make_document(project, "G", language="de")
    annotate(docs["A"], values(), values())  # 1.0
    annotate(docs["B"], values(), values(diagnosis="Pneumonia"))  # 14/15
    without_gender = values()
    del without_gender["gender"]
    annotate(
        docs["C"],
        values(gender="  Female "),
        values(diagnosis="influenza", pathology="n/a"),
        dict(without_gender, gender="FEMALE", pathology=""),
    )  # 1.0: whitespace, case, blank = N/A
    annotate(docs["D"], values())
    annotate(docs["D"], values(diagnosis="other"), status="assigned")  # one submitted only: no agreement
    # E: no annotations at all
    annotate(docs["F"], values(), values(diagnosis="x", gender="male", pathology="y"))  # 12/15
    annotate(docs["G"], values(), values())  # 1.0, German
    return docs


def reference_agreement(project) -> dict[int, float]:
    """Straightforward per-document computation, for comparison."""
    result = {}
    for document in Document.objects.filter(project=project):
        annotations = [
            a.annotation.values
            for a in document.assignments.filter(status="submitted").select_related("annotation")
            if hasattr(a, "annotation")
        ]
        if len(annotations) < 2:
            continue
        agreeing = 0
        for key in KEYS:
            texts = set()
            for v in annotations:
                text = " ".join(str(v.get(key) or "").split()).lower()
                texts.add(text or "n/a")
            agreeing += len(texts) == 1
        result[document.pk] = agreeing / len(KEYS)
    return result


def test_agreement_per_document_equals_the_reference(project, annotated):
    shares = documents_agreement(project=project, documents=gold_documents(project=project, filters=GoldFilter()))
    assert shares == reference_agreement(project)
    by_name = {Document.objects.get(pk=pk).external_id: share for pk, share in shares.items()}
    assert by_name == {"A": 1.0, "B": 14 / 15, "C": 1.0, "F": 12 / 15, "G": 1.0}


def test_agreement_is_one_query_whatever_the_number_of_documents(project, annotated):
    selection = gold_documents(project=project, filters=GoldFilter())
    with CaptureQueriesContext(connection) as few:
        documents_agreement(project=project, documents=selection)
    for n in range(20):
        document = make_document(project, f"more{n}")
        annotate(document, values(), values(gender="male"))
    with CaptureQueriesContext(connection) as many:
        shares = documents_agreement(project=project, documents=selection)
    assert len(shares) == 25
    assert len(many.captured_queries) == len(few.captured_queries) <= 2


def test_normalisation():
    assert normalise_value("  Influenza \n A ") == normalise_value("influenza a") == "influenza a"
    assert normalise_value(None) == normalise_value("") == normalise_value("  ") == normalise_value("N/A") == "n/a"
    assert normalise_value("Straße") == normalise_value("STRASSE")  # casefold, not lower


@pytest.mark.parametrize(
    ("threshold", "language", "expected"),
    [
        (1.0, None, ["A", "C", "G"]),
        (0.9, None, ["A", "B", "C", "G"]),
        (0.8, None, ["A", "B", "C", "F", "G"]),
        (0.0, None, ["A", "B", "C", "F", "G"]),
        (0.9, "en", ["A", "B", "C"]),
    ],
)
def test_min_agreement_selects_the_agreeing_documents(
    run_cli, tmp_path, project, annotated, threshold, language, expected
):
    flags = ["--min-agreement", str(threshold)] + (["--language", language] if language else [])
    out = tmp_path / "out.jsonl"
    result = run_cli("export_gold", "p1", "--out", str(out), *flags)
    assert result.code == 0, result.err
    exported = [json.loads(line)["patient_id"] for line in out.read_text().splitlines()]
    assert exported == expected
    filters = gold_filter_build(min_agreement=str(threshold), language=language)
    assert gold_count(project=project, filters=filters) == len(expected)


def test_min_agreement_with_hf_and_chat(tmp_path, project, annotated):
    filters = GoldFilter(min_agreement=1.0)
    result = gold_export_write(project=project, out=str(tmp_path / "hf"), fmt="hf", filters=filters)
    assert result.records == 3
    assert result.manifest["filters"]["min_agreement"] == 1.0
    assert result.manifest["gold"]["origins"] == {"imported": 3}
    assert {f["path"] for f in result.files} == {
        "data/unsplit-00000-of-00002-de.jsonl",
        "data/unsplit-00001-of-00002-en.jsonl",
    }
    result = gold_export_write(project=project, out=str(tmp_path / "chat.jsonl"), fmt="chat", filters=filters)
    assert result.records == 3


def test_min_agreement_parsing(project):
    assert gold_filter_build(min_agreement=None).min_agreement is None
    assert gold_filter_build(min_agreement=" ").min_agreement is None
    assert gold_filter_build(min_agreement="0.75").min_agreement == 0.75
    assert gold_filter_build(min_agreement=1).min_agreement == 1.0
    for bad in ("-0.1", "1.01", "inf", "nan", "most", True):
        with pytest.raises(ApplicationError, match="--min-agreement: expected a number from 0 to 1"):
            gold_filter_build(min_agreement=bad)
    # query parameters and job options name it as they spell it
    with pytest.raises(ApplicationError, match="^min_agreement: expected"):
        gold_filter_build(min_agreement="2", prefix="")


def test_only_submitted_annotations_of_the_project_count(project, annotated):
    document = annotated["A"]
    AssignmentFactory(document=document, status="skipped")  # no annotation at all
    annotate(document, values(diagnosis="a draft that disagrees"), status="in_progress")
    shares = documents_agreement(project=project, documents=Document.objects.filter(pk=document.pk))
    assert shares == {document.pk: 1.0}


@pytest.mark.parametrize("fmt", ["jsonl", "hf", "chat"])
def test_an_export_computes_the_agreement_once(run_cli, tmp_path, project, annotated, fmt):
    with CaptureQueriesContext(connection) as queries:
        result = run_cli("export_gold", "p1", "--out", str(tmp_path / "out"), "--format", fmt, "--min-agreement", "1")
    assert result.code == 0, result.err
    assert result.err_lines[-1] == f"exported 3 records to {tmp_path / 'out'}"
    reading_annotations = [q for q in queries.captured_queries if '"annotation_annotation"' in q["sql"]]
    assert len(reading_annotations) == 1
