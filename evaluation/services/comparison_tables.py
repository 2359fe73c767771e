"""The model comparison as report tables (page, API, every download) and chart data."""

from __future__ import annotations

from evaluation.report_tables import Cell, Column, Report, Table

from .comparison import (
    CHART_METRICS,
    DEFAULT_CHART_METRIC,
    METRIC_LABELS,
    METRICS,
    ComparedRun,
    Comparison,
    _refuse,
)
from .comparison_significance import MARKERS, significance_method


def _marker(test: dict | None) -> str:
    p = (test or {}).get("p_bootstrap")
    if p is None:
        return ""
    for mark, level in MARKERS:
        if p < level:
            return mark
    return ""


def _best_flags(values: list, *, lower: bool = False) -> list[bool]:
    present = [v for v in values if v is not None]
    if len(present) < 2:
        return [False] * len(values)
    best = min(present) if lower else max(present)
    return [v is not None and v == best for v in values]


def _shown_metrics(comparison: Comparison) -> list[tuple[str, str]]:
    """The metric columns some report has a value for (BERTScore only when computed)."""
    return [
        (m, label)
        for m, label in METRICS
        if any(c.get(m) is not None for e in comparison.runs for c in e.categories.values())
    ]


def _config_summary(comparison: Comparison) -> tuple[dict, list[str]]:
    """Meta entries and a notes line on how the reports were computed; differences between
    the reports are named (comparing them is then apples with pears)."""
    seen: dict[str, set] = {"bertscore_model": set(), "entity_matcher": set(), "na_policy": set(), "gold": set()}
    for e in comparison.runs:
        config = e.report.config or {}
        bert = config.get("bertscore") or {}
        entity = config.get("entity") or {}
        if bert:
            model = str(bert.get("model") or (bert.get("requested") or {}).get("model") or "default")
            if bert.get("num_layers") is not None:
                model += f" (layer {bert['num_layers']}{', rescaled' if bert.get('rescale_applied') else ''})"
            seen["bertscore_model"].add(model)
        if entity:
            matcher = str(entity.get("matcher", "default"))
            if entity.get("fuzzy_threshold") is not None:
                matcher += f" (fuzzy threshold {entity['fuzzy_threshold']:g})"
            if entity.get("model"):
                matcher += f" ({entity['model']})"
            seen["entity_matcher"].add(matcher)
        seen["na_policy"].add(str(config.get("na_policy") or "skip gold N/A"))
        seen["gold"].add(e.report.gold_version or "")
    meta = {key: "; ".join(sorted(v)) if v else "not computed" for key, v in seen.items()}
    notes = []
    differing = [k for k, v in seen.items() if len(v) > 1]
    if differing:
        notes.append(
            "Warning: the reports differ in "
            + ", ".join(k.replace("_", " ") for k in differing)
            + "; their figures are not strictly comparable."
        )
    return meta, notes


def _run_meta(e: ComparedRun, reference: ComparedRun) -> dict:
    return {
        "id": e.run.pk,
        "name": e.run.name,
        "reference": e is reference,
        "report_id": e.report.pk,
        "report_created_at": e.report.created_at.isoformat() if e.report.created_at else None,
        "gold_version": e.report.gold_version,
        "stale": e.stale,
        "candidates": e.stats.candidates,
        "not_parsed": e.stats.not_parsed,
    }


