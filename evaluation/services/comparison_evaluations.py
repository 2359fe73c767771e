"""The evaluations a model comparison stands on: each run's latest finished evaluation of
the selection (language, split), the runs that have none, and queueing those in one go.

A run without a finished evaluation of the selection makes ``comparison_build`` raise
:class:`EvaluationsMissing`: an ApplicationError (400) whose problems name each run and the
``evaluate`` command, with the runs' pending evaluations (queued, running with progress,
failed with its error) for the page and, as ``missing_runs``, for the API.

``comparison_evaluate_missing`` queues one evaluation per missing run through
``evaluation_queue``, never a second one for a run that already has one queued or running
for the selection. What it queues (:func:`evaluation_plan`) follows the comparison's
finished evaluations so the figures stay comparable: the metric configuration (entity
matcher and threshold, N/A and unparsed policies, German stemmer) of the reference run's
report, else of the first compared run that has one; metrics ``rouge,entity``, plus
``bertscore`` (with the same BERTScore model, baseline and rescaling) when a finished
evaluation of another compared run has BERTScore, so the BERTScore column is filled for
every run. With no finished evaluation among the runs: the platform defaults
(``rouge,entity``; BERTScore needs a GPU worker, ask for it with ``evaluate --metrics``).
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field

from django.db import transaction

from annotation.models import Project, Split
from elmtex_site.errors import ApplicationError, Problem
from evaluation.metrics.entities import DEFAULT_FUZZY_THRESHOLD
from evaluation.metrics.tokenize import DEFAULT_GERMAN_STEMMER
from evaluation.models import EvaluationReport, EvaluationStatus
from inference.models import ModelRun

from .reports import DEFAULT_METRICS, evaluation_queue
from .selection import selection_language_check

IN_PROGRESS = (EvaluationStatus.QUEUED, EvaluationStatus.RUNNING)
# evaluation_queue keyword -> (evaluate option, default): the command the page shows does
# what the button does.
SETTING_OPTIONS = {
    "matcher": ("--matcher", "default"),
    "fuzzy_threshold": ("--fuzzy-threshold", DEFAULT_FUZZY_THRESHOLD),
    "scispacy_model": ("--scispacy-model", None),
    "gold_na": ("--gold-na", "skip"),
    "unparsed": ("--unparsed", "skip"),
    "bertscore_pairs": ("--bertscore-pairs", "all"),
    "german_stemmer": ("--german-stemmer", DEFAULT_GERMAN_STEMMER),
    "bertscore_model": ("--bertscore-model", None),
    "bertscore_baseline": ("--bertscore-baseline", None),
    "bertscore_rescale": ("--bertscore-rescale", None),
}


def _refuse(message: str, field: str) -> ApplicationError:
    return ApplicationError(f"{field}: {message}", problems=[Problem(message, field=field)])


def selection_check(
    *, project: Project, runs: list[ModelRun], reference: ModelRun | None, language: str | None, split: str | None
) -> tuple[ModelRun, str | None, str | None]:
    """The reference (default: the first run), language and split of a valid selection."""
    language = selection_language_check(project=project, language=language)
    split = (split or "").strip() or None
    if split is not None and split not in Split.values:
        raise _refuse(f"unknown split {split!r}; choose from {', '.join(Split.values)}", "split")
    if not runs:
        raise _refuse("choose at least one run to compare", "runs")
    for run in runs:
        if run.project_id != project.pk:
            raise _refuse(f"run {run.pk} belongs to another project; compare runs of one project", "runs")
    reference = reference or runs[0]
    if reference.pk not in {r.pk for r in runs}:
        raise _refuse(f"run {reference.name!r} ({reference.pk}) is not among the compared runs", "reference")
    return reference, language, split


def _of_selection(rows, language: str | None, split: str | None) -> dict[int, list[int]]:
    """Report ids per run (newest first) whose language and split equal the selection."""
    chosen: dict[int, list[int]] = {}
    for pk, run_id, report_language, report_split in rows:
        if (report_language or None) == language and (report_split or None) == split:
            chosen.setdefault(run_id, []).append(pk)
    return chosen


def latest_reports(runs: list[ModelRun], language: str | None, split: str | None) -> dict[int, EvaluationReport]:
    """Each run's latest finished evaluation whose language and split equal the selection.
    Two small queries: the candidates' ids (config keys only), then those reports without
    their per-document scores."""
    listed = (
        EvaluationReport.objects.filter(run__in=runs, status=EvaluationStatus.DONE)
        .order_by("-created_at", "-id")
        .values_list("pk", "run_id", "config__language", "config__split")
    )
    chosen = {run_id: ids[0] for run_id, ids in _of_selection(listed, language, split).items()}
    reports = EvaluationReport.objects.filter(pk__in=chosen.values()).defer("per_document")
    return {r.run_id: r for r in reports}


@dataclass(frozen=True)
class EvaluationPlan:
    """What ``comparison_evaluate_missing`` queues for each missing run."""

    metrics: list[str]
    settings: dict  # evaluation_queue keywords besides run, metrics, language, split, user
    template: EvaluationReport | None = None  # whose configuration is followed

    def command(self, *, project: Project, run: ModelRun, language: str | None, split: str | None) -> str:
        """The ``evaluate`` command that stores the same evaluation in the calling process."""
        parts = ["python", "manage.py", "evaluate", project.slug, "--run", str(run.pk)]
        if split:
            parts += ["--split", split]
        if language:
            parts += ["--language", language]
        if self.metrics != list(DEFAULT_METRICS):
            parts += ["--metrics", ",".join(self.metrics)]
        for key, (option, default) in SETTING_OPTIONS.items():
            value = self.settings.get(key)
            if value is None or value == default:
                continue
            if key == "bertscore_rescale":
                parts.append(option)  # a flag
            else:
                parts += [option, f"{value:g}" if isinstance(value, float) else str(value)]
        return " ".join(shlex.quote(p) for p in parts)


def _settings_of(config: dict) -> dict:
    """The evaluation_queue settings a stored report's configuration was made with."""
    policies = config.get("policies") or {}
    entity = config.get("entity") or {}
    rouge = config.get("rouge") or {}
    settings = {key: policies[key] for key in ("gold_na", "unparsed", "bertscore_pairs") if policies.get(key)}
    if entity.get("matcher"):
        settings["matcher"] = entity["matcher"]
        if entity["matcher"] == "scispacy" and entity.get("model"):
            settings["scispacy_model"] = entity["model"]
    if isinstance(entity.get("fuzzy_threshold"), int | float):
        settings["fuzzy_threshold"] = float(entity["fuzzy_threshold"])
    if rouge.get("german_stemmer"):
        settings["german_stemmer"] = rouge["german_stemmer"]
    return settings


