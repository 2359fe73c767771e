"""Submitted annotations for agreement tests (factories only: no dependency on the
annotation services)."""

from tests.factories import AnnotationFactory, AssignmentFactory

from .helpers import add_document, values


def annotate(document, annotator, *, judgements: dict | None = None, status="submitted", **given):
    """One annotator's annotation of a document (submitted by default)."""
    assignment = AssignmentFactory(document=document, annotator=annotator, status=status)
    return AnnotationFactory(assignment=assignment, values=values(**given), judgements=judgements or {})


def small_agreement_case(project, make_member):
    """Three annotators on four documents (English), one German document, one annotation
    not submitted. Returns the users and documents."""
    ann = [make_member(project, "annotator", name) for name in ("alice", "bob", "carol")]
    docs = [
        add_document(project, gold={"diagnosis": "Pneumonia; sepsis", "signs_symptoms": "fever; cough"}),
        add_document(project, gold={"diagnosis": "Heart failure"}),
        add_document(project, gold={"diagnosis": "Stroke"}),
        add_document(project, gold=None),
    ]
    de = add_document(project, gold={"diagnosis": "Lungenentzündung"}, language="de")
    a, b, c = ann
    annotate(
        docs[0],
        a,
        judgements={"diagnosis": "correct", "signs_symptoms": "correct"},
        diagnosis="Pneumonia; sepsis",
        signs_symptoms="fever; cough",
    )
    annotate(
        docs[0],
        b,
        judgements={"diagnosis": "correct", "signs_symptoms": "missing"},
        diagnosis="pneumonia",
        signs_symptoms="fever",
    )
    annotate(docs[0], c, judgements={"diagnosis": "correct"}, diagnosis="Pneumonia, sepsis")
    annotate(docs[1], a, judgements={"diagnosis": "incorrect"}, diagnosis="Heart failure")
    annotate(docs[1], b, judgements={"diagnosis": "incorrect"}, diagnosis="Cardiac failure")
    annotate(docs[2], a, judgements={"diagnosis": "correct"}, diagnosis="Stroke")
    annotate(docs[2], c, judgements={"diagnosis": "hallucinated"})
    annotate(docs[3], b, judgements={"diagnosis": "missing"}, diagnosis="Asthma")
    annotate(docs[3], c, judgements={"diagnosis": "missing"}, diagnosis="Asthma")
    annotate(docs[3], a, judgements={"diagnosis": "correct"}, diagnosis="Other", status="in_progress")
    annotate(de, a, judgements={"diagnosis": "correct"}, diagnosis="Lungenentzündung")
    annotate(de, b, judgements={"diagnosis": "partially_correct"}, diagnosis="Lungenentzündung links")
    return {"annotators": ann, "documents": docs, "german": de}
