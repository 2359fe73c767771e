"""``agreement SLUG [--language L] [--json PATH]``: the CLI.md JSON, computed from the
submitted annotations, equal to the reference libraries on the same data."""

import json

import krippendorff
import numpy as np
import pytest
from rouge_score import rouge_scorer
from sklearn.metrics import cohen_kappa_score

from evaluation.metrics.entities import DefaultMatcher
from evaluation.models import AgreementReport
from evaluation.services.agreement import agreement_run

from .agreement_helpers import annotate, small_agreement_case
from .helpers import add_document

pytestmark = pytest.mark.django_db

nan = np.nan
LABELS = ["correct", "partially_correct", "incorrect", "missing", "hallucinated", "wrong_category"]


@pytest.fixture
def case(project, make_member):
    return small_agreement_case(project, make_member)


def _rougeL(a, b):
    return rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True).score(b, a)["rougeL"].fmeasure


def test_json_shape_and_figures_equal_the_references(run_cli, case, tmp_path):
    out = tmp_path / "agreement.json"
    result = run_cli("agreement", "p1", "--language", "en", "--json", str(out))
    assert result.code == 0, result.err
    assert "agreement report" in result.err
    data = json.loads(out.read_text())
    assert set(data) >= {"categories", "overall"}
    diagnosis = data["categories"]["diagnosis"]
    for key in (
        "items",
        "annotators",
        "krippendorff_alpha",
        "fleiss_kappa",
        "cohen_kappa_mean",
        "text_rougeL_mean",
        "text_entity_f1_mean",
    ):
        assert key in diagnosis
    # 4 English documents judged by 2+ of alice, bob, carol (the in-progress one does not count)
    assert diagnosis["items"] == 4 and diagnosis["annotators"] == 3
    code = {label: i for i, label in enumerate(LABELS)}
    reliability = np.array(
        [  # alice, bob, carol x documents 1-4
            [code["correct"], code["incorrect"], code["correct"], nan],
            [code["correct"], code["incorrect"], nan, code["missing"]],
            [code["correct"], nan, code["hallucinated"], code["missing"]],
        ]
    )
    assert diagnosis["krippendorff_alpha"] == pytest.approx(
        krippendorff.alpha(reliability, level_of_measurement="nominal"), abs=1e-12
    )
    # Fleiss: documents 2, 3, 4 have two raters each (the most common number)
    from statsmodels.stats.inter_rater import fleiss_kappa

    table = [[0, 0, 2, 0, 0, 0], [1, 0, 0, 0, 1, 0], [0, 0, 0, 2, 0, 0]]
    assert diagnosis["fleiss_kappa"] == pytest.approx(fleiss_kappa(table), abs=1e-12)
    assert (diagnosis["fleiss_items"], diagnosis["fleiss_raters"]) == (3, 2)
    pairs = {tuple(p["annotators"]): p for p in diagnosis["cohen_pairs"]}
    assert pairs[("alice", "bob")]["items"] == 2
    # alice/bob agree on both documents but use two labels -> 1.0; alice/carol: correct vs correct/hallucinated
    assert pairs[("alice", "bob")]["kappa"] == pytest.approx(cohen_kappa_score(["c", "i"], ["c", "i"]))
    assert pairs[("alice", "carol")]["kappa"] == pytest.approx(cohen_kappa_score(["c", "c"], ["c", "h"]))
    assert pairs[("bob", "carol")]["kappa"] == pytest.approx(cohen_kappa_score(["c", "m"], ["c", "m"]))
    defined = [p["kappa"] for p in pairs.values() if p["kappa"] is not None]
    assert diagnosis["cohen_kappa_mean"] == pytest.approx(sum(defined) / len(defined))
    # text: mean over documents of the mean pairwise ROUGE-L F (a pair with one N/A scores 0)
    doc1 = np.mean(
        [
            _rougeL("Pneumonia; sepsis", "pneumonia"),
            _rougeL("Pneumonia; sepsis", "Pneumonia, sepsis"),
            _rougeL("pneumonia", "Pneumonia, sepsis"),
        ]
    )
    expected = np.mean([doc1, _rougeL("Heart failure", "Cardiac failure"), 0.0, 1.0])
    assert diagnosis["text_rougeL_mean"] == pytest.approx(expected, abs=1e-12)
    assert diagnosis["text_items"] == 4 and diagnosis["text_annotators"] == 3
    # entity F1 (default matcher, symmetric), same averaging
    f1 = DefaultMatcher().score
    doc1 = np.mean(
        [
            f1("Pneumonia; sepsis", "pneumonia").f1,
            f1("Pneumonia; sepsis", "Pneumonia, sepsis").f1,
            f1("pneumonia", "Pneumonia, sepsis").f1,
        ]
    )
    expected = np.mean([doc1, f1("Heart failure", "Cardiac failure").f1, 0.0, 1.0])
    assert diagnosis["text_entity_f1_mean"] == pytest.approx(expected, abs=1e-12)
    # each annotator against gold (gold N/A and documents without gold skipped)
    vs_gold = diagnosis["annotator_vs_gold"]
    assert vs_gold["alice"]["n"] == 3
    assert vs_gold["alice"]["rougeL"] == pytest.approx(1.0)
    assert vs_gold["carol"]["n"] == 2
    # one judged category only (signs_symptoms: a single document with two judgements)
    signs = data["categories"]["signs_symptoms"]
    assert signs["items"] == 1 and signs["annotators"] == 2
    # undefined statistics are null, never NaN
    assert data["categories"]["age"]["krippendorff_alpha"] is None
    assert data["categories"]["age"]["text_rougeL_mean"] is None  # no text metrics for age
    assert "NaN" not in out.read_text()
    overall = data["overall"]
    assert overall["annotators"] == 3 and overall["items"] == 5
    assert data["selection"]["annotations"] == 9
    report = AgreementReport.objects.get()
    assert report.status == "done" and report.results["categories"]["diagnosis"] == diagnosis
    assert report.config["language"] == "en" and report.annotations_version.startswith("sha256:")
    assert "numpy" in report.config["packages"]


