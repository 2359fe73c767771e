"""Benchmark: Krippendorff's alpha memory and time, ours against the ``krippendorff`` package.

The package builds a units x values x values array: with 101 distinct values and
100,000 units that is ~8 GB per copy (24 GB measured). Ours accumulates the values x values
coincidence matrix over blocks of units, so memory is the data plus a bounded block.

    .venv/bin/python benchmarks/agreement_memory.py [--units 100000] [--values 101] [--coders 3]
        [--package-units 2000]

Prints, per level of measurement: seconds, tracemalloc peak and RSS growth (ours, all
units); then the package on ``--package-units`` units (same data, a slice), where its
memory already shows, and the largest difference between the two. Not part of the tests.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def rss_mb() -> float:
    """Current resident set size (Linux /proc), in MB."""
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:  # pragma: no cover - not Linux
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(function):
    tracemalloc.start()
    before = rss_mb()
    start = time.perf_counter()
    value = function()
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return value, seconds, peak, max(rss_mb() - before, 0.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--units", type=int, default=100_000)
    parser.add_argument("--values", type=int, default=101)
    parser.add_argument("--coders", type=int, default=3)
    parser.add_argument("--missing", type=float, default=0.2, help="share of missing ratings")
    parser.add_argument(
        "--package-units", type=int, default=2000, help="units given to the krippendorff package (0: skip it)"
    )
    args = parser.parse_args()

    from importlib.metadata import version

    import krippendorff
    import numpy as np

    from evaluation.metrics.agreement import LEVELS, krippendorff_alpha

    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"numpy {np.__version__}, krippendorff {version('krippendorff')}"
    )
    rng = np.random.default_rng(0)
    data = rng.integers(0, args.values, (args.coders, args.units)).astype(float)
    data[:, ::4] = data[0, ::4]  # a quarter of the units agree fully
    data[rng.random(data.shape) < args.missing] = np.nan
    print(
        f"data: {args.coders} coders x {args.units} units, {args.values} values, {args.missing:.0%} missing "
        f"({data.nbytes / 2**20:.1f} MB)"
    )
    print(f"\nours, all {args.units} units:")
    for level in LEVELS:
        value, seconds, peak, rss = measure(lambda level=level: krippendorff_alpha(data, level=level))
        print(f"  {level:9s} alpha {value:.6f}  {seconds:6.2f} s  tracemalloc peak {peak:7.1f} MB  RSS +{rss:.1f} MB")

    if not args.package_units:
        print(
            f"\npeak RSS of this process (ours only): {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB"
        )
        return
    part = data[:, : args.package_units]
    cells = args.package_units * args.values * args.values * 8 / 2**20
    print(f"\nkrippendorff package, first {args.package_units} units (units x values^2 = {cells:.0f} MB per array):")
    worst = 0.0
    for level in LEVELS:
        value, seconds, peak, rss = measure(lambda level=level: krippendorff.alpha(part, level_of_measurement=level))
        ours = krippendorff_alpha(part, level=level)
        worst = max(worst, abs(ours - value))
        print(f"  {level:9s} alpha {value:.6f}  {seconds:6.2f} s  tracemalloc peak {peak:7.1f} MB  RSS +{rss:.1f} MB")
    print(f"  largest difference ours - package: {worst:.2e}")
    scale = args.units / args.package_units
    print(f"\npeak RSS of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    print(f"package memory grows linearly in units x values^2: ~{scale:.0f}x the peak above for {args.units} units")


if __name__ == "__main__":
    main()