def _bertscore_settings_of(config: dict) -> dict:
    requested = (config.get("bertscore") or {}).get("requested") or {}
    settings = {
        "bertscore_model": requested.get("model"),
        "bertscore_baseline": requested.get("baseline_path"),
        "bertscore_rescale": requested.get("rescale"),
    }
    return {k: v for k, v in settings.items() if v is not None}


def evaluation_plan(
    *, runs: list[ModelRun], reference: ModelRun, reports: dict[int, EvaluationReport]
) -> EvaluationPlan:
    """The metrics and configuration for the runs without a finished evaluation (the module
    docstring says why these)."""
    ordered = [reports[r.pk] for r in [reference, *runs] if r.pk in reports]
    if not ordered:
        return EvaluationPlan(metrics=list(DEFAULT_METRICS), settings={})
    template = ordered[0]
    settings = _settings_of(template.config or {})
    metrics = list(DEFAULT_METRICS)
    with_bertscore = next((r for r in ordered if "bertscore" in (r.metrics or [])), None)
    if with_bertscore is not None:
        metrics.append("bertscore")
        settings.update(_bertscore_settings_of(with_bertscore.config or {}))
    return EvaluationPlan(metrics=metrics, settings=settings, template=template)


@dataclass
class MissingRun:
    """A compared run without a finished evaluation of the selection, and its latest
    evaluation of the selection that is queued or running (else the latest failed one)."""

    run: ModelRun
    command: str
    evaluation: EvaluationReport | None = None

    @property
    def state(self) -> str:
        """none (never evaluated for the selection), queued, running or failed."""
        return self.evaluation.status if self.evaluation is not None else "none"

    @property
    def in_progress(self) -> bool:
        return self.state in IN_PROGRESS

    @property
    def progress_percent(self) -> int | None:
        e = self.evaluation
        if e is None or not e.progress_total:
            return None
        return min(100, round(100 * e.progress_done / e.progress_total))

    def as_json(self) -> dict:
        e = self.evaluation
        return {
            "id": self.run.pk,
            "name": self.run.name,
            "command": self.command,
            "evaluation": None
            if e is None
            else {
                "id": e.pk,
                "status": e.status,
                "progress": {"done": e.progress_done, "total": e.progress_total},
                "error": e.error or None,
            },
        }


def _pending_evaluations(runs: list[ModelRun], language: str | None, split: str | None) -> dict[int, EvaluationReport]:
    """Per run, its newest queued or running evaluation of the selection, else its newest
    failed one."""
    listed = (
        EvaluationReport.objects.filter(run__in=runs, status__in=[*IN_PROGRESS, EvaluationStatus.FAILED])
        .order_by("-created_at", "-id")
        .values_list("pk", "run_id", "config__language", "config__split")
    )
    ids = [pk for run_ids in _of_selection(listed, language, split).values() for pk in run_ids]
    reports = (
        EvaluationReport.objects.filter(pk__in=ids).defer("per_document", "results").order_by("-created_at", "-id")
    )
    chosen: dict[int, EvaluationReport] = {}
    for report in reports:
        current = chosen.get(report.run_id)
        if current is None or (report.status in IN_PROGRESS and current.status not in IN_PROGRESS):
            chosen[report.run_id] = report
    return chosen


