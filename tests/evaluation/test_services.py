"""The evaluation protocol (ELMTEX_REFERENCE.md, CLI.md evaluate) through the service."""

import functools
import math

import pytest
from rouge_score import rouge_scorer

from annotation.models import Gold
from elmtex_site.errors import ApplicationError
from evaluation.models import EvaluationReport
from evaluation.services import evaluation_run
from tests.factories import ProjectFactory, RunFactory

from .helpers import ENTITY_KEYS, TEXT_KEYS, add_candidate, add_document

pytestmark = pytest.mark.django_db


@functools.cache
def reference_scorer():
    # Built in a test, not at import: absl logs when a scorer is made, and during
    # collection that logging meets pytest's stderr capture (a crash at exit).
    return rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=True)


def ref(pred, gold, name="rouge1", field="fmeasure"):
    return getattr(reference_scorer().score(target=gold, prediction=pred)[name], field)


def test_protocol_on_a_small_case(run, small_case):
    report = evaluation_run(run=run)
    results = report.results
    assert list(results["categories"]) == TEXT_KEYS  # 13, schema order, no age / gender
    diagnosis = results["categories"]["diagnosis"]
    # d1 and d2 count; d3 (parse_error) and d5 (failed) are left out, d4 has no gold
    assert diagnosis["n"] == 2
    for name in ("rouge1", "rouge2", "rougeL"):
        for suffix, field in (("", "fmeasure"), ("_p", "precision"), ("_r", "recall")):
            by_hand = (
                ref("pneumonia", "Pneumonia; sepsis", name, field) + ref("N/A", "Heart failure", name, field)
            ) / 2
            assert diagnosis[name + suffix] == pytest.approx(by_hand, abs=1e-15)
    # entities: d1 {pneumonia} vs {pneumonia, sepsis}: P 1, R 1/2, F 2/3; d2 nothing predicted: 0
    assert diagnosis["entity_p"] == pytest.approx(0.5)
    assert diagnosis["entity_r"] == pytest.approx(0.25)
    assert diagnosis["entity_f1"] == pytest.approx(1 / 3)
    assert diagnosis["n_entity"] == 2
    assert diagnosis["bertscore_f1"] is None and diagnosis["n_bertscore"] == 0
    lo, hi = diagnosis["ci"]["rougeL"]
    assert lo <= diagnosis["rougeL"] <= hi

    life_style = results["categories"]["life_style"]
    assert life_style["n"] == 1  # d2's gold is N/A: skipped although the model said "smoker"
    assert life_style["rouge1"] == ref("non-smoker", "Smoker, 20 pack-years")
    assert life_style["entity_f1"] is None and life_style["n_entity"] == 0  # not an entity category
    assert life_style["ci"]["entity_f1"] is None

    empty = results["categories"]["pathology"]
    assert empty["n"] == 0 and empty["n_entity"] == 0
    assert all(empty[key] is None for key in ("rouge1", "rouge2_p", "rougeL_r", "entity_f1"))
    assert empty["ci"]["rouge1"] is None

    overall = results["overall"]
    assert overall["rouge1"] == pytest.approx((diagnosis["rouge1"] + life_style["rouge1"]) / 2)
    assert overall["entity_f1"] == pytest.approx(diagnosis["entity_f1"])  # only diagnosis has entities
    assert overall["n"] == 3

    documents = results["config"]["documents"]
    assert documents == {
        "candidates": 5,
        "with_gold": 4,
        "scored": 2,
        "scored_as_empty": 0,
        "left_out": {"failed": 1, "parse_error": 1},
    }
    assert results["compare"] is None
    assert results["run"] == {"id": run.pk, "name": "baseline"}


def test_entity_fields_only_for_entity_categories(project, run):
    doc = add_document(project, gold={key: "fever; cough" for key in TEXT_KEYS})
    add_candidate(run, doc, **{key: "fever" for key in TEXT_KEYS})
    categories = evaluation_run(run=run).results["categories"]
    assert len(ENTITY_KEYS) == 8
    for key in TEXT_KEYS:
        cat = categories[key]
        assert cat["n"] == 1
        if key in ENTITY_KEYS:
            assert (cat["entity_p"], cat["entity_r"], cat["n_entity"]) == (1.0, 0.5, 1)
        else:
            assert cat["entity_f1"] is None and cat["n_entity"] == 0


