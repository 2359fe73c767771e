"""Scoring a run's rows and summing them up into the CLI.md ``evaluate`` JSON.

No database access here: ``evaluation.selectors.evaluation_rows`` streams the rows in,
``evaluation.services.reports`` stores what comes out. Protocol (ELMTEX_REFERENCE.md):
per text-metric category, a document counts when its candidate parsed (status ``ok``)
and its gold value is not ``N/A``; ROUGE and entity scores are averaged over those
documents; entity scores only for entity-bearing categories.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from evaluation.metrics.entities import Matcher
from evaluation.metrics.rouge import RougeCalculator
from evaluation.metrics.stats import bootstrap_cis, mean, paired_compare
from evaluation.selectors import EvalCategory, EvalRow

NA = "N/A"
OK = "ok"
ROUGE_KEYS = tuple(f"{t}{s}" for t in ("rouge1", "rouge2", "rougeL") for s in ("", "_p", "_r"))
ENTITY_KEYS = ("entity_p", "entity_r", "entity_f1")
BERTSCORE_KEYS = ("bertscore_p", "bertscore_r", "bertscore_f1")
METRIC_KEYS = ROUGE_KEYS + ENTITY_KEYS + BERTSCORE_KEYS
CI_KEYS = ("rouge1", "rouge2", "rougeL", "entity_f1")
COMPARE_KEYS = ("rouge1", "rouge2", "rougeL", "entity_f1")


def _text(value) -> str:
    """A stored value as the text scored: None is N/A; a non-string (never written by
    the parser, but JSON allows it) is its JSON text."""
    if value is None:
        return NA
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def gold_is_na(value) -> bool:
    """Gold ``N/A`` (or blank, which imports store as N/A) is skipped."""
    return value is None or (isinstance(value, str) and value.strip() in ("", NA))


@dataclass
class CategoryScores:
    doc_ids: list[int] = field(default_factory=list)
    values: dict[str, list[float]] = field(default_factory=dict)  # metric key -> one value per doc_ids entry

    def add(self, key: str, value: float) -> None:
        self.values.setdefault(key, []).append(value)


@dataclass
class RunScores:
    categories: dict[str, CategoryScores]
    rows: int = 0  # candidates whose document has gold
    scored: int = 0  # of those, parsed (status ok)
    left_out: Counter = field(default_factory=Counter)  # status -> rows left out (not parsed)
    languages: set[str] = field(default_factory=set)  # languages of the scored documents
    gold_digest: str = ""


def run_score(
    rows: Iterable[EvalRow],
    *,
    categories: Sequence[EvalCategory],
    rouge: RougeCalculator | None,
    matcher: Matcher | None,
    on_row: Callable[[], object] | None = None,
) -> RunScores:
    """Per-document scores of every category; ``rouge`` / ``matcher`` None = not asked for."""
    scores = RunScores(categories={c.key: CategoryScores() for c in categories})
    digest = hashlib.sha256()
    for row in rows:
        scores.rows += 1
        gold_json = json.dumps(row.gold_values, sort_keys=True, ensure_ascii=False)
        digest.update(f"{row.document_id}\t{hashlib.sha256(gold_json.encode()).hexdigest()}\n".encode())
        if on_row is not None:
            on_row()
        if row.status != OK or not isinstance(row.values, dict):
            scores.left_out[row.status] += 1
            continue
        scores.scored += 1
        scores.languages.add(row.language)
        for category in categories:
            gold = row.gold_values.get(category.key)
            if gold_is_na(gold):
                continue
            gold = _text(gold)
            pred = _text(row.values.get(category.key))
            bucket = scores.categories[category.key]
            bucket.doc_ids.append(row.document_id)
            if rouge is not None:
                triple = rouge.score(pred, gold)
                for name, prf in zip(("rouge1", "rouge2", "rougeL"), triple, strict=True):
                    bucket.add(name, prf.fmeasure)
                    bucket.add(f"{name}_p", prf.precision)
                    bucket.add(f"{name}_r", prf.recall)
            if matcher is not None and category.entity:
                entity = matcher.score(pred, gold)
                bucket.add("entity_p", entity.precision)
                bucket.add("entity_r", entity.recall)
                bucket.add("entity_f1", entity.f1)
    scores.gold_digest = digest.hexdigest()
    return scores


def gold_version(scores: RunScores) -> str:
    """Short fingerprint of the gold evaluated against: sha256 over (document id, sha256
    of its gold values) of every document of the selection with gold."""
    return f"sha256:{scores.gold_digest[:16]}"


def category_summary(bucket: CategoryScores, *, entity: bool) -> dict:
    """One ``categories`` entry of the CLI.md JSON."""
    n = len(bucket.doc_ids)
    result: dict = {"n": n}
    for key in ROUGE_KEYS:
        result[key] = mean(bucket.values[key]) if key in bucket.values else None
    has_entity = entity and "entity_f1" in bucket.values
    for key in ENTITY_KEYS:
        result[key] = mean(bucket.values[key]) if has_entity else None
    result["n_entity"] = n if has_entity else 0
    for key in BERTSCORE_KEYS:
        result[key] = None
    result["n_bertscore"] = 0
    ci_keys = [key for key in CI_KEYS if key in bucket.values]
    intervals = bootstrap_cis([bucket.values[key] for key in ci_keys]) if ci_keys else []
    ci = dict.fromkeys(CI_KEYS)
    for key, interval in zip(ci_keys, intervals, strict=True):
        ci[key] = list(interval) if interval is not None else None
    result["ci"] = ci
    return result


def overall_summary(categories: dict[str, dict]) -> dict:
    """Macro mean over categories of every metric (categories where it is null are left
    out; null when none has it); ``n`` and ``n_entity`` are summed over categories."""
    result: dict = {}
    for key in METRIC_KEYS:
        values = [c[key] for c in categories.values() if c[key] is not None]
        result[key] = mean(values)
    result["n"] = sum(c["n"] for c in categories.values())
    result["n_entity"] = sum(c["n_entity"] for c in categories.values())
    result["n_bertscore"] = 0
    result["n_categories"] = sum(1 for c in categories.values() if c["n"])
    return result


def compare_summary(a: RunScores, b: RunScores) -> dict[str, dict]:
    """Per category and metric: paired comparison of run a with run b on the documents
    both scored (a minus b)."""
    result = {}
    for key, bucket_a in a.categories.items():
        bucket_b = b.categories[key]
        index_b = {doc_id: i for i, doc_id in enumerate(bucket_b.doc_ids)}
        pairs = [(i, index_b[doc_id]) for i, doc_id in enumerate(bucket_a.doc_ids) if doc_id in index_b]
        per_metric = {}
        for metric in COMPARE_KEYS:
            if metric in bucket_a.values and metric in bucket_b.values:
                va, vb = bucket_a.values[metric], bucket_b.values[metric]
                per_metric[metric] = paired_compare([va[i] for i, _ in pairs], [vb[j] for _, j in pairs])
            else:
                per_metric[metric] = {"delta": None, "p_bootstrap": None, "p_wilcoxon": None, "n": 0}
        result[key] = per_metric
    return result


def per_document(scores: RunScores) -> dict[str, dict[str, dict[str, float]]]:
    """``{document id: {category key: {metric: value}}}`` for error analysis: F-measures
    of ROUGE and the entity P/R/F1."""
    kept = ("rouge1", "rouge2", "rougeL", *ENTITY_KEYS)
    docs: dict[str, dict[str, dict[str, float]]] = {}
    for key, bucket in scores.categories.items():
        columns = [(metric, bucket.values[metric]) for metric in kept if metric in bucket.values]
        for i, doc_id in enumerate(bucket.doc_ids):
            docs.setdefault(str(doc_id), {})[key] = {metric: values[i] for metric, values in columns}
    return docs
