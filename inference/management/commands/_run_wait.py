"""``--wait`` for run_extraction and resume_run: check that a worker is there, show
progress on stderr until the run stops, print the summary line, exit per CLI.md
(0 all ok, 3 finished with some documents not ok, 1 failed / paused / cancelled / stalled).

Ctrl-C only stops the waiting: the run goes on on the workers, so the command says so
and exits 1 (the run was not seen to finish).
"""

from __future__ import annotations

import sys
import time

from django.conf import settings

from elmtex_site.errors import ApplicationError
from elmtex_site.progress import progress_bar
from inference.models import ModelRun, RunStatus
from inference.selectors import run_progress
from inference.tasks import INFERENCE_QUEUE
from inference.workers import START_HINT, broker_display, workers_wait

STOPPED = (RunStatus.FINISHED, RunStatus.FAILED, RunStatus.CANCELLED, RunStatus.PAUSED, RunStatus.STALLED)
POLL_SECONDS = 1.0
# CLI.md: --wait fails within 15 s when no worker answers.
MAX_WORKER_WAIT = 12.0  # leaves time for start-up and the run_create before it


def summary_line(run: ModelRun, progress) -> str:
    line = (
        f"run {run.pk} {progress.status}: {progress.ok} ok, {progress.parse_error} parse errors, "
        f"{progress.failed} failed, {progress.too_long} too long"
    )
    return line + (f", {progress.pending} pending" if progress.pending else "")


def _rate(value: float | None, unit: str) -> str:
    return f"{value:.1f} {unit}" if value is not None else f"- {unit}"


def progress_postfix(progress) -> str:
    """What the bar shows after the count: status, failures, throughput, time left."""
    eta = "-" if progress.eta_s is None else f"{int(progress.eta_s) // 60}:{int(progress.eta_s) % 60:02d}"
    return (
        f"{progress.status}, {progress.ok} ok, {progress.failed + progress.parse_error + progress.too_long} not ok, "
        f"{_rate(progress.docs_per_s, 'docs/s')}, {_rate(progress.tokens_per_s, 'tok/s')}, ETA {eta}"
    )


def run_wait(run: ModelRun, *, stdout, force_progress: bool | None = None) -> int:
    """Wait for ``run`` to stop; returns the exit code."""
    within = min(float(getattr(settings, "ELMTEX_WORKER_WAIT_SECONDS", 8.0)), MAX_WORKER_WAIT)
    if not workers_wait(queue=INFERENCE_QUEUE, within=within):
        raise ApplicationError(
            f"no worker for the {INFERENCE_QUEUE!r} queue answers on {broker_display()}; {START_HINT}. "
            f"Run {run.pk} stays queued and starts when a worker comes up, or cancel it with `cancel_run {run.pk}`"
        )
    progress = run_progress(run=run)
    try:
        with progress_bar(total=progress.total, desc=f"run {run.pk}", unit="doc", force=force_progress) as bar:
            while True:
                run.refresh_from_db()
                progress = run_progress(run=run)
                bar.update(max(0, progress.done - bar.n))
                bar.set_postfix_str(progress_postfix(progress), refresh=False)
                if progress.status in STOPPED:
                    break
                time.sleep(POLL_SECONDS)
    except KeyboardInterrupt:
        sys.stderr.write(f"interrupted: run {run.pk} goes on in the background; stop it with `cancel_run {run.pk}`\n")
        return 1
    stdout.write(summary_line(run, progress))
    if progress.status == RunStatus.FINISHED:
        return 0 if progress.ok == progress.total else 3
    if progress.status == RunStatus.STALLED:
        reason = "no worker has reported progress for a while; check the workers, then `resume_run`"
    else:
        reason = progress.reason or run.error or progress.status
    sys.stderr.write(f"error: run {run.pk} {progress.status}: {reason}\n")
    return 1


def run_follow(run: ModelRun, *, stdout, wait: bool, force_progress: bool | None = None) -> None:
    """After a run was queued: exit 1 when the queueing failed (the broker's error is on
    the run), else with ``wait`` wait for the run and exit with run_wait's code."""
    run.refresh_from_db()
    if run.status == RunStatus.QUEUED and run.error:
        sys.stderr.write(f"error: run {run.pk}: {run.error}\n")
        sys.exit(1)
    if wait:
        sys.exit(run_wait(run, stdout=stdout, force_progress=force_progress))
