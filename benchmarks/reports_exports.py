"""Benchmark: report pages and gold exports with 60,000 documents and 5 evaluated runs (issue 6).

Seeds a PostgreSQL database of its own once, then reuses it (the project ``bench-reports``
carries a marker of the seed's parameters; ``--reseed`` drops and recreates the database):
60,000 English demo documents (``annotation.demo``, lengthened to ~250 words with
case-report boilerplate; train/val/test 70/15/15; 15-category gold, ~24% ``N/A``, 10%
adjudicated) through the real ``import_dataset``; 5 runs, one candidate per document
(``COPY``; edited gold values, 0.5-6% ``parse_error``, latency and tokens); 2,000 test
documents annotated twice (judgements); one stored evaluation per run (the real
``evaluation_run``, rouge + entity, whole run unless ``--eval-split test``).

Measures through Django's test client as a researcher (middleware, session, view,
template; no network) the comparison page of the 5 runs (first = reference), its API, SVG
charts and the other report pages: the first call (comparison caches deleted before; the
significance job it queues is then run and timed with the service the worker's task
calls) and the median of ``--warm`` calls; URL names not there print "not available".
Then ``export_gold`` of all gold as jsonl, hf and chat and ``assign_splits --force`` (the
seeded splits are put back) as child processes: wall time (start-up included) and peak
RSS. Prints a table against the targets; no asserts. Not part of the test run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_reports \\
        .venv/bin/python benchmarks/reports_exports.py [--n 60000] [--runs 5] [--eval-split test] [--reseed]

Targets (issue 6): comparison page <= 500 ms; export jsonl / hf <= 5 s each with peak RSS
<= 300 MB; chat (no tokenizer) <= 10 s.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import logging
import math
import os
import platform
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "elmtex_site.settings")
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver,localhost")
os.environ.setdefault("DJANGO_DEBUG", "0")
os.environ.setdefault("DJANGO_SECRET_KEY", "bench")
os.environ.setdefault("ELMTEX_AUTO_MIGRATE", "0")

SLUG = "bench-reports"
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/bench_reports"
NA = "N/A"
ANNOTATED_DOCS, ANNOTATORS = 2000, 10
# Case-report boilerplate (no clinical facts, so gold stays true) to bring the demo
# reports (~200 words) to the ~250 words of real ones.
BOILERPLATE = (
    "Written informed consent for publication of this case was obtained from the patient.",
    "The case was discussed at the weekly interdisciplinary conference of the department.",
    "All procedures were performed in accordance with the ethical standards of the institution.",
    "The authors declare that they have no competing interests related to this report.",
    "We present this case to illustrate the diagnostic reasoning required in daily practice.",
    "Data supporting this report are available from the corresponding author on request.",
    "This report follows the CARE guidelines for the reporting of clinical case reports.",
    "Images were reviewed again by two senior radiologists for the purpose of this report.",
)
# name, strategy, model id; shares of gold values kept / edited / replaced by another case's
# value / dropped; share of gold N/A filled in (hallucinated); unparsed share; median latency ms.
RUNS = (
    ("llama3-8b-naive", "naive", "meta-llama/Meta-Llama-3-8B-Instruct", 0.30, 0.38, 0.12, 0.20, 0.20, 0.040, 2600),
    ("llama3-8b-advanced", "advanced", "meta-llama/Meta-Llama-3-8B-Instruct", 0.38, 0.36, 0.10, 0.16, 0.15, 0.025, 3400),
    ("mistral-7b-naive", "naive", "mistralai/Mistral-7B-Instruct-v0.3", 0.26, 0.38, 0.14, 0.22, 0.22, 0.060, 2300),
    ("qwen2.5-7b-advanced", "advanced", "Qwen/Qwen2.5-7B-Instruct", 0.40, 0.36, 0.09, 0.15, 0.12, 0.020, 3100),
    ("llama3-8b-finetuned", "finetuned", "elmtex/llama3-8b-elmtex-ft", 0.52, 0.32, 0.06, 0.10, 0.08, 0.005, 1900),
)  # fmt: skip


def machine_line() -> str:
    model, ram = "unknown CPU", "? GiB RAM"
    with contextlib.suppress(OSError), open("/proc/cpuinfo", encoding="utf-8") as fh:
        model = next((line.split(":", 1)[1].strip() for line in fh if line.startswith("model name")), model)
    with contextlib.suppress(OSError, StopIteration), open("/proc/meminfo", encoding="utf-8") as fh:
        ram = f"{int(next(line for line in fh if line.startswith('MemTotal')).split()[1]) / 2**20:.0f} GiB RAM"
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg = cursor.fetchone()[0].split()[0]
    return (
        f"machine: {os.cpu_count()} CPUs ({model}), {ram}, {platform.machine()}, Python {platform.python_version()}, "
        f"PostgreSQL {pg}, load average {os.getloadavg()[0]:.1f}, {datetime.date.today().isoformat()}"
    )


def marker(args) -> str:
    return f"benchmarks/reports_exports.py seed v1: n={args.n} runs={args.runs} eval={args.eval_split or 'all'}"


def database_prepare(url: str, args) -> bool:
    """Create the database when missing; drop it first on --reseed or when it holds an
    unfinished or different seed. True when the seed can be reused."""
    import environ
    import psycopg

    cfg = environ.Env.db_url_config(url)
    name = cfg["NAME"]
    params = dict(host=cfg["HOST"] or "127.0.0.1", port=cfg["PORT"] or 5432, user=cfg["USER"])
    if cfg["PASSWORD"]:
        params["password"] = cfg["PASSWORD"]
    found = None  # the project's marker; None: no project (or no database yet)
    with (
        contextlib.suppress(psycopg.OperationalError, psycopg.errors.UndefinedTable),
        psycopg.connect(**params, dbname=name) as conn,
    ):
        row = conn.execute("SELECT description FROM annotation_project WHERE slug = %s", [SLUG]).fetchone()
        found = row[0] if row else None
    if found == marker(args) and not args.reseed:
        return True
    with psycopg.connect(**params, dbname="postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and (args.reseed or found is not None):
            if "bench" not in name:
                raise SystemExit(f"refusing to drop database {name!r}: use a database of its own named bench_*")
            why = "--reseed" if args.reseed else f"it holds another or an unfinished seed ({found!r})"
            print(f"dropping database {name} ({why})", flush=True)
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            exists = None
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
    return False


def _lengthen(report: str, rng: random.Random) -> str:
    target = rng.randint(225, 275)
    words = len(report.split())
    extra = []
    for sentence in rng.sample(BOILERPLATE, len(BOILERPLATE)):
        if words >= target:
            break
        extra.append(sentence)
        words += len(sentence.split())
    return report + ("\n\n" + " ".join(extra) if extra else "")


def dataset_write(path: Path, n: int) -> float:
    """Demo records in chunks (each chunk split 70/15/15); returns the mean word count."""
    from annotation.demo import generate_demo_records

    rng, words, chunk = random.Random(0), 0, 5000
    with open(path, "w", encoding="utf-8") as fh:
        for lo in range(0, n, chunk):
            english, _ = generate_demo_records(min(chunk, n - lo), seed=lo, german_share=0.0)
            for i, rec in enumerate(english):
                report = _lengthen(rec["report"], rng)
                words += len(report.split())
                record = {"patient_id": lo + i + 1, "title": rec["title"], "split": rec["split"], "report": report}
                fh.write(json.dumps({**record, "summary": rec["summary"]}, ensure_ascii=False) + "\n")
    return words / max(n, 1)


def _edit(value: str, rng: random.Random) -> str:
    """A model-like variant of a gold value: items dropped or reordered, a word changed."""
    items = [item for item in value.split("; ") if item]
    if len(items) > 1 and rng.random() < 0.5:
        items = rng.sample(items, rng.randint(1, len(items)))
    words = "; ".join(items).split(" ")
    if len(words) > 2 and rng.random() < 0.5:
        del words[rng.randrange(len(words))]
    if rng.random() < 0.3:
        words.insert(rng.randrange(len(words) + 1), rng.choice(("noted", "likely", "possible", "mild", "the")))
    return " ".join(words)


def candidates_copy(run, profile, docs: list[tuple[int, int, dict]], pools: dict[str, list[str]], seed: int) -> dict:
    """COPY one candidate per document for ``run``; returns counts per status."""
    from django.db import connection
    from django.utils import timezone

    from inference.models import Candidate

    _, strategy, _, p_same, p_edit, p_other, _, p_halluc, p_unparsed, latency = profile
    rng, now, counts = random.Random(seed), timezone.now(), {"ok": 0, "parse_error": 0, "failed": 0}
    base_prompt = {"naive": 420, "advanced": 3300, "finetuned": 260}[strategy]
    columns = (
        'run_id, document_id, status, "values", raw_output, error, finish_reason, attempts, latency_ms, '
        "prompt_tokens, generated_tokens, prompt_examples, created_at, updated_at"
    )
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {Candidate._meta.db_table} ({columns}) FROM STDIN") as copy,
    ):
        for doc_id, words, gold in docs:
            values = {}
            for key, value in gold.items():
                roll = rng.random()
                if value == NA:
                    values[key] = rng.choice(pools[key]) if roll < p_halluc else NA
                elif roll < p_same:
                    values[key] = value
                elif roll < p_same + p_edit:
                    values[key] = _edit(value, rng)
                elif roll < p_same + p_edit + p_other:
                    values[key] = rng.choice(pools[key])
                else:
                    values[key] = NA
            raw = json.dumps(values, ensure_ascii=False)
            ms = int(latency * math.exp(rng.gauss(0, 0.35)))
            prompt = base_prompt + int(words * 1.35)
            roll = rng.random()
            if roll < p_unparsed:  # cut off or chatty output that did not parse
                raw = (
                    raw[: rng.randint(40, len(raw) - 1)] if rng.random() < 0.7 else "Here is the summary:\n" + raw[:200]
                )
                row = ("parse_error", None, raw, "output is not valid JSON", "length", 1, ms, prompt, len(raw) // 4)
            elif roll < p_unparsed + 0.002:
                row = ("failed", None, "", "endpoint answered 503 three times", "", 3, None, None, None)
            else:
                row = ("ok", raw, raw, "", "stop", 1, ms, prompt, len(raw) // 4)
            counts[row[0]] += 1
            copy.write_row((run.pk, doc_id, *row, "[]", now, now))
    return counts


def seed(args) -> None:
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    from annotation.models import Annotation, Assignment, Document, Gold, Membership, Project
    from annotation.schema import ELMTEX_CATEGORIES
    from annotation.services.projects import project_create
    from inference.models import ModelEndpoint, ModelRun

    started = time.perf_counter()
    User = get_user_model()
    project = project_create(slug=SLUG, name="Reports and exports benchmark", categories=list(ELMTEX_CATEGORIES))
    researcher, _ = User.objects.get_or_create(username="bench-researcher")
    Membership.objects.create(project=project, user=researcher, role="researcher")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "records.jsonl"
        mean_words = dataset_write(path, args.n)
        t_gen = time.perf_counter() - started
        call_command("import_dataset", SLUG, str(path), stdout=open(os.devnull, "w"))  # noqa: SIM115
    t_import = time.perf_counter() - started - t_gen
    print(
        f"  {args.n:,} records ({mean_words:.0f} words/report) written in {t_gen:.0f} s, imported in {t_import:.0f} s"
    )
    docs_qs = Document.objects.filter(project=project)
    with connection.cursor() as cursor:  # 10% adjudicated gold, for --only-adjudicated and the dataset report
        cursor.execute(
            f"UPDATE {Gold._meta.db_table} SET origin = 'adjudicated', version = 2 WHERE document_id IN "
            f"(SELECT id FROM {Document._meta.db_table} WHERE project_id = %s AND id %% 10 = 3)",
            [project.pk],
        )
    docs = [(pk, len(text.split()), gold) for pk, text, gold in docs_qs.values_list("id", "text", "gold__values")]
    pools: dict[str, list[str]] = {}
    for _, _, gold in docs[:3000]:
        for key, value in gold.items():
            if value != NA:
                pools.setdefault(key, []).append(value)

    runs = []
    for i, profile in enumerate(RUNS[: args.runs]):
        name, strategy, model_id = profile[:3]
        endpoint, _ = ModelEndpoint.objects.get_or_create(
            name=f"bench-{name}", defaults=dict(base_url="http://127.0.0.1:9/", model_id=model_id, concurrency=64)
        )
        end = timezone.now() - datetime.timedelta(days=args.runs - i)
        run = ModelRun.objects.create(
            project=project, name=name, endpoint=endpoint, strategy=strategy, status="finished", total=len(docs),
            config={"model_id": model_id, "strategy": strategy}, created_by=researcher,
            started_at=end - datetime.timedelta(hours=3), finished_at=end,
        )  # fmt: skip
        with transaction.atomic():
            counts = candidates_copy(run, profile, docs, pools, seed=100 + i)
        runs.append(run)
        print(f"  run {run.pk} {name}: {counts} ({time.perf_counter() - started:.0f} s)", flush=True)

    judgements = ["correct"] * 6 + ["partially_correct", "incorrect", "missing", "hallucinated", "wrong_category"]
    rng, keys = random.Random(7), [c.key for c in ELMTEX_CATEGORIES]
    annotators = [User.objects.get_or_create(username=f"bench-annotator{i:02d}")[0] for i in range(ANNOTATORS)]
    Membership.objects.bulk_create([Membership(project=project, user=u, role="annotator") for u in annotators])
    test_docs = list(docs_qs.filter(split="test").select_related("gold").order_by("id")[:ANNOTATED_DOCS])
    now = timezone.now()
    with transaction.atomic():
        assignments = Assignment.objects.bulk_create([
            Assignment(project=project, document=d, annotator=u, status="submitted", draft_run=runs[0],
                       time_spent_seconds=rng.uniform(120, 900), submitted_at=now, assigned_by=researcher)
            for d in test_docs for u in rng.sample(annotators, 2)
        ], batch_size=2000)  # fmt: skip
        Annotation.objects.bulk_create([
            Annotation(assignment=a, judgements={k: rng.choice(judgements) for k in keys},
                       values={k: v if rng.random() < 0.8 else _edit(v, rng) for k, v in a.document.gold.values.items()})
            for a in assignments
        ], batch_size=2000)  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")  # a bulk-loaded database, as autovacuum would leave it
    t_load = time.perf_counter() - started
    print(f"  {len(assignments):,} annotations; data loaded in {t_load:.0f} s", flush=True)

    results = evaluate_all(runs, args)
    Project.objects.filter(pk=project.pk).update(description=marker(args))
    print(
        f"seeded in {time.perf_counter() - started:.0f} s (data {t_load:.0f} s, evaluations "
        f"{time.perf_counter() - started - t_load:.0f} s with {args.eval_jobs} in parallel)"
    )
    print("\n".join(results), flush=True)


def _evaluate_one(run_id: int, split: str | None) -> tuple[int, float, float]:
    """In a spawned child: ``evaluation_run`` (rouge + entity) of one run, stored; (documents
    scored, seconds, peak RSS MB)."""
    import django

    django.setup()
    from evaluation.services.reports import evaluation_run
    from inference.models import ModelRun

    start = time.perf_counter()
    report = evaluation_run(run=ModelRun.objects.get(pk=run_id), metrics="rouge,entity", split=split)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return report.config["documents"]["scored"], time.perf_counter() - start, rss


def evaluate_all(runs, args) -> list[str]:
    """Each run in a child of its own, ``--eval-jobs`` at a time (spawned: a forked child's
    peak RSS would include the seeding's memory)."""
    import multiprocessing

    from django.db import connections

    connections.close_all()
    with multiprocessing.get_context("spawn").Pool(args.eval_jobs, maxtasksperchild=1) as pool:
        results = pool.starmap(_evaluate_one, [(run.pk, args.eval_split) for run in runs], chunksize=1)
    return [
        f"  evaluate run {run.pk} ({run.name}, {args.eval_split or 'all'} documents): {docs:,} documents scored "
        f"in {seconds:.0f} s, peak RSS {rss:.0f} MB"
        for run, (docs, seconds, rss) in zip(runs, results, strict=True)
    ]


class Table:
    def __init__(self):
        self.rows: list[tuple[str, str, str, str]] = []

    def add(self, what: str, figure: str, target: str = "", verdict: str = "") -> None:
        self.rows.append((what, figure, target, verdict))
        print(f"  {what}: {figure} {f'[{verdict}]' if verdict else ''}", flush=True)

    def render(self) -> str:
        head = ("measurement", "figure", "target", "")
        widths = [max(len(r[i]) for r in [head, *self.rows]) for i in range(4)]
        lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in [head, *self.rows]]
        return "\n".join([lines[0], "-" * len(lines[0]), *lines[1:]])