def missing_runs_find(
    *,
    project: Project,
    runs: list[ModelRun],
    reports: dict[int, EvaluationReport],
    plan: EvaluationPlan,
    language: str | None,
    split: str | None,
) -> list[MissingRun]:
    """The runs (in their order) without a finished evaluation among ``reports``."""
    missing = [r for r in runs if r.pk not in reports]
    pending = _pending_evaluations(missing, language, split) if missing else {}
    return [
        MissingRun(
            run=r,
            command=plan.command(project=project, run=r, language=language, split=split),
            evaluation=pending.get(r.pk),
        )
        for r in missing
    ]


class EvaluationsMissing(ApplicationError):
    """Some compared runs have no finished evaluation of the selection (400). ``missing``
    says which, with their pending evaluations; ``plan`` what the page's button queues."""

    def __init__(self, *, missing: list[MissingRun], plan: EvaluationPlan, language: str | None, split: str | None):
        selection = f"language {language or 'any'}, split {split or 'any'}"
        problems = [Problem(self._message(m, selection), field="runs") for m in missing]
        super().__init__(problems[0].format()[len("error: ") :], problems=problems)
        self.missing = missing
        self.plan = plan
        self.language = language
        self.split = split

    @staticmethod
    def _message(m: MissingRun, selection: str) -> str:
        text = f"run {m.run.name!r} ({m.run.pk}) has no finished evaluation for {selection}; "
        e = m.evaluation
        if e is not None and e.status == EvaluationStatus.QUEUED:
            return text + f"evaluation {e.pk} is queued for a worker"
        if e is not None and e.status == EvaluationStatus.RUNNING:
            return text + f"evaluation {e.pk} is running ({e.progress_done} of {e.progress_total})"
        failed = f"evaluation {e.pk} failed ({e.error or 'no reason stored'}); " if e is not None else ""
        return text + f"{failed}evaluate it first: {m.command}"

    @property
    def in_progress(self) -> bool:
        return any(m.in_progress for m in self.missing)

    @property
    def can_queue(self) -> bool:
        return any(not m.in_progress for m in self.missing)

    def as_dict(self) -> dict:
        return {**super().as_dict(), "missing_runs": [m.as_json() for m in self.missing]}


def evaluations_missing(
    *,
    project: Project,
    runs: list[ModelRun],
    reference: ModelRun,
    reports: dict[int, EvaluationReport],
    language: str | None,
    split: str | None,
) -> EvaluationsMissing:
    plan = evaluation_plan(runs=runs, reference=reference, reports=reports)
    missing = missing_runs_find(project=project, runs=runs, reports=reports, plan=plan, language=language, split=split)
    return EvaluationsMissing(missing=missing, plan=plan, language=language, split=split)


@dataclass
class EvaluateMissingResult:
    queued: list[EvaluationReport] = field(default_factory=list)  # queued now (status failed: no broker)
    in_progress: list[EvaluationReport] = field(default_factory=list)  # already queued or running, left alone
    plan: EvaluationPlan | None = None
    language: str | None = None
    split: str | None = None


def comparison_evaluate_missing(
    *,
    project: Project,
    runs: list[ModelRun],
    reference: ModelRun | None = None,
    language: str | None = None,
    split: str | None = None,
    user=None,
) -> EvaluateMissingResult:
    """Queue one evaluation of the selection for each run without a finished one, unless it
    has one queued or running (those are returned as ``in_progress``). The runs' rows are
    locked while deciding, so two clicks at once queue each run once."""
    reference, language, split = selection_check(
        project=project, runs=runs, reference=reference, language=language, split=split
    )
    result = EvaluateMissingResult(language=language, split=split)
    with transaction.atomic():
        list(ModelRun.objects.select_for_update().filter(pk__in=[r.pk for r in runs]).order_by("pk").values("pk"))
        reports = latest_reports(runs, language, split)
        result.plan = evaluation_plan(runs=runs, reference=reference, reports=reports)
        missing = missing_runs_find(
            project=project, runs=runs, reports=reports, plan=result.plan, language=language, split=split
        )
        for m in missing:
            if m.in_progress:
                result.in_progress.append(m.evaluation)
                continue
            result.queued.append(
                evaluation_queue(
                    run=m.run,
                    metrics=result.plan.metrics,
                    language=language,
                    split=split,
                    user=user,
                    **result.plan.settings,
                )
            )
    for report in result.queued:  # the enqueue ran on commit: a broker that cannot be reached marked it failed
        report.refresh_from_db(fields=["status", "error"])
    return result
