"""A REAL Celery worker killed with SIGKILL in the middle of a run: the run shows as
stalled (not running forever), and ``resume_run`` with a fresh worker completes it with
no document lost and none duplicated.

Same set-up as test_integration_worker.py: the worker is a subprocess on the test
database (PostgreSQL, or the SQLite test database in a file) and the test broker. The
worker gets a short stall time and a short limiter lease (the killed worker's slots come
back after one lease).
"""

import os
import signal
import subprocess
import sys
import time
import uuid

import pytest
from django.conf import settings as django_settings

from elmtex_site.celery import app
from elmtex_site.errors import ApplicationError
from inference.models import Candidate, CandidateStatus, ModelRun
from inference.selectors import run_progress
from inference.services.endpoints import endpoint_add
from inference.workers import workers_answering
from tests.factories import DocumentFactory, ProjectFactory
from tests.inference.test_integration_worker import database_url, queues_purge

pytestmark = pytest.mark.django_db(transaction=True)

WORKER_START_S = 60
STALL_S = 3
N = 48
REPORT = (
    "A {age}-year-old woman presented with fever, cough and dyspnea. Chest radiography showed "
    "bilateral infiltrates. She was diagnosed with community-acquired pneumonia and treated with "
    "amoxicillin. She recovered fully."
)


@pytest.fixture
def workers(tmp_path):
    """Factory: ``start() -> Popen`` of a fresh worker (own session, so SIGKILL takes the
    whole process group); every worker is stopped at teardown."""
    try:
        workers_answering(timeout=0.5)
    except ApplicationError as exc:
        pytest.skip(f"no broker: {exc.message}")
    queues_purge()
    procs = []

    def start() -> subprocess.Popen:
        name = f"sigkill-test-{uuid.uuid4().hex[:8]}@%h"
        env = {k: v for k, v in os.environ.items() if k != "HF_TOKEN"}
        env.update(
            DATABASE_URL=database_url(),
            CELERY_BROKER_URL=str(app.conf.broker_url),
            DJANGO_SETTINGS_MODULE="elmtex_site.settings_test",
            HF_HUB_DISABLE_TELEMETRY="1",
            ELMTEX_RUN_STALL_SECONDS=str(STALL_S),
            ELMTEX_RUN_BATCH_SIZE="8",
            ELMTEX_LIMITER_LEASE_SECONDS="2",
        )
        log = tmp_path / f"worker-{len(procs)}.log"
        with open(log, "wb") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "elmtex_site", "worker", "-Q", "inference",
                 "--pool", "threads", "-c", "2", "-n", name, "--without-gossip", "--without-mingle",
                 "--loglevel", "WARNING"],
                cwd=django_settings.BASE_DIR, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        procs.append(proc)
        deadline = time.monotonic() + WORKER_START_S
        expected = name.split("@")[0]
        while not any(n.startswith(expected) for n in workers_answering(timeout=1.0)):
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the worker did not come up:\n{log.read_text(errors='replace')[-3000:]}")
        return proc

    yield start
    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
    queues_purge()  # the killed worker's batches must not reach another test's worker


def wait_for(check, what: str, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}")


def test_a_run_whose_worker_is_sigkilled_shows_stalled_and_resumes_without_loss(
    workers, baseline_server, run_cli, settings
):
    settings.ELMTEX_RUN_STALL_SECONDS = STALL_S
    settings.ELMTEX_WORKER_WAIT_SECONDS = 10.0
    project = ProjectFactory(slug="killed")
    for i in range(N):
        DocumentFactory(project=project, external_id=f"{i + 1:03d}", text=REPORT.format(age=20 + i))
    endpoint_add(name="slow", url=baseline_server(latency_ms=400), concurrency=4)

    first = workers()
    started = run_cli("run_extraction", "killed", "--endpoint", "slow")
    assert started.code == 0, started.err
    run = ModelRun.objects.get(project=project)

    def some_done():
        done = Candidate.objects.filter(run=run).exclude(status=CandidateStatus.PENDING).count()
        return 4 <= done < N

    wait_for(some_done, "the first answers")
    os.killpg(first.pid, signal.SIGKILL)  # mid-run: requests in flight, batches queued
    first.wait(timeout=10)
    done_at_kill = Candidate.objects.filter(run=run).exclude(status=CandidateStatus.PENDING).count()
    assert done_at_kill < N

    # Nobody writes progress any more: after the stall time the run shows as stalled.
    run.refresh_from_db()
    assert run.status == "running"
    stalled = wait_for(lambda: run_progress(run=ModelRun.objects.get(pk=run.pk)).status == "stalled", "stalled", 30)
    assert stalled
    progress = run_progress(run=ModelRun.objects.get(pk=run.pk))
    assert "resume_run" in progress.reason
    resumed = run_cli("resume_run", str(run.pk))  # a stalled run may be resumed
    assert resumed.code == 0, resumed.err

    workers()
    wait_for(lambda: ModelRun.objects.get(pk=run.pk).status == "finished", "the resumed run to finish", 90)

    candidates = list(Candidate.objects.filter(run=run))
    document_ids = [c.document_id for c in candidates]
    assert len(candidates) == N  # none lost
    assert len(set(document_ids)) == N  # none duplicated
    assert sorted(document_ids) == sorted(project.documents.values_list("pk", flat=True))
    assert {c.status for c in candidates} == {"ok"}
    assert all(c.values and c.raw_output for c in candidates)
