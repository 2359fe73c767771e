"""Scoring a run's rows and summing them up into the CLI.md ``evaluate`` JSON.

No database access here: ``evaluation.selectors.evaluation_rows`` streams the rows in,
``evaluation.services.reports`` stores what comes out. Protocol (ELMTEX_REFERENCE.md) and
its options (:class:`Policy`, the paper's defaults first):

- ``gold_na``: ``skip`` (paper) — a pair whose gold value is ``N/A`` (or blank) is not
  scored by ROUGE and entity metrics; ``score`` scores it (gold text ``N/A``).
- ``unparsed``: ``skip`` (paper) — a candidate that did not parse (``parse_error``,
  ``too_long``, ``failed``) is left out; ``empty`` scores it as an empty prediction in
  every category. ``pending`` candidates (not processed yet) are always left out.
- ``bertscore_pairs``: ``all`` (paper) — BERTScore on every scored document's pair, gold
  ``N/A`` included; ``rouge`` — on the same pairs as ROUGE.

ROUGE uses the tokenizer of each document's language (``metrics.tokenize``); entity
scores only for entity-bearing categories. Scores are kept per document (compact
``array('d')`` columns), then averaged per category, per language and per split.
"""

from __future__ import annotations

import hashlib
import json
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from evaluation.metrics.entities import Matcher
from evaluation.metrics.stats import bootstrap_cis, mean, paired_compare
from evaluation.selectors import EvalCategory, EvalRow

NA = "N/A"
OK = "ok"
PENDING = "pending"
ROUGE_KEYS = tuple(f"{t}{s}" for t in ("rouge1", "rouge2", "rougeL") for s in ("", "_p", "_r"))
ENTITY_KEYS = ("entity_p", "entity_r", "entity_f1")
BERTSCORE_KEYS = ("bertscore_p", "bertscore_r", "bertscore_f1")
METRIC_KEYS = ROUGE_KEYS + ENTITY_KEYS + BERTSCORE_KEYS
CI_KEYS = ("rouge1", "rouge2", "rougeL", "entity_f1", "bertscore_f1")
COMPARE_KEYS = ("rouge1", "rouge2", "rougeL", "entity_f1", "bertscore_f1")
PER_DOCUMENT_KEYS = ("rouge1", "rouge2", "rougeL", *ENTITY_KEYS, *BERTSCORE_KEYS)

GOLD_NA_POLICIES = ("skip", "score")
UNPARSED_POLICIES = ("skip", "empty")
BERTSCORE_PAIR_POLICIES = ("all", "rouge")


@dataclass(frozen=True)
class Policy:
    gold_na: str = "skip"
    unparsed: str = "skip"
    bertscore_pairs: str = "all"

    def describe(self) -> dict:
        return {
            "gold_na": self.gold_na,
            "gold_na_means": "skip gold N/A: a pair whose gold value is N/A (or blank) is not scored by ROUGE "
            "and entity metrics"
            if self.gold_na == "skip"
            else "pairs whose gold is N/A are scored too (gold text 'N/A')",
            "unparsed": self.unparsed,
            "unparsed_means": "candidates that did not parse (parse_error, too_long, failed) are left out"
            if self.unparsed == "skip"
            else "candidates that did not parse (parse_error, too_long, failed) are scored as empty predictions",
            "pending": "candidates not processed yet are left out",
            "bertscore_pairs": self.bertscore_pairs,
            "bertscore_pairs_means": "every scored document's pair, gold N/A included (the paper)"
            if self.bertscore_pairs == "all"
            else "the same pairs as ROUGE",
        }


def _text(value) -> str:
    """A stored value as the text scored: None is N/A; a non-string (never written by
    the parser, but JSON allows it) is its JSON text."""
    if value is None:
        return NA
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def gold_is_na(value) -> bool:
    """Gold ``N/A`` (or blank, which imports store as N/A)."""
    return value is None or (isinstance(value, str) and value.strip() in ("", NA))


@dataclass
class CategoryScores:
    """Per-document values of one category. ROUGE/entity values line up with ``doc_ids``
    (the pairs ROUGE scores), BERTScore values with ``bert_doc_ids``."""

    doc_ids: array = field(default_factory=lambda: array("q"))
    values: dict[str, array] = field(default_factory=dict)
    bert_doc_ids: array = field(default_factory=lambda: array("q"))
    bert_index: array = field(default_factory=lambda: array("q"))  # positions in RunScores.bert_pairs

    def add(self, key: str, value: float) -> None:
        column = self.values.get(key)
        if column is None:
            column = self.values[key] = array("d")
        column.append(value)

    def ids_for(self, metric: str) -> array:
        return self.bert_doc_ids if metric.startswith("bertscore") else self.doc_ids

    def restricted(self, keep: Callable[[int], bool]) -> CategoryScores:
        """The same scores on the documents ``keep`` accepts."""
        sub = CategoryScores()
        rows = [i for i, d in enumerate(self.doc_ids) if keep(d)]
        sub.doc_ids = array("q", (self.doc_ids[i] for i in rows))
        bert_rows = [i for i, d in enumerate(self.bert_doc_ids) if keep(d)]
        sub.bert_doc_ids = array("q", (self.bert_doc_ids[i] for i in bert_rows))
        for key, column in self.values.items():
            chosen = bert_rows if key.startswith("bertscore") else rows
            sub.values[key] = array("d", (column[i] for i in chosen))
        return sub