def significance_process(project) -> float | None:
    """Seconds to compute the comparison caches the first page request queued, with the
    service the worker's task calls (no worker here); None when none was queued."""
    try:
        from evaluation.models import ComparisonCache
        from evaluation.services.comparison_significance import comparison_significance_process
    except ImportError:
        return None
    queued = list(ComparisonCache.objects.filter(project=project, status="queued").values_list("pk", flat=True))
    start = time.perf_counter()
    for pk in queued:
        comparison_significance_process(cache_id=pk)
    return time.perf_counter() - start if queued else None


PAGES = [  # (URL name, query ({q}: runs and reference), label, target ms)
    ("report-compare", "{q}", "compare page, 5 runs", 500),
    ("api-report-compare", "{q}", "compare API, 5 runs", 500),
    ("report-compare-bars", "{q}&metric=rougeL", "compare bars.svg", 500),
    ("report-compare-heatmap", "{q}&metric=rougeL", "compare heatmap.svg", 500),
    ("report-compare", "{q}&format=tex", "compare page ?format=tex", None),
    ("report-hub", "", "report hub", None),
    ("report-errors", "", "error analysis page", None),
    ("api-report-errors", "", "error analysis API", None),
    ("report-agreement", "", "agreement page", None),
    ("report-dataset", "", "dataset overview page", None),
    ("api-report-dataset", "", "dataset overview API", None),
    ("export-list", "", "export jobs page", None),
]