def test_stored_report(run, small_case, researcher):
    report = evaluation_run(run=run, user=researcher)
    stored = EvaluationReport.objects.get(pk=report.pk)
    assert stored.status == "done"
    assert stored.created_by == researcher
    assert stored.results == report.results
    assert stored.gold_version == report.results["gold_version"]
    d1, d2 = small_case["documents"][:2]
    assert set(stored.per_document) == {str(d1.pk), str(d2.pk)}
    assert stored.per_document[str(d1.pk)]["diagnosis"]["entity_f1"] == pytest.approx(2 / 3)
    assert stored.per_document[str(d1.pk)]["life_style"]["rouge1"] == ref("non-smoker", "Smoker, 20 pack-years")
    assert "entity_f1" not in stored.per_document[str(d1.pk)]["life_style"]


def test_config_records_how(run, small_case):
    config = evaluation_run(run=run, fuzzy_threshold=85).results["config"]
    assert config["metrics"] == ["rouge", "entity"]
    assert config["rouge"]["use_stemmer"] is True
    assert config["rouge"]["package"].startswith("rouge-score ")
    assert config["entity"]["matcher"] == "default"
    assert config["entity"]["fuzzy_threshold"] == 85.0
    assert config["bootstrap"]["resamples"] == 1000
    assert "N/A" in config["na_policy"] and "left out" in config["unparsed_policy"]
    assert config["language"] is None and config["split"] is None
    assert "note" not in config["rouge"]  # English only


def test_gold_version_follows_the_gold(run, small_case):
    first = evaluation_run(run=run).results["gold_version"]
    assert evaluation_run(run=run).results["gold_version"] == first
    gold = Gold.objects.get(document=small_case["documents"][0])
    gold.values = gold.values | {"diagnosis": "Pneumonia"}
    gold.save()
    assert evaluation_run(run=run).results["gold_version"] != first


def test_language_and_split_filters(project, run):
    en_test = add_document(project, gold={"diagnosis": "fever"}, language="en", split="test")
    en_train = add_document(project, gold={"diagnosis": "fever"}, language="en", split="train")
    de_test = add_document(project, gold={"diagnosis": "Fieber"}, language="de", split="test")
    for doc in (en_test, en_train, de_test):
        add_candidate(run, doc, diagnosis="fever")
    assert evaluation_run(run=run).results["categories"]["diagnosis"]["n"] == 3
    assert evaluation_run(run=run, language="en").results["categories"]["diagnosis"]["n"] == 2
    assert evaluation_run(run=run, split="test").results["categories"]["diagnosis"]["n"] == 2
    results = evaluation_run(run=run, language="de", split="test").results
    assert results["categories"]["diagnosis"]["n"] == 1
    assert results["categories"]["diagnosis"]["rouge1"] == 0.0
    assert (results["config"]["language"], results["config"]["split"]) == ("de", "test")
    assert results["config"]["rouge"]["tokenizers"]["de"]["name"] == "unicode-snowball-german"
    assert results["config"]["languages_scored"] == ["de"]
    assert evaluation_run(run=run, language="fr").results["categories"]["diagnosis"]["n"] == 0


def test_nothing_to_score_is_a_valid_report(project, run):
    results = evaluation_run(run=run).results
    assert all(cat["n"] == 0 and cat["rouge1"] is None for cat in results["categories"].values())
    assert results["overall"]["rouge1"] is None and results["overall"]["n"] == 0


def test_rouge_only_and_entity_only(run, small_case):
    rouge_only = evaluation_run(run=run, metrics="rouge").results["categories"]["diagnosis"]
    assert rouge_only["rouge1"] is not None and rouge_only["entity_f1"] is None and rouge_only["n_entity"] == 0
    entity_only = evaluation_run(run=run, metrics=["entity"]).results["categories"]["diagnosis"]
    assert entity_only["rouge1"] is None and entity_only["entity_f1"] == pytest.approx(1 / 3)
    assert entity_only["n"] == 2


@pytest.mark.parametrize(
    ("metrics", "message"),
    [
        ("bertscore,bleu", "unknown metric 'bleu'"),
        ("rouge,bleu", "unknown metric 'bleu'"),
        ("", "name at least one metric"),
    ],
)
def test_refused_metrics(run, metrics, message):
    with pytest.raises(ApplicationError, match=message):
        evaluation_run(run=run, metrics=metrics)
    assert not EvaluationReport.objects.exists()