@dataclass
class RunScores:
    categories: dict[str, CategoryScores]
    rows: int = 0  # candidates whose document has gold
    scored: int = 0  # of those, scored (parsed, or unparsed scored as empty)
    scored_as_empty: int = 0
    left_out: Counter = field(default_factory=Counter)  # status -> rows left out
    documents: dict[int, tuple[str, str]] = field(default_factory=dict)  # scored doc id -> (language, split)
    gold_digest: str = ""
    bert_pairs: list[tuple[str, str]] = field(default_factory=list)  # (prediction, reference)

    @property
    def languages(self) -> set[str]:
        return {language for language, _ in self.documents.values()}


def run_score(
    rows: Iterable[EvalRow],
    *,
    categories: Sequence[EvalCategory],
    rouge,
    matcher: Matcher | None,
    bertscore: bool = False,
    policy: Policy = Policy(),
    on_row: Callable[[], object] | None = None,
) -> RunScores:
    """Per-document scores of every category. ``rouge``: a ``metrics.tokenize.LanguageRouge``
    (a calculator per document language via ``calculator(language)``), None = not asked for; ``matcher``
    None = no entity metrics; ``bertscore``: collect the pairs (scored later, in one batch)."""
    scores = RunScores(categories={c.key: CategoryScores() for c in categories})
    digest = hashlib.sha256()
    empty = policy.unparsed == "empty"
    skip_na = policy.gold_na == "skip"
    bert_all = policy.bertscore_pairs == "all"
    rouge_names = ("rouge1", "rouge2", "rougeL")
    # Per category: (key, bucket, entity?, its ROUGE columns (F, P, R per type), its entity columns)
    plan = []
    for category in categories:
        bucket = scores.categories[category.key]
        rouge_columns = None
        if rouge is not None:
            rouge_columns = [
                tuple(bucket.values.setdefault(f"{name}{s}", array("d")) for s in ("", "_p", "_r"))
                for name in rouge_names
            ]
        entity_columns = None
        if matcher is not None and category.entity:
            entity_columns = tuple(bucket.values.setdefault(k, array("d")) for k in ENTITY_KEYS)
        plan.append((category.key, bucket, rouge_columns, entity_columns))
    score_entity = matcher.score if matcher is not None else None
    for row in rows:
        scores.rows += 1
        gold_json = json.dumps(row.gold_values, sort_keys=True, ensure_ascii=False)
        digest.update(f"{row.document_id}\t{hashlib.sha256(gold_json.encode()).hexdigest()}\n".encode())
        if on_row is not None:
            on_row()
        parsed = row.status == OK and isinstance(row.values, dict)
        if not parsed and (not empty or row.status == PENDING):
            scores.left_out[row.status] += 1
            continue
        scores.scored += 1
        if not parsed:
            scores.scored_as_empty += 1
        doc_id = row.document_id
        scores.documents[doc_id] = (row.language, row.split)
        rouge_score = rouge.calculator(row.language).score if rouge is not None else None
        gold_values, values = row.gold_values, row.values
        for key, bucket, rouge_columns, entity_columns in plan:
            gold = gold_values.get(key)
            na = gold_is_na(gold)
            pred = _text(values.get(key)) if parsed else ""
            scored = not (na and skip_na)
            if bertscore and (bert_all or scored):
                bucket.bert_doc_ids.append(doc_id)
                bucket.bert_index.append(len(scores.bert_pairs))
                scores.bert_pairs.append((pred, _text(gold)))
            if not scored:
                continue
            gold = _text(gold)
            bucket.doc_ids.append(doc_id)
            if rouge_score is not None:
                for (f_col, p_col, r_col), prf in zip(rouge_columns, rouge_score(pred, gold), strict=True):
                    f_col.append(prf.fmeasure)
                    p_col.append(prf.precision)
                    r_col.append(prf.recall)
            if entity_columns is not None:
                entity = score_entity(pred, gold)
                entity_columns[0].append(entity.precision)
                entity_columns[1].append(entity.recall)
                entity_columns[2].append(entity.f1)
    scores.gold_digest = digest.hexdigest()
    return scores