def _get(client, url: str):
    """(response or error text, wall ms, this process's CPU ms, SQL queries, SQL ms, slowest query)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        start, start_cpu = time.perf_counter(), time.process_time()
        try:
            response = client.get(url)
        except Exception as exc:  # a page under construction: note it, measure the rest
            response = f"error {type(exc).__name__}: {' '.join(str(exc).split())[:70]}"
        wall, cpu = (time.perf_counter() - start) * 1000, (time.process_time() - start_cpu) * 1000
    sql = sum(float(q["time"]) for q in ctx.captured_queries) * 1000
    slowest = max(ctx.captured_queries, key=lambda q: float(q["time"]), default={"time": 0, "sql": ""})
    return response, wall, cpu, len(ctx.captured_queries), sql, slowest


def pages_measure(table: Table, project, runs, warm: int) -> None:
    from django.test import Client
    from django.urls import reverse

    # A page that fails is reported in the table; its traceback would only bury the figures.
    logging.getLogger("django.request").setLevel(logging.CRITICAL)
    with contextlib.suppress(Exception):
        from evaluation.models import ComparisonCache

        ComparisonCache.objects.filter(project=project).delete()
    client = Client()
    client.force_login(project.memberships.get(role="researcher").user)
    # One request first, so "cold" is the page's own (not this process's URLconf and views import).
    client.get(reverse("project-detail", args=[SLUG]))
    query = f"?runs={','.join(str(r.pk) for r in runs)}&reference={runs[0].pk}"
    for name, params, what, limit in PAGES:
        label, target = f"{what} ({name})", f"<= {limit} ms" if limit else ""
        try:
            url = reverse(name, args=[SLUG]) + params.format(q=query)
        except Exception as exc:  # NoReverseMatch, or URL modules under construction
            table.add(label, f"not available ({type(exc).__name__})", target)
            continue
        calls = []
        for i in range(1 + warm):
            calls.append(_get(client, url))
            response = calls[-1][0]
            status = response if isinstance(response, str) else response.status_code
            if status != 200:
                break
            seconds = significance_process(project) if i == 0 else None
            if seconds is not None:
                table.add(f"significance job queued by the first {name}", f"{seconds:.1f} s (worker's task)")
        if status != 200:
            table.add(label, f"not available (answered {status})", target)
            continue
        cold, rest = calls[0], calls[1:] or calls
        wall, cpu, sql = (statistics.median(c[k] for c in rest) for k in (1, 2, 4))
        figure = (
            f"cold {cold[1]:.0f} ms, warm median {wall:.0f} ms (web CPU {cpu:.0f} ms, SQL {sql:.0f} ms in "
            f"{rest[-1][3]} queries), {len(response.content) / 1000:.0f} kB"
        )
        verdict = "" if limit is None else "ok" if max(cold[1], wall) <= limit else "over target"
        verdict = "warm ok, cold over target" if verdict == "over target" and wall <= limit else verdict
        table.add(label, figure, target, verdict)
        if verdict.endswith("over target"):  # where the time goes, for whoever makes it faster
            for which, call in (("cold", cold), ("warm", rest[-1])):
                sql, slowest = call[4], call[5]
                print(f"    {which}: SQL {sql:.0f} ms; slowest query {float(slowest['time']) * 1000:.0f} ms: ", end="")
                print(slowest["sql"][:300])


def command(args: list[str], env: dict) -> tuple[float, float, int, str]:
    """Run a manage.py command; (seconds, its own peak RSS in MB, exit status, stderr tail).
    Through /usr/bin/time when there: Linux keeps a child's peak RSS across exec, so a child
    forked from this (large) process would report this process's memory."""
    with tempfile.TemporaryFile("w+") as err, tempfile.NamedTemporaryFile("r") as rss_file:
        argv = [sys.executable, "manage.py", *args]
        timed = Path("/usr/bin/time").exists()
        if timed:
            argv = ["/usr/bin/time", "-o", rss_file.name, "-f", "%M", *argv]
        start = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        err.seek(0)
        rss = usage.ru_maxrss / 1024
        if timed:
            with contextlib.suppress(ValueError, IndexError):
                rss = int(rss_file.read().split()[-1]) / 1024
        return elapsed, rss, os.waitstatus_to_exitcode(status), err.read().strip()[-300:]


