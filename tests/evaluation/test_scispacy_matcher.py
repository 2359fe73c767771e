"""The scispaCy + UMLS matcher adapter: a blank spaCy pipeline with an entity ruler stands
in for en_core_sci_scibert, a mapping of entity text to CUI for the UMLS linker."""

import pytest

from elmtex_site.errors import ApplicationError
from evaluation.metrics.entities import matcher_get
from evaluation.metrics.entities_scispacy import MatcherUnavailable, ScispacyMatcher, scispacy_unavailable
from evaluation.models import EvaluationReport
from evaluation.services import evaluation_run

from .helpers import add_candidate, add_document

CUIS = {
    "pneumonia": "C0032285",
    "lung infection": "C0032285",  # a synonym: same concept
    "sepsis": "C0243026",
    "heart attack": "C0027051",
    "myocardial infarction": "C0027051",
    "aspirin": "C0004057",
}


@pytest.fixture
def nlp():
    spacy = pytest.importorskip("spacy")
    pipeline = spacy.blank("en")
    ruler = pipeline.add_pipe("entity_ruler", config={"phrase_matcher_attr": "LOWER"})
    patterns = [{"label": "ENTITY", "pattern": text} for text in CUIS]
    patterns.append({"label": "ENTITY", "pattern": "fatigue"})  # recognised, not linked
    ruler.add_patterns(patterns)
    return pipeline


@pytest.fixture
def matcher(nlp):
    return ScispacyMatcher(nlp=nlp, linker=CUIS)


def test_entities_become_concept_ids(matcher):
    assert matcher.concepts("Pneumonia and sepsis") == {"C0032285", "C0243026"}
    assert matcher.concepts("lung infection") == {"C0032285"}
    assert matcher.concepts("fatigue") == frozenset()  # unlinked entities are dropped
    assert matcher.concepts("N/A") == frozenset()


def test_synonyms_match_on_their_cui(matcher):
    score = matcher.score("heart attack treated with aspirin", "Myocardial infarction")
    assert (score.precision, score.recall, score.f1) == (0.5, 1.0, pytest.approx(2 / 3))


@pytest.mark.parametrize(
    ("pred", "gold", "expected"),
    [
        ("N/A", "pneumonia", (0.0, 0.0, 0.0)),  # empty prediction: P = 0
        ("pneumonia", "N/A", (0.0, 0.0, 0.0)),  # empty gold: R = 0
        ("pneumonia; pneumonia", "lung infection", (1.0, 1.0, 1.0)),  # sets of CUIs
        ("sepsis", "pneumonia", (0.0, 0.0, 0.0)),
        ("pneumonia, sepsis, aspirin", "sepsis and lung infection", (2 / 3, 1.0, 0.8)),
    ],
)
def test_paper_formula(matcher, pred, gold, expected):
    score = matcher.score(pred, gold)
    assert (score.precision, score.recall, score.f1) == pytest.approx(expected)


def test_a_callable_linker_and_config(nlp):
    matcher = ScispacyMatcher(nlp=nlp, linker=lambda span: [f"X:{span.text.lower()}"])
    assert matcher.concepts("Fatigue") == {"X:fatigue"}
    config = matcher.config()
    assert config["matcher"] == "scispacy" and "custom" in config["linker"]


def test_refused_clearly_when_scispacy_is_not_installed():
    reason = scispacy_unavailable("en_core_sci_scibert")
    if reason is None:
        pytest.skip("scispacy is installed here")
    assert "scispacy" in reason and "--matcher default" in reason
    with pytest.raises(MatcherUnavailable, match="scispacy"):
        matcher_get("scispacy")


@pytest.mark.django_db
def test_evaluation_with_the_scispacy_matcher_says_so(project, run, nlp, monkeypatch):
    from evaluation.metrics import entities, entities_scispacy

    document = add_document(project, gold={"diagnosis": "Myocardial infarction; sepsis"})
    add_candidate(run, document, diagnosis="heart attack")
    monkeypatch.setattr(entities_scispacy, "scispacy_unavailable", lambda model: None)
    monkeypatch.setitem(
        entities.MATCHERS, "scispacy", lambda threshold, **options: ScispacyMatcher(nlp=nlp, linker=CUIS)
    )
    report = evaluation_run(run=run, matcher="scispacy")
    diagnosis = report.results["categories"]["diagnosis"]
    assert (diagnosis["entity_p"], diagnosis["entity_r"]) == (1.0, 0.5)
    assert report.config["entity"]["matcher"] == "scispacy"
    assert report.results["config"]["entity"]["matcher"] == "scispacy"


@pytest.mark.django_db
def test_evaluation_with_scispacy_missing_is_refused(project, run):
    if scispacy_unavailable("en_core_sci_scibert") is None:
        pytest.skip("scispacy is installed here")
    with pytest.raises(ApplicationError, match="matcher: the scispacy matcher needs"):
        evaluation_run(run=run, matcher="scispacy")
    assert not EvaluationReport.objects.exists()
