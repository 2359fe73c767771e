"""Benchmark: import 60,000 ELMTEX-shaped records into PostgreSQL and SQLite, export JSONL.

Prints wall time, docs/s and the peak RSS of each command (the real `manage.py`
commands, run as child processes). Not part of the test run.

    .venv/bin/python benchmarks/import_export.py [--n 60000] [--pg postgres://postgres@127.0.0.1:5432/postgres]

Targets (2-core machine): import into PostgreSQL <= 10 s, export <= 5 s, peak RSS <= 500 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from annotation.schema import ELMTEX_KEYS  # noqa: E402

WORDS = (
    "patient presented with fever cough dyspnea chest pain abdominal tenderness history of "
    "hypertension diabetes mellitus computed tomography revealed mass biopsy showed granulomas "
    "treated with amoxicillin 500 mg twice daily follow-up after weeks discharged in good "
    "condition laboratory hemoglobin g/dL CRP mg/L elevated normal range myocardial infarction "
    "pneumonia appendectomy performed recovery uneventful smoker alcohol mother father sister"
).split()


def make_records(n: int, seed: int = 0):
    rng = random.Random(seed)
    for i in range(n):
        words = rng.choices(WORDS, k=318)  # reports average ~2.5 kB
        report = " ".join(words).capitalize() + "."
        summary = {}
        for key in ELMTEX_KEYS:
            if rng.random() < 0.3:
                summary[key] = "N/A"
            else:
                summary[key] = "; ".join(" ".join(rng.choices(WORDS, k=3)) for _ in range(rng.randint(1, 3)))
        yield {"patient_id": i + 1, "report": report, "summary": summary, "title": f"Case {i + 1}"}


def write_dataset(path: Path, n: int) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("[\n")
        for i, rec in enumerate(make_records(n)):
            if i:
                fh.write(",\n")
            fh.write(json.dumps(rec, ensure_ascii=False))
        fh.write("\n]\n")


def run(args: list[str], env: dict) -> tuple[float, float, str]:
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
        if proc.returncode != 0:
            raise SystemExit(f"command {' '.join(args)} failed ({proc.returncode}):\n{err.read()[-2000:]}")
        return elapsed, usage.ru_maxrss / 1024, out.read().strip()


def bench_database(label: str, database_url: str, dataset: Path, out_dir: Path, n: int) -> list[str]:
    env = dict(
        os.environ, DATABASE_URL=database_url, DJANGO_DEBUG="0", DJANGO_SECRET_KEY="bench", ELMTEX_AUTO_MIGRATE="0"
    )
    run(["migrate", "--noinput"], env)
    run(["create_project", "bench", "--name", "Benchmark"], env)
    t_import, rss_import, line = run(["import_dataset", "bench", str(dataset)], env)
    t_again, rss_again, line_again = run(["import_dataset", "bench", str(dataset)], env)
    export = out_dir / f"export-{label}.jsonl"
    t_export, rss_export, _ = run(["export_gold", "bench", "--out", str(export)], env)
    with open(export, encoding="utf-8") as fh:
        exported = sum(1 for _ in fh)
    assert exported == n, f"exported {exported} of {n}"
    return [
        f"{label:10s} import          {t_import:6.2f} s  {n / t_import:8.0f} docs/s  peak RSS {rss_import:6.0f} MB   ({line})",
        f"{label:10s} re-import       {t_again:6.2f} s  {n / t_again:8.0f} docs/s  peak RSS {rss_again:6.0f} MB   ({line_again})",
        f"{label:10s} export jsonl    {t_export:6.2f} s  {n / t_export:8.0f} docs/s  peak RSS {rss_export:6.0f} MB",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=60_000)
    parser.add_argument(
        "--pg",
        default="postgres://postgres@127.0.0.1:5432/postgres",
        help="a PostgreSQL server URL; a database elmtex_bench is (re)created there",
    )
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--write-only", metavar="PATH", help="only write the dataset to PATH (for profiling)")
    args = parser.parse_args()

    import psycopg

    with tempfile.TemporaryDirectory() as tmp:
        tmp_dir = Path(tmp)
        dataset = tmp_dir / "bench.json"
        t0 = time.perf_counter()
        write_dataset(dataset, args.n)
        size_mb = dataset.stat().st_size / 1e6
        sample = [r["report"] for _, r in zip(range(2000), make_records(2000), strict=False)]
        report_kb = sum(len(t.encode()) for t in sample) / len(sample) / 1000
        print(
            f"machine: {platform.node()} {platform.machine()} {os.cpu_count()} CPUs, "
            f"Python {platform.python_version()}, {platform.system()} {platform.release()}"
        )
        print(
            f"dataset: {args.n} records, {size_mb:.0f} MB (~{size_mb * 1e6 / args.n / 1000:.1f} kB/record, "
            f"reports ~{report_kb:.1f} kB), written in {time.perf_counter() - t0:.1f} s"
        )
        print("times include the command's start-up (Django, ~0.5 s)")

        if args.write_only:
            shutil.copy(dataset, args.write_only)
            return
        with psycopg.connect(args.pg, autocommit=True) as conn:
            conn.execute("DROP DATABASE IF EXISTS elmtex_bench")
            conn.execute("CREATE DATABASE elmtex_bench")
        base = args.pg.rsplit("/", 1)[0]
        lines = bench_database("postgresql", f"{base}/elmtex_bench", dataset, tmp_dir, args.n)
        with psycopg.connect(args.pg, autocommit=True) as conn:
            conn.execute("DROP DATABASE IF EXISTS elmtex_bench")
        if not args.skip_sqlite:
            lines += bench_database("sqlite", f"sqlite:///{tmp_dir / 'bench.sqlite3'}", dataset, tmp_dir, args.n)
        print("\n".join(lines))


if __name__ == "__main__":
    main()
