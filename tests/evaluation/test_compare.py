"""The model comparison report: numbers equal the stored evaluations, averages, best
marks, CIs, significance, run statistics and the downloads."""

import csv
import io
import json
import math
import re
import statistics

import pytest

from elmtex_site.errors import ApplicationError
from evaluation.metrics.stats import paired_compare
from evaluation.models import ComparisonCache, EvaluationReport
from evaluation.report_tables import Cell, report_render
from evaluation.selectors import report_stale
from evaluation.services.comparison import METRICS, comparison_build, comparison_report, runs_resolve
from evaluation.services.comparison_significance import significance_compute
from inference.models import Candidate

from .compare_helpers import build_runs
from .helpers import add_document

pytestmark = pytest.mark.django_db

SHOWN = [m for m, _ in METRICS if not m.startswith("bertscore")]  # BERTScore not computed here


@pytest.fixture
def evaluated(project):
    return build_runs(project)


@pytest.fixture
def comparison(project, evaluated):
    runs = [evaluated[name][0] for name in ("baseline", "finetuned", "advanced")]
    return comparison_build(project=project, runs=runs, language="en", split="test")


def _value(cell):
    return cell.value if isinstance(cell, Cell) else cell


def _per_document(report_id):
    return EvaluationReport.objects.values_list("per_document", flat=True).get(pk=report_id)


def test_runs_resolve_by_id_and_name(project, evaluated):
    baseline, finetuned = evaluated["baseline"][0], evaluated["finetuned"][0]
    assert runs_resolve(project=project, text=f"{finetuned.pk}, baseline,{finetuned.pk}") == [finetuned, baseline]
    assert runs_resolve(project=project, text="") == []
    with pytest.raises(ApplicationError, match="'nope'"):
        runs_resolve(project=project, text="baseline,nope")
    with pytest.raises(ApplicationError, match="999999"):
        runs_resolve(project=project, text="999999")


def test_category_cells_equal_the_stored_results(comparison, evaluated):
    report = comparison_report(comparison)
    table = report.table("categories")
    assert [c.key for c in table.columns] == ["category", "run", "n", *SHOWN]
    labels = {c.key: c.label for c in comparison.categories}
    rows = {(row["category"], row["run"].removesuffix(" (ref.)")): row for row in table.rows}
    checked = 0
    for name, (_, stored) in evaluated.items():
        stored = EvaluationReport.objects.get(pk=stored.pk)  # as read back from the database
        for key, block in stored.results["categories"].items():
            row = rows[(labels[key], name)]
            assert row["n"] == block["n"]
            for metric in SHOWN:
                assert _value(row[metric]) == block[metric]
                assert row[metric].ci == block["ci"].get(metric)
                checked += 1
    assert checked == 3 * 13 * len(SHOWN)
    assert len(table.rows) == 3 * 13


def test_overall_macro_and_micro(comparison, evaluated):
    rows = comparison_report(comparison).table("overall").rows
    assert [(r["run"], r["average"]) for r in rows] == [
        ("baseline (ref.)", "macro"),
        ("finetuned", "macro"),
        ("advanced", "macro"),
        ("baseline (ref.)", "micro"),
        ("finetuned", "micro"),
        ("advanced", "micro"),
    ]
    for i, name in enumerate(("baseline", "finetuned", "advanced")):
        stored = evaluated[name][1]
        macro, micro = rows[i], rows[3 + i]
        for metric in SHOWN:
            assert _value(macro[metric]) == stored.results["overall"][metric]
        # micro recomputed from the per-document scores: the mean over every scored
        # (document, category) pair
        per_document = _per_document(stored.pk)
        for metric in ("rouge1", "rouge2", "rougeL", "entity_f1"):
            pooled = [cell[metric] for doc in per_document.values() for cell in doc.values() if metric in cell]
            assert _value(micro[metric]) == pytest.approx(statistics.fmean(pooled), abs=1e-12)
        # precision/recall from the n-weighted category means
        cats = stored.results["categories"].values()
        weighted = [(c["n_entity"], c["entity_p"]) for c in cats if c["n_entity"]]
        expected = sum(n * v for n, v in weighted) / sum(n for n, _ in weighted)
        assert _value(micro["entity_p"]) == pytest.approx(expected, abs=1e-12)


