"""Run processing on workers: start a run (split it into batch tasks) and process one
batch of candidates (``inference.tasks`` calls these).

Idempotent by construction: a batch processes only candidates still pending and writes
only candidates not already ``ok``, so a batch delivered twice (``acks_late``, a worker
that died) changes nothing the first delivery wrote. Logs carry ids only.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from ..client import GenerationParams, TGIClient
from ..models import CANDIDATE_OUTCOME_FIELDS, Candidate, CandidateStatus, ModelRun, RunStatus
from .retry import Outcome, RetryPolicy, RunSettings, Stopped, candidate_generate

logger = logging.getLogger(__name__)

# How often (seconds) a batch in flight re-reads its run's status (one UPDATE that also
# records the heartbeat).
STATUS_CHECK_INTERVAL = 2.0


def run_start(*, run_id: int) -> int:
    """Mark a queued run running and enqueue one batch task per ``ELMTEX_RUN_BATCH_SIZE``
    pending candidates; returns the number of batches. A run that is not queued (already
    started by a duplicate start message, cancelled meanwhile) is left alone."""
    from ..tasks import run_process_batch

    size = max(1, settings.ELMTEX_RUN_BATCH_SIZE)
    with transaction.atomic():
        run = ModelRun.objects.select_for_update().filter(pk=run_id).first()
        if run is None or run.status != RunStatus.QUEUED:
            logger.info("run %s: start skipped (%s)", run_id, run.status if run else "deleted")
            return 0
        ids = list(
            Candidate.objects.filter(run=run, status=CandidateStatus.PENDING)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        now = timezone.now()
        run.heartbeat_at = now
        run.error = ""
        if not ids:
            run.status, run.finished_at = RunStatus.FINISHED, now
            run.save(update_fields=["status", "finished_at", "heartbeat_at", "error"])
            return 0
        run.status = RunStatus.RUNNING
        run.started_at = run.started_at or now
        run.save(update_fields=["status", "started_at", "heartbeat_at", "error"])
        batches = [ids[i : i + size] for i in range(0, len(ids), size)]

        def enqueue():
            for batch in batches:
                run_process_batch.apply_async((run_id, batch), queue="inference")

        transaction.on_commit(enqueue)
    logger.info("run %s started: %s candidates in %s batches", run_id, len(ids), len(batches))
    return len(batches)


def _run_settings(run: ModelRun) -> RunSettings:
    """The frozen config, plus the endpoint's current input limits (the URL it is sent
    to is the endpoint's current one too: a server that moved is re-added, not re-run)."""
    config = run.config
    info = (run.endpoint.info if run.endpoint else None) or config["endpoint"].get("info") or {}
    generation = dict(config["generation"])
    generation["stop"] = tuple(generation.get("stop") or ())
    return RunSettings(
        mode=config["endpoint"]["mode"],
        template=config["prompt_template"],
        keys=list(config["keys"]),
        schema=config["output_schema"],
        params=GenerationParams(**generation),
        max_input_tokens=info.get("max_input_tokens"),
        max_total_tokens=info.get("max_total_tokens"),
    )


def _run_heartbeat(run_id: int) -> bool:
    """Record progress; False when the run is no longer running (cancelled, paused)."""
    return bool(ModelRun.objects.filter(pk=run_id, status=RunStatus.RUNNING).update(heartbeat_at=timezone.now()))


def _run_set_status(run_id: int, status: str, error: str) -> None:
    ModelRun.objects.filter(pk=run_id, status=RunStatus.RUNNING).update(
        status=status, error=error[:2000], finished_at=timezone.now(), heartbeat_at=timezone.now()
    )


def run_finish_if_done(*, run_id: int) -> bool:
    """A running run without pending candidates is finished."""
    with transaction.atomic():
        run = ModelRun.objects.select_for_update().filter(pk=run_id).first()
        if run is None or run.status != RunStatus.RUNNING:
            return False
        if Candidate.objects.filter(run_id=run_id, status=CandidateStatus.PENDING).exists():
            return False
        now = timezone.now()
        run.status, run.finished_at, run.heartbeat_at = RunStatus.FINISHED, now, now
        run.save(update_fields=["status", "finished_at", "heartbeat_at"])
    logger.info("run %s finished", run_id)
    return True


