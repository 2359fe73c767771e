"""Extraction runs: create (select documents, freeze the config), cancel, resume.

The work itself happens on Celery workers (``inference.tasks``, ``services.processing``);
these services only write the run's rows and enqueue its start once they are committed.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

import elmtex_site
from annotation.models import Category, Document, Project, Split
from elmtex_site.errors import ApplicationError

from .. import prompts
from ..chat_template import chat_template_describe
from ..models import (
    Candidate,
    CandidateStatus,
    EndpointMode,
    ModelEndpoint,
    ModelRun,
    RunSource,
    RunStatus,
    Strategy,
)
from ..selectors import run_status_effective
from ..tgi import GenerationParams
from .examples import example_pool_size, retrieval_settings

logger = logging.getLogger(__name__)

MAX_RUN_NAME_CHARS = 200  # ModelRun.name's max_length
CANDIDATE_INSERT_BATCH = 2000
# Strategies whose prompts exist (all of them since issue 3).
AVAILABLE_STRATEGIES = (Strategy.NAIVE, Strategy.ADVANCED, Strategy.FINETUNED)
# --temperature: 0 is greedy (the default); ELMTEX's scripts sampled at 0.1.
MAX_TEMPERATURE = 2.0
CANCELLABLE = (RunStatus.QUEUED, RunStatus.RUNNING, RunStatus.PAUSED, RunStatus.STALLED)


def external_id_order(external_id: str) -> tuple:
    """ "First N by patient_id": ids of digits only come first in numeric order (so "10"
    follows "9"), then every other id in string order. ELMTEX ids are numbers stored as
    strings; a dataset with ids like "pmc-17" still gets a stable, predictable order."""
    if external_id.isdigit():
        return (0, int(external_id), "")
    return (1, 0, external_id)


def documents_select(
    *, project: Project, language: str | None = None, split: str | None = None, limit: int | None = None
) -> list[int]:
    """Ids of the documents a run covers, in patient_id order (see :func:`external_id_order`;
    the same id in several languages: by language)."""
    language, split = language or None, split or None
    if split is not None and split not in Split.values:
        raise ApplicationError(f"split {split!r} is not known; use one of {', '.join(Split.values)}")
    if limit is not None and (isinstance(limit, bool) or int(limit) < 1):
        raise ApplicationError(f"limit must be a whole number of at least 1, got {limit!r}")
    qs = Document.objects.filter(project=project)
    if language:
        qs = qs.filter(language=language)
    if split:
        qs = qs.filter(split=split)
    # Ids only: 60,000 short tuples sort in memory in well under a second.
    rows = sorted(qs.values_list("external_id", "language", "pk"), key=lambda r: (external_id_order(r[0]), r[1], r[2]))
    if limit is not None:
        rows = rows[: int(limit)]
    return [pk for _, _, pk in rows]


def strategy_check(strategy: str) -> str:
    if strategy not in Strategy.values:
        raise ApplicationError(f"strategy {strategy!r} is not known; use one of {', '.join(Strategy.values)}")
    return strategy


def temperature_check(temperature: float | None) -> float:
    if temperature is None:
        return 0.0
    try:
        value = float(temperature)
    except (TypeError, ValueError):
        raise ApplicationError(f"temperature must be a number, got {temperature!r}") from None
    if isinstance(temperature, bool) or not 0.0 <= value <= MAX_TEMPERATURE:
        raise ApplicationError(
            f"temperature must be from 0 (greedy) to {MAX_TEMPERATURE:g}, got {temperature!r}; ELMTEX used 0.1"
        )
    return value


def retrieval_options_check(*, strategy: str, k: int | None, embedding_model: str | None) -> None:
    if strategy != Strategy.ADVANCED and (k is not None or (embedding_model or "").strip()):
        raise ApplicationError("--k and --embedding-model apply to --strategy advanced only")


def run_name_check(*, project: Project, name: str) -> str:
    name = name.strip()
    if name.isdigit():
        # RUN anywhere is an id when all digits (CLI.md): such a name could never be used.
        raise ApplicationError(f"run name {name!r} is all digits and would read as a run id; add a letter")
    if len(name) > MAX_RUN_NAME_CHARS:
        raise ApplicationError(f"run name is longer than {MAX_RUN_NAME_CHARS} characters")
    existing = ModelRun.objects.filter(project=project, name=name).values_list("pk", flat=True).first()
    if existing is not None:
        raise ApplicationError(
            f"project {project.slug!r} already has a run named {name!r} (run {existing}); choose another name"
        )
    return name


def run_name_default(*, project: Project, endpoint: ModelEndpoint, strategy: str) -> str:
    taken = set(ModelRun.objects.filter(project=project).values_list("name", flat=True))
    n = len(taken) + 1
    while f"{endpoint.name}-{strategy}-{n}" in taken:
        n += 1
    return f"{endpoint.name}-{strategy}-{n}"


def run_config_build(
    *,
    project: Project,
    endpoint: ModelEndpoint,
    strategy: str,
    selection: dict,
    k: int | None = None,
    embedding_model: str | None = None,
    temperature: float | None = None,
) -> dict:
    """Everything that decides a candidate, frozen at creation (traceability): the
    prompt (instruction text, how examples are shown, the chat template's hash), the
    output schema, generation parameters, retrieval settings (advanced), the endpoint as
    registered, the platform version and the document selection. Reads files only (no
    model is loaded here: this runs in web processes)."""
    categories = [
        prompts.CategoryPrompt(key=c.key, label=c.label, guideline=c.guideline)
        for c in Category.objects.filter(project=project).order_by("order", "pk")
    ]
    if not categories:
        raise ApplicationError(f"project {project.slug!r} has no categories; nothing to extract")
    keys = [c.key for c in categories]
    temperature = temperature_check(temperature)
    params = GenerationParams(max_new_tokens=settings.ELMTEX_MAX_NEW_TOKENS, temperature=temperature)
    template = prompts.prompt_template(strategy=strategy, categories=categories)
    if endpoint.mode == EndpointMode.GENERATE and endpoint.tokenizer_path:
        # Raw prompts through the model's own chat template (inference/chat_template.py).
        template["chat_template"] = chat_template_describe(endpoint.tokenizer_path)
    config = {
        "strategy": strategy,
        "keys": keys,
        "prompt_template": template,
        "output_schema": prompts.output_schema(keys),
        "generation": params.as_dict(),
        "decoding": (
            f"sampling at temperature {temperature:g} with seed {params.seed}"
            if temperature > 0
            else f"greedy (seed {params.seed})"
        ),
        "endpoint": {
            "name": endpoint.name,
            "url": endpoint.base_url,
            "mode": endpoint.mode,
            "model_id": endpoint.model_id,
            "info": endpoint.info,
        },
        "platform_version": elmtex_site.__version__,
        "selection": selection,
    }
    if endpoint.tokenizer_path:
        config["endpoint"]["tokenizer_path"] = endpoint.tokenizer_path
    if strategy == Strategy.ADVANCED:
        if not example_pool_size(project=project):
            raise ApplicationError(
                f"project {project.slug!r} has no training-split documents with gold to take examples from; "
                "assign splits with assign_splits and import gold, or use --strategy naive"
            )
        config["retrieval"] = retrieval_settings(k=k, embedding_model=(embedding_model or "").strip() or None)
    return config


def run_enqueue_start(run_id: int) -> None:
    """Send the run's start task. Called after commit: a broker that cannot be reached
    leaves the run queued with a note saying what to do, instead of a lost start."""
    from ..tasks import run_start

    try:
        run_start.delay(run_id)
    except Exception as exc:  # noqa: BLE001 - kombu/redis raise several connection error types
        logger.warning("run %s: could not enqueue its start (%s)", run_id, type(exc).__name__)
        ModelRun.objects.filter(pk=run_id, status=RunStatus.QUEUED).update(
            error=(
                "the run could not be queued: the Celery broker (CELERY_BROKER_URL) cannot be reached; "
                f"start Redis, then resume_run {run_id}"
            )
        )


@transaction.atomic
def run_create(
    *,
    project: Project,
    endpoint: ModelEndpoint,
    strategy: str = Strategy.NAIVE,
    name: str | None = None,
    language: str | None = None,
    split: str | None = None,
    limit: int | None = None,
    k: int | None = None,
    embedding_model: str | None = None,
    temperature: float | None = None,
    user=None,
) -> ModelRun:
    """A queued run over the selected documents, one pending candidate each; its start is
    enqueued once the transaction commits. ``k`` and ``embedding_model`` apply to the
    advanced strategy only; ``temperature`` > 0 samples (with the fixed seed)."""
    strategy = strategy_check(strategy)
    retrieval_options_check(strategy=strategy, k=k, embedding_model=embedding_model)
    name = (
        run_name_check(project=project, name=name)
        if name and name.strip()
        else run_name_default(project=project, endpoint=endpoint, strategy=strategy)
    )
    document_ids = documents_select(project=project, language=language, split=split, limit=limit)
    if not document_ids:
        filters = ", ".join(f"{k} {v!r}" for k, v in (("language", language), ("split", split)) if v)
        raise ApplicationError(
            f"project {project.slug!r} has no documents"
            + (f" with {filters}" if filters else "")
            + "; import documents with import_dataset or change the filters"
        )
    selection = {"language": language or None, "split": split or None, "limit": int(limit) if limit else None}
    config = run_config_build(
        project=project,
        endpoint=endpoint,
        strategy=strategy,
        selection=selection,
        k=k,
        embedding_model=embedding_model,
        temperature=temperature,
    )
    try:
        with transaction.atomic():
            run = ModelRun.objects.create(
                project=project,
                name=name,
                endpoint=endpoint,
                source=RunSource.LIVE,
                strategy=strategy,
                status=RunStatus.QUEUED,
                selection=selection,
                config=config,
                total=len(document_ids),
                created_by=user,
            )
    except IntegrityError:
        raise ApplicationError(
            f"project {project.slug!r} already has a run named {name!r}; choose another name"
        ) from None
    Candidate.objects.bulk_create(
        (Candidate(run=run, document_id=pk) for pk in document_ids), batch_size=CANDIDATE_INSERT_BATCH
    )
    transaction.on_commit(lambda: run_enqueue_start(run.pk))
    return run


def _run_locked(run: ModelRun) -> ModelRun:
    return ModelRun.objects.select_for_update(of=("self",)).select_related("project", "endpoint").get(pk=run.pk)


@transaction.atomic
def run_cancel(*, run: ModelRun, user=None) -> ModelRun:
    """Stop a run: batches not started yet do nothing, batches in flight stop before
    their next request. Pending candidates stay pending (``resume_run`` continues)."""
    run = _run_locked(run)
    status = run_status_effective(run)
    if run.source != RunSource.LIVE:
        raise ApplicationError(f"run {run.pk} holds imported predictions; there is nothing to cancel")
    if status not in CANCELLABLE:
        raise ApplicationError(
            f"run {run.pk} is {status}; only queued, running, paused or stalled runs can be cancelled"
        )
    run.status = RunStatus.CANCELLED
    run.finished_at = timezone.now()
    run.error = "cancelled" + (f" by {user.get_username()}" if user is not None else "")
    run.save(update_fields=["status", "finished_at", "error"])
    logger.info("run %s cancelled", run.pk)
    return run


@transaction.atomic
def run_resume(*, run: ModelRun, user=None) -> ModelRun:
    """Queue a run again for the documents without an ``ok`` candidate (parse errors,
    failures, too long, never processed). A run with nothing left to do is refused, so
    a script learns it has nothing to wait for."""
    run = _run_locked(run)
    status = run_status_effective(run)
    if run.source != RunSource.LIVE:
        raise ApplicationError(f"run {run.pk} holds imported predictions; it cannot be resumed")
    if status == RunStatus.RUNNING:
        raise ApplicationError(f"run {run.pk} is still running; wait for it to finish, or cancel it first")
    if run.endpoint is None:
        raise ApplicationError(f"run {run.pk} has no endpoint; it cannot be resumed")
    redo = Candidate.objects.filter(run=run).exclude(status=CandidateStatus.OK)
    n = redo.update(status=CandidateStatus.PENDING, error="", updated_at=timezone.now())
    if not n:
        raise ApplicationError(f"run {run.pk} has nothing to resume: every document has an ok candidate")
    run.status = RunStatus.QUEUED
    run.error = ""
    run.finished_at = None
    run.heartbeat_at = timezone.now()
    run.save(update_fields=["status", "error", "finished_at", "heartbeat_at"])
    logger.info("run %s resumed for %s documents", run.pk, n)
    transaction.on_commit(lambda: run_enqueue_start(run.pk))
    return run
