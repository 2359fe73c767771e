"""Scoring policies (the paper's defaults first), per-language and per-split results, and
stale reports after the gold changed."""

import pytest
from rouge_score import rouge_scorer

from annotation.models import Gold
from evaluation.models import EvaluationReport
from evaluation.selectors import report_stale, reports_stale
from evaluation.services import evaluation_run
from evaluation.services.scoring import Policy

from .helpers import add_candidate, add_document, values

pytestmark = pytest.mark.django_db


def reference(pred, gold):
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=True)
    return scorer.score(target=gold, prediction=pred)["rouge1"].fmeasure


@pytest.fixture
def mixed(project, run):
    """Two English documents (test, train), one German (test), one unparsed English."""
    en1 = add_document(project, gold={"diagnosis": "Pneumonia", "life_style": "Smoker"}, split="test")
    en2 = add_document(project, gold={"diagnosis": "Heart failure"}, split="train")
    de1 = add_document(project, gold={"diagnosis": "Übelkeit und Erbrechen"}, language="de", split="test")
    en3 = add_document(project, gold={"diagnosis": "Stroke"}, split="test")
    add_candidate(run, en1, diagnosis="pneumonia", life_style="non-smoker")
    add_candidate(run, en2, diagnosis="heart failure", life_style="smoker")  # life_style gold N/A
    add_candidate(run, de1, diagnosis="Übelkeit")
    add_candidate(run, en3, status="parse_error")
    return {"en1": en1, "en2": en2, "de1": de1, "en3": en3}


def test_defaults_are_the_papers_and_are_recorded(run, mixed):
    report = evaluation_run(run=run)
    policies = report.config["policies"]
    assert (policies["gold_na"], policies["unparsed"], policies["bertscore_pairs"]) == ("skip", "skip", "all")
    assert report.results["categories"]["diagnosis"]["n"] == 3
    assert report.results["categories"]["life_style"]["n"] == 1
    assert report.config["documents"]["left_out"] == {"parse_error": 1}
    assert report.config["packages"]["rouge-score"] and report.config["packages"]["rapidfuzz"]
    assert report.config["gold_state"]["documents"] == 4


def test_gold_na_scored_on_request(run, mixed):
    report = evaluation_run(run=run, gold_na="score")
    life_style = report.results["categories"]["life_style"]
    assert life_style["n"] == 3  # en1, en2 and de1 (gold N/A for the last two)
    values_en2 = report.per_document[str(mixed["en2"].pk)]["life_style"]
    assert values_en2["rouge1"] == reference("smoker", "N/A")
    assert report.config["policies"]["gold_na"] == "score"


def test_unparsed_scored_as_empty_on_request(run, mixed):
    report = evaluation_run(run=run, unparsed="empty")
    diagnosis = report.results["categories"]["diagnosis"]
    assert diagnosis["n"] == 4
    assert report.per_document[str(mixed["en3"].pk)]["diagnosis"] == {
        "rouge1": 0.0,
        "rouge2": 0.0,
        "rougeL": 0.0,
        "entity_p": 0.0,
        "entity_r": 0.0,
        "entity_f1": 0.0,
    }
    assert report.config["documents"]["scored_as_empty"] == 1
    assert report.config["documents"]["left_out"] == {}


def test_pending_candidates_are_never_scored(project, run):
    document = add_document(project, gold={"diagnosis": "Stroke"})
    add_candidate(run, document, status="pending")
    report = evaluation_run(run=run, unparsed="empty")
    assert report.results["categories"]["diagnosis"]["n"] == 0
    assert report.config["documents"]["left_out"] == {"pending": 1}