def test_best_marks_per_column(comparison):
    report = comparison_report(comparison)
    rows = report.table("overall").rows
    for average in ("macro", "micro"):
        group = [r for r in rows if r["average"] == average]
        for metric in SHOWN:
            values = [_value(r[metric]) for r in group]
            assert [r[metric].best for r in group] == [v == max(values) for v in values]
        rates = [_value(r["not_parsed"]) for r in group]
        assert [r["not_parsed"].best for r in group] == [v == min(rates) for v in rates]
    categories = report.table("categories").rows
    for start in range(0, len(categories), 3):
        group = categories[start : start + 3]
        values = [_value(r["rougeL"]) for r in group]
        present = [v for v in values if v is not None]
        if len(present) > 1:
            assert [r["rougeL"].best for r in group] == [v is not None and v == max(present) for v in values]


def test_run_statistics_from_the_candidates(comparison, evaluated):
    rows = {r["run"].removesuffix(" (ref.)"): r for r in comparison_report(comparison).table("overall").rows[:3]}
    for name, (run, _) in evaluated.items():
        candidates = list(Candidate.objects.filter(run=run))
        failed = sum(1 for c in candidates if c.status != "ok")
        assert rows[name]["candidates"] == len(candidates)
        assert _value(rows[name]["not_parsed"]) == failed / len(candidates)
        assert _value(rows[name]["latency_ms"]) == round(statistics.fmean(c.latency_ms for c in candidates))
        generated = [c.generated_tokens for c in candidates if c.generated_tokens is not None]
        assert rows[name]["generated_tokens"] == round(statistics.fmean(generated))
    assert _value(rows["baseline"]["not_parsed"]) == 0 and rows["baseline"]["not_parsed"].best


def _expected_test(run_report, reference_report, category, metric):
    run_docs, ref_docs = _per_document(run_report), _per_document(reference_report)
    common = sorted(
        (int(d) for d in run_docs if metric in run_docs[d].get(category, {})),
    )
    common = [d for d in common if metric in ref_docs.get(str(d), {}).get(category, {})]
    a = [run_docs[str(d)][category][metric] for d in common]
    b = [ref_docs[str(d)][category][metric] for d in common]
    return paired_compare(a, b)


def test_significance_equals_paired_compare(comparison, evaluated):
    sig = comparison.significance
    assert sig.status == "done"
    reference = evaluated["baseline"][1].pk
    marks = 0
    for name in ("finetuned", "advanced"):
        report_id = evaluated[name][1].pk
        tests = sig.results[str(report_id)]
        for category in ("diagnosis", "signs_symptoms", "life_style", "family_history"):
            for metric in ("rouge1", "rouge2", "rougeL", "entity_f1"):
                if metric == "entity_f1" and category in ("life_style", "family_history"):
                    assert metric not in tests[category]
                    continue
                assert tests[category][metric] == _expected_test(report_id, reference, category, metric)
    # markers follow the bootstrap p-values, nothing on the reference
    report = comparison_report(comparison)
    labels = {c.label: c.key for c in comparison.categories}
    by_name = {e.run.name: e for e in comparison.runs}
    for row in report.table("categories").rows:
        name = row["run"].removesuffix(" (ref.)")
        for metric in ("rouge1", "rougeL"):
            cell = row[metric]
            if name == "baseline":
                assert cell.mark == ""
                continue
            test = sig.results[str(by_name[name].report.pk)].get(labels[row["category"]], {}).get(metric)
            p = (test or {}).get("p_bootstrap")
            expected = "" if p is None else "**" if p < 0.01 else "*" if p < 0.05 else ""
            assert cell.mark == expected
            marks += bool(cell.mark)
    assert "no correction" in " ".join(report.table("categories").notes)


