"""Evaluating a run against gold and storing the report (``evaluate``, the API).

``evaluation_run`` scores in the calling process; ``evaluation_queue`` stores a queued
report and hands its id to a worker on the ``evaluation`` queue, which calls
``evaluation_process``. Both end in ``evaluation_compute``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Required, TypedDict, Unpack

from django.db import transaction

from annotation.models import Split
from elmtex_site.errors import ApplicationError, Problem
from evaluation.metrics.entities import DEFAULT_FUZZY_THRESHOLD, MATCHERS, matcher_get
from evaluation.metrics.tokenize import DEFAULT_GERMAN_STEMMER, GERMAN_STEMMERS
from evaluation.models import EvaluationReport, EvaluationStatus
from evaluation.selectors import evaluation_candidate_count, evaluation_categories, evaluation_rows, gold_state
from inference.models import ModelRun

from .report_config import config_build

logger = logging.getLogger(__name__)

AVAILABLE_METRICS = ("rouge", "entity", "bertscore")
DEFAULT_METRICS = ("rouge", "entity")
GPU_QUEUE = "gpu"
# Progress is written to the report at most this often (seconds) while a worker scores.
PROGRESS_INTERVAL = 1.0


def _refuse(message: str, field: str) -> ApplicationError:
    return ApplicationError(f"{field}: {message}", problems=[Problem(message, field=field)])


def metrics_check(metrics: Sequence[str] | str | None) -> list[str]:
    """The metric families asked for, in canonical order; refuses unknown ones."""
    if metrics is None:
        return list(DEFAULT_METRICS)
    if isinstance(metrics, str):
        metrics = metrics.split(",")
    asked = [m.strip().lower() for m in metrics if m.strip()]
    if not asked:
        raise _refuse(f"name at least one metric ({', '.join(AVAILABLE_METRICS)})", "metrics")
    for metric in asked:
        if metric not in AVAILABLE_METRICS:
            raise _refuse(f"unknown metric {metric!r}; choose from {', '.join(AVAILABLE_METRICS)}", "metrics")
    return [m for m in AVAILABLE_METRICS if m in asked]


def _choice(value: str, choices: tuple[str, ...], field: str) -> str:
    if value not in choices:
        raise _refuse(f"unknown value {value!r}; choose from {', '.join(choices)}", field)
    return value


def evaluation_build(
    *,
    run: ModelRun,
    metrics: Sequence[str] | str | None = DEFAULT_METRICS,
    language: str | None = None,
    split: str | None = None,
    compare: ModelRun | None = None,
    user=None,
    fuzzy_threshold: float = DEFAULT_FUZZY_THRESHOLD,
    matcher: str = "default",
    scispacy_model: str | None = None,
    gold_na: str = "skip",
    unparsed: str = "skip",
    bertscore_pairs: str = "all",
    german_stemmer: str = DEFAULT_GERMAN_STEMMER,
    bertscore_model: str | None = None,
    bertscore_baseline: str | None = None,
    bertscore_rescale: bool | None = None,
    status: str = EvaluationStatus.QUEUED,
) -> EvaluationReport:
    """Check the request; an unsaved report holding it (nothing is scored yet)."""
    from . import scoring

    metrics = metrics_check(metrics)
    language = (language or "").strip() or None
    split = (split or "").strip() or None
    if split is not None and split not in Split.values:
        raise _refuse(f"unknown split {split!r}; choose from {', '.join(Split.values)}", "split")
    if matcher not in MATCHERS:
        raise _refuse(f"unknown entity matcher {matcher!r}; choose from {', '.join(sorted(MATCHERS))}", "matcher")
    if matcher == "scispacy" and "entity" in metrics:
        from evaluation.metrics.entities_scispacy import DEFAULT_MODEL, scispacy_unavailable

        scispacy_model = scispacy_model or DEFAULT_MODEL
        reason = scispacy_unavailable(scispacy_model)
        if reason:
            raise _refuse(reason, "matcher")
    if not 0 <= fuzzy_threshold <= 100:
        raise _refuse(f"must lie between 0 and 100, got {fuzzy_threshold:g}", "fuzzy_threshold")
    policy = scoring.Policy(
        gold_na=_choice(gold_na, scoring.GOLD_NA_POLICIES, "gold_na"),
        unparsed=_choice(unparsed, scoring.UNPARSED_POLICIES, "unparsed"),
        bertscore_pairs=_choice(bertscore_pairs, scoring.BERTSCORE_PAIR_POLICIES, "bertscore_pairs"),
    )
    _choice(german_stemmer, GERMAN_STEMMERS, "german_stemmer")
    if compare is not None:
        if compare.project_id != run.project_id:
            raise _refuse(f"run {compare.pk} belongs to another project; compare runs of one project", "compare")
        if compare.pk == run.pk:
            raise _refuse("a run compared with itself tells nothing; name another run", "compare")
    bertscore = {
        "model": (bertscore_model or "").strip() or None,
        "baseline_path": (bertscore_baseline or "").strip() or None,
        "rescale": bertscore_rescale,
    }
    config = config_build(
        metrics=metrics,
        language=language,
        split=split,
        fuzzy_threshold=float(fuzzy_threshold),
        matcher=matcher,
        scispacy_model=scispacy_model,
        policy=policy,
        german_stemmer=german_stemmer,
        bertscore=bertscore,
    )
    return EvaluationReport(
        project=run.project,
        run=run,
        compare_run=compare,
        metrics=metrics,
        config=config,
        status=status,
        created_by=user if getattr(user, "is_authenticated", False) else None,
    )


def _policy(config: dict):
    from . import scoring

    given = config.get("policies") or {}
    return scoring.Policy(
        gold_na=given.get("gold_na", "skip"),
        unparsed=given.get("unparsed", "skip"),
        bertscore_pairs=given.get("bertscore_pairs", "all"),
    )


def _matcher(config: dict):
    entity = config.get("entity") or {}
    name = entity.get("matcher", "default")
    options = {"model": entity["model"]} if name == "scispacy" and entity.get("model") else {}
    try:
        return matcher_get(name, threshold=entity.get("fuzzy_threshold", DEFAULT_FUZZY_THRESHOLD), **options)
    except ValueError as exc:  # MatcherUnavailable: what to install
        raise _refuse(str(exc), "matcher") from exc


def _bertscore_config(config: dict):
    """C's scorer configuration for the requested settings (raises ApplicationError when
    the model is missing or its files do not verify)."""
    from evaluation.services.bertscore import bertscore_config_resolve

    requested = (config.get("bertscore") or {}).get("requested") or {}
    try:
        return bertscore_config_resolve(
            model=requested.get("model"), rescale=requested.get("rescale"), baseline_path=requested.get("baseline_path")
        )
    except ApplicationError:
        raise
    except Exception as exc:  # noqa: BLE001 - transformers/huggingface_hub raise many types for a bad model id
        raise _refuse(
            f"BERTScore: the model {requested.get('model') or '(default)'} could not be loaded "
            f"({type(exc).__name__}); give a local model directory or a model id present in the local cache",
            "bertscore_model",
        ) from exc


def evaluation_compute(
    *,
    report: EvaluationReport,
    on_row: Callable[[], object] | None = None,
    progress: Callable[[int, int], object] | None = None,
) -> EvaluationReport:
    """Score the report's run (and compare run) against gold into the report's fields
    (results, config, gold_version, per_document, status done, progress). Does not save:
    reads only, so no write lock is held while scoring. ``progress(done, total)``: rows
    read, then BERTScore pairs scored (the total grows by the pairs once they are known)."""
    from evaluation.metrics.tokenize import LanguageRouge

    from . import scoring

    config = dict(report.config)
    metrics = list(report.metrics)
    language, split = config.get("language"), config.get("split")
    policy = _policy(config)
    categories = evaluation_categories(project=report.project)
    bert_config = _bertscore_config(config) if "bertscore" in metrics else None  # fail before the long part
    rouge = LanguageRouge(german_stemmer=(config.get("rouge") or {}).get("german_stemmer", "snowball"))
    rouge = rouge if "rouge" in metrics else None
    matcher = _matcher(config) if "entity" in metrics else None
    runs = [report.run] + ([report.compare_run] if report.compare_run_id else [])
    counts = [evaluation_candidate_count(run=r, language=language, split=split) for r in runs]
    config["gold_state"] = gold_state(run_ids=[r.pk for r in runs], language=language, split=split)
    tally = {"done": 0, "rows": sum(counts), "total": sum(counts)}

    def row_seen():
        tally["done"] += 1
        if on_row is not None:
            on_row()
        if progress is not None:
            progress(tally["done"], tally["total"])

    all_scores = []
    for r in runs:
        rows = evaluation_rows(run=r, language=language, split=split)
        all_scores.append(
            scoring.run_score(
                rows,
                categories=categories,
                rouge=rouge,
                matcher=matcher,
                bertscore=bert_config is not None,
                policy=policy,
                on_row=row_seen,
            )
        )
    if bert_config is not None:
        config["bertscore"] = {**config["bertscore"], **_bertscore_run(all_scores, bert_config, tally, progress)}
    scores = all_scores[0]
    whole = scoring.summary_blocks(scores, categories)
    compare = None
    if report.compare_run_id:
        compare = {
            "run": {"id": report.compare_run.pk, "name": report.compare_run.name},
            "categories": scoring.compare_summary(scores, all_scores[1]),
        }
    config["documents"] = {
        "candidates": counts[0],
        "with_gold": scores.rows,
        "scored": scores.scored,
        "scored_as_empty": scores.scored_as_empty,
        "left_out": dict(sorted(scores.left_out.items())),
    }
    config["languages_scored"] = sorted(scores.languages)
    if rouge is not None:
        config["rouge"] = {**config["rouge"], "tokenizers": rouge.tokenizers()}
    if matcher is not None:
        config["entity"] = matcher.config()
    gold_version = scoring.gold_version(scores)
    report.results = {
        "run": {"id": report.run.pk, "name": report.run.name},
        "gold_version": gold_version,
        "config": config,
        "categories": whole[0],
        "overall": whole[1],
        "compare": compare,
        "languages": scoring.breakdown(scores, categories, by="language", whole=whole),
        "splits": scoring.breakdown(scores, categories, by="split", whole=whole),
    }
    report.config = config
    report.gold_version = gold_version
    report.per_document = scoring.per_document(scores)
    report.progress_done = report.progress_total = tally["total"]
    report.status = EvaluationStatus.DONE
    report.error = ""
    return report


def _bertscore_run(all_scores: list, bert_config, tally: dict, progress) -> dict:
    """BERTScore of every collected pair (run and compare run) in one call: C's scorer
    embeds each distinct string once and reuses its cache. Returns what the config records."""
    from evaluation.services.bertscore import bertscore_pairs_score

    from . import scoring

    pairs = [pair for s in all_scores for pair in s.bert_pairs]
    base = tally["done"] = tally["rows"]  # candidates without gold are never read: count them done
    tally["total"] = base + len(pairs)

    def step(done: int, total: int) -> None:
        tally["done"] = base + done
        if progress is not None:
            progress(base + done, base + total)

    result = bertscore_pairs_score(pairs=pairs, config=bert_config, progress=step)
    if len(result.scores) != len(pairs):
        raise ApplicationError(f"BERTScore returned {len(result.scores)} scores for {len(pairs)} pairs")
    offset = 0
    for s in all_scores:
        scoring.bertscore_fill(s, result.scores[offset : offset + len(s.bert_pairs)])
        offset += len(s.bert_pairs)
        s.bert_pairs = []
    tally["done"] = tally["total"]
    return {
        **bert_config.as_report_config(),
        "pairs_scored": len(pairs),
        "pairs_scored_now": result.new_pairs,
        "pairs_from_cache": result.cached_pairs,
        "empty_strings": "scored by evaluation.services.bertscore (see its documentation for an empty side)",
    }


COMPUTED_FIELDS = [
    "results",
    "config",
    "gold_version",
    "per_document",
    "status",
    "error",
    "progress_done",
    "progress_total",
]


class EvaluationRequest(TypedDict, total=False):
    """What ``evaluation_run`` and ``evaluation_queue`` accept; ``evaluation_build`` checks it
    and holds the defaults."""

    run: Required[ModelRun]
    metrics: Sequence[str] | str | None
    language: str | None
    split: str | None
    compare: ModelRun | None
    user: object
    fuzzy_threshold: float
    matcher: str
    scispacy_model: str | None
    gold_na: str
    unparsed: str
    bertscore_pairs: str
    german_stemmer: str
    bertscore_model: str | None
    bertscore_baseline: str | None
    bertscore_rescale: bool | None


def evaluation_run(
    *,
    on_row: Callable[[], object] | None = None,
    progress: Callable[[int, int], object] | None = None,
    **request: Unpack[EvaluationRequest],
) -> EvaluationReport:
    """Evaluate in this process and store the report (one write at the end; a failure
    stores nothing)."""
    report = evaluation_build(**request, status=EvaluationStatus.RUNNING)
    evaluation_compute(report=report, on_row=on_row, progress=progress)
    report.save()
    logger.info("evaluation %s of run %s stored", report.pk, report.run_id)
    return report


def evaluation_queue(**request: Unpack[EvaluationRequest]) -> EvaluationReport:
    """Store a queued report and enqueue it for a worker once the transaction commits:
    queue ``gpu`` when BERTScore is asked for (a GPU worker can take it), ``evaluation``
    otherwise. A broker that cannot be reached marks the report failed."""
    from evaluation.tasks import EVALUATION_QUEUE, evaluation_enqueue

    with transaction.atomic():
        report = evaluation_build(**request, status=EvaluationStatus.QUEUED)
        report.save()
        queue = GPU_QUEUE if "bertscore" in report.metrics else EVALUATION_QUEUE
        transaction.on_commit(lambda: evaluation_enqueue(report.pk, queue=queue))
    report.refresh_from_db(fields=["status", "error"])
    return report


def evaluation_process(*, report_id: int) -> None:
    """The worker's side of ``evaluation_queue``: score a queued report once."""
    claimed = EvaluationReport.objects.filter(pk=report_id, status=EvaluationStatus.QUEUED).update(
        status=EvaluationStatus.RUNNING
    )
    if not claimed:
        logger.info("evaluation %s is not queued (done, running elsewhere or deleted); skipped", report_id)
        return
    report = EvaluationReport.objects.select_related("project", "run", "compare_run").get(pk=report_id)
    try:
        evaluation_compute(report=report, progress=_progress_writer(report_id))
        report.save(update_fields=COMPUTED_FIELDS)
    except Exception as exc:
        logger.exception("evaluation %s failed", report_id)
        message = exc.message if isinstance(exc, ApplicationError) else f"unexpected failure ({type(exc).__name__})"
        EvaluationReport.objects.filter(pk=report_id).update(status=EvaluationStatus.FAILED, error=message)
        raise


def _progress_writer(report_id: int) -> Callable[[int, int], None]:
    """``progress(done, total)`` that writes to the report at most every PROGRESS_INTERVAL
    seconds (and whenever the total changes), for the report page and API while it runs."""
    last = {"at": 0.0, "total": None}

    def write(done: int, total: int) -> None:
        now = time.monotonic()
        if total == last["total"] and now - last["at"] < PROGRESS_INTERVAL and done < total:
            return
        last["at"], last["total"] = now, total
        EvaluationReport.objects.filter(pk=report_id).update(progress_done=done, progress_total=total)

    return write


def evaluation_mark_failed(*, report_id: int, error: str) -> None:
    EvaluationReport.objects.filter(pk=report_id).update(status=EvaluationStatus.FAILED, error=error)