def comparison_report(comparison: Comparison, *, metric: str = DEFAULT_CHART_METRIC) -> Report:
    """Tables, in the order a paper reads them: ``overall`` (runs x metrics, macro and
    micro, with the runs' candidate statistics), ``category_<metric>`` (categories x runs
    for one metric) and ``categories`` (one row per category and run, every metric)."""
    if metric not in CHART_METRICS:
        raise _refuse(f"unknown metric {metric!r}; choose from {', '.join(CHART_METRICS)}", "metric")
    metrics = _shown_metrics(comparison)
    ref = comparison.reference
    significance = comparison.significance
    config_meta, config_notes = _config_summary(comparison)
    reports_text = "; ".join(
        f"{e.run.name}: evaluation {e.report.pk} ({e.report.created_at:%Y-%m-%d %H:%M})" + (" STALE" if e.stale else "")
        for e in comparison.runs
    )
    config_note = (
        f"Configuration: BERTScore {config_meta['bertscore_model']}; entity matcher {config_meta['entity_matcher']}; "
        f"N/A policy: {config_meta['na_policy']}; gold {config_meta['gold']}; reports: {reports_text}."
    )
    if significance.status == "done":
        sig_note = (
            f"Significance against the reference {ref.run.name}: paired bootstrap over per-document differences "
            f"({significance_method()['resamples']} resamples, two-sided), * p < 0.05, ** p < 0.01 on the bootstrap p-value, "
            "no correction for multiple comparisons; Wilcoxon signed-rank p-values in the JSON (meta.significance)."
        )
    elif significance.status == "none":
        sig_note = "Significance: one run only, nothing to test."
    elif significance.status == "failed":
        sig_note = f"Significance: could not be computed ({significance.error}); reload to try again."
    else:
        sig_note = f"Significance: computing ({100 * (significance.progress or 0):.0f}%); markers follow when done."
    ci_note = "95% CIs: percentile bootstrap over documents from each evaluation (category rows)."
    stale = [e.run.name for e in comparison.runs if e.stale]
    stale_notes = (
        [f"Stale: the gold changed since {', '.join(stale)} was evaluated; evaluate again for current figures."]
        if stale
        else []
    )

    # overall
    columns = [Column("run", "Run", "text"), Column("average", "Average", "text")]
    columns += [Column(m, label) for m, label in metrics]
    columns += [
        Column("candidates", "Candidates", "int"),
        Column("not_parsed", "Not parsed", "pct"),
        Column("latency_ms", "Latency (ms)", "int"),
        Column("prompt_tokens", "Prompt tokens", "int"),
        Column("generated_tokens", "Generated tokens", "int"),
    ]
    rows = []
    for average in ("macro", "micro"):
        blocks = [e.macro if average == "macro" else e.micro for e in comparison.runs]
        best = {m: _best_flags([b.get(m) for b in blocks]) for m, _ in metrics}
        best_parse = _best_flags([e.stats.not_parsed_rate for e in comparison.runs], lower=True)
        best_latency = _best_flags([e.stats.latency_ms for e in comparison.runs], lower=True)
        for i, (e, block) in enumerate(zip(comparison.runs, blocks, strict=True)):
            row = {"run": e.run.name + (" (ref.)" if e is ref else ""), "average": average}
            for m, _ in metrics:
                row[m] = Cell(block.get(m), best=best[m][i])
            row["candidates"] = e.stats.candidates
            row["not_parsed"] = Cell(e.stats.not_parsed_rate, best=best_parse[i])
            row["latency_ms"] = Cell(_rounded(e.stats.latency_ms), best=best_latency[i])
            row["prompt_tokens"] = _rounded(e.stats.prompt_tokens)
            row["generated_tokens"] = _rounded(e.stats.generated_tokens)
            rows.append(row)
    overall = Table(
        key="overall",
        title="Model comparison: overall",
        columns=columns,
        rows=rows,
        notes=[
            "Macro = mean over categories (the evaluation's overall); micro = mean over all scored "
            "document x category pairs (category means weighted by n; n entity for entity, n BERTScore for "
            "BERTScore). Bold: best per column within macro and within micro.",
            "Significance markers are per category (tables below); the averages carry none.",
            "Not parsed = candidates that did not parse (parse_error, too_long, failed) / processed candidates; "
            "latency and tokens are means over the candidates that have them.",
            *stale_notes,
            config_note,
            *config_notes,
        ],
    )

    # categories (long)
    columns = [Column("category", "Category", "text"), Column("run", "Run", "text"), Column("n", "n", "int")]
    columns += [Column(m, label) for m, label in metrics]
    rows = []
    for category in comparison.categories:
        blocks = [e.categories.get(category.key) or {} for e in comparison.runs]
        best = {m: _best_flags([b.get(m) for b in blocks]) for m, _ in metrics}
        for i, (e, block) in enumerate(zip(comparison.runs, blocks, strict=True)):
            row = {"category": category.label, "run": e.run.name + (" (ref.)" if e is ref else ""), "n": block.get("n")}
            ci = block.get("ci") or {}
            for m, _ in metrics:
                row[m] = Cell(
                    block.get(m),
                    ci=ci.get(m),
                    best=best[m][i],
                    mark=_marker(comparison.test(e, category.key, m)) if block.get(m) is not None else "",
                )
            rows.append(row)
    categories = Table(
        key="categories",
        title="Model comparison per category",
        columns=columns,
        rows=rows,
        notes=["Bold: best run per category and column. " + ci_note, sig_note],
    )

    # one metric, categories x runs
    columns = [Column("category", "Category", "text")]
    columns += [Column(f"run_{e.run.pk}", e.run.name + (" (ref.)" if e is ref else "")) for e in comparison.runs]
    rows = []
    for category in comparison.categories:
        blocks = [e.categories.get(category.key) or {} for e in comparison.runs]
        values = [b.get(metric) for b in blocks]
        if all(v is None for v in values):
            continue
        best = _best_flags(values)
        row = {"category": category.label}
        for i, (e, block) in enumerate(zip(comparison.runs, blocks, strict=True)):
            row[f"run_{e.run.pk}"] = Cell(
                values[i],
                ci=(block.get("ci") or {}).get(metric),
                best=best[i],
                mark=_marker(comparison.test(e, category.key, metric)) if values[i] is not None else "",
            )
        rows.append(row)
    for average in ("macro", "micro"):
        values = [(e.macro if average == "macro" else e.micro).get(metric) for e in comparison.runs]
        best = _best_flags(values)
        row = {"category": f"Overall ({average})"}
        for i, e in enumerate(comparison.runs):
            row[f"run_{e.run.pk}"] = Cell(values[i], best=best[i])
        rows.append(row)
    wide = Table(
        key=f"category_{metric}",
        title=f"{METRIC_LABELS[metric]} per category",
        columns=columns,
        rows=rows,
        notes=["Bold: best run per row. " + ci_note, sig_note],
    )

    meta = {
        "project": comparison.project.slug,
        "runs": ", ".join(f"{e.run.name} ({e.run.pk})" for e in comparison.runs),
        "reference": f"{ref.run.name} ({ref.run.pk})",
        "language": comparison.language or "any",
        "split": comparison.split or "any",
        "metric": metric,
        **config_meta,
        "reports": reports_text,
        "run_details": [_run_meta(e, ref) for e in comparison.runs],
        "significance": {
            **significance.as_json(),
            "method": significance_method(),
            "results": {
                e.run.name: significance.results.get(str(e.report.pk), {})
                for e in comparison.runs
                if e is not ref and significance.status == "done"
            },
        },
    }
    return Report(kind="comparison", title="Model comparison", tables=[overall, wide, categories], meta=meta)