def test_significance_matches_the_evaluate_compare(project, evaluated):
    """evaluate --compare tests the same documents the same way (run minus compared run)."""
    from evaluation.services import evaluation_run

    finetuned, baseline = evaluated["finetuned"][0], evaluated["baseline"][0]
    paired = evaluation_run(run=finetuned, compare=baseline, split="test", language="en").results["compare"]
    results = significance_compute(
        report_ids=[evaluated["baseline"][1].pk, evaluated["finetuned"][1].pk],
        reference_report_id=evaluated["baseline"][1].pk,
    )[str(evaluated["finetuned"][1].pk)]
    for category, per_metric in results.items():
        for metric, test in per_metric.items():
            assert test == paired["categories"][category][metric]


def test_significance_is_cached(project, evaluated, comparison, django_assert_max_num_queries):
    assert ComparisonCache.objects.filter(key=comparison.key, status="done").count() == 1
    runs = [e.run for e in comparison.runs]
    again = comparison_build(project=project, runs=runs, language="en", split="test")
    assert again.significance.results == comparison.significance.results
    assert ComparisonCache.objects.count() == 1
    # another reference: another key
    other = comparison_build(project=project, runs=runs, reference=runs[1], language="en", split="test")
    assert other.key != comparison.key
    assert ComparisonCache.objects.count() == 2


def test_large_comparison_is_queued_and_the_task_fills_the_cache(
    project, evaluated, monkeypatch, django_capture_on_commit_callbacks, settings
):
    from evaluation import tasks, tasks_comparison

    assert tasks.tasks_comparison is tasks_comparison  # registered through evaluation.tasks
    settings.ELMTEX_COMPARE_INLINE_MAX_ENTRIES = 0
    sent = []
    monkeypatch.setattr(tasks_comparison.comparison_significance_task, "apply_async", lambda **kw: sent.append(kw))
    runs = [evaluated[name][0] for name in ("baseline", "finetuned", "advanced")]
    with django_capture_on_commit_callbacks(execute=True):
        comparison = comparison_build(project=project, runs=runs, language="en", split="test")
    assert comparison.significance.status == "queued"
    assert comparison.significance.progress == 0.0
    cache = ComparisonCache.objects.get(key=comparison.key)
    assert sent == [{"args": [cache.pk], "queue": "evaluation"}]
    assert cache.progress_total > 0
    report = comparison_report(comparison)
    assert all(not r[m].mark for r in report.table("categories").rows for m in SHOWN if isinstance(r[m], Cell))
    assert "computing (0%)" in " ".join(report.table("categories").notes)

    tasks_comparison.comparison_significance_task(cache.pk)
    cache.refresh_from_db()
    assert cache.status == "done" and cache.progress_done == cache.progress_total
    expected = significance_compute(
        report_ids=[evaluated[n][1].pk for n in evaluated], reference_report_id=evaluated["baseline"][1].pk
    )
    assert cache.results == json.loads(json.dumps(expected))
    done = comparison_build(project=project, runs=runs, language="en", split="test")
    assert done.significance.status == "done" and done.significance.results == cache.results
    # a redelivered task does nothing
    tasks_comparison.comparison_significance_task(cache.pk)


def test_unreachable_broker_marks_the_cache_failed_and_a_reload_retries(
    project, evaluated, monkeypatch, django_capture_on_commit_callbacks, settings
):
    from evaluation import tasks_comparison

    settings.ELMTEX_COMPARE_INLINE_MAX_ENTRIES = 0

    def unreachable(**kwargs):
        raise ConnectionError("no broker")

    monkeypatch.setattr(tasks_comparison.comparison_significance_task, "apply_async", unreachable)
    runs = [evaluated[name][0] for name in ("baseline", "finetuned")]
    with django_capture_on_commit_callbacks(execute=True):
        comparison = comparison_build(project=project, runs=runs, language="en", split="test")
    cache = ComparisonCache.objects.get(key=comparison.key)
    assert cache.status == "failed" and "CELERY_BROKER_URL" in cache.error
    settings.ELMTEX_COMPARE_INLINE_MAX_ENTRIES = 10**9  # small again: computed on the next request
    again = comparison_build(project=project, runs=runs, language="en", split="test")
    assert again.significance.status == "done"


