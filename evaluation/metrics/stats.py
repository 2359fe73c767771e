"""Uncertainty and significance for per-document scores.

- Confidence interval of a mean: percentile bootstrap, ``BOOTSTRAP_RESAMPLES`` resamples
  of the documents with replacement, numpy ``default_rng(BOOTSTRAP_SEED)``, the 2.5th and
  97.5th percentiles (numpy's default linear interpolation) of the resampled means. Same
  input, same interval.
- Paired comparison of two runs on the same documents: the difference of means, a
  two-sided paired bootstrap p-value (resample the per-document differences, centred on
  zero under the null hypothesis; p = (1 + #{|mean* - mean| >= |mean|}) / (1 + B)), and
  the Wilcoxon signed-rank p-value from ``scipy.stats.wilcoxon`` (two-sided, zero
  differences dropped; null when no difference is left).

Pure: no Django.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import numpy as np

BOOTSTRAP_RESAMPLES = 1000
BOOTSTRAP_SEED = 1234
CONFIDENCE = 0.95
# Resampled index matrices are built in chunks of at most this many cells (memory bound).
CHUNK_CELLS = 2_000_000


def bootstrap_settings() -> dict:
    return {
        "method": "percentile bootstrap over documents",
        "resamples": BOOTSTRAP_RESAMPLES,
        "seed": BOOTSTRAP_SEED,
        "rng": "numpy.random.default_rng",
        "confidence": CONFIDENCE,
    }


def mean(values: Sequence[float]) -> float | None:
    """Exactly rounded mean (``math.fsum``); None for no values."""
    return math.fsum(values) / len(values) if len(values) else None


def _resampled_means(matrix: np.ndarray, *, resamples: int, seed: int) -> np.ndarray:
    """(resamples, k) means of bootstrap resamples of the rows of an (n, k) matrix; the
    same row indices serve every column, so columns keep their pairing.

    Each resample's row indices (``rng.integers(0, n, size=(chunk, n))``, drawn chunk by
    chunk from one generator: the same stream whatever the chunk size) become counts per
    row, and the means are ``sum(counts * values) / n`` (instead of gathering n values per
    resample and column)."""
    n, k = matrix.shape
    rng = np.random.default_rng(seed)
    chunk = max(1, CHUNK_CELLS // n)
    parts = []
    done = 0
    while done < resamples:
        size = min(chunk, resamples - done)
        idx = rng.integers(0, n, size=(size, n))
        idx += np.arange(size, dtype=idx.dtype)[:, None] * n  # row r's indices into a flat (size * n) array
        counts = np.bincount(idx.ravel(), minlength=size * n).reshape(size, n).astype(float)
        # einsum's own loops, not BLAS: each mean's summation order depends on its row
        # only (not on the chunk size, the BLAS build or its threads).
        parts.append(np.einsum("rn,nk->rk", counts, matrix) / n)
        done += size
    return np.concatenate(parts, axis=0)


def bootstrap_cis(
    columns: Sequence[Sequence[float]],
    *,
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
    confidence: float = CONFIDENCE,
) -> list[tuple[float, float] | None]:
    """A confidence interval of the mean for each column (equal lengths: values of the
    same documents). None for every column when there are no values."""
    if not columns or not len(columns[0]):
        return [None] * len(columns)
    matrix = np.asarray(columns, dtype=float).T  # (n, k)
    means = _resampled_means(matrix, resamples=resamples, seed=seed)
    alpha = (1 - confidence) / 2
    lo, hi = np.quantile(means, [alpha, 1 - alpha], axis=0)
    return [(float(a), float(b)) for a, b in zip(lo, hi, strict=True)]


def bootstrap_ci(values: Sequence[float], **kwargs) -> tuple[float, float] | None:
    return bootstrap_cis([values], **kwargs)[0]


def paired_bootstrap_p(
    a: Sequence[float], b: Sequence[float], *, resamples: int = BOOTSTRAP_RESAMPLES, seed: int = BOOTSTRAP_SEED
) -> float | None:
    """Two-sided p-value that mean(a - b) differs from 0 (see the module docstring)."""
    diffs = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    if not len(diffs):
        return None
    observed = float(diffs.mean())
    means = _resampled_means(diffs.reshape(-1, 1), resamples=resamples, seed=seed)[:, 0]
    extreme = int(np.count_nonzero(np.abs(means - observed) >= abs(observed)))
    return (1 + extreme) / (1 + resamples)


def wilcoxon_p(a: Sequence[float], b: Sequence[float]) -> float | None:
    """``scipy.stats.wilcoxon(a, b).pvalue``; None when undefined (no pairs, or every
    difference zero)."""
    diffs = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    if not np.count_nonzero(diffs):
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # small-sample and ties notes; the p-value stands
        try:
            from scipy import stats as scipy_stats  # lazily: the web process needs scipy only here

            p = scipy_stats.wilcoxon(a, b).pvalue
        except ValueError:
            return None
    p = float(p)
    return None if math.isnan(p) else p


def paired_compare(a: Sequence[float], b: Sequence[float], **kwargs) -> dict:
    """``{"delta", "p_bootstrap", "p_wilcoxon", "n"}`` for paired scores (a = this run, b =
    the run compared with); delta = mean(a) - mean(b)."""
    n = len(a)
    if n != len(b):
        raise ValueError("paired scores need the same number of values on both sides")
    if not n:
        return {"delta": None, "p_bootstrap": None, "p_wilcoxon": None, "n": 0}
    return {
        "delta": mean(a) - mean(b),
        "p_bootstrap": paired_bootstrap_p(a, b, **kwargs),
        "p_wilcoxon": wilcoxon_p(a, b),
        "n": n,
    }
