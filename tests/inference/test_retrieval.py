"""Retrieval of in-context examples (advanced strategy): only training-split gold, never the
document itself or its translation, the query's language first; embeddings by default,
TF-IDF when the embedding model is missing."""

import pytest

from inference.models import Candidate
from inference.retrieval import ExampleIndex, PoolDocument, Query
from inference.services.examples import batch_examples, run_examples_assign
from inference.services.runs import run_create
from tests.factories import DocumentFactory, EndpointFactory, GoldFactory

pytestmark = pytest.mark.django_db

HEART = (
    "A 60-year-old man had crushing chest pain; troponin was raised and coronary angiography showed an occluded artery."
)
HEART_2 = "Chest pain radiating to the arm; the electrocardiogram showed ST elevation and a coronary stent was placed."
LUNG = "A smoker with chronic cough and haemoptysis; a lung biopsy showed adenocarcinoma of the bronchus."
SKIN = "An itchy rash on both forearms after gardening; a skin patch test was positive for poison ivy."
KIDNEY = "Flank pain and haematuria; ultrasound showed a kidney stone obstructing the ureter."
BONE = "A fall on the outstretched hand; a radiograph showed a distal radius fracture, treated with a cast."
HEART_DE = "Ein 60-jähriger Mann hatte Brustschmerzen; Troponin war erhöht und die Koronarangiographie zeigte einen Verschluss."


def gold_doc(project, external_id, text, *, split="train", language="en", gold=True, **kwargs):
    doc = DocumentFactory(project=project, external_id=external_id, text=text, split=split, language=language, **kwargs)
    if gold:
        GoldFactory(document=doc, values={"diagnosis": f"diagnosis of {external_id}", "age": "60"})
    return doc


@pytest.fixture
def corpus(project):
    """A test-split heart report (the query), its German translation in train with gold,
    near-copies of it in other splits or without gold, and a few training documents."""
    query = gold_doc(project, "100", HEART, split="test")
    docs = {
        "query": query,
        "translation": gold_doc(project, "100", HEART_DE, language="de", translation_of=query),
        "test_gold": gold_doc(project, "101", HEART + " Same again.", split="test"),
        "val_gold": gold_doc(project, "102", HEART + " Once more.", split="val"),
        "no_gold": gold_doc(project, "103", HEART + " Again.", gold=False),
        "heart_2": gold_doc(project, "1", HEART_2),
        "lung": gold_doc(project, "2", LUNG),
        "skin": gold_doc(project, "3", SKIN),
        "kidney": gold_doc(project, "4", KIDNEY),
        "bone": gold_doc(project, "5", BONE),
    }
    return docs


def advanced_run(project, **kwargs):
    return run_create(
        project=project, endpoint=EndpointFactory(), strategy="advanced", split="test", language="en", **kwargs
    )


def examples_of(run, doc):
    return Candidate.objects.get(run=run, document=doc).prompt_examples


@pytest.mark.parametrize("model", [None, "/nonexistent/embedding-model"], ids=["embeddings", "tfidf"])
def test_examples_are_training_gold_only_never_the_document_or_its_translation(project, corpus, model):
    run = advanced_run(project, k=5, embedding_model=model)
    assert run.config["retrieval"]["method"] == ("embeddings" if model is None else "tfidf")
    assert run_examples_assign(run=run) == 2  # the two test-split documents
    chosen = examples_of(run, corpus["query"])
    allowed = {corpus[name].pk for name in ("heart_2", "lung", "skin", "kidney", "bone")}
    assert set(chosen) == allowed  # k=5 and exactly five allowed documents
    assert chosen[0] == corpus["heart_2"].pk  # the most similar first
    for name in ("query", "translation", "test_gold", "val_gold", "no_gold"):
        assert corpus[name].pk not in chosen


@pytest.mark.parametrize("model", [None, "/nonexistent/embedding-model"], ids=["embeddings", "tfidf"])
def test_the_nearest_come_first_with_a_small_k(project, corpus, model):
    run = advanced_run(project, k=1, embedding_model=model)
    run_examples_assign(run=run)
    assert examples_of(run, corpus["query"]) == [corpus["heart_2"].pk]


def test_a_training_document_in_the_run_never_gets_itself_or_its_translation(project, corpus):
    run = run_create(project=project, endpoint=EndpointFactory(), strategy="advanced", language="de", k=3)
    run_examples_assign(run=run)
    chosen = examples_of(run, corpus["translation"])
    assert len(chosen) == 3
    assert corpus["translation"].pk not in chosen and corpus["query"].pk not in chosen


