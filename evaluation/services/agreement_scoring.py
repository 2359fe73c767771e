"""Computing the CLI.md ``agreement`` JSON from a project's submitted annotations.

Per category (and pooled over categories for ``overall``):
- judgements (nominal labels, an annotator who left a field unjudged is missing):
  Krippendorff's alpha on every document judged by two or more annotators, Fleiss'
  kappa on the documents judged by the most common number of annotators, Cohen's kappa
  per annotator pair on the documents both judged (and its mean over pairs);
- field text (categories with text metrics): ROUGE-L F between every two annotators of
  a document, and entity F1 (default matcher) on entity-bearing categories; a pair
  where both wrote N/A is not scored (agreeing on absence is not text similarity), a
  pair where one wrote N/A scores 0. Averaged per document, then over documents;
- each annotator against gold, as ``evaluate`` scores a run (gold N/A skipped).

Reads through ``evaluation.selectors_agreement``; writes nothing.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

from annotation.models import Judgement, Project
from elmtex_site.errors import ApplicationError
from evaluation.selectors_agreement import (
    AgreementCategory,
    agreement_categories,
    agreement_rows,
    agreement_selection_counts,
)

NA = "N/A"
TEXT_MEANS = (
    "text_rougeL_mean",
    "text_entity_f1_mean",
    "annotator_vs_gold_rougeL_mean",
    "annotator_vs_gold_entity_f1_mean",
)


def _text(value) -> str:
    """A stored value as text; None and blank are N/A."""
    if value is None:
        return NA
    if not isinstance(value, str):
        import json

        return json.dumps(value, ensure_ascii=False)
    return value if value.strip() else NA


def _is_na(value: str) -> bool:
    return value.strip() == NA


def no_annotations_error(*, project: Project, language: str | None, split: str | None) -> ApplicationError:
    where = ", ".join(f"{k} {v!r}" for k, v in (("language", language), ("split", split)) if v)
    return ApplicationError(
        f"no submitted annotations in project {project.slug!r}{' (' + where + ')' if where else ''}; "
        "annotators submit their work on the annotation pages, or import it with import_annotations"
    )


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


@dataclass
class TextScores:
    """Per-document means of the pairwise scores of one category."""

    rouge_docs: list[float] = field(default_factory=list)
    entity_docs: list[float] = field(default_factory=list)
    pairs: int = 0
    pairs_both_na: int = 0
    annotators: set[str] = field(default_factory=set)  # behind the pairwise figures
    # annotator username -> scores against gold (one per document with non-N/A gold)
    gold_rouge: dict[str, list[float]] = field(default_factory=dict)
    gold_entity: dict[str, list[float]] = field(default_factory=dict)


class _Labels:
    """Judgement label -> integer code; the ELMTEX labels first, others as they come."""

    def __init__(self):
        self.names: list[str] = list(Judgement.values)
        self.index = {name: i for i, name in enumerate(self.names)}

    def code(self, label: str) -> int:
        code = self.index.get(label)
        if code is None:
            code = self.index[label] = len(self.names)
            self.names.append(label)
        return code


def _judgement_stats(codes, n_values: int, usernames: list[str]) -> dict:
    """Alpha, Fleiss and Cohen figures of a raters x items code matrix (-1 = missing)."""
    import numpy as np

    from evaluation.metrics import agreement as ag

    rated = codes >= 0
    per_item = rated.sum(axis=0)
    pairable = per_item >= 2
    table, fleiss_raters, fleiss_items = ag.fleiss_table_most_common(codes, n_values)
    pairs = []
    for i in range(codes.shape[0]):
        cols = np.nonzero(rated[i])[0]
        if not len(cols):
            continue
        sub = codes[:, cols]
        for j in range(i + 1, codes.shape[0]):
            kappa, n = ag.cohen_kappa_codes(sub[i], sub[j])
            if n:
                pairs.append({"annotators": [usernames[i], usernames[j]], "items": n, "kappa": kappa})
    defined = [p["kappa"] for p in pairs if p["kappa"] is not None]
    return {
        "items": int(pairable.sum()),
        "annotators": int(rated[:, pairable].any(axis=1).sum()),
        "judgements": int(rated.sum()),
        "krippendorff_alpha": ag.krippendorff_alpha_codes(codes, n_values),
        "fleiss_kappa": ag.fleiss_kappa(table) if fleiss_items else None,
        "fleiss_items": fleiss_items,
        "fleiss_raters": fleiss_raters,
        "cohen_kappa_mean": _mean(defined),
        "cohen_pairs_defined": len(defined),
        "cohen_pairs": pairs,
    }


def _label_counts(codes, names: list[str]) -> dict[str, int]:
    import numpy as np

    counts = np.bincount(codes[codes >= 0].astype(np.int64), minlength=len(names))
    return {name: int(n) for name, n in zip(names, counts, strict=False) if n}


class _Scorers:
    def __init__(self):
        from evaluation.metrics.entities import matcher_get

        try:
            from evaluation.metrics.tokenize import LanguageRouge

            self.rouge = LanguageRouge()
            self.per_language = True
        except ImportError:  # pragma: no cover - the tokenizer module ships with evaluation
            from evaluation.metrics.rouge import RougeCalculator

            self.rouge = RougeCalculator()
            self.per_language = False
        self.matcher = matcher_get("default")

    def rouge_l(self, prediction: str, reference: str, language: str) -> float:
        if self.per_language:
            return self.rouge.score(prediction, reference, language=language).rougeL.fmeasure
        return self.rouge.score(prediction, reference).rougeL.fmeasure

    def config(self, languages: set[str]) -> dict:
        rouge = {"score": "ROUGE-L F-measure (rouge-score arithmetic)"}
        if self.per_language:
            rouge["tokenizers"] = self.rouge.tokenizers()
        else:
            rouge["note"] = "rouge-score's English tokenizer for every language"
        return {"rouge": rouge, "entity": self.matcher.config(), "languages": sorted(languages)}


def _score_text(group, category: AgreementCategory, scores: TextScores, scorers: _Scorers) -> None:
    """The pairwise and vs-gold scores of one document (its rows) in one category."""
    key = category.key
    texts = [(row.annotator, _text(row.values.get(key) if isinstance(row.values, dict) else None)) for row in group]
    language = group[0].language
    rouge_pairs, entity_pairs = [], []
    for (name_a, a), (name_b, b) in itertools.combinations(texts, 2):
        if _is_na(a) and _is_na(b):
            scores.pairs_both_na += 1
            continue
        scores.pairs += 1
        scores.annotators.update((name_a, name_b))
        either_na = _is_na(a) or _is_na(b)
        rouge_pairs.append(0.0 if either_na else scorers.rouge_l(a, b, language))
        if category.entity:
            entity_pairs.append(scorers.matcher.score(a, b).f1)
    if rouge_pairs:
        scores.rouge_docs.append(sum(rouge_pairs) / len(rouge_pairs))
    if entity_pairs:
        scores.entity_docs.append(sum(entity_pairs) / len(entity_pairs))
    gold = group[0].gold_values
    if gold is None:
        return
    gold_text = _text(gold.get(key))
    if _is_na(gold_text):
        return
    for annotator, value in texts:
        scores.gold_rouge.setdefault(annotator, []).append(scorers.rouge_l(value, gold_text, language))
        if category.entity:
            scores.gold_entity.setdefault(annotator, []).append(scorers.matcher.score(value, gold_text).f1)


def _text_summary(scores: TextScores | None, category: AgreementCategory) -> dict:
    if scores is None:
        return {
            "text_rougeL_mean": None,
            "text_entity_f1_mean": None,
            "text_items": 0,
            "text_annotators": 0,
            "text_entity_items": 0,
            "text_pairs": 0,
            "text_pairs_both_na": 0,
            "annotator_vs_gold": {},
            "annotator_vs_gold_rougeL_mean": None,
            "annotator_vs_gold_entity_f1_mean": None,
        }
    vs_gold = {}
    for annotator in sorted(scores.gold_rouge):
        rouge = scores.gold_rouge[annotator]
        entity = scores.gold_entity.get(annotator, [])
        vs_gold[annotator] = {
            "n": len(rouge),
            "rougeL": _mean(rouge),
            "entity_f1": _mean(entity) if category.entity else None,
        }
    return {
        "text_rougeL_mean": _mean(scores.rouge_docs),
        "text_entity_f1_mean": _mean(scores.entity_docs) if category.entity else None,
        "text_items": len(scores.rouge_docs),
        "text_annotators": len(scores.annotators),
        "text_entity_items": len(scores.entity_docs),
        "text_pairs": scores.pairs,
        "text_pairs_both_na": scores.pairs_both_na,
        "annotator_vs_gold": vs_gold,
        "annotator_vs_gold_rougeL_mean": _mean([v["rougeL"] for v in vs_gold.values()]),
        "annotator_vs_gold_entity_f1_mean": _mean([v["entity_f1"] for v in vs_gold.values()])
        if category.entity and vs_gold
        else None,
    }


def agreement_compute(
    *,
    project: Project,
    language: str | None = None,
    split: str | None = None,
    progress: Callable[[int, int], object] | None = None,
) -> dict:
    """The CLI.md ``agreement`` JSON of the selection's submitted annotations.
    ``progress(done, total)`` is called as documents are read. Raises ApplicationError
    when the selection holds no submitted annotation."""
    import numpy as np

    counts = agreement_selection_counts(project=project, language=language, split=split)
    if not counts["annotations"]:
        raise no_annotations_error(project=project, language=language, split=split)
    categories = agreement_categories(project=project)
    usernames = [name for _, name in counts["annotators"]]
    annotator_index = {pk: i for i, (pk, _) in enumerate(counts["annotators"])}
    total = counts["documents"]
    labels = _Labels()
    codes = {c.key: np.full((len(usernames), total), -1, dtype=np.int16) for c in categories}
    text = {c.key: TextScores() for c in categories if c.text}
    scorers = _Scorers()
    languages: set[str] = set()
    documents_multi = 0
    u = -1
    for u, (_, rows) in enumerate(
        itertools.groupby(agreement_rows(project=project, language=language, split=split), key=lambda r: r.document_id)
    ):
        group = list(rows)
        languages.add(group[0].language)
        documents_multi += len(group) >= 2
        for row in group:
            a = annotator_index[row.annotator_id]
            judgements = row.judgements if isinstance(row.judgements, dict) else {}
            for category in categories:
                label = judgements.get(category.key)
                if isinstance(label, str) and label:
                    codes[category.key][a, u] = labels.code(label)
        for category in categories:
            if category.text:
                _score_text(group, category, text[category.key], scorers)
        if progress is not None:
            progress(u + 1, total)
    n_values = len(labels.names)
    blocks = {}
    for category in categories:
        block = {"label": category.label}
        block.update(_judgement_stats(codes[category.key][:, : u + 1], n_values, usernames))
        block["judgement_counts"] = _label_counts(codes[category.key], labels.names)
        block.update(_text_summary(text.get(category.key), category))
        blocks[category.key] = block
    pooled = np.concatenate([codes[c.key][:, : u + 1] for c in categories], axis=1)
    overall = {"unit": "document x category (judgements pooled over categories)"}
    overall.update(_judgement_stats(pooled, n_values, usernames))
    overall["documents"] = documents_multi
    overall["judgement_counts"] = _label_counts(pooled, labels.names)
    text_blocks = [blocks[c.key] for c in categories if c.text]
    for name in TEXT_MEANS:
        overall[name] = _mean([b[name] for b in text_blocks if b[name] is not None])
    overall["text_means"] = "macro mean over the categories with a figure"
    return {
        "selection": {
            "language": language,
            "split": split,
            "documents": total,
            "documents_with_two_or_more": documents_multi,
            "annotations": counts["annotations"],
            "annotators": usernames,
        },
        "text": scorers.config(languages),
        "categories": blocks,
        "overall": overall,
    }
