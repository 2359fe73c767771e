"""Benchmark: server time and SQL queries of the annotation form, the adjudication page and
the annotator's queue with 60,000 documents, 15 categories, 3 runs and 2 annotations per
document in PostgreSQL.

Builds the database once (bulk inserts; ``--rebuild`` starts again), then requests each
page ``--requests`` times through Django's test client (the whole request: middleware,
session, view, template; no network) for different assignments / documents, and prints
p50/p95/max milliseconds and the number of SQL queries per request (min-max: equal means
constant). Not part of the test run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/elmtex_g_bench \\
        .venv/bin/python benchmarks/annotation_pages.py [--n 60000] [--requests 200] [--rebuild]

Target (issue 4): p95 <= 50 ms for each of the three pages; a constant number of queries.

Measured 2026-11-27, 2 shared CPUs (AMD EPYC) with load average 6-9 from other jobs, so the
wall times are inflated; "min" and "web CPU" show the unloaded cost (200 requests each):

    page                        p50 ms  p95 ms  min ms  web CPU p50 ms  queries
    annotation form                 55     135      18              18       12
    adjudication page               33      68      16              20    11-12 (12 when a draft run exists)
    annotator queue, page 1         68     161      26              20        7
    annotator queue, page 60        73     168      27              22        7
    review queue (disagreed)        43     106      25              17        6
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import os
import platform
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "elmtex_site.settings")
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver,localhost")

SLUG = "bench-pages"
ANNOTATORS = 20
RUNS = 3
WORDS = (
    "patient presented with fever cough dyspnea chest pain abdominal tenderness history of "
    "hypertension diabetes mellitus computed tomography revealed mass biopsy showed granulomas "
    "treated with amoxicillin 500 mg twice daily follow-up after weeks discharged in good "
    "condition laboratory hemoglobin g/dL CRP mg/L elevated normal range myocardial infarction "
    "pneumonia appendectomy performed recovery uneventful smoker alcohol mother father sister"
).split()
JUDGEMENTS = ["correct", "partially_correct", "incorrect", "missing", "hallucinated", "wrong_category"]


def machine_line() -> str:
    model = "unknown CPU"
    with contextlib.suppress(OSError), open("/proc/cpuinfo", encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return (
        f"machine: {os.cpu_count()} CPUs ({model}), {platform.machine()}, Python {platform.python_version()}, "
        f"{datetime.date.today().isoformat()}"
    )


def database_ensure(url: str) -> None:
    """Create the benchmark database when it does not exist."""
    import environ
    import psycopg

    cfg = environ.Env.db_url_config(url)
    admin = dict(host=cfg["HOST"] or "127.0.0.1", port=cfg["PORT"] or 5432, user=cfg["USER"], dbname="postgres")
    if cfg["PASSWORD"]:
        admin["password"] = cfg["PASSWORD"]
    with psycopg.connect(**admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [cfg["NAME"]]).fetchone():
            conn.execute(f'CREATE DATABASE "{cfg["NAME"]}"')


def _values(rng: random.Random, keys: list[str]) -> dict:
    out = {}
    for key in keys:
        out[key] = (
            "N/A"
            if rng.random() < 0.3
            else "; ".join(" ".join(rng.choices(WORDS, k=3)) for _ in range(rng.randint(1, 3)))
        )
    return out


def build(n: int) -> None:
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from annotation.models import Annotation, Assignment, Document, Gold, Membership, Project
    from annotation.schema import ELMTEX_CATEGORIES
    from annotation.services.projects import project_create
    from inference.models import Candidate, ModelEndpoint, ModelRun

    rng = random.Random(0)
    User = get_user_model()
    started = time.perf_counter()
    with transaction.atomic():
        Project.objects.filter(slug=SLUG).delete()
        project = project_create(slug=SLUG, name="Annotation pages benchmark", categories=list(ELMTEX_CATEGORIES))
        keys = list(project.categories.order_by("order").values_list("key", flat=True))
        users = []
        for name in [f"bench-ann{i:02d}" for i in range(ANNOTATORS)] + ["bench-rev"]:
            user, _ = User.objects.get_or_create(username=name)
            users.append(user)
        annotators, reviewer = users[:-1], users[-1]
        Membership.objects.bulk_create(
            [Membership(project=project, user=u, role="annotator") for u in annotators]
            + [Membership(project=project, user=reviewer, role="reviewer")]
        )
        endpoint, _ = ModelEndpoint.objects.get_or_create(
            name="bench-pages", defaults={"base_url": "http://127.0.0.1:9/", "concurrency": 1}
        )
        runs = [
            ModelRun.objects.create(project=project, name=f"run{i}", endpoint=endpoint, status="finished", total=n)
            for i in range(RUNS)
        ]
    print(f"project, users, runs: {time.perf_counter() - started:.1f} s", flush=True)

    batch = 5000
    for lo in range(0, n, batch):
        with transaction.atomic():
            docs = Document.objects.bulk_create(
                [
                    Document(
                        project=project,
                        external_id=str(i + 1),
                        language="en",
                        split=rng.choice(["train", "val", "test"]),
                        text=" ".join(rng.choices(WORDS, k=318)).capitalize() + ".",
                        content_hash=f"{i:064d}",
                    )
                    for i in range(lo, min(n, lo + batch))
                ]
            )
            Candidate.objects.bulk_create(
                [
                    Candidate(run=run, document=d, status="ok", values=_values(rng, keys), raw_output="{}")
                    for d in docs
                    for run in runs
                ]
            )
            assignments = []
            for d in docs:
                pair = rng.sample(annotators, 2)
                for user in pair:
                    status = "submitted" if rng.random() < 0.85 else rng.choice(["assigned", "in_progress"])
                    assignments.append(
                        Assignment(project=project, document=d, annotator=user, status=status, draft_run=runs[0])
                    )
            Assignment.objects.bulk_create(assignments)
            annotations = []
            for a in assignments:
                values = _values(rng, keys)
                length = len(a.document.text)
                spans = {k: [[s, s + 12]] for k in rng.sample(keys, 4) for s in [rng.randrange(0, length - 20)]}
                annotations.append(
                    Annotation(
                        assignment=a,
                        values=values,
                        draft=values,
                        judgements={k: rng.choice(JUDGEMENTS) for k in keys},
                        spans=spans,
                    )
                )
            Annotation.objects.bulk_create(annotations)
            Gold.objects.bulk_create(
                [Gold(document=d, values=_values(rng, keys), origin="imported") for d in docs if rng.random() < 0.5]
            )
        print(f"  {min(n, lo + batch):,} documents: {time.perf_counter() - started:.0f} s", flush=True)
    from django.db import connection

    with connection.cursor() as cursor:
        # VACUUM, not only ANALYZE: a freshly bulk-loaded table has no visibility map yet, so
        # PostgreSQL cannot answer the queue from the index alone (what autovacuum gives a
        # live database soon after a load).
        cursor.execute("VACUUM ANALYZE")
    print(f"built in {time.perf_counter() - started:.0f} s", flush=True)


def measure(client, urls: list[str]) -> tuple[list[float], list[int], list[float]]:
    """Wall milliseconds, SQL queries and this process's CPU milliseconds per request."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    times, queries, cpu = [], [], []
    for url in urls:
        with CaptureQueriesContext(connection) as ctx:
            start, start_cpu = time.perf_counter(), time.process_time()
            response = client.get(url)
            times.append((time.perf_counter() - start) * 1000)
            cpu.append((time.process_time() - start_cpu) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"{url} answered {response.status_code}")
        queries.append(len(ctx.captured_queries))
    return times, queries, cpu