def test_assignment_is_idempotent_and_leaves_filled_candidates_alone(project, corpus):
    run = advanced_run(project, k=2, embedding_model="/nonexistent")
    assert run_examples_assign(run=run) == 2
    Candidate.objects.filter(run=run, document=corpus["query"]).update(prompt_examples=[corpus["bone"].pk])
    assert run_examples_assign(run=run) == 0
    assert examples_of(run, corpus["query"]) == [corpus["bone"].pk]


def test_naive_runs_get_no_examples(project, corpus):
    run = run_create(project=project, endpoint=EndpointFactory(), split="test")
    assert run_examples_assign(run=run) == 0
    assert all(c.prompt_examples == [] for c in Candidate.objects.filter(run=run))
    assert batch_examples(run=run, candidates=list(Candidate.objects.filter(run=run))) == {}


def test_batch_examples_give_report_and_gold_summary_in_rank_order(project, corpus):
    run = advanced_run(project, k=2)
    run_examples_assign(run=run)
    candidates = list(Candidate.objects.filter(run=run))
    examples = batch_examples(run=run, candidates=candidates)
    query = next(c for c in candidates if c.document_id == corpus["query"].pk)
    first, second = examples[query.pk]
    assert first["report"] == HEART_2
    assert list(first["summary"]) == run.config["keys"]  # schema order
    assert first["summary"]["diagnosis"] == "diagnosis of 1"
    assert first["summary"]["life_style"] == "N/A"  # not in that gold: N/A
    assert second["report"] != HEART_2


def test_the_query_language_comes_first():
    pool = [
        PoolDocument(1, "en", HEART),
        PoolDocument(2, "de", "Hautausschlag an den Unterarmen nach Gartenarbeit."),
        PoolDocument(3, "de", "Nierenstein mit Flankenschmerz."),
    ]
    index = ExampleIndex(pool=pool, method="tfidf")
    [ranked] = index.search([Query(doc_id=9, language="de", text=HEART)], k=3)
    assert set(ranked[:2]) == {2, 3} and ranked[2] == 1  # English only fills up
    [ranked] = index.search([Query(doc_id=9, language="de", text=HEART, exclude=frozenset({2, 3}))], k=3)
    assert ranked == [1]


def test_an_advanced_run_without_training_gold_is_refused(project):
    from elmtex_site.errors import ApplicationError

    DocumentFactory(project=project, split="test")
    with pytest.raises(ApplicationError, match="no training-split documents with gold"):
        run_create(project=project, endpoint=EndpointFactory(), strategy="advanced")


def test_embeddings_equal_sentence_transformers_for_the_default_model():
    """Our mean pooling + L2 norm is what sentence-transformers computes for all-MiniLM-L6-v2
    (its reference pipeline), row for row in the order given (we batch by length)."""
    import numpy as np
    from sentence_transformers import SentenceTransformer

    from inference.embeddings import embedding_model_resolve, texts_embed

    path = embedding_model_resolve().path
    texts = [LUNG, "Fever.", HEART + " " + HEART_2 * 3, SKIN, "", HEART_DE]
    ours = texts_embed(texts, path=path, batch_size=2)
    reference = SentenceTransformer(path, device="cpu").encode(texts, normalize_embeddings=True)
    assert ours.shape == reference.shape
    np.testing.assert_allclose(ours[[0, 1, 2, 3, 5]], reference[[0, 1, 2, 3, 5]], atol=1e-5)


def test_the_embedding_cache_embeds_each_text_once_per_model(settings, tmp_path, monkeypatch):
    """A second run over the same pool reads the vectors back instead of embedding again,
    and gets exactly the same numbers; only new texts reach the model."""
    import numpy as np

    from inference import embeddings

    settings.ELMTEX_EMBEDDING_CACHE_DIR = str(tmp_path / "cache")
    path = embeddings.embedding_model_resolve().path
    embedded: list[str] = []
    real = embeddings._texts_embed_uncached

    def counting(texts, **kwargs):
        embedded.extend(texts)
        return real(texts, **kwargs)

    monkeypatch.setattr(embeddings, "_texts_embed_uncached", counting)
    first = embeddings.texts_embed([LUNG, SKIN, HEART], path=path)
    assert sorted(embedded) == sorted([LUNG, SKIN, HEART])
    embedded.clear()
    second = embeddings.texts_embed([HEART, LUNG, SKIN, HEART_DE], path=path)
    assert embedded == [HEART_DE]  # only the new text
    np.testing.assert_array_equal(second[[1, 2, 0]], first)
    assert list((tmp_path / "cache").glob("*.sqlite3"))
