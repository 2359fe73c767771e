"""What an evaluation report records about how it was computed (``EvaluationReport.config``):
metrics, policies, tokenizers, matcher, BERTScore scorer, bootstrap, package versions,
gold state. Everything needed to redo it and to tell when it went stale."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

import elmtex_site

BASE_PACKAGES = ("rouge-score", "nltk", "rapidfuzz", "scipy", "numpy")
BERTSCORE_PACKAGES = ("bert-score", "transformers", "torch")
SCISPACY_PACKAGES = ("spacy", "scispacy")


def package_versions(names) -> dict[str, str | None]:
    result = {}
    for name in names:
        try:
            result[name] = version(name)
        except PackageNotFoundError:
            result[name] = None
    return result


def config_build(
    *,
    metrics: list[str],
    language: str | None,
    split: str | None,
    fuzzy_threshold: float,
    matcher: str,
    policy,
    german_stemmer: str,
    scispacy_model: str | None = None,
    bertscore: dict | None = None,
) -> dict:
    """The request's configuration, before scoring (``evaluation_compute`` completes it
    with the resolved BERTScore scorer, the tokenizers used, documents and gold state).
    Cheap: no metric library is loaded here (web processes build reports)."""
    from evaluation.metrics.entities import DefaultMatcher
    from evaluation.metrics.stats import bootstrap_settings
    from evaluation.metrics.tokenize import tokenizer_for_language

    entity = None
    if "entity" in metrics:
        if matcher == "default":
            entity = DefaultMatcher(threshold=fuzzy_threshold).config()
        else:
            entity = {"matcher": matcher, "model": scispacy_model}
    packages = list(BASE_PACKAGES)
    if "bertscore" in metrics:
        packages += BERTSCORE_PACKAGES
    if entity and matcher == "scispacy":
        packages += SCISPACY_PACKAGES
    described = policy.describe()
    return {
        "metrics": metrics,
        "policies": described,
        "na_policy": described["gold_na_means"],
        "unparsed_policy": described["unparsed_means"],
        "mean": "over documents, per category; overall = macro mean over categories; per language and per split "
        "in 'languages' and 'splits' of the results",
        "rouge": {
            "types": ["rouge1", "rouge2", "rougeL"],
            "use_stemmer": True,
            "package": f"rouge-score {package_versions(['rouge-score'])['rouge-score']}",
            "tokenizer": tokenizer_for_language("en").description,
            "german_stemmer": german_stemmer,
            "tokenizers": None,  # per language scored, filled in when scored
        }
        if "rouge" in metrics
        else None,
        "entity": entity,
        "bertscore": {"requested": bertscore or {}, "pairs": policy.bertscore_pairs}
        if "bertscore" in metrics
        else None,
        "language": language,
        "split": split,
        "bootstrap": bootstrap_settings(),
        "compare": {
            "documents": "documents scored in both runs, per category (BERTScore: pairs scored in both)",
            "delta": "mean of this run minus mean of the compared run",
            "p_bootstrap": "two-sided paired bootstrap over per-document differences",
            "p_wilcoxon": "scipy.stats.wilcoxon, two-sided, zero differences dropped; null when all are zero",
        },
        "gold_version": "sha256 over (document id, gold values) of the selected documents with gold",
        "packages": package_versions(packages),
        "platform_version": elmtex_site.__version__,
    }
