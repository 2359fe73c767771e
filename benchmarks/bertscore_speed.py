"""Benchmark: BERTScore pairs/s with the offline model (or --model), CPU or GPU.

Pairs are like an evaluation's: synthetic demo documents (``generate_demo_records``),
one pair per document x text category, gold ``N/A`` included (the paper's BERTScore
pairs), predictions a model-like variant of the gold (35 % exact copy, 35 % edited, 20 %
another document's value, 10 % ``N/A``), so strings and pairs repeat as in real runs.

1. bert-score called directly (``bert_score.score``) on a sample (``--reference-pairs``):
   pairs/s, and the largest difference from ours on that sample (must be <= 1e-6).
2. Ours, pure (``evaluation.metrics.bertscore.pairs_score``, no database): pairs/s.
3. With ``--db``: ``bertscore_pairs_score`` through the cache, cold (these pairs' cache
   rows deleted first) then warm (second evaluation: 0 new pairs); the rows it wrote are
   deleted afterwards unless ``--keep-cache``. Uses DATABASE_URL like the project.

    .venv/bin/python benchmarks/bertscore_speed.py --pairs 2000 [--model default|PATH|ID]
        [--batch-size 64] [--device cpu|cuda] [--reference-pairs 300] [--db]

Not part of the test run; prints the machine (CPUs, torch threads, GPU card).
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "elmtex_site.settings")

NA = "N/A"
NOT_TEXT = {"age", "gender"}
FILLERS = ("noted", "likely", "possible", "mild", "the", "history of")


def _edit(value: str, rng: random.Random) -> str:
    items = [item for item in value.split("; ") if item]
    if len(items) > 1 and rng.random() < 0.5:
        items = rng.sample(items, rng.randint(1, len(items)))
    words = "; ".join(items).split(" ")
    if len(words) > 2 and rng.random() < 0.5:
        del words[rng.randrange(len(words))]
    if rng.random() < 0.3:
        words.insert(rng.randrange(len(words) + 1), rng.choice(FILLERS))
    return " ".join(words)


def make_pairs(n: int, seed: int = 0) -> list[tuple[str, str]]:
    """About ``n`` (prediction, gold) pairs: whole documents x text categories."""
    from annotation.demo import generate_demo_records

    rng = random.Random(seed)
    english, german = generate_demo_records(max(20, n // 12), seed=seed)
    records = english + german
    keys = sorted(k for k in records[0]["summary"] if k not in NOT_TEXT)
    pairs = []
    for record in records:
        for key in keys:
            gold = record["summary"].get(key) or NA
            gold = gold if isinstance(gold, str) else str(gold)
            roll = rng.random()
            if roll < 0.35 or gold == NA and roll < 0.8:
                pred = gold
            elif roll < 0.7:
                pred = _edit(gold, rng)
            elif roll < 0.9:
                pred = str(rng.choice(records)["summary"].get(key) or NA)
            else:
                pred = NA
            pairs.append((pred, gold))
            if len(pairs) == n:
                return pairs
    return pairs


def machine_lines(device: str) -> list[str]:
    import torch

    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            cpu = next((ln.split(":", 1)[1].strip() for ln in fh if ln.startswith("model name")), cpu)
    except OSError:
        pass
    lines = [
        f"machine: {os.cpu_count()} CPUs ({cpu}), {platform.machine()}, Python {platform.python_version()}",
        f"torch {torch.__version__}: {torch.get_num_threads()} threads; device {device}; "
        f"load average {os.getloadavg()[0]:.1f} (other processes share the CPUs when > 0)",
    ]
    if torch.cuda.is_available():
        lines.append(f"gpu: {torch.cuda.get_device_name(0)} (cuda {torch.version.cuda})")
    return lines


def rate(n: int, seconds: float) -> str:
    return f"{seconds:8.2f} s {n / seconds:9.1f} pairs/s" if seconds > 0 else "   0 s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pairs", type=int, default=2000)
    parser.add_argument("--model", default="default")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--device", default=None)
    parser.add_argument("--reference-pairs", type=int, default=300)
    parser.add_argument("--db", action="store_true", help="also time the cache (cold, warm)")
    parser.add_argument("--keep-cache", action="store_true")
    args = parser.parse_args()

    import django

    if not args.db:
        os.environ.setdefault("DATABASE_URL", "sqlite:///:memory:")  # resolving needs settings only
    django.setup()
    import bert_score
    import torch

    from evaluation.metrics import bertscore as metric
    from evaluation.services import bertscore as service

    config = service.bertscore_config_resolve(model=args.model, batch_size=args.batch_size, device=args.device)
    device = metric.device_choose(config.device)
    pairs = make_pairs(args.pairs)
    print("\n".join(machine_lines(device)))
    print(f"model {config.model} ({config.source}), L{config.num_layers}, rescaled: {config.rescale_applied}")
    distinct_pairs = len(set(pairs))
    strings = {t for p in pairs for t in p}
    print(
        f"{len(pairs)} pairs ({distinct_pairs} distinct), {len(strings)} distinct strings, "
        f"mean {sum(len(t) for t in strings) / len(strings):.0f} chars"
    )

    start = time.perf_counter()
    scorer = metric.scorer_load(model_dir=config.model_dir, num_layers=config.num_layers, device=device)
    print(f"model load          {time.perf_counter() - start:8.2f} s")

    sample = [p for p in pairs if p[0].strip() and p[1].strip()][: args.reference_pairs]
    cands, refs = [p for p, _ in sample], [r for _, r in sample]
    start = time.perf_counter()
    p, r, f = bert_score.score(
        cands,
        refs,
        model_type=config.model_dir,
        num_layers=config.num_layers,
        idf=False,
        batch_size=args.batch_size,
        device=device,
    )
    t_ref = time.perf_counter() - start
    ours_sample = torch.tensor(metric.pairs_score(scorer, sample, batch_size=args.batch_size))
    diff = (ours_sample - torch.stack((p, r, f), dim=-1)).abs().max().item()
    print(f"bert_score.score    {rate(len(sample), t_ref)}  (sample of {len(sample)}, incl. its model load)")
    print(f"largest difference ours vs bert-score on the sample: {diff:.2e} (must be <= 1e-6)")

    start = time.perf_counter()
    metric.pairs_score(scorer, pairs, batch_size=args.batch_size)
    print(f"ours, pure          {rate(len(pairs), time.perf_counter() - start)}")

    if args.db:
        from evaluation.models import BertScoreCache

        keys = list({service.pair_key(a, b) for a, b in pairs})
        rows = BertScoreCache.objects.filter(scorer_key=config.scorer_key)
        for i in range(0, len(keys), 2000):
            rows.filter(pair_key__in=keys[i : i + 2000]).delete()
        for label in ("cold", "warm"):
            start = time.perf_counter()
            result = service.bertscore_pairs_score(pairs=pairs, config=config)
            print(
                f"cache {label:13} {rate(len(pairs), time.perf_counter() - start)}  "
                f"(new {result.new_pairs}, cached {result.cached_pairs})"
            )
        if not args.keep_cache:
            for i in range(0, len(keys), 2000):
                rows.filter(pair_key__in=keys[i : i + 2000]).delete()


if __name__ == "__main__":
    main()