def _p95(values: list[float]) -> float:
    values = sorted(values)
    return values[max(0, int(round(0.95 * len(values))) - 1)]


def report(label: str, measured: tuple[list[float], list[int], list[float]]) -> str:
    times, queries, cpu = measured
    p95 = _p95(times)
    verdict = "ok" if p95 <= 50 else "over target"
    return (
        f"{label:<38} p50 {statistics.median(times):6.1f} ms  p95 {p95:6.1f} ms  min {min(times):5.1f} ms  "
        f"web CPU p50 {statistics.median(cpu):5.1f} ms  queries {min(queries)}-{max(queries)}  ({verdict})"
    )


def _merge(total: tuple, part: tuple) -> tuple:
    return tuple(a + b for a, b in zip(total, part, strict=True))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=60000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        raise SystemExit("set DATABASE_URL=postgres://USER@HOST:PORT/NAME (a database of its own; it is filled)")
    database_ensure(url)

    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client

    from annotation.models import Assignment, Document, Project

    call_command("migrate", verbosity=0)
    project = Project.objects.filter(slug=SLUG).first()
    if args.rebuild or project is None or project.documents.count() != args.n:
        build(args.n)
        project = Project.objects.get(slug=SLUG)

    print(machine_line())
    print(
        f"data: {project.documents.count():,} documents, {project.categories.count()} categories, "
        f"{project.runs.count()} runs, {Assignment.objects.filter(project=project).count():,} assignments/annotations"
    )
    lines = []
    assignments = list(
        Assignment.objects.filter(project=project).select_related("annotator").order_by("?")[: args.requests]
    )
    by_user: dict = {}
    for a in assignments:
        by_user.setdefault(a.annotator, []).append(a)
    empty = ([], [], [])
    form, queue, deep = empty, empty, empty
    load_before = os.getloadavg()[0]
    for user, rows in by_user.items():
        client = Client()
        client.force_login(user)
        client.get(f"/p/{SLUG}/work/{rows[0].pk}/")  # warm-up
        form = _merge(form, measure(client, [f"/p/{SLUG}/work/{a.pk}/" for a in rows]))
        queue = _merge(queue, measure(client, [f"/p/{SLUG}/work/"] * len(rows)))
        deep = _merge(deep, measure(client, [f"/p/{SLUG}/work/?page=60"] * max(1, len(rows) // 2)))
    reviewer = project.memberships.get(user__username="bench-rev").user
    client = Client()
    client.force_login(reviewer)
    doc_ids = list(Document.objects.filter(project=project).order_by("?").values_list("pk", flat=True)[: args.requests])
    client.get(f"/p/{SLUG}/review/{doc_ids[0]}/")
    review = measure(client, [f"/p/{SLUG}/review/{pk}/" for pk in doc_ids])
    disagreed = measure(client, [f"/p/{SLUG}/review/?status=disagreed"] * 10)
    all_pages = measure(client, [f"/p/{SLUG}/review/?status=all&page={p}" for p in range(1, 11)])
    lines.append(report("annotation form /work/<id>/", form))
    lines.append(report("adjudication /review/<doc>/", review))
    lines.append(report("annotator queue /work/ (page 1)", queue))
    lines.append(report("annotator queue /work/?page=60", deep))
    lines.append(report("review queue ?status=disagreed", disagreed))
    lines.append(report("review queue ?status=all, pages 1-10", all_pages))
    per_user = Assignment.objects.filter(project=project, annotator=assignments[0].annotator).count()
    print(
        f"requests: {len(form[0])} forms, {len(review[0])} adjudication pages; ~{per_user:,} assignments per "
        f"annotator; load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after"
    )
    print("\n".join(lines))


if __name__ == "__main__":
    main()