def bertscore_fill(scores: RunScores, triples: Sequence[tuple[float, float, float]]) -> None:
    """Put BERTScore (P, R, F1) of ``scores.bert_pairs`` (same order) into the categories."""
    for bucket in scores.categories.values():
        for position in bucket.bert_index:
            p, r, f = triples[position]
            bucket.add("bertscore_p", float(p))
            bucket.add("bertscore_r", float(r))
            bucket.add("bertscore_f1", float(f))


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
    has_bert = "bertscore_f1" in bucket.values
    for key in BERTSCORE_KEYS:
        result[key] = mean(bucket.values[key]) if has_bert else None
    result["n_bertscore"] = len(bucket.bert_doc_ids) if has_bert else 0
    ci = dict.fromkeys(CI_KEYS)
    for ids in (bucket.doc_ids, bucket.bert_doc_ids):
        keys = [k for k in CI_KEYS if k in bucket.values and bucket.ids_for(k) is ids]
        if keys:
            for key, interval in zip(keys, bootstrap_cis([bucket.values[k] for k in keys]), strict=True):
                ci[key] = list(interval) if interval is not None else None
    result["ci"] = ci
    return result


def overall_summary(categories: dict[str, dict]) -> dict:
    """Macro mean over categories of every metric (categories where it is null are left
    out; null when none has it); the ``n`` counts are summed over categories."""
    result: dict = {}
    for key in METRIC_KEYS:
        values = [c[key] for c in categories.values() if c[key] is not None]
        result[key] = mean(values)
    for key in ("n", "n_entity", "n_bertscore"):
        result[key] = sum(c[key] for c in categories.values())
    result["n_categories"] = sum(1 for c in categories.values() if c["n"])
    return result


def summary_blocks(scores: RunScores, categories: Sequence[EvalCategory], keep=None) -> tuple[dict, dict]:
    """(``categories``, ``overall``) over all scored documents or those ``keep`` accepts."""
    blocks = {}
    for c in categories:
        bucket = scores.categories[c.key]
        blocks[c.key] = category_summary(bucket if keep is None else bucket.restricted(keep), entity=c.entity)
    return blocks, overall_summary(blocks)


def breakdown(
    scores: RunScores, categories: Sequence[EvalCategory], *, by: str, whole: tuple[dict, dict]
) -> dict[str, dict]:
    """Per language (``by="language"``) or per split (``by="split"``): ``{value: {"documents",
    "categories", "overall"}}``. A group holding every scored document reuses ``whole``."""
    index = 0 if by == "language" else 1
    counts = Counter(meta[index] for meta in scores.documents.values())
    result = {}
    for value in sorted(counts, key=str):
        if counts[value] == len(scores.documents):
            blocks, overall = whole
        else:
            members = {d for d, meta in scores.documents.items() if meta[index] == value}
            blocks, overall = summary_blocks(scores, categories, keep=members.__contains__)
        result[str(value)] = {"documents": counts[value], "categories": blocks, "overall": overall}
    return result


def compare_summary(a: RunScores, b: RunScores) -> dict[str, dict]:
    """Per category and metric: paired comparison of run a with run b on the documents
    both scored (a minus b)."""
    result = {}
    for key, bucket_a in a.categories.items():
        bucket_b = b.categories[key]
        per_metric = {}
        for metric in COMPARE_KEYS:
            if metric in bucket_a.values and metric in bucket_b.values:
                ids_a, ids_b = bucket_a.ids_for(metric), bucket_b.ids_for(metric)
                index_b = {doc_id: i for i, doc_id in enumerate(ids_b)}
                pairs = [(i, index_b[doc_id]) for i, doc_id in enumerate(ids_a) if doc_id in index_b]
                va, vb = bucket_a.values[metric], bucket_b.values[metric]
                per_metric[metric] = paired_compare([va[i] for i, _ in pairs], [vb[j] for _, j in pairs])
            else:
                per_metric[metric] = {"delta": None, "p_bootstrap": None, "p_wilcoxon": None, "n": 0}
        result[key] = per_metric
    return result


def per_document(scores: RunScores) -> dict[str, dict[str, dict[str, float]]]:
    """``{document id: {category key: {metric: value}}}`` for error analysis: F-measures
    of ROUGE, the entity P/R/F1 and BERTScore P/R/F1."""
    docs: dict[str, dict[str, dict[str, float]]] = {}
    for key, bucket in scores.categories.items():
        for ids in (bucket.doc_ids, bucket.bert_doc_ids):
            columns = [
                (m, bucket.values[m]) for m in PER_DOCUMENT_KEYS if m in bucket.values and bucket.ids_for(m) is ids
            ]
            if not columns:
                continue
            for i, doc_id in enumerate(ids):
                cell = docs.setdefault(str(doc_id), {}).setdefault(key, {})
                for metric, values in columns:
                    cell[metric] = values[i]
    return docs
