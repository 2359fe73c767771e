"""Run processing on workers: start a run (split it into batch tasks) and process one
batch of candidates (``inference.tasks`` calls these).

Idempotent by construction: a batch processes only candidates still pending and writes
only candidates not already ``ok``, so a batch delivered twice (``acks_late``, a worker
that died) changes nothing the first delivery wrote. Logs carry ids only.

Dispatch (issue 3): a batch holds several times the endpoint's concurrency
(:func:`run_batch_size`) and runs one thread per slot; every generation request holds a
slot of the endpoint's limit shared by all workers in Redis (``inference.limiter``,
``services.dispatch.LimitedClient``), so batches of several workers wait for slots instead
of drawing 429s. Answers are written in bulk every ``STATUS_CHECK_INTERVAL``. A run pauses
with the reason in ``run.error`` when ``ELMTEX_PAUSE_AFTER_CONSECUTIVE_FAILURES`` (default
50) requests in a row could not connect, when one document's whole backoff went by, or when
the limiter's Redis cannot be reached.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from elmtex_site.broker import broker_url_display
from elmtex_site.errors import ApplicationError

from ..client import GenerationParams, TGIClient
from ..limiter import LimiterUnavailable, endpoint_limiter, setting_number
from ..models import CANDIDATE_OUTCOME_FIELDS, Candidate, CandidateStatus, EndpointMode, ModelRun, RunStatus, Strategy
from .dispatch import DEFAULT_PAUSE_AFTER, FailureStreak, LimitedClient
from .retry import Outcome, RetryPolicy, RunSettings, Stopped, candidate_generate

logger = logging.getLogger(__name__)

# How often (seconds) a batch in flight stores the answers it has and re-reads its run's
# status (one UPDATE that also records the heartbeat).
STATUS_CHECK_INTERVAL = 1.0
# Answers stored at once at most (bulk writes); more are written at the next interval.
WRITE_CHUNK = 500
# A batch holds this many times the endpoint's concurrency (see run_batch_size).
BATCH_WAVES = 16
MAX_BATCH_SIZE = 1024


def run_batch_size(*, concurrency: int) -> int:
    """Candidates per batch task. A worker process runs one batch at a time (``celery
    worker --concurrency 1``), so a batch must hold several times the endpoint's
    concurrency to keep it busy: ``ELMTEX_RUN_BATCH_SIZE`` when that is at least the
    concurrency, else ``BATCH_WAVES`` x the concurrency (at most ``MAX_BATCH_SIZE``)."""
    size = max(1, settings.ELMTEX_RUN_BATCH_SIZE)
    if size >= concurrency:
        return size
    return max(size, min(MAX_BATCH_SIZE, concurrency * BATCH_WAVES))


def _examples_assign(run: ModelRun) -> str:
    """Advanced runs: choose every pending candidate's in-context examples once, before
    any batch is sent (``services.examples``). Returns an error message, or ""."""
    if run.strategy != Strategy.ADVANCED:
        return ""
    from .examples import run_examples_assign  # here: retrieval loads torch, workers only

    try:
        run_examples_assign(run=run)
    except ApplicationError as exc:
        return f"choosing the in-context examples failed: {exc.message}"
    except Exception as exc:  # noqa: BLE001 - a broken index must fail the run, not loop
        logger.exception("run %s: examples assignment failed", run.pk)
        return f"choosing the in-context examples failed ({type(exc).__name__}); see the worker log"
    return ""


def run_start(*, run_id: int) -> int:
    """Mark a queued run running and enqueue one batch task per :func:`run_batch_size`
    pending candidates; returns the number of batches. A run that is not queued (already
    started by a duplicate start message, cancelled meanwhile) is left alone. Advanced
    runs get their in-context examples first; when that fails, the run fails with the
    reason."""
    from ..tasks import run_process_batch

    run = ModelRun.objects.select_related("endpoint").filter(pk=run_id).first()
    if run is None or run.status != RunStatus.QUEUED:
        logger.info("run %s: start skipped (%s)", run_id, run.status if run else "deleted")
        return 0
    problem = _examples_assign(run)
    if problem:
        now = timezone.now()
        ModelRun.objects.filter(pk=run_id, status=RunStatus.QUEUED).update(
            status=RunStatus.FAILED, error=problem[:2000], finished_at=now, heartbeat_at=now
        )
        logger.warning("run %s failed before its first batch", run_id)
        return 0
    size = run_batch_size(concurrency=run.endpoint.concurrency if run.endpoint else 1)
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
    if settings.ELMTEX_CHECK_CANDIDATES_ON_FINISH:
        candidate_checks_enqueue(run=run)
    return True


def candidate_checks_enqueue(*, run: ModelRun) -> None:
    """Queue the automated checks of a finished run's candidates (annotation's task on the
    ``evaluation`` queue), so reviewers see findings next to the drafts. A broker that is
    not there only costs the findings: ``run_checks --run`` makes them later."""
    import uuid

    from annotation.tasks import checks_enqueue
    from elmtex_site.errors import ApplicationError

    try:
        checks_enqueue(project_id=run.project_id, targets=["candidate"], run_id=run.pk, task_id=str(uuid.uuid4()))
    except ApplicationError:
        logger.warning("run %s: candidate checks not queued (broker unreachable)", run.pk)


def outcomes_write(*, run_id: int, outcomes: dict[int, Outcome]) -> int:
    """Store the outcomes in bulk (one parameterised UPDATE executed for all rows: far
    cheaper than the ORM's bulk_update, whose CASE per field and row cost ~3 ms a row),
    never over a candidate that is already ok; returns how many were written."""
    if not outcomes:
        return 0
    now = timezone.now()
    fields = [Candidate._meta.get_field(name) for name in CANDIDATE_OUTCOME_FIELDS]
    qn = connection.ops.quote_name
    sql = (
        f"UPDATE {qn(Candidate._meta.db_table)} SET "
        + ", ".join(f"{qn(f.column)} = %s" for f in fields)
        + f" WHERE {qn('id')} = %s AND {qn('run_id')} = %s AND {qn('status')} <> %s"
    )
    rows = []
    for pk, outcome in outcomes.items():
        values = {
            "status": outcome.status,
            "values": outcome.values,
            "raw_output": outcome.raw_output,
            "error": outcome.error,
            "finish_reason": outcome.finish_reason[:32],
            "attempts": min(outcome.attempts, 32767),
            "latency_ms": outcome.latency_ms,
            "prompt_tokens": outcome.prompt_tokens,
            "generated_tokens": outcome.generated_tokens,
            "updated_at": now,
        }
        rows.append(
            [f.get_db_prep_save(values[f.name], connection) for f in fields] + [pk, run_id, CandidateStatus.OK.value]
        )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(sql, rows)
        written = cursor.rowcount if cursor.rowcount is not None and cursor.rowcount >= 0 else len(rows)
        ModelRun.objects.filter(pk=run_id, status=RunStatus.RUNNING).update(heartbeat_at=now)
    return written


_clients: dict[tuple[str, float], TGIClient] = {}
_clients_lock = threading.Lock()


def _endpoint_client(base_url: str) -> TGIClient:
    """One client per endpoint URL and process, reused by every batch (its connections
    stay open between batches); thread-safe."""
    key = (base_url, float(settings.ELMTEX_TGI_TIMEOUT))
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            client = _clients[key] = TGIClient(base_url, timeout=key[1])
    return client


def _batch_examples(run: ModelRun, candidates: list[Candidate]) -> dict[int, list[dict]] | None:
    """Advanced runs: candidate id -> its in-context examples (``services.examples``);
    None for the other strategies."""
    if run.strategy != Strategy.ADVANCED:
        return None
    from .examples import batch_examples

    return batch_examples(run=run, candidates=candidates)


def _pause_after() -> int:
    return int(setting_number("ELMTEX_PAUSE_AFTER_CONSECUTIVE_FAILURES", DEFAULT_PAUSE_AFTER))


def candidates_process(*, run_id: int, candidate_ids: list[int]) -> None:
    """Send the pending candidates among ``candidate_ids`` to the run's endpoint, parse and
    store the answers (in bulk, every ``STATUS_CHECK_INTERVAL`` seconds).

    One thread per slot of the endpoint's concurrency; each request holds a slot of the
    endpoint's limit shared by all workers (``inference.limiter``), so threads of several
    batches and workers wait for a slot instead of piling up 429s. Stops early when the
    run is cancelled or paused. Pauses the run (documents not answered stay pending) when
    ``ELMTEX_PAUSE_AFTER_CONSECUTIVE_FAILURES`` requests in a row could not connect, when
    one document's whole backoff went by without an answer, or when the limiter's Redis
    is unreachable."""
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
    try:
        examples = _batch_examples(run, candidates)
    except Exception as exc:  # noqa: BLE001 - examples unreadable: the run cannot go on as configured
        logger.exception("run %s: examples lookup failed", run_id)
        _run_set_status(run_id, RunStatus.FAILED, f"reading the in-context examples failed ({type(exc).__name__})")
        return

    endpoint = run.endpoint
    policy = RetryPolicy.from_settings()
    stop = threading.Event()
    streak = FailureStreak(limit=_pause_after(), stop=stop)
    limiter_problem: list[str] = []
    try:
        limiter = endpoint_limiter(endpoint=endpoint)
    except Exception as exc:  # noqa: BLE001 - redis-py raises many types for "not there"
        limiter, limiter_problem = None, [f"{type(exc).__name__}"]
    if limiter is not None:
        bound = None
        if run_settings.mode == EndpointMode.CHAT and run_settings.max_input_tokens and run_settings.max_total_tokens:
            bound = (run_settings.max_input_tokens, run_settings.max_total_tokens, run_settings.params.max_new_tokens)
        client = LimitedClient(
            _endpoint_client(endpoint.base_url), limiter=limiter, stop=stop, streak=streak, count_bound=bound
        )

    def work(candidate: Candidate) -> Outcome | None:
        if stop.is_set():
            return None
        extra = {} if examples is None else {"examples": examples.get(candidate.pk) or []}
        try:
            return candidate_generate(
                client=client,
                report=candidate.document.text,
                run=run_settings,
                policy=policy,
                stop=stop,
                **extra,
            )
        except Stopped:
            return None
        except LimiterUnavailable as exc:
            limiter_problem.append(str(exc))
            stop.set()
            return None
        except Exception as exc:  # noqa: BLE001 - one document's bug must not lose the batch
            logger.exception("run %s candidate %s: unexpected failure", run_id, candidate.pk)
            return Outcome(
                status=CandidateStatus.FAILED, error=f"internal error ({type(exc).__name__}); see the worker log"
            )

    outcomes: dict[int, Outcome] = {}
    written = 0
    down: Outcome | None = None  # the first document the endpoint never answered
    started = time.monotonic()
    write_s = 0.0
    if limiter is not None:
        answers: queue.SimpleQueue = queue.SimpleQueue()

        unstarted = [len(candidates)]
        unstarted_lock = threading.Lock()

        def task(candidate: Candidate) -> None:
            with unstarted_lock:
                unstarted[0] -= 1
            try:
                answers.put((candidate.pk, work(candidate)))
            except BaseException:
                answers.put((candidate.pk, None))
                raise
            finally:
                if unstarted[0] == 0 or stop.is_set():  # nothing left for this thread to send
                    client.release_current()

        # A few threads more than slots: their next request is ready when a slot frees.
        workers = max(1, min(endpoint.concurrency + max(1, endpoint.concurrency // 8), len(candidates)))
        last_check = time.monotonic()
        try:
            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"run{run_id}") as pool:
                for c in candidates:
                    pool.submit(task, c)
                try:
                    left = len(candidates)
                    while left:
                        # Wake at least every interval: a cancel is seen during long generations too.
                        try:
                            pk, outcome = answers.get(timeout=STATUS_CHECK_INTERVAL)
                            left -= 1
                        except queue.Empty:
                            pk, outcome = None, None
                        if outcome is not None:
                            if outcome.endpoint_down:
                                # Unreachable or saturated through a whole backoff: the other documents
                                # would only wait as long. Stop the batch, keep them pending, pause.
                                down = down or outcome
                                stop.set()
                            else:
                                outcomes[pk] = outcome
                        # Database access stays in this thread: worker threads only speak HTTP.
                        if time.monotonic() - last_check >= STATUS_CHECK_INTERVAL or len(outcomes) >= WRITE_CHUNK:
                            last_check = time.monotonic()
                            t_write = time.monotonic()
                            written += outcomes_write(run_id=run_id, outcomes=outcomes)
                            write_s += time.monotonic() - t_write
                            outcomes = {}
                            if not stop.is_set() and not _run_heartbeat(run_id):
                                stop.set()
                except BaseException:
                    stop.set()  # e.g. the database went away: the threads stop, Celery retries the batch
                    raise
        finally:
            client.release_all()  # never keep slots of the shared limit past the batch

    t_write = time.monotonic()
    written += outcomes_write(run_id=run_id, outcomes=outcomes)
    write_s += time.monotonic() - t_write
    logger.info(
        "run %s: batch wrote %s of %s candidates in %.2f s (writing %.2f s)",
        run_id,
        written,
        len(candidates),
        time.monotonic() - started,
        write_s,
    )
    where = f"endpoint {endpoint.name} ({endpoint.base_url})"
    resume = f"continue with resume_run {run_id}"
    reason = ""
    if limiter_problem:
        reason = (
            f"the shared concurrency limit of {where} is kept in Redis ({broker_url_display(str(settings.CELERY_BROKER_URL))}), "
            f"which cannot be reached ({limiter_problem[0]}); start Redis, then {resume}"
        )
    elif streak.tripped:
        reason = (
            f"{where} did not answer: {streak.count} requests in a row could not connect "
            f"(last: {streak.last_error}); when it is back, {resume}"
        )
    elif down is not None:
        reason = f"{where} did not answer: {down.error}; when it is back, {resume}"
    if reason:
        _run_set_status(run_id, RunStatus.PAUSED, reason)
        logger.warning("run %s paused: endpoint %s not answering or limiter unreachable", run_id, endpoint.pk)
        return
    run_finish_if_done(run_id=run_id)
