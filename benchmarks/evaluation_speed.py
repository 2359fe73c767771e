"""Benchmark: ROUGE + entity F1 of 60,000 documents x 13 categories (issue 5).

Gold values are built from the synthetic demo dataset's category items, mixed per
document (1-4 items, a number added half the time) so most values are distinct, as in
real data; ~20% of gold values are ``N/A``. Predictions are perturbed gold: 35% identical,
40% edited (items dropped/reordered, a word removed or added), 10% another document's
value, 15% ``N/A``.

1. In-process, the real scoring code without a database: ``scoring.run_score`` (ROUGE
   with the per-language tokenizer, the default entity matcher, per-document storage),
   then the summaries (means, 95% bootstrap CIs, per-language/split sections) and the
   per-document dict. Total time, ROUGE pairs/s, peak RSS.
2. The reference loop ``rouge_score.RougeScorer(['rouge1','rouge2','rougeL'],
   use_stemmer=True).score`` on a random sample of the same pairs: pairs/s, the time it
   would take for all pairs, the speed-up, and whether every number is identical.
3. ``--db``: the real ``evaluate`` command on a PostgreSQL database (``import_dataset`` +
   ``import_predictions`` of the same documents, then ``evaluate --json``), its wall time
   and peak RSS. Takes a few minutes for 60,000 documents (the imports dominate).

Target: <= 60 s for all 60,000 documents (ROUGE + entity), >= 10x the reference loop.

    .venv/bin/python benchmarks/evaluation_speed.py [--docs 60000] [--sample 3000] [--seed 0]
        [--db] [--pg postgres://postgres@127.0.0.1:5432/postgres]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import platform
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "elmtex_site.settings")

NA = "N/A"
PG_DB = "bench_evaluation_speed"
TIMES: dict[str, float] = {}
UNITS = ("mg", "mg/dL", "mmol/L", "days", "weeks", "cm", "%", "mmHg", "x10^9/L")
FILLERS = ("noted", "likely", "possible", "mild", "the", "severe", "recurrent", "left", "right")


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


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- data ----------------------------------------------------------------------------------


def _item_pools(seed: int) -> dict[str, list[str]]:
    from annotation.demo import generate_demo_records

    english, _ = generate_demo_records(1500, seed=seed, german_share=0.0)
    pools: dict[str, set[str]] = {}
    for record in english:
        for key, value in record["summary"].items():
            if value != NA:
                pools.setdefault(key, set()).update(i.strip() for i in value.split(";") if i.strip())
    return {key: sorted(items) for key, items in pools.items()}


def _edit(value: str, rng: random.Random) -> str:
    items = [item for item in value.split("; ") if item]
    if len(items) > 1 and rng.random() < 0.5:
        items = rng.sample(items, rng.randint(1, len(items)))
    words = "; ".join(items).split(" ")
    if len(words) > 2 and rng.random() < 0.5:
        del words[rng.randrange(len(words))]
    if rng.random() < 0.4:
        words.insert(rng.randrange(len(words) + 1), rng.choice(FILLERS))
    return " ".join(words)


def make_documents(n: int, seed: int) -> tuple[list[str], list[dict], list[dict]]:
    """(keys, gold summaries, predictions) for n documents."""
    from annotation.schema import ELMTEX_KEYS

    rng = random.Random(seed)
    pools = _item_pools(seed)
    keys = list(ELMTEX_KEYS)
    golds, preds = [], []
    for _ in range(n):
        gold = {}
        for key in keys:
            pool = pools.get(key) or ["unknown"]
            if key in ("age", "gender"):
                gold[key] = rng.choice(pool)
            elif rng.random() < 0.2:
                gold[key] = NA
            else:
                items = rng.sample(pool, min(len(pool), rng.randint(1, 4)))
                if rng.random() < 0.5:
                    i = rng.randrange(len(items))
                    items[i] = f"{items[i]} {rng.randint(1, 400)} {rng.choice(UNITS)}"
                gold[key] = "; ".join(items)
        golds.append(gold)
    for gold in golds:
        pred = {}
        for key, value in gold.items():
            roll = rng.random()
            if roll < 0.35 or value == NA and roll < 0.8:
                pred[key] = value
            elif roll < 0.75:
                pred[key] = _edit(value, rng) if value != NA else rng.choice(pools.get(key) or [NA])
            elif roll < 0.85:
                pred[key] = rng.choice(golds)[key]
            else:
                pred[key] = NA
        preds.append(pred)
    return keys, golds, preds


# --- 1. in process ---------------------------------------------------------------------------


def bench_in_process(golds: list[dict], preds: list[dict]) -> tuple[list[str], list[tuple[str, str]]]:
    import django

    django.setup()
    from annotation.schema import ELMTEX_CATEGORIES
    from evaluation.metrics.entities import matcher_get
    from evaluation.metrics.tokenize import LanguageRouge
    from evaluation.selectors import EvalCategory, EvalRow
    from evaluation.services import scoring

    categories = [EvalCategory(c.key, c.label, c.entity_metrics) for c in ELMTEX_CATEGORIES if c.text_metrics]
    rows = (
        EvalRow(i + 1, "en", "ok", pred, gold, 1, "test")
        for i, (gold, pred) in enumerate(zip(golds, preds, strict=True))
    )
    rss_before = peak_rss_mb()
    t0, c0 = time.perf_counter(), time.process_time()
    scores = scoring.run_score(
        rows, categories=categories, rouge=LanguageRouge(), matcher=matcher_get("default"), policy=scoring.Policy()
    )
    t_score, c_score = time.perf_counter() - t0, time.process_time() - c0
    t1, c1 = time.perf_counter(), time.process_time()
    whole = scoring.summary_blocks(scores, categories)
    scoring.breakdown(scores, categories, by="language", whole=whole)
    t_summary, c_summary = time.perf_counter() - t1, time.process_time() - c1
    t2 = time.perf_counter()
    docs = scoring.per_document(scores)
    t_docs = time.perf_counter() - t2
    total, cpu = time.perf_counter() - t0, time.process_time() - c0
    TIMES.update(total=total, cpu=cpu)
    n_rouge = sum(len(b.doc_ids) for b in scores.categories.values())
    n_entity = sum(len(b.values.get("entity_f1", ())) for b in scores.categories.values())
    pairs = [
        (pred[c.key], gold[c.key])
        for gold, pred in zip(golds, preds, strict=True)
        for c in categories
        if gold[c.key] != NA
    ]
    lines = [
        f"documents {len(golds)}, categories {len(categories)}: ROUGE pairs {n_rouge} (gold not N/A), "
        f"entity pairs {n_entity}, distinct gold values {len({p[1] for p in pairs})}",
        f"in-process run_score (ROUGE + entity)  {t_score:7.2f} s wall ({c_score:.2f} s CPU)  "
        f"{n_rouge / t_score:9.0f} ROUGE pairs/s ({n_rouge / c_score:.0f} per CPU second)",
        f"  summaries (means, 95% bootstrap CIs x {len(categories)} categories) {t_summary:6.2f} s wall "
        f"({c_summary:.2f} s CPU); per-document dict ({len(docs)} documents) {t_docs:5.2f} s",
        f"  total {total:7.2f} s wall ({cpu:.2f} s CPU) for {len(golds)} documents (target <= 60 s); "
        f"peak RSS {peak_rss_mb():.0f} MB (before scoring {rss_before:.0f} MB, incl. the generated data)",
        f"  overall rougeL {whole[1]['rougeL']:.4f}, entity_f1 {whole[1]['entity_f1']:.4f}",
    ]
    return lines, pairs


# --- 2. reference loop -----------------------------------------------------------------------


def bench_reference(
    pairs: list[tuple[str, str]], sample: int, seed: int, ours_total: float, ours_cpu: float
) -> list[str]:
    from rouge_score import rouge_scorer

    from evaluation.metrics.entities import matcher_get
    from evaluation.metrics.rouge import RougeCalculator

    chosen = random.Random(seed).sample(pairs, min(sample, len(pairs)))
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=True)
    t0, c0 = time.perf_counter(), time.process_time()
    expected = [scorer.score(target=gold, prediction=pred) for pred, gold in chosen]
    t_ref, c_ref = time.perf_counter() - t0, time.process_time() - c0
    calc = RougeCalculator()
    t1 = time.perf_counter()
    ours = [calc.score(pred, gold) for pred, gold in chosen]
    t_ours = time.perf_counter() - t1
    matcher = matcher_get("default")
    t2 = time.perf_counter()
    for pred, gold in chosen:
        matcher.score(pred, gold)
    t_entity = time.perf_counter() - t2
    identical = all(
        tuple(getattr(o, name)) == tuple(e[name])
        for o, e in zip(ours, expected, strict=True)
        for name in ("rouge1", "rouge2", "rougeL")
    )
    ref_rate, ref_cpu_rate = len(chosen) / t_ref, len(chosen) / c_ref
    ref_all, ref_cpu_all = len(pairs) / ref_rate, len(pairs) / ref_cpu_rate
    return [
        f"reference RougeScorer.score loop on a sample of {len(chosen)} pairs: {ref_rate:8.0f} pairs/s wall, "
        f"{ref_cpu_rate:.0f} per CPU second -> {ref_all:7.1f} s wall ({ref_cpu_all:.1f} s CPU) for all "
        f"{len(pairs)} ROUGE pairs (ROUGE only)",
        f"ours on the same sample (cold caches): ROUGE {len(chosen) / t_ours:8.0f} pairs/s, "
        f"entity matcher {len(chosen) / t_entity:8.0f} pairs/s; identical to rouge-score: "
        f"{'yes' if identical else 'NO'}",
        f"speed-up of the whole in-process evaluation (ROUGE + entity + summaries) over the reference ROUGE loop: "
        f"{ref_all / ours_total:5.1f}x wall, {ref_cpu_all / ours_cpu:5.1f}x CPU time (target >= 10x)",
    ]


# --- 3. the evaluate command on PostgreSQL ---------------------------------------------------------


def _run(args: list[str], env: dict) -> tuple[float, float, str]:
    """A manage.py command: (seconds, the child's peak RSS in MB, stdout)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    out, err = proc.communicate()
    _, status, usage = os.wait4(proc.pid, 0) if proc.returncode is None else (0, 0, None)
    seconds = time.perf_counter() - t0
    if proc.returncode:
        raise SystemExit(f"{' '.join(args[:2])} failed ({proc.returncode}): {err.decode()[-2000:]}")
    rss = usage.ru_maxrss / 1024 if usage else resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return seconds, rss, out.decode()


def bench_db(golds: list[dict], preds: list[dict], server_url: str) -> list[str]:
    import psycopg

    with psycopg.connect(server_url, autocommit=True, connect_timeout=3) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {PG_DB}")
        conn.execute(f"CREATE DATABASE {PG_DB}")
    env = dict(
        os.environ,
        DATABASE_URL=f"{server_url.rsplit('/', 1)[0]}/{PG_DB}",
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY="bench",
        ELMTEX_AUTO_MIGRATE="0",
    )
    lines = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            _run(["migrate", "--noinput"], env)
            _run(["create_project", "bench", "--name", "Benchmark", "--schema", "elmtex"], env)
            records = [{"patient_id": f"p{i:06d}", "report": f"case {i}", "summary": g} for i, g in enumerate(golds)]
            (folder / "en.json").write_text(json.dumps(records), encoding="utf-8")
            t_import, _, _ = _run(["import_dataset", "bench", str(folder / "en.json"), "--split", "test"], env)
            with open(folder / "pred.jsonl", "w", encoding="utf-8") as fh:
                for i, pred in enumerate(preds):
                    fh.write(json.dumps({"patient_id": f"p{i:06d}", "model_prediction": pred}) + "\n")
            t_pred, _, _ = _run(["import_predictions", "bench", str(folder / "pred.jsonl"), "--run-name", "m"], env)
            lines.append(f"postgresql import_dataset {t_import:.1f} s, import_predictions {t_pred:.1f} s")
            t_eval, rss, _ = _run(["evaluate", "bench", "--run", "m", "--json", str(folder / "r.json")], env)
            results = json.loads((folder / "r.json").read_text(encoding="utf-8"))
            pairs = sum(c["n"] for c in results["categories"].values())
            lines.append(
                f"postgresql evaluate --json (whole command: read, score, CIs, store) {t_eval:7.2f} s  "
                f"{pairs / t_eval:8.0f} ROUGE pairs/s  peak RSS {rss:.0f} MB  "
                f"({results['config']['documents']['scored']} documents, {pairs} pairs)"
            )
    finally:
        with contextlib.suppress(psycopg.Error), psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {PG_DB}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=60_000)
    parser.add_argument("--sample", type=int, default=3_000, help="pairs for the reference loop (default 3,000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--db", action="store_true", help="also run import + evaluate on PostgreSQL")
    parser.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()

    print(machine_line(), flush=True)
    t0 = time.perf_counter()
    _, golds, preds = make_documents(args.docs, args.seed)
    print(f"generated {args.docs} documents in {time.perf_counter() - t0:.1f} s", flush=True)
    lines, pairs = bench_in_process(golds, preds)
    print("\n".join(lines), flush=True)
    total, cpu = TIMES["total"], TIMES["cpu"]
    print("\n".join(bench_reference(pairs, args.sample, args.seed, total, cpu)), flush=True)
    if args.db:
        print("\n".join(bench_db(golds, preds, args.pg)), flush=True)


if __name__ == "__main__":
    main()