def test_results_per_language_and_split(run, mixed):
    results = evaluation_run(run=run).results
    languages = results["languages"]
    assert set(languages) == {"de", "en"}
    assert languages["en"]["documents"] == 2 and languages["de"]["documents"] == 1
    assert languages["en"]["categories"]["diagnosis"]["n"] == 2
    german = languages["de"]["categories"]["diagnosis"]
    assert german["n"] == 1
    assert german["rouge1"] == pytest.approx(2 * (1 * 1 / 3) / (1 + 1 / 3))  # 1 of 3 German tokens
    assert set(results["splits"]) == {"test", "train"}
    assert results["splits"]["train"]["categories"]["diagnosis"]["n"] == 1
    tokenizers = results["config"]["rouge"]["tokenizers"]
    assert tokenizers["en"]["name"] == "rouge-score" and tokenizers["de"]["name"] == "unicode-snowball-german"


def test_german_without_stemming(run, mixed):
    report = evaluation_run(run=run, language="de", german_stemmer="none")
    assert report.config["rouge"]["tokenizers"]["de"]["name"] == "unicode"
    assert report.config["rouge"]["german_stemmer"] == "none"


def test_policy_refusals(run):
    from elmtex_site.errors import ApplicationError

    with pytest.raises(ApplicationError, match="unparsed: unknown value 'drop'"):
        evaluation_run(run=run, unparsed="drop")
    with pytest.raises(ApplicationError, match="bertscore_pairs"):
        evaluation_run(run=run, bertscore_pairs="some")
    assert not EvaluationReport.objects.exists()
    assert Policy().describe()["gold_na"] == "skip"


def test_a_report_goes_stale_when_the_gold_is_adjudicated(client, researcher, run, mixed):
    report = evaluation_run(run=run)
    assert report_stale(report=report) is False
    gold = Gold.objects.get(document=mixed["en1"])
    gold.values = values(diagnosis="Pneumonia, bilateral", life_style="Smoker")
    gold.version += 1
    gold.save()
    report.refresh_from_db()
    assert report_stale(report=report) is True

    client.force_login(researcher)
    page = client.get(f"/p/{report.project.slug}/evaluations/{report.pk}/")
    assert page.status_code == 200 and "Stale:" in page.content.decode()
    api = client.get(f"/api/projects/{report.project.slug}/evaluations/{report.pk}/").json()
    assert api["stale"] is True
    assert api["categories"]["diagnosis"]["n"] == 3  # the old report stays readable
    listing = client.get(f"/p/{report.project.slug}/evaluations/").content.decode()
    assert 'class="badge evaluation-stale"' in listing
    fresh = evaluation_run(run=run)
    assert reports_stale(reports=[report, fresh]) == {report.pk: True, fresh.pk: False}


def test_gold_added_to_a_document_makes_it_stale_and_old_reports_are_unknown(project, run, mixed):
    report = evaluation_run(run=run)
    extra = add_document(project, gold=None)
    add_candidate(run, extra, diagnosis="flu")
    assert report_stale(report=report) is False  # no gold: not in the selection yet
    Gold.objects.create(document=extra, values=values(diagnosis="Influenza"))
    assert report_stale(report=report) is True
    old = EvaluationReport.objects.get(pk=report.pk)
    old.config = {k: v for k, v in old.config.items() if k != "gold_state"}
    assert report_stale(report=old) is None


def test_command_flags_reach_the_report(run_cli, run, mixed):
    import json

    result = run_cli(
        "evaluate",
        "p1",
        "--run",
        "baseline",
        "--gold-na",
        "score",
        "--unparsed",
        "empty",
        "--german-stemmer",
        "none",
        "--json",
        "-",
    )
    assert result.code == 0, result.err
    data = json.loads(result.out)
    policies = data["config"]["policies"]
    assert (policies["gold_na"], policies["unparsed"]) == ("score", "empty")
    assert data["config"]["rouge"]["tokenizers"]["de"]["name"] == "unicode"
    assert data["categories"]["diagnosis"]["n"] == 4
    table = run_cli("evaluate", "p1", "--run", "baseline")
    assert "language de (1 document)" in table.out and "language en (2 documents)" in table.out