def _lines_and_bytes(path: Path) -> tuple[int, int]:
    lines = 0
    for f in sorted(path.rglob("*.jsonl")) if path.is_dir() else [path]:
        with open(f, "rb") as fh:
            lines += sum(1 for _ in fh)
    size = sum(f.stat().st_size for f in (path.rglob("*") if path.is_dir() else [path]) if f.is_file())
    return lines, size


def exports_measure(table: Table, env: dict, gold_count: int) -> None:
    seconds, rss, _, _ = command(["export_gold", "no-such-project", "--out", os.devnull], env)
    table.add("command start-up (export_gold of an unknown project)", f"{seconds:.2f} s, peak RSS {rss:.0f} MB")
    with tempfile.TemporaryDirectory(prefix="bench-exports-") as tmp:
        for fmt, out, limit_s in (("jsonl", "gold.jsonl", 5), ("hf", "hf", 5), ("chat", "chat.jsonl", 10)):
            path = Path(tmp) / out
            seconds, rss, rc, err = command(["export_gold", SLUG, "--out", str(path), "--format", fmt], env)
            label = f"export_gold --format {fmt} ({gold_count:,} gold)"
            target = f"<= {limit_s} s" + (", <= 300 MB" if fmt != "chat" else "")
            if rc != 0:
                reason = "not available" if "invalid choice" in err else f"failed (exit {rc}): {err.splitlines()[-1:]}"
                table.add(label, reason, target)
                continue
            records, size = _lines_and_bytes(path)
            verdict = "ok" if seconds <= limit_s and (fmt == "chat" or rss <= 300) else "over target"
            figure = (
                f"{seconds:.2f} s ({records / seconds:,.0f} records/s), peak RSS {rss:.0f} MB, {records:,} lines, "
                f"{size / 1e6:.0f} MB"
            )
            table.add(label, figure, target, verdict)
            shutil.rmtree(path) if path.is_dir() else path.unlink()


