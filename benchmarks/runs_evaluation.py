"""Benchmark: ROUGE speed, an extraction run against the baseline server, and `evaluate` on it.

1. ROUGE: ``evaluation.metrics.rouge.rouge_scores`` against the reference
   ``rouge_score.rouge_scorer.RougeScorer(['rouge1', 'rouge2', 'rougeL'], use_stemmer=True)``
   on the same pairs drawn from the synthetic demo dataset's category values (gold values
   repeat as in real data: exact copies, edited copies, another case's value, ``N/A``);
   pairs/s for each and whether every precision, recall and F is identical.
2. Extraction: a fresh database (PostgreSQL database ``bench_runs``, or SQLite when
   PostgreSQL does not answer or ``--sqlite``), ``create_project --schema elmtex``,
   ``generate_demo_data``, ``import_dataset``, then ``serve_baseline`` and a Celery worker
   (on a flushed Redis database) as child processes, ``add_endpoint`` and
   ``run_extraction --wait``: wall time, docs/s, the worker's peak RSS.
3. Evaluation: ``evaluate SLUG --run ID --json PATH`` on that run: wall time, pairs/s (sum
   of ``n`` over categories), peak RSS.

All steps run the real ``manage.py`` commands as child processes; command times include
their start-up (Django, ~0.5 s). Not part of the test run.

    .venv/bin/python benchmarks/runs_evaluation.py [--pairs 20000] [--n 2000] \\
        [--pg postgres://postgres@127.0.0.1:5432/postgres | --sqlite] [--redis redis://127.0.0.1:6379/12] \\
        [--pool threads|prefork] [--concurrency 2]

Optional: ``--predictions-n N`` also evaluates a run of N demo documents whose predictions
come from ``import_predictions`` (no worker), to see how ``evaluate`` scales.

Targets (2-core machine; the project sets none for runs, so these follow the import
benchmark): ``identical: yes`` always (ROUGE must equal rouge-score bit for bit); our ROUGE
>= 5x the reference; ``evaluate`` peak RSS <= 500 MB; extraction against the baseline
server limited by the CPUs, not by waiting.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import platform
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from annotation.demo import generate_demo_records  # noqa: E402
from annotation.schema import NA  # noqa: E402

SLUG = "bench"
PG_DB = "bench_runs"
# Categories scored by ROUGE (CLI.md: not age, gender).
NOT_TEXT = {"age", "gender"}


def machine_line() -> str:
    model = "unknown CPU"
    with contextlib.suppress(OSError), open("/proc/cpuinfo", encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return (
        f"machine: {os.cpu_count()} CPUs ({model}), {platform.machine()}, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}, {datetime.date.today().isoformat()}"
    )


# --- 1. ROUGE ----------------------------------------------------------------------------


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


def make_pairs(n: int, seed: int = 0) -> list[tuple[str, str]]:
    """``n`` (prediction, gold) pairs with gold not N/A, like those `evaluate` scores."""
    rng = random.Random(seed)
    english, _ = generate_demo_records(max(50, n // 25), seed=seed)
    by_key: dict[str, list[str]] = {}
    for record in english:
        for key, value in record["summary"].items():
            if key not in NOT_TEXT and value != NA:
                by_key.setdefault(key, []).append(value)
    keys = sorted(by_key)
    pairs = []
    for _ in range(n):
        key = rng.choice(keys)
        gold = rng.choice(by_key[key])
        roll = rng.random()
        if roll < 0.35:
            pred = gold
        elif roll < 0.7:
            pred = _edit(gold, rng)
        elif roll < 0.9:
            pred = rng.choice(by_key[key])
        else:
            pred = NA
        pairs.append((pred, gold))
    return pairs


def bench_rouge(n: int) -> list[str]:
    from rouge_score import rouge_scorer

    from evaluation.metrics.rouge import ROUGE_TYPES, rouge_scores

    pairs = make_pairs(n)
    distinct = len({text for pair in pairs for text in pair})
    start = time.perf_counter()
    ours = rouge_scores(pairs)  # first: its stem memo starts cold
    t_ours = time.perf_counter() - start
    scorer = rouge_scorer.RougeScorer(list(ROUGE_TYPES), use_stemmer=True)
    start = time.perf_counter()
    reference = [scorer.score(target=gold, prediction=pred) for pred, gold in pairs]
    t_ref = time.perf_counter() - start
    identical = all(
        tuple(getattr(mine, kind)) == tuple(theirs[kind])
        for mine, theirs in zip(ours, reference, strict=True)
        for kind in ROUGE_TYPES
    )
    return [
        f"rouge      {n} pairs, {distinct} distinct strings",
        f"rouge      ours (RougeCalculator) {t_ours:7.2f} s  {n / t_ours:9.0f} pairs/s",
        f"rouge      rouge-score reference  {t_ref:7.2f} s  {n / t_ref:9.0f} pairs/s   "
        f"(ours {t_ref / t_ours:.1f}x faster)",
        f"rouge      identical: {'yes' if identical else 'no'}",
    ]


# --- 2./3. runs and evaluate ------------------------------------------------------------


def run(args: list[str], env: dict, ok=(0,)) -> tuple[float, float, str]:
    """Run a manage.py command; return (seconds, its own peak RSS in MB, stdout)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "manage.py", *args], cwd=ROOT, env=env, stdout=out, stderr=err)
        # wait4 gives this child's own rusage (RUSAGE_CHILDREN would be a running maximum).
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if proc.returncode not in ok:
            raise SystemExit(f"command {' '.join(args[:2])} failed ({proc.returncode}):\n{err.read()[-2000:]}")
        return elapsed, usage.ru_maxrss / 1024, out.read().strip()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(check, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            if check():
                return
        time.sleep(0.2)
    raise SystemExit(f"{what} did not come up within {timeout:.0f} s")


class RssSampler(threading.Thread):
    """Peak RSS of a process and its children (prefork pool), sampled every 0.2 s."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.peak, self._stop_event = pid, 0, threading.Event()

    def run(self) -> None:
        import psutil

        with contextlib.suppress(psutil.Error):
            proc = psutil.Process(self.pid)
            while not self._stop_event.wait(0.2):
                total = 0
                for p in [proc, *proc.children(recursive=True)]:
                    with contextlib.suppress(psutil.Error):
                        total += p.memory_info().rss
                self.peak = max(self.peak, total)

    def stop(self) -> float:
        self._stop_event.set()
        self.join(2)
        return self.peak / 2**20


def stop_child(proc: subprocess.Popen) -> None:
    """SIGTERM to the child's own process group (it was started in a new session), then SIGKILL."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process and its live children."""
    import psutil

    total = 0.0
    with contextlib.suppress(psutil.Error):
        proc = psutil.Process(pid)
        for p in [proc, *proc.children(recursive=True)]:
            with contextlib.suppress(psutil.Error):
                times = p.cpu_times()
                total += times.user + times.system
    return total


def pg_database(server_url: str) -> str | None:
    """(Re)create the benchmark database; its URL, or None when PostgreSQL does not answer."""
    import psycopg

    try:
        with psycopg.connect(server_url, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {PG_DB}")
            conn.execute(f"CREATE DATABASE {PG_DB}")
    except psycopg.OperationalError as exc:
        print(f"PostgreSQL at {server_url} unavailable ({type(exc).__name__}); using SQLite", file=sys.stderr)
        return None
    return f"{server_url.rsplit('/', 1)[0]}/{PG_DB}"


def evaluate_line(label: str, slug: str, run_ref: str, env: dict, tmp: Path) -> str:
    report = tmp / f"report-{slug}.json"
    t_eval, rss_eval, _ = run(["evaluate", slug, "--run", run_ref, "--json", str(report)], env)
    results = json.loads(report.read_text(encoding="utf-8"))
    pairs = sum(cat["n"] for cat in results["categories"].values())
    return (
        f"{label:10s} evaluate         {t_eval:6.2f} s  {pairs / t_eval:8.0f} pairs/s  peak RSS "
        f"{rss_eval:6.0f} MB   ({results['config']['documents']['scored']} documents, {pairs} ROUGE pairs, "
        f"{len(results['categories'])} categories, overall rougeL {results['overall']['rougeL']:.3f})"
    )


def bench_predictions(label: str, n: int, env: dict, tmp: Path) -> list[str]:
    """`evaluate` at a larger scale without a worker: N demo documents, predictions made
    from their gold (60% of the values edited as in make_pairs) and loaded with
    `import_predictions`."""
    slug, folder = f"{SLUG}-large", tmp / "large"
    run(["create_project", slug, "--name", "Benchmark (large)", "--schema", "elmtex"], env)
    run(["generate_demo_data", "--out", str(folder), "--n", str(n), "--seed", "1"], env)
    t_import, _, _ = run(["import_dataset", slug, str(folder / "en.json")], env)
    rng = random.Random(1)
    records = json.loads((folder / "en.json").read_text(encoding="utf-8"))
    with open(folder / "predictions.jsonl", "w", encoding="utf-8") as fh:
        for record in records:
            prediction = {
                key: _edit(value, rng) if value != NA and rng.random() < 0.6 else value
                for key, value in record["summary"].items()
            }
            fh.write(json.dumps({"patient_id": record["patient_id"], "model_prediction": prediction}) + "\n")
    t_pred, _, _ = run(["import_predictions", slug, str(folder / "predictions.jsonl"), "--run-name", "large"], env)
    return [
        f"{label:10s} {n} more documents: import_dataset {t_import:.2f} s, import_predictions {t_pred:.2f} s",
        evaluate_line(label, slug, "large", env, tmp),
    ]


def bench_runs(args, tmp: Path) -> list[str]:
    import redis
    from celery import Celery

    database_url = None if args.sqlite else pg_database(args.pg)
    label = "postgresql" if database_url else "sqlite"
    database_url = database_url or f"sqlite:///{tmp / 'bench.sqlite3'}"
    redis.Redis.from_url(args.redis).flushdb()
    env = dict(
        os.environ,
        DATABASE_URL=database_url,
        CELERY_BROKER_URL=args.redis,
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY="bench",
        ELMTEX_AUTO_MIGRATE="0",
    )
    children: list[subprocess.Popen] = []
    logs = []
    lines = [f"database   {label}, broker {args.redis}, worker --pool {args.pool} -c {args.concurrency}"]
    try:
        run(["migrate", "--noinput"], env)
        run(["create_project", SLUG, "--name", "Benchmark", "--schema", "elmtex"], env)
        run(["generate_demo_data", "--out", str(tmp / "demo"), "--n", str(args.n)], env)
        t_import, _, imported = run(["import_dataset", SLUG, str(tmp / "demo" / "en.json")], env)
        lines.append(f"{label:10s} import_dataset   {t_import:6.2f} s  ({imported})")

        port = free_port()
        server_log = open(tmp / "baseline.log", "w")  # noqa: SIM115 - closed in finally
        logs.append(server_log)
        server = subprocess.Popen(
            [sys.executable, "manage.py", "serve_baseline", "--port", str(port)],
            cwd=ROOT, env=env, stdout=server_log, stderr=server_log, start_new_session=True,
        )  # fmt: skip
        children.append(server)
        url = f"http://127.0.0.1:{port}"
        wait_until(lambda: urllib.request.urlopen(f"{url}/health", timeout=1).status == 200, "serve_baseline")

        node = f"bench-{os.getpid()}@%h"
        worker_log = open(tmp / "worker.log", "w")  # noqa: SIM115 - closed in finally
        logs.append(worker_log)
        worker_argv = [sys.executable, "-m", "celery", "-A", "elmtex_site", "worker", "--pool", args.pool]
        worker = subprocess.Popen(
            [*worker_argv, "-c", str(args.concurrency), "-n", node, "--loglevel", "WARNING",
             "--without-mingle", "--without-gossip"],
            cwd=ROOT, env=env, stdout=worker_log, stderr=worker_log, start_new_session=True,
        )  # fmt: skip
        children.append(worker)
        sampler = RssSampler(worker.pid)
        sampler.start()
        control = Celery(broker=args.redis)
        node_name = node.replace("%h", socket.gethostname())
        wait_until(lambda: control.control.ping(destination=[node_name], timeout=1.0), "the Celery worker", 90)

        run(["add_endpoint", "bench", "--url", url], env)
        cpu_before = {"worker": cpu_seconds(worker.pid), "server": cpu_seconds(server.pid)}
        t_run, _, out = run(["run_extraction", SLUG, "--endpoint", "bench", "--wait"], env, ok=(0, 3))
        cpu = {
            name: cpu_seconds(proc.pid) - cpu_before[name] for name, proc in (("worker", worker), ("server", server))
        }
        rss_worker = sampler.stop()
        run_id = out.splitlines()[0].split()[1]
        summary = out.splitlines()[-1]
        # The run's own span (first batch taken -> last candidate stored), without command start-up.
        code = (
            f"from inference.models import ModelRun; r = ModelRun.objects.get(pk={run_id}); "
            "print((r.finished_at - r.started_at).total_seconds() if r.started_at and r.finished_at else '')"
        )
        _, _, span = run(["shell", "--no-imports", "-c", code], env)
        lines.append(
            f"{label:10s} run_extraction   {t_run:6.2f} s  {args.n / t_run:8.0f} docs/s  worker peak RSS "
            f"{rss_worker:6.0f} MB   ({summary})"
        )
        span = span.splitlines()[-1] if span else ""
        if span:
            lines.append(
                f"{label:10s}   run started->finished {float(span):6.2f} s  {args.n / float(span):8.0f} docs/s"
            )
        lines.append(
            f"{label:10s}   CPU during the run: worker {cpu['worker']:.1f} s, serve_baseline {cpu['server']:.1f} s "
            f"({os.cpu_count()} CPUs)"
        )

        lines.append(evaluate_line(label, SLUG, run_id, env, tmp))
        if args.predictions_n:
            lines += bench_predictions(label, args.predictions_n, env, tmp)
    finally:
        for child in reversed(children):
            stop_child(child)
        for log in logs:
            log.close()
        with contextlib.suppress(Exception):
            redis.Redis.from_url(args.redis).flushdb()
        if label == "postgresql" and args.keep_db:
            print(f"kept the database {database_url}", file=sys.stderr)
        elif label == "postgresql":
            import psycopg

            with contextlib.suppress(psycopg.Error), psycopg.connect(args.pg, autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {PG_DB}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=20_000, help="ROUGE pairs (default 20,000)")
    parser.add_argument("--n", type=int, default=2_000, help="demo documents to extract (default 2,000)")
    parser.add_argument(
        "--pg",
        default="postgres://postgres@127.0.0.1:5432/postgres",
        help=f"a PostgreSQL server URL; a database {PG_DB} is (re)created there and dropped after",
    )
    parser.add_argument("--sqlite", action="store_true", help="use a fresh SQLite file instead of PostgreSQL")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/12", help="broker; this database is flushed")
    parser.add_argument("--pool", default="threads", choices=("threads", "prefork", "solo"))
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument(
        "--predictions-n",
        type=int,
        default=0,
        help="also evaluate a run of this many imported predictions (no worker; evaluate at scale)",
    )
    parser.add_argument("--keep-db", action="store_true", help=f"keep the PostgreSQL database {PG_DB} (profiling)")
    parser.add_argument("--skip-rouge", action="store_true")
    parser.add_argument("--skip-runs", action="store_true")
    args = parser.parse_args()

    print(machine_line())
    print("command times include the command's start-up (Django, ~0.5 s)")
    lines: list[str] = []
    if not args.skip_rouge:
        print("\n".join(bench_rouge(args.pairs)), flush=True)
    if not args.skip_runs:
        with tempfile.TemporaryDirectory() as tmp:
            lines += bench_runs(args, Path(tmp))
        print("\n".join(lines))


if __name__ == "__main__":
    main()
