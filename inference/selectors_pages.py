"""Reads for run lists, run pages and the candidate tables (pages and API alike).

``selectors.run_progress`` costs one aggregate query per run; a list of runs asks
:func:`runs_progress` instead, one grouped query for the whole page of runs, so a list
costs a constant number of queries however many runs it shows.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Count, QuerySet, Sum
from django.utils import timezone

from annotation.models import Document, Project, Role
from annotation.selectors import STAFF

from .models import ACTIVE_RUN_STATUSES, Candidate, CandidateStatus, ModelRun, RunStatus
from .selectors import RunProgress, run_status_effective, run_status_reason

# Effective statuses a page keeps polling for: a stalled run may pick up again.
LIVE_STATUSES = (*ACTIVE_RUN_STATUSES, RunStatus.STALLED)
CANCELLABLE_STATUSES = (RunStatus.QUEUED, RunStatus.RUNNING, RunStatus.PAUSED, RunStatus.STALLED)
RESUMABLE_STATUSES = (RunStatus.PAUSED, RunStatus.CANCELLED, RunStatus.STALLED, RunStatus.FAILED, RunStatus.FINISHED)
CANDIDATE_STATUS_ORDER = [s.value for s in CandidateStatus]


def progress_from_counts(*, run: ModelRun, counts: dict, now=None) -> RunProgress:
    """A RunProgress from per-status counts; the same arithmetic as ``selectors.run_progress``
    (tests pin that both agree). ``counts``: {status: n, "prompt_tokens": n, "generated_tokens": n}."""
    now = now or timezone.now()
    pending = counts.get(CandidateStatus.PENDING, 0)
    ok = counts.get(CandidateStatus.OK, 0)
    parse_error = counts.get(CandidateStatus.PARSE_ERROR, 0)
    too_long = counts.get(CandidateStatus.TOO_LONG, 0)
    failed = counts.get(CandidateStatus.FAILED, 0)
    done = ok + parse_error + too_long + failed
    elapsed = None
    if run.started_at:
        end = run.finished_at or now
        elapsed = max((end - run.started_at).total_seconds(), 1e-6)
    docs_per_s = done / elapsed if elapsed and done else None
    prompt_tokens = counts.get("prompt_tokens") or 0
    generated_tokens = counts.get("generated_tokens") or 0
    tokens = prompt_tokens + generated_tokens
    tokens_per_s = tokens / elapsed if elapsed and tokens else None
    eta = pending / docs_per_s if docs_per_s and pending else (0.0 if done and not pending else None)
    status = run_status_effective(run, now=now)
    return RunProgress(
        status=status,
        reason=run_status_reason(run, status),
        total=done + pending,
        pending=pending,
        ok=ok,
        parse_error=parse_error,
        too_long=too_long,
        failed=failed,
        done=done,
        prompt_tokens=prompt_tokens,
        generated_tokens=generated_tokens,
        elapsed_s=elapsed,
        docs_per_s=docs_per_s,
        tokens_per_s=tokens_per_s,
        eta_s=eta,
    )


def runs_progress(*, runs: Iterable[ModelRun]) -> dict[int, RunProgress]:
    """Progress of each run, by run id: one query grouped by (run, status) for all of them
    (the (run, status) index serves it)."""
    runs = list(runs)
    counts: dict[int, dict] = {run.pk: {} for run in runs}
    if runs:
        rows = (
            Candidate.objects.filter(run_id__in=counts.keys())
            .order_by()
            .values("run_id", "status")
            .annotate(n=Count("pk"), prompt=Sum("prompt_tokens"), generated=Sum("generated_tokens"))
        )
        for row in rows:
            c = counts[row["run_id"]]
            c[row["status"]] = row["n"]
            c["prompt_tokens"] = c.get("prompt_tokens", 0) + (row["prompt"] or 0)
            c["generated_tokens"] = c.get("generated_tokens", 0) + (row["generated"] or 0)
    now = timezone.now()
    return {run.pk: progress_from_counts(run=run, counts=counts[run.pk], now=now) for run in runs}


def runs_list(*, project: Project) -> QuerySet[ModelRun]:
    """A project's runs, newest first, with what a list row shows (endpoint, creator)."""
    return (
        ModelRun.objects.filter(project=project)
        .select_related("project", "endpoint", "created_by")
        .defer("config")  # the frozen prompt template can be long; rows never show it
        .order_by("-created_at", "-id")
    )


def candidates_search(*, run: ModelRun, status: str = "") -> QuerySet[Candidate]:
    """The run's candidates in document order, optionally of one status."""
    qs = Candidate.objects.filter(run=run).select_related("document").defer("document__text")
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("document__external_id", "document__language", "pk")


def candidate_status_counts(*, progress: RunProgress) -> list[tuple[str, int]]:
    """(status, count) in the order the filter offers them."""
    return [(status, getattr(progress, status)) for status in CANDIDATE_STATUS_ORDER]


def candidates_for_document(*, document: Document) -> list[Candidate]:
    """The document's candidates, one per run, newest run first (document page)."""
    return list(
        Candidate.objects.filter(document=document)
        .select_related("run", "run__endpoint")
        .defer("run__config")
        .order_by("-run__created_at", "-run_id")
    )


def can_see_endpoints(user) -> bool:
    """Endpoints are global (several projects share one server): staff, and whoever sees
    runs somewhere (researchers and reviewers of any project)."""
    if not user.is_authenticated:
        return False
    if user.is_staff or user.is_superuser:
        return True
    return user.memberships.filter(role__in=[Role.RESEARCHER, Role.REVIEWER]).exists()


def can_add_endpoints(user) -> bool:
    """Registering a server is not tied to one project: staff, or a researcher of any project."""
    if not user.is_authenticated:
        return False
    if user.is_staff or user.is_superuser:
        return True
    return user.memberships.filter(role=Role.RESEARCHER).exists()


def run_actions(*, role: str, progress: RunProgress) -> dict[str, bool]:
    """Which buttons a run page offers (the services refuse anything else anyway). Resume
    only where some document lacks an ok candidate: it reprocesses those only."""
    manage = role in (STAFF, Role.RESEARCHER)
    status = progress.status
    return {
        "cancel": manage and status in CANCELLABLE_STATUSES,
        "resume": manage and status in RESUMABLE_STATUSES and progress.ok < progress.total,
    }


def latest_runs_with_progress(*, project: Project, limit: int = 5) -> list[tuple[ModelRun, RunProgress]]:
    runs = list(runs_list(project=project)[:limit])
    progress = runs_progress(runs=runs)
    return [(run, progress[run.pk]) for run in runs]