def splits_measure(table: Table, env: dict, project) -> None:
    """``assign_splits --force`` on every document, then the seeded splits back."""
    from django.db import connection

    from annotation.models import Document

    before = list(Document.objects.filter(project=project).values_list("id", "split"))
    try:
        argv = ["assign_splits", SLUG, "--ratios", "0.7,0.15,0.15", "--seed", "1", "--force"]
        seconds, rss, rc, err = command(argv, env)
    finally:
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {Document._meta.db_table} AS d SET split = s.split FROM unnest(%s::bigint[], %s::text[]) "
                "AS s(id, split) WHERE d.id = s.id AND d.split <> s.split",
                [[pk for pk, _ in before], [split for _, split in before]],
            )
            cursor.execute(f"VACUUM ANALYZE {Document._meta.db_table}")  # as seeded: all-visible again
    label = f"assign_splits --force ({len(before):,} documents)"
    if rc != 0:
        table.add(label, "not available" if "Unknown command" in err else f"failed (exit {rc}): {err[-120:]}")
    else:
        table.add(label, f"{seconds:.2f} s, peak RSS {rss:.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=60_000, help="documents (default 60,000)")
    parser.add_argument("--runs", type=int, default=5, choices=range(2, len(RUNS) + 1), help="model runs (default 5)")
    parser.add_argument("--eval-split", choices=("test",), help="evaluate only the test split (faster seeding)")
    parser.add_argument("--eval-jobs", type=int, default=min(2, os.cpu_count() or 1), help="evaluations at a time")
    parser.add_argument("--reseed", action="store_true", help="drop and recreate the database, seed again")
    parser.add_argument("--warm", type=int, default=5, help="warm calls per page (median reported)")
    parser.add_argument("--skip-pages", action="store_true")
    parser.add_argument("--skip-exports", action="store_true")
    parser.add_argument("--skip-splits", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("DATABASE_URL", DEFAULT_DB)
    os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/10")
    url = os.environ["DATABASE_URL"]
    if not url.startswith("postgres"):
        raise SystemExit("set DATABASE_URL=postgres://USER@HOST:PORT/bench_NAME (a database of its own; it is filled)")
    reuse = database_prepare(url, args)

    import django

    django.setup()
    from django.core.management import call_command

    from annotation.models import Gold, Project

    env = dict(os.environ)
    print(machine_line(), flush=True)
    call_command("migrate", verbosity=0)
    if reuse:
        print(f"reusing the seeded project {SLUG} ({marker(args)}); --reseed to start again")
    else:
        print(f"seeding {args.n:,} documents, {args.runs} runs into {url.rsplit('/', 1)[-1]}", flush=True)
        seed(args)
    project = Project.objects.get(slug=SLUG)
    runs = list(project.runs.order_by("id"))
    gold_count = Gold.objects.filter(document__project=project).count()
    evaluated = project.evaluations.filter(status="done").count()
    print(
        f"data: {project.documents.count():,} documents, {gold_count:,} gold, {len(runs)} runs, {evaluated} stored "
        f"evaluations ({'test split only' if args.eval_split else 'whole runs'}, rouge + entity)"
    )
    table = Table()
    if not args.skip_pages:
        pages_measure(table, project, runs, args.warm)
        with contextlib.suppress(Exception):  # the messages the page queued for a worker
            import redis

            redis.Redis.from_url(env["CELERY_BROKER_URL"]).delete("evaluation")
    if not args.skip_exports:
        exports_measure(table, env, gold_count)
    if not args.skip_splits:
        splits_measure(table, env, project)
    print()
    print(machine_line())
    print(table.render())


if __name__ == "__main__":
    main()