def test_missing_evaluation_names_the_run_and_the_command(project, evaluated):
    runs = [evaluated["baseline"][0], evaluated["finetuned"][0]]
    add_document(project, gold={"diagnosis": "Lungenentzündung"}, language="de")  # a language the project has
    with pytest.raises(ApplicationError) as caught:
        comparison_build(project=project, runs=runs, language="de", split="test")
    message = caught.value.message
    assert "'baseline'" in message
    assert f"python manage.py evaluate p1 --run {runs[0].pk} --split test --language de" in message
    assert len(caught.value.problems) == 2


def test_only_evaluations_of_the_selection_count(project, evaluated):
    from evaluation.services import evaluation_run

    baseline = evaluated["baseline"][0]
    newer_other_split = evaluation_run(run=baseline, split="val", language="en")
    comparison = comparison_build(project=project, runs=[baseline], language="en", split="test")
    assert comparison.runs[0].report.pk == evaluated["baseline"][1].pk
    assert comparison.significance.status == "none"
    newer = evaluation_run(run=baseline, split="test", language="en")
    comparison = comparison_build(project=project, runs=[baseline], language="en", split="test")
    assert comparison.runs[0].report.pk == newer.pk != newer_other_split.pk
    with pytest.raises(ApplicationError, match="evaluate p1 --run"):
        comparison_build(project=project, runs=[baseline])  # no evaluation with any language/split


def test_refused_selections(project, evaluated):
    from tests.factories import RunFactory

    runs = [evaluated["baseline"][0]]
    with pytest.raises(ApplicationError, match="split"):
        comparison_build(project=project, runs=runs, split="dev")
    with pytest.raises(ApplicationError, match="reference"):
        comparison_build(project=project, runs=runs, reference=evaluated["finetuned"][0], split="test")
    with pytest.raises(ApplicationError, match="another project"):
        comparison_build(project=project, runs=[RunFactory()], split="test")
    with pytest.raises(ApplicationError, match="runs"):
        comparison_build(project=project, runs=[])
    comparison = comparison_build(project=project, runs=runs, language="en", split="test")
    with pytest.raises(ApplicationError, match="metric"):
        comparison_report(comparison, metric="bleu")


def test_stale_flag_equals_report_stale(project, evaluated):
    from annotation.models import Gold

    runs = [evaluated[name][0] for name in evaluated]
    comparison = comparison_build(project=project, runs=runs, language="en", split="test")
    assert [e.stale for e in comparison.runs] == [False, False, False]
    gold = Gold.objects.filter(document__project=project).first()
    gold.values = {**gold.values, "diagnosis": "Something else"}
    gold.version += 1
    gold.save()
    comparison = comparison_build(project=project, runs=runs, language="en", split="test")
    assert [e.stale for e in comparison.runs] == [report_stale(report=e.report) for e in comparison.runs]
    assert all(e.stale for e in comparison.runs)
    report = comparison_report(comparison)
    assert "Stale" in " ".join(report.table("overall").notes)


def test_wide_table_for_the_chosen_metric(comparison, evaluated):
    report = comparison_report(comparison, metric="entity_f1")
    assert [t.key for t in report.tables] == ["overall", "category_entity_f1", "categories"]
    wide = report.table("category_entity_f1")
    # entity categories with a value in some run (those whose gold is always N/A have none)
    entity_categories = [
        c.label
        for c in comparison.categories
        if c.entity and any(e.categories[c.key]["entity_f1"] is not None for e in comparison.runs)
    ]
    assert entity_categories == ["Signs and symptoms", "Diagnosis"]
    assert [r["category"] for r in wide.rows] == [*entity_categories, "Overall (macro)", "Overall (micro)"]
    finetuned = evaluated["finetuned"]
    key = f"run_{finetuned[0].pk}"
    by_label = {c.label: c.key for c in comparison.categories}
    for row in wide.rows[: len(entity_categories)]:
        block = finetuned[1].results["categories"][by_label[row["category"]]]
        assert row[key].value == block["entity_f1"] and row[key].ci == block["ci"]["entity_f1"]
    assert wide.rows[-2][key].value == finetuned[1].results["overall"]["entity_f1"]


