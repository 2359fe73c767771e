"""The whole path with a REAL Celery worker process: run_extraction --wait enqueues on
commit, the worker (a subprocess on the test database and the test broker) starts the
run, processes its batches against the baseline server, and the command reports.

Needs a broker (Redis at CELERY_BROKER_URL, or the embedded fallback). The database
is shared with the worker: PostgreSQL (CI), or the SQLite test database, which
settings_test.py puts in a file for this reason.
"""

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.core.management import get_commands
from django.db import connection

from annotation.schema import ELMTEX_CATEGORIES
from elmtex_site.celery import app
from elmtex_site.errors import ApplicationError
from inference.models import Candidate, ModelRun
from inference.services.endpoints import endpoint_add
from inference.workers import workers_answering
from tests.factories import DocumentFactory, GoldFactory, ProjectFactory

pytestmark = pytest.mark.django_db(transaction=True)

WORKER_START_S = 60

REPORTS = [
    "A {age}-year-old woman presented with fever, cough and dyspnea. Chest radiography showed "
    "bilateral infiltrates. She was diagnosed with community-acquired pneumonia and treated with "
    "amoxicillin. She recovered fully.",
    "A {age}-year-old man with a history of diabetes mellitus presented with chest pain. "
    "Electrocardiography showed ST elevation. He was diagnosed with myocardial infarction and "
    "treated with aspirin. He was discharged in good condition.",
]


def database_url() -> str:
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        name = str(s["NAME"])
        if name == ":memory:" or "mode=memory" in name:
            pytest.skip("the SQLite test database is in memory; a worker process cannot share it")
        return f"sqlite:///{Path(name).resolve()}"
    user = quote(s.get("USER") or "", safe="")
    password = quote(s.get("PASSWORD") or "", safe="")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    return f"postgres://{auth}{s.get('HOST') or '127.0.0.1'}:{s.get('PORT') or 5432}/{s['NAME']}"


def queues_purge() -> None:
    """Drop messages an earlier, interrupted session left (they would name runs of its
    database)."""
    with app.connection_for_write() as conn:
        for queue in ("inference", "evaluation", "gpu"):
            try:
                conn.default_channel.queue_purge(queue)
            except Exception:  # noqa: BLE001 - a queue that never existed
                pass


@pytest.fixture
def worker(tmp_path):
    try:
        workers_answering(timeout=0.5)
    except ApplicationError as exc:
        pytest.skip(f"no broker: {exc.message}")
    queues_purge()
    name = f"h3a-test-{uuid.uuid4().hex[:8]}@%h"
    env = {k: v for k, v in os.environ.items() if k != "HF_TOKEN"}
    env.update(
        DATABASE_URL=database_url(),
        CELERY_BROKER_URL=str(app.conf.broker_url),
        DJANGO_SETTINGS_MODULE="elmtex_site.settings_test",
        HF_HUB_DISABLE_TELEMETRY="1",
    )
    log = tmp_path / "worker.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "elmtex_site",
                "worker",
                "-Q",
                "inference,evaluation,gpu",
                "--pool",
                "threads",
                "-c",
                "2",
                "-n",
                name,
                "--without-gossip",
                "--without-mingle",
                "--loglevel",
                "WARNING",
            ],  # fmt: skip
            cwd=settings.BASE_DIR,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + WORKER_START_S
        expected = name.split("@")[0]
        while not any(n.startswith(expected) for n in workers_answering(timeout=1.0)):
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the worker did not come up:\n{log.read_text(errors='replace')[-3000:]}")
        yield proc
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def test_run_extraction_on_a_real_worker_then_evaluate(worker, baseline_server, run_cli, tmp_path, settings):
    settings.ELMTEX_WORKER_WAIT_SECONDS = 10.0
    project = ProjectFactory(slug="live")
    gold_base = {c.key: "N/A" for c in ELMTEX_CATEGORIES}
    for i in range(12):
        document = DocumentFactory(project=project, external_id=str(i + 1), text=REPORTS[i % 2].format(age=30 + i))
        values = gold_base | (
            {"diagnosis": "community-acquired pneumonia", "signs_symptoms": "fever; cough; dyspnea", "gender": "female"}
            if i % 2 == 0
            else {"diagnosis": "myocardial infarction", "signs_symptoms": "chest pain", "gender": "male"}
        )
        GoldFactory(document=document, values=values)
    endpoint_add(name="baseline", url=baseline_server(), concurrency=4)

    result = run_cli("run_extraction", "live", "--endpoint", "baseline", "--wait")

    run = ModelRun.objects.get(project=project)
    lines = result.out.splitlines()
    assert result.code == 0, (result.err, list(run.candidates.values_list("error", flat=True))[:2])
    assert lines[0] == f"run {run.pk}"
    assert lines[-1] == f"run {run.pk} finished: 12 ok, 0 parse errors, 0 failed, 0 too long"
    assert run.status == "finished"
    assert run.started_at and run.finished_at
    per_document = Candidate.objects.filter(run=run).values_list("document_id", flat=True)
    assert sorted(per_document) == sorted(project.documents.values_list("pk", flat=True))
    assert set(Candidate.objects.filter(run=run).values_list("status", flat=True)) == {"ok"}

    if "evaluate" in get_commands():
        path = tmp_path / "report.json"
        evaluated = run_cli("evaluate", "live", "--run", str(run.pk), "--metrics", "rouge", "--json", str(path))
        assert evaluated.code == 0, evaluated.err
        report = json.loads(path.read_text())
        assert report["categories"]["diagnosis"]["n"] > 0