def outcomes_write(*, run_id: int, outcomes: dict[int, Outcome]) -> int:
    """Store the outcomes in bulk, never over a candidate that is already ok; returns how
    many were written."""
    if not outcomes:
        return 0
    now = timezone.now()
    with transaction.atomic():
        rows = list(
            Candidate.objects.select_for_update()
            .filter(run_id=run_id, pk__in=list(outcomes))
            .exclude(status=CandidateStatus.OK)
            .only("pk")
        )
        for row in rows:
            outcome = outcomes[row.pk]
            row.status = outcome.status
            row.values = outcome.values
            row.raw_output = outcome.raw_output
            row.error = outcome.error
            row.finish_reason = outcome.finish_reason[:32]
            row.attempts = min(outcome.attempts, 32767)
            row.latency_ms = outcome.latency_ms
            row.prompt_tokens = outcome.prompt_tokens
            row.generated_tokens = outcome.generated_tokens
            row.updated_at = now
        Candidate.objects.bulk_update(rows, CANDIDATE_OUTCOME_FIELDS, batch_size=500)
        ModelRun.objects.filter(pk=run_id, status=RunStatus.RUNNING).update(heartbeat_at=now)
    return len(rows)


def candidates_process(*, run_id: int, candidate_ids: list[int]) -> None:
    """Send the pending candidates among ``candidate_ids`` to the run's endpoint (at most
    ``endpoint.concurrency`` requests at once from this batch), parse and store the
    answers. Stops early when the run is cancelled or paused. Pauses the run (documents
    not answered stay pending) when the endpoint stays unreachable or overloaded through
    one document's whole backoff."""
    run = ModelRun.objects.select_related("endpoint").filter(pk=run_id).first()
    if run is None or run.status != RunStatus.RUNNING:
        logger.info("run %s: batch skipped (%s)", run_id, run.status if run else "deleted")
        return
    candidates = list(
        Candidate.objects.filter(
            run_id=run_id, pk__in=list(candidate_ids), status=CandidateStatus.PENDING
        ).select_related("document")
    )
    if not candidates:
        run_finish_if_done(run_id=run_id)
        return
    try:
        run_settings = _run_settings(run)
    except (KeyError, TypeError, ValueError) as exc:
        logger.error("run %s: frozen config unusable (%s)", run_id, type(exc).__name__)
        _run_set_status(run_id, RunStatus.FAILED, f"the run's frozen config is incomplete ({type(exc).__name__})")
        return

    endpoint = run.endpoint
    policy = RetryPolicy.from_settings()
    stop = threading.Event()
    client = TGIClient(endpoint.base_url, timeout=settings.ELMTEX_TGI_TIMEOUT)  # thread-safe: one per batch

    def work(candidate: Candidate) -> Outcome | None:
        if stop.is_set():
            return None
        try:
            return candidate_generate(
                client=client, report=candidate.document.text, run=run_settings, policy=policy, stop=stop
            )
        except Stopped:
            return None
        except Exception as exc:  # noqa: BLE001 - one document's bug must not lose the batch
            logger.exception("run %s candidate %s: unexpected failure", run_id, candidate.pk)
            return Outcome(
                status=CandidateStatus.FAILED, error=f"internal error ({type(exc).__name__}); see the worker log"
            )

    outcomes: dict[int, Outcome] = {}
    down: Outcome | None = None  # the first document the endpoint never answered
    workers = max(1, min(endpoint.concurrency, len(candidates)))
    last_check = time.monotonic()
    with client, ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"run{run_id}") as pool:
        futures = {pool.submit(work, c): c.pk for c in candidates}
        waiting = set(futures)
        while waiting:
            # Wake at least every interval, so a cancel is seen during long generations too.
            finished, waiting = wait(waiting, timeout=STATUS_CHECK_INTERVAL, return_when=FIRST_COMPLETED)
            for future in finished:
                outcome = future.result()
                if outcome is None:
                    continue
                if outcome.endpoint_down:
                    # Unreachable or saturated through a whole backoff: the other documents
                    # would only wait as long. Stop the batch, keep them pending, pause.
                    down = down or outcome
                    stop.set()
                else:
                    outcomes[futures[future]] = outcome
            # Database access stays in this thread: worker threads only speak HTTP.
            if not stop.is_set() and time.monotonic() - last_check >= STATUS_CHECK_INTERVAL:
                last_check = time.monotonic()
                if not _run_heartbeat(run_id):
                    stop.set()

    written = outcomes_write(run_id=run_id, outcomes=outcomes)
    logger.info("run %s: batch wrote %s of %s candidates", run_id, written, len(candidates))
    if down is not None:
        _run_set_status(
            run_id,
            RunStatus.PAUSED,
            f"endpoint {endpoint.name} ({endpoint.base_url}) did not answer: {down.error}; "
            f"when it is back, continue with resume_run {run_id}",
        )
        logger.warning("run %s paused: endpoint %s not answering", run_id, endpoint.pk)
        return
    run_finish_if_done(run_id=run_id)