def test_table_on_stdout_and_json_to_stdout(run_cli, case):
    result = run_cli("agreement", "p1")
    assert result.code == 0, result.err
    assert "diagnosis" in result.out and "alpha" in result.out and "overall" in result.out
    result = run_cli("agreement", "p1", "--json", "-")
    data = json.loads(result.out)
    # German documents are included without --language and scored with a German tokenizer
    assert data["selection"]["documents"] == 5
    assert "de" in data["text"]["languages"]
    assert data["text"]["rouge"]["tokenizers"]["de"]["name"] != "rouge-score"


def test_language_selects_documents(run_cli, case):
    result = run_cli("agreement", "p1", "--language", "de", "--json", "-")
    data = json.loads(result.out)
    assert data["selection"]["documents"] == 1 and data["selection"]["annotators"] == ["alice", "bob"]
    diagnosis = data["categories"]["diagnosis"]
    assert diagnosis["items"] == 1
    assert diagnosis["fleiss_kappa"] is not None or diagnosis["fleiss_kappa"] is None  # defined or null, not NaN
    assert 0 < diagnosis["text_rougeL_mean"] < 1  # "Lungenentzündung" vs "Lungenentzündung links"


def test_no_submitted_annotations_is_refused(run_cli, project, make_member):
    document = add_document(project, gold={"diagnosis": "x"})
    annotate(document, make_member(project, "annotator", "dave"), status="in_progress")
    result = run_cli("agreement", "p1")
    assert result.code == 1
    assert result.err_lines == [
        "error: no submitted annotations in project 'p1'; annotators submit their work on the annotation pages, "
        "or import it with import_annotations"
    ]
    assert not AgreementReport.objects.exists()
    result = run_cli("agreement", "p1", "--language", "fr")
    assert result.code == 1 and "(language 'fr')" in result.err


def test_unknown_project_and_bad_split(run_cli, case, tmp_path):
    result = run_cli("agreement", "nope")
    assert result.code == 1 and result.err.startswith("error: project 'nope' does not exist")
    result = run_cli("agreement", "p1", "--split", "dev")
    assert result.code == 1 and "unknown split 'dev'" in result.err
    result = run_cli("agreement", "p1", "--json", str(tmp_path / "missing" / "x.json"))
    assert result.code == 1 and "does not exist" in result.err
    assert "Traceback" not in result.err


def test_a_later_annotation_makes_the_report_stale(case, project, make_member):
    from evaluation.selectors_agreement import agreement_staleness

    report = agreement_run(project=project, language="en")
    assert agreement_staleness(report=report).stale is False
    annotate(case["documents"][1], make_member(project, "annotator", "erin"), judgements={"diagnosis": "correct"})
    assert agreement_staleness(report=report).stale is True
    newer = agreement_run(project=project, language="en")
    assert newer.results["categories"]["diagnosis"]["annotators"] == 4
    assert agreement_staleness(report=newer).stale is False


def test_after_import_annotations_when_that_command_exists(run_cli, project, make_member, tmp_path):
    """The CLI.md flow: annotations made elsewhere, imported, then agreement (skipped until
    the import command lands)."""
    import importlib.util

    if importlib.util.find_spec("annotation.management.commands.import_annotations") is None:
        pytest.skip("import_annotations is not available yet")
    for name in ("alice", "bob"):
        make_member(project, "annotator", name)
    for pid in ("1", "2"):
        add_document(project, gold={"diagnosis": "Stroke"}, external_id=pid)
    records = [
        {"patient_id": pid, "annotator": who, "values": {"diagnosis": text}, "judgements": {"diagnosis": label}}
        for pid, who, text, label in [
            ("1", "alice", "Stroke", "correct"),
            ("1", "bob", "Stroke", "correct"),
            ("2", "alice", "Ischaemic stroke", "partially_correct"),
            ("2", "bob", "Stroke", "incorrect"),
        ]
    ]
    path = tmp_path / "annotations.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    imported = run_cli("import_annotations", "p1", str(path))
    if imported.code != 0:
        pytest.skip(f"import_annotations refused the records: {imported.err.strip()[:200]}")
    result = run_cli("agreement", "p1", "--json", "-")
    assert result.code == 0, result.err
    diagnosis = json.loads(result.out)["categories"]["diagnosis"]
    assert (diagnosis["items"], diagnosis["annotators"]) == (2, 2)
    assert diagnosis["krippendorff_alpha"] == pytest.approx(
        krippendorff.alpha([[0, 1], [0, 2]], level_of_measurement="nominal"), abs=1e-12
    )
    assert diagnosis["text_rougeL_mean"] == pytest.approx((1.0 + _rougeL("Ischaemic stroke", "Stroke")) / 2)