def test_refused_requests(project, run):
    with pytest.raises(ApplicationError, match="unknown split 'dev'"):
        evaluation_run(run=run, split="dev")
    elsewhere = RunFactory(project=ProjectFactory())
    with pytest.raises(ApplicationError, match="belongs to another project"):
        evaluation_run(run=run, compare=elsewhere)
    with pytest.raises(ApplicationError, match="compared with itself"):
        evaluation_run(run=run, compare=run)
    with pytest.raises(ApplicationError, match="between 0 and 100"):
        evaluation_run(run=run, fuzzy_threshold=120)
    assert not EvaluationReport.objects.exists()


def test_compare_on_the_documents_both_runs_scored(project, run, other_run):
    docs = [add_document(project, gold={"diagnosis": f"pneumonia {i}; sepsis"}) for i in range(4)]
    for i, doc in enumerate(docs):
        add_candidate(run, doc, diagnosis=f"pneumonia {i}; sepsis")  # perfect
    add_candidate(other_run, docs[0], diagnosis="sepsis")
    add_candidate(other_run, docs[1], diagnosis="pneumonia 1")
    add_candidate(other_run, docs[2], status="parse_error")  # not in the pairs
    # docs[3]: no candidate in the other run
    report = evaluation_run(run=run, compare=other_run)
    compare = report.results["compare"]
    assert report.compare_run == other_run
    assert compare["run"] == {"id": other_run.pk, "name": "finetuned"}
    assert list(compare["categories"]) == TEXT_KEYS
    diagnosis = compare["categories"]["diagnosis"]
    assert set(diagnosis) == {"rouge1", "rouge2", "rougeL", "entity_f1", "bertscore_f1"}
    assert diagnosis["bertscore_f1"] == {"delta": None, "p_bootstrap": None, "p_wilcoxon": None, "n": 0}
    f1 = diagnosis["entity_f1"]
    assert f1["n"] == 2
    assert f1["delta"] == pytest.approx(1 - 2 / 3)  # each other-run doc: P 1, R 1/2
    assert 0 < f1["p_bootstrap"] <= 1
    assert f1["p_wilcoxon"] is None or 0 < f1["p_wilcoxon"] <= 1
    r1 = diagnosis["rouge1"]
    other = [ref("sepsis", "pneumonia 0; sepsis"), ref("pneumonia 1", "pneumonia 1; sepsis")]
    assert r1["delta"] == pytest.approx(1 - sum(other) / 2)
    empty = compare["categories"]["pathology"]["rouge1"]
    assert empty == {"delta": None, "p_bootstrap": None, "p_wilcoxon": None, "n": 0}
    # the run's own figures still cover all of its documents
    assert report.results["categories"]["diagnosis"]["n"] == 4


def test_compare_identical_runs_has_no_wilcoxon(project, run, other_run):
    for i in range(3):
        doc = add_document(project, gold={"diagnosis": f"asthma {i}"})
        add_candidate(run, doc, diagnosis="asthma")
        add_candidate(other_run, doc, diagnosis="asthma")
    rouge1 = evaluation_run(run=run, compare=other_run).results["compare"]["categories"]["diagnosis"]["rouge1"]
    assert rouge1["delta"] == 0.0
    assert rouge1["p_wilcoxon"] is None
    assert rouge1["p_bootstrap"] == 1.0


def test_queries_do_not_grow_with_documents(project, run, django_assert_max_num_queries):
    def case(n):
        for i in range(n):
            doc = add_document(project, gold={"diagnosis": f"fever {i}", "pathology": "none"})
            add_candidate(run, doc, diagnosis="fever", pathology="none")

    case(3)
    with django_assert_max_num_queries(8):
        evaluation_run(run=run)
    case(40)
    with django_assert_max_num_queries(8):
        results = evaluation_run(run=run).results
    assert results["categories"]["diagnosis"]["n"] == 43


def test_values_that_are_not_strings_are_scored_as_their_json(project, run):
    doc = add_document(project, gold={"diagnosis": "fever"})
    add_candidate(run, doc, diagnosis=None)  # parsed null: N/A
    results = evaluation_run(run=run).results["categories"]["diagnosis"]
    assert results["n"] == 1 and results["rouge1"] == 0.0
    assert not math.isnan(results["entity_f1"])