def _rounded(value: float | None) -> int | None:
    return None if value is None else round(value)


def chart_data(comparison: Comparison, metric: str) -> dict:
    """What the charts draw: the categories that have the metric (labels), the runs, the
    values [run][category], and the differences to the reference with their markers."""
    if metric not in CHART_METRICS:
        raise _refuse(f"unknown metric {metric!r}; choose from {', '.join(CHART_METRICS)}", "metric")
    cats = [
        c
        for c in comparison.categories
        if any((e.categories.get(c.key) or {}).get(metric) is not None for e in comparison.runs)
    ]
    values = [[(e.categories.get(c.key) or {}).get(metric) for c in cats] for e in comparison.runs]
    ref_values = values[comparison.runs.index(comparison.reference)]
    others = [(i, e) for i, e in enumerate(comparison.runs) if e is not comparison.reference]
    deltas = [
        [None if v is None or r is None else v - r for v, r in zip(values[i], ref_values, strict=True)]
        for i, _ in others
    ]
    marks = [[_marker(comparison.test(e, c.key, metric)) for c in cats] for _, e in others]
    return {
        "categories": [c.key for c in cats],
        "labels": [c.label for c in cats],
        "runs": [e.run.name for e in comparison.runs],
        "values": values,
        "reference": comparison.reference.run.name,
        "others": [e.run.name for _, e in others],
        "deltas": deltas,
        "marks": marks,
        "metric_label": METRIC_LABELS[metric],
    }
