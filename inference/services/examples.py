"""In-context examples of the advanced strategy: choose them once per run, hand them to
each batch (the A <-> B contract in notes/interfaces.md).

- :func:`retrieval_settings` decides at run creation, from files only (no torch), how the
  run retrieves: sentence embeddings when the model folder is there, TF-IDF otherwise.
  ``run_config_build`` freezes the answer into ``run.config["retrieval"]``; nothing here
  changes it later, and a run whose frozen embedding model cannot be loaded fails with a
  clear error instead of quietly switching method.
- :func:`run_examples_assign` (worker, at run start) builds the index once over the
  project's training-split documents with gold and stores each pending candidate's k
  nearest as ``Candidate.prompt_examples`` (ids, best first).
- :func:`batch_examples` (worker, per batch) turns those ids into ``{"report", "summary"}``
  with one query.
"""

from __future__ import annotations

import logging
from collections import defaultdict

from annotation.models import Document, Split
from elmtex_site.errors import ApplicationError

from ..models import Candidate, CandidateStatus, ModelRun, Strategy
from ..prompts import NA

logger = logging.getLogger(__name__)

DEFAULT_K = 5
MAX_K = 50
ASSIGN_CHUNK = 1000  # candidates embedded, searched and written per step


def k_check(k: int | None) -> int:
    if k is None:
        return DEFAULT_K
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_K:
        raise ApplicationError(f"--k must be a whole number from 1 to {MAX_K}, got {k!r}")
    return k


def retrieval_settings(*, k: int | None = None, embedding_model: str | None = None) -> dict:
    """What a new advanced run will retrieve with, decided from files only."""
    from ..embeddings import embedding_model_resolve

    model = embedding_model_resolve(embedding_model)
    settings = {
        "k": k_check(k),
        "method": "embeddings" if model.path else "tfidf",
        "model": model.name if model.path else None,
        "model_path": model.path,
        "weights_sha256": model.weights_sha256,
        "requested_model": embedding_model or None,
        "pool": "training-split documents with gold; the query's language first",
        "excluded": "the document itself, its translations and the document it translates",
    }
    if not model.path:
        settings["fallback_reason"] = model.reason
    return settings


def example_pool_size(*, project) -> int:
    return Document.objects.filter(project=project, split=Split.TRAIN, gold__isnull=False).count()


def _exclusions(pool_rows) -> tuple[dict, dict]:
    """(external id -> pool ids, document id -> linked pool ids by translation)."""
    by_external = defaultdict(set)
    linked = defaultdict(set)
    for pk, _language, _text, external_id, original in pool_rows:
        by_external[external_id].add(pk)
        if original is not None:
            linked[original].add(pk)
            linked[pk].add(original)
    return by_external, linked


def run_examples_assign(*, run: ModelRun) -> int:
    """Fill ``prompt_examples`` of the run's pending candidates that have none; returns
    how many were filled. Idempotent. Raises ApplicationError (the run should fail with
    its message) when the pool is empty or the frozen embedding model cannot be loaded."""
    from ..retrieval import ExampleIndex, PoolDocument, Query

    if run.strategy != Strategy.ADVANCED:
        return 0
    settings = (run.config or {}).get("retrieval")
    if not isinstance(settings, dict):
        raise ApplicationError(f"run {run.pk} has no retrieval settings in its config; start a new advanced run")
    todo = list(
        Candidate.objects.filter(run=run, status=CandidateStatus.PENDING, prompt_examples=[])
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if not todo:
        return 0
    pool_rows = list(
        Document.objects.filter(project_id=run.project_id, split=Split.TRAIN, gold__isnull=False)
        .order_by("pk")
        .values_list("pk", "language", "text", "external_id", "translation_of_id")
    )
    if not pool_rows:
        raise ApplicationError(
            f"run {run.pk}: the project has no training-split documents with gold to take examples from; "
            "assign splits (assign_splits) and import gold, then resume the run"
        )
    by_external, linked = _exclusions(pool_rows)
    pool = [PoolDocument(doc_id=pk, language=lang, text=text) for pk, lang, text, _, _ in pool_rows]
    del pool_rows
    try:
        index = ExampleIndex(pool=pool, method=settings["method"], model_path=settings.get("model_path"))
    except Exception as exc:  # noqa: BLE001 - torch/transformers/OS errors: the run fails with a reason
        logger.exception("run %s: retrieval index could not be built", run.pk)
        where = settings.get("model_path") or settings.get("method")
        raise ApplicationError(
            f"run {run.pk}: the retrieval index could not be built with {where} ({type(exc).__name__}); "
            "check that the embedding model is installed, or start a new run with another --embedding-model"
        ) from None
    k = int(settings.get("k") or DEFAULT_K)
    filled = 0
    for start in range(0, len(todo), ASSIGN_CHUNK):
        rows = list(
            Candidate.objects.filter(pk__in=todo[start : start + ASSIGN_CHUNK])
            .select_related("document")
            .only(
                "pk",
                "document__id",
                "document__language",
                "document__text",
                "document__external_id",
                "document__translation_of",
            )
        )
        queries = []
        for c in rows:
            d = c.document
            exclude = set(by_external.get(d.external_id, ())) | linked.get(d.pk, set())
            if d.translation_of_id is not None:
                exclude |= {d.translation_of_id} | linked.get(d.translation_of_id, set())
            queries.append(Query(doc_id=d.pk, language=d.language, text=d.text, exclude=frozenset(exclude)))
        found = index.search(queries, k=k)
        for candidate, ids in zip(rows, found, strict=True):
            candidate.prompt_examples = ids
        Candidate.objects.bulk_update(rows, ["prompt_examples"], batch_size=500)
        filled += len(rows)
    logger.info("run %s: examples chosen for %s candidates (%s)", run.pk, filled, settings["method"])
    return filled


def batch_examples(*, run: ModelRun, candidates: list[Candidate]) -> dict[int, list[dict]]:
    """Candidate id -> its examples ``[{"report": text, "summary": {key: value}}]`` best
    first, for an advanced run (one query); ``{}`` for other strategies. Summaries hold the
    run's keys in schema order, a value missing from the gold as N/A. An example whose
    document or gold has been deleted since is left out."""
    if run.strategy != Strategy.ADVANCED:
        return {}
    keys = list((run.config or {}).get("keys") or [])
    wanted = {pk for c in candidates for pk in (c.prompt_examples or [])}
    docs = {
        pk: (text, values)
        for pk, text, values in Document.objects.filter(
            pk__in=wanted, project_id=run.project_id, gold__isnull=False
        ).values_list("pk", "text", "gold__values")
    }
    out = {}
    for c in candidates:
        examples = []
        for pk in c.prompt_examples or []:
            if pk not in docs:
                continue
            text, values = docs[pk]
            values = values if isinstance(values, dict) else {}
            examples.append({"report": text, "summary": {key: values.get(key) or NA for key in keys}})
        out[c.pk] = examples
    return out
