"""Reads of the inference app: endpoints, runs, progress."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import timedelta

from django.conf import settings
from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from annotation.models import Project
from elmtex_site.errors import ApplicationError, NotFound

from .models import Candidate, CandidateStatus, ModelEndpoint, ModelRun, RunStatus


def endpoint_get(*, name: str) -> ModelEndpoint:
    endpoint = ModelEndpoint.objects.filter(name=name).first()
    if endpoint is None:
        known = ", ".join(ModelEndpoint.objects.values_list("name", flat=True)[:20]) or "none yet"
        raise NotFound(f"endpoint {name!r} does not exist (known: {known}); register it with add_endpoint")
    return endpoint


def run_get(*, ref: str | int, project: Project | None = None) -> ModelRun:
    """A run by id (all digits) or by name (CLI.md: RUN anywhere). Without a project a
    name must be unique across projects."""
    ref = str(ref).strip()
    qs = ModelRun.objects.select_related("project", "endpoint")
    if project is not None:
        qs = qs.filter(project=project)
    if ref.isdigit():
        run = qs.filter(pk=int(ref)).first()
        if run is None:
            raise NotFound(f"run {ref} does not exist" + (f" in project {project.slug!r}" if project else ""))
        return run
    runs = list(qs.filter(name=ref)[:5])
    if not runs:
        raise NotFound(f"no run is named {ref!r}" + (f" in project {project.slug!r}" if project else ""))
    if len(runs) > 1:
        where = ", ".join(f"{r.project.slug} (run {r.pk})" for r in runs)
        raise ApplicationError(f"several runs are named {ref!r}: {where}; give the run id instead")
    return runs[0]


def runs_for_project(*, project: Project) -> QuerySet[ModelRun]:
    return ModelRun.objects.filter(project=project).select_related("endpoint")


def run_stall_after() -> timedelta:
    return timedelta(seconds=getattr(settings, "ELMTEX_RUN_STALL_SECONDS", 300))


@dataclass(frozen=True)
class RunProgress:
    status: str  # the stored status, or "stalled" for a running run without recent worker progress
    total: int
    pending: int
    ok: int
    parse_error: int
    too_long: int
    failed: int
    done: int  # every processed document (ok + parse_error + too_long + failed)
    prompt_tokens: int
    generated_tokens: int
    elapsed_s: float | None
    docs_per_s: float | None
    tokens_per_s: float | None
    eta_s: float | None
    # Why the run stopped or waits (paused: the endpoint's failure, failed: the error,
    # stalled: no worker progress); "" while it runs or once finished.
    reason: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


def run_status_effective(run: ModelRun, *, now=None) -> str:
    """A running (or queued-and-started) run whose workers stopped writing progress is
    shown as stalled instead of running forever."""
    now = now or timezone.now()
    if run.status == RunStatus.RUNNING:
        last = run.heartbeat_at or run.started_at
        if last is not None and now - last > run_stall_after():
            return RunStatus.STALLED
    return run.status


def run_status_reason(run: ModelRun, status: str) -> str:
    """What a user should read next to the effective ``status``."""
    if status == RunStatus.STALLED:
        last = run.heartbeat_at or run.started_at
        seconds = int((timezone.now() - last).total_seconds()) if last else 0
        return (
            f"no worker has written progress for {seconds} s; check that a worker runs "
            f"(celery -A elmtex_site worker), or continue with resume_run {run.pk}"
        )
    if status in (RunStatus.PAUSED, RunStatus.FAILED, RunStatus.CANCELLED):
        return run.error
    return ""


def run_progress(*, run: ModelRun) -> RunProgress:
    """Counts by candidate status (one aggregate query), throughput and ETA."""
    agg = Candidate.objects.filter(run=run).aggregate(
        total=Count("pk"),
        pending=Count("pk", filter=Q(status=CandidateStatus.PENDING)),
        ok=Count("pk", filter=Q(status=CandidateStatus.OK)),
        parse_error=Count("pk", filter=Q(status=CandidateStatus.PARSE_ERROR)),
        too_long=Count("pk", filter=Q(status=CandidateStatus.TOO_LONG)),
        failed=Count("pk", filter=Q(status=CandidateStatus.FAILED)),
        prompt_tokens=Sum("prompt_tokens"),
        generated_tokens=Sum("generated_tokens"),
    )
    done = agg["ok"] + agg["parse_error"] + agg["too_long"] + agg["failed"]
    now = timezone.now()
    elapsed = None
    if run.started_at:
        end = run.finished_at or now
        elapsed = max((end - run.started_at).total_seconds(), 1e-6)
    docs_per_s = done / elapsed if elapsed and done else None
    tokens = (agg["prompt_tokens"] or 0) + (agg["generated_tokens"] or 0)
    tokens_per_s = tokens / elapsed if elapsed and tokens else None
    eta = (
        agg["pending"] / docs_per_s if docs_per_s and agg["pending"] else (0.0 if done and not agg["pending"] else None)
    )
    status = run_status_effective(run, now=now)
    return RunProgress(
        status=status,
        reason=run_status_reason(run, status),
        total=agg["total"],
        pending=agg["pending"],
        ok=agg["ok"],
        parse_error=agg["parse_error"],
        too_long=agg["too_long"],
        failed=agg["failed"],
        done=done,
        prompt_tokens=agg["prompt_tokens"] or 0,
        generated_tokens=agg["generated_tokens"] or 0,
        elapsed_s=elapsed,
        docs_per_s=docs_per_s,
        tokens_per_s=tokens_per_s,
        eta_s=eta,
    )