def test_meta_records_the_configuration(comparison, evaluated):
    meta = comparison_report(comparison).meta
    assert meta["entity_matcher"].startswith("default")
    assert meta["bertscore_model"] == "not computed"
    assert "skip gold N/A" in meta["na_policy"]
    assert meta["gold"] == evaluated["baseline"][1].gold_version
    assert [d["report_id"] for d in meta["run_details"]] == [evaluated[n][1].pk for n in evaluated]
    assert meta["significance"]["status"] == "done"
    assert set(meta["significance"]["results"]) == {"finetuned", "advanced"}
    notes = " ".join(comparison_report(comparison).table("overall").notes)
    assert f"evaluation {evaluated['finetuned'][1].pk}" in notes and "entity matcher default" in notes


def test_downloads_carry_the_same_numbers(comparison, evaluated):
    report = comparison_report(comparison)
    finetuned = evaluated["finetuned"][1].results
    text = report_render(report, "csv", table_key="categories")
    rows = list(csv.DictReader(io.StringIO(text)))
    diagnosis = next(r for r in rows if r["Category"] == "Diagnosis" and r["Run"] == "finetuned")
    assert float(diagnosis["ROUGE-L"]) == finetuned["categories"]["diagnosis"]["rougeL"]
    assert float(diagnosis["ROUGE-L CI low"]) == finetuned["categories"]["diagnosis"]["ci"]["rougeL"][0]
    assert "BERTScore F1" not in rows[0]

    markdown = report_render(report, "md")
    value = f"{finetuned['overall']['rougeL']:.3f}"
    assert re.search(rf"\| finetuned \| macro \| .*{value}", markdown)
    assert "### Model comparison: overall" in markdown and "|---:|" in markdown.replace(" ", "")

    latex = report_render(report, "tex")
    for rule in ("\\toprule", "\\midrule", "\\bottomrule"):
        assert latex.count(rule) == 3
    assert "\\textbf{" in latex
    assert value in latex
    assert not re.search(r"\d\.\d{4,}", latex.split("\\par")[0])  # rounded to 3 decimals

    data = json.loads(report_render(report, "json"))
    overall = data["tables"][0]["rows"][1]

    def plain(cell):
        return cell["value"] if isinstance(cell, dict) else cell

    assert plain(overall["rougeL"]) == finetuned["overall"]["rougeL"]
    assert math.isclose(plain(overall["not_parsed"]), 1 / 8)
    assert data["meta"]["significance"]["status"] == "done"


def test_per_document_read_in_python_equals_the_sql_extraction(evaluated, monkeypatch):
    """Databases other than PostgreSQL read the JSON whole; same columns either way."""
    import types

    from evaluation.services import comparison_significance as module

    report_id = evaluated["finetuned"][1].pk
    first = module._per_document_columns(report_id)
    monkeypatch.setattr(module, "connection", types.SimpleNamespace(vendor="other"))
    second = module._per_document_columns(report_id)
    assert first.keys() == second.keys()
    for category, (ids, columns) in first.items():
        assert ids.tolist() == second[category][0].tolist()
        for metric, values in columns.items():
            assert values.tolist() == pytest.approx(second[category][1][metric].tolist(), nan_ok=True)


def test_markers_follow_the_bootstrap_p_values(comparison, evaluated):
    """* below 0.05 and ** below 0.01 on p_bootstrap (Wilcoxon ignored), in the tables and
    in the heatmap's data; nothing on the reference."""
    from evaluation.services.comparison import chart_data

    finetuned, advanced = (str(evaluated[n][1].pk) for n in ("finetuned", "advanced"))
    results = comparison.significance.results
    results[finetuned]["diagnosis"]["rougeL"] = {"delta": 0.1, "p_bootstrap": 0.004, "p_wilcoxon": 0.9, "n": 8}
    results[advanced]["diagnosis"]["rougeL"] = {"delta": 0.1, "p_bootstrap": 0.03, "p_wilcoxon": 0.001, "n": 8}
    results[finetuned]["life_style"]["rougeL"] = {"delta": 0.1, "p_bootstrap": 0.05, "p_wilcoxon": 0.001, "n": 8}
    wide = comparison_report(comparison, metric="rougeL").table("category_rougeL")
    row = next(r for r in wide.rows if r["category"] == "Diagnosis")
    ids = {name: evaluated[name][0].pk for name in evaluated}
    assert row[f"run_{ids['finetuned']}"].mark == "**"
    assert row[f"run_{ids['advanced']}"].mark == "*"
    assert row[f"run_{ids['baseline']}"].mark == ""
    life_style = next(r for r in wide.rows if r["category"] == "Life style")
    assert life_style[f"run_{ids['finetuned']}"].mark == ""
    data = chart_data(comparison, "rougeL")
    column = data["categories"].index("diagnosis")
    assert data["others"] == ["finetuned", "advanced"]
    assert [marks[column] for marks in data["marks"]] == ["**", "*"]
    reference = evaluated["baseline"][1].results["categories"]["diagnosis"]["rougeL"]
    value = evaluated["finetuned"][1].results["categories"]["diagnosis"]["rougeL"]
    assert data["deltas"][0][column] == value - reference


def test_bertscore_column_weights_and_tests(project, evaluated):
    """Reports with BERTScore (scored here by hand: the model is not needed to compare):
    the column appears, micro weights by n_bertscore, the paired test covers it."""
    for r, name in enumerate(("baseline", "finetuned")):
        report = EvaluationReport.objects.get(pk=evaluated[name][1].pk)
        per_document = report.per_document
        for c, (key, block) in enumerate(report.results["categories"].items()):
            docs = sorted(per_document, key=int)[: 2 + c % 3]
            scores = [0.5 + 0.01 * (r + 1) * (i + c) for i in range(len(docs))]
            for doc, score in zip(docs, scores, strict=True):
                per_document[doc].setdefault(key, {})["bertscore_f1"] = score
            block["bertscore_f1"] = statistics.fmean(scores)
            block["n_bertscore"] = len(scores)
            block["ci"]["bertscore_f1"] = [min(scores), max(scores)]
        report.results["overall"]["bertscore_f1"] = statistics.fmean(
            b["bertscore_f1"] for b in report.results["categories"].values()
        )
        report.config["bertscore"] = {"model": "roberta-large", "num_layers": 17, "rescale_applied": False}
        report.save()
    runs = [evaluated["baseline"][0], evaluated["finetuned"][0]]
    comparison = comparison_build(project=project, runs=runs, language="en", split="test")
    report = comparison_report(comparison, metric="bertscore_f1")
    assert report.meta["bertscore_model"] == "roberta-large (layer 17)"
    overall = report.table("overall")
    assert "bertscore_f1" in [c.key for c in overall.columns]
    stored = EvaluationReport.objects.get(pk=evaluated["finetuned"][1].pk)
    micro = overall.rows[3]
    assert micro["average"] == "micro"
    pooled = [
        cell["bertscore_f1"] for doc in stored.per_document.values() for cell in doc.values() if "bertscore_f1" in cell
    ]
    assert _value(micro["bertscore_f1"]) == pytest.approx(statistics.fmean(pooled), abs=1e-12)
    tests = comparison.significance.results[str(stored.pk)]
    assert tests["diagnosis"]["bertscore_f1"] == _expected_test(
        stored.pk, evaluated["baseline"][1].pk, "diagnosis", "bertscore_f1"
    )
    assert [t.key for t in report.tables][1] == "category_bertscore_f1"
