"""Inter-annotator agreement: Cohen's kappa, Fleiss' kappa, Krippendorff's alpha.

Each statistic equals its reference implementation (tests/evaluation/test_agreement_metrics.py):
``sklearn.metrics.cohen_kappa_score``, ``statsmodels.stats.inter_rater.fleiss_kappa`` and
``krippendorff.alpha``, but answers ``None`` where the reference answers NaN, warns or
raises because the statistic is undefined (one category only, fewer than two raters on
any item): a report stored as JSON never holds NaN.

Why not call ``krippendorff.alpha``: it builds a units x values x values array, so memory
grows with units x values^2 (101 values x 100,000 units took 24 GB). Here the coincidence
matrix (values x values) is accumulated over blocks of units, so memory stays linear in
the number of units (the data itself) and flat in the block: the same formulas
(Krippendorff 2011, "Computing Krippendorff's Alpha-Reliability"), the same numbers up
to floating-point summation order.

Pure: numpy only (imported when a function runs: web processes import this module's
names without loading numpy). No Django.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

LEVELS = ("nominal", "ordinal", "interval", "ratio")
# Units per block when accumulating coincidences: a block's value counts hold at most
# this many cells (x 8 bytes, twice), whatever the number of units.
BLOCK_CELLS = 1_000_000


def _finite_or_none(value) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


# --- Cohen's kappa ---------------------------------------------------------------------


def cohen_kappa_from_confusion(confusion) -> float | None:
    """Cohen's kappa of a confusion matrix (rater 1 in rows, rater 2 in columns), the
    arithmetic of ``sklearn.metrics.cohen_kappa_score`` (unweighted). None when
    undefined: no items, or both raters used one and the same label only."""
    import numpy as np

    confusion = np.asarray(confusion, dtype=np.float64)
    n_classes = confusion.shape[0]
    sum0 = confusion.sum(axis=0)
    sum1 = confusion.sum(axis=1)
    total = sum0.sum()
    if total == 0:
        return None
    expected = np.outer(sum0, sum1) / total
    w_mat = np.ones((n_classes, n_classes), dtype=np.float64)
    np.fill_diagonal(w_mat, 0)
    denominator = (w_mat * expected).sum()
    if denominator == 0:
        return None
    return _finite_or_none(1 - (w_mat * confusion).sum() / denominator)


def cohen_kappa(y1: Sequence, y2: Sequence) -> float | None:
    """Cohen's kappa of two raters' labels on the same items (equal length, no missing
    values): ``sklearn.metrics.cohen_kappa_score(y1, y2)``, None where undefined."""
    if len(y1) != len(y2):
        raise ValueError(f"both raters must label the same items: {len(y1)} labels against {len(y2)}")
    import numpy as np

    labels = sorted(set(y1) | set(y2))
    index = {label: i for i, label in enumerate(labels)}
    confusion = np.zeros((len(labels), len(labels)), dtype=np.int64)
    for a, b in zip(y1, y2, strict=True):
        confusion[index[a], index[b]] += 1
    return cohen_kappa_from_confusion(confusion)


def cohen_kappa_codes(a, b) -> tuple[float | None, int]:
    """Cohen's kappa of two rows of integer codes (-1 = not rated) on the items both
    rated, and how many items that is."""
    import numpy as np

    a, b = np.asarray(a), np.asarray(b)
    both = (a >= 0) & (b >= 0)
    n = int(both.sum())
    if n == 0:
        return None, 0
    a, b = a[both].astype(np.int64), b[both].astype(np.int64)
    size = int(max(a.max(), b.max())) + 1
    confusion = np.bincount(a * size + b, minlength=size * size).reshape(size, size)
    return cohen_kappa_from_confusion(confusion), n


# --- Fleiss' kappa ---------------------------------------------------------------------


def fleiss_kappa(table) -> float | None:
    """Fleiss' kappa of a subjects x categories table of counts, every subject rated by
    the same number of raters: ``statsmodels.stats.inter_rater.fleiss_kappa(table)``
    (method "fleiss"). None where undefined: no subjects, fewer than two raters, or all
    ratings in one category."""
    import numpy as np

    table = 1.0 * np.asarray(table)
    if table.ndim != 2 or table.shape[0] == 0:
        return None
    n_sub, _ = table.shape
    n_total = table.sum()
    n_rat = table.sum(1).max()
    if n_total != n_sub * n_rat:
        raise ValueError("every subject must be rated by the same number of raters")
    if n_rat < 2:
        return None
    p_cat = table.sum(0) / n_total
    p_rat = ((table * table).sum(1) - n_rat) / (n_rat * (n_rat - 1.0))
    p_mean = p_rat.mean()
    p_mean_exp = (p_cat * p_cat).sum()
    if p_mean_exp == 1:
        return None
    return _finite_or_none((p_mean - p_mean_exp) / (1 - p_mean_exp))


def fleiss_table_most_common(codes, n_values: int):
    """From a raters x items matrix of integer codes (-1 = not rated): the items rated by
    the most common number of raters (among items with two or more; a tie goes to the
    larger number), as a subjects x categories table. Returns (table, raters, items)."""
    import numpy as np

    codes = np.asarray(codes)
    rated = (codes >= 0).sum(axis=0)
    counts = np.bincount(rated[rated >= 2]) if (rated >= 2).any() else np.zeros(0, dtype=np.int64)
    if counts.sum() == 0:
        return np.zeros((0, n_values)), 0, 0
    raters = int(len(counts) - 1 - np.argmax(counts[::-1]))  # most common; ties -> larger
    chosen = codes[:, rated == raters]
    table = _value_counts(chosen, n_values)
    return table, raters, int(chosen.shape[1])


# --- Krippendorff's alpha --------------------------------------------------------------


def _value_counts(codes, n_values: int):
    """Units x values counts of a raters x units block of codes (-1 = missing)."""
    import numpy as np

    n_units = codes.shape[1]
    mask = codes >= 0
    unit_index = np.broadcast_to(np.arange(n_units), codes.shape)[mask]
    flat = unit_index.astype(np.int64) * n_values + codes[mask].astype(np.int64)
    return np.bincount(flat, minlength=n_units * n_values).reshape(n_units, n_values)


def coincidence_matrix(codes, n_values: int, *, block_cells: int = BLOCK_CELLS):
    """Krippendorff's coincidence matrix o (values x values) of a raters x units matrix
    of integer codes 0..n_values-1 (-1 = missing): o_ck = sum over units u of
    (n_uc n_uk - [c = k] n_uc) / (m_u - 1), units with fewer than two values adding
    nothing. Accumulated over blocks of units, so the extra memory is bounded by
    ``block_cells`` and n_values^2, not by the number of units."""
    import numpy as np

    codes = np.asarray(codes)
    if codes.ndim != 2:
        raise ValueError("expected a raters x units matrix of codes")
    o = np.zeros((n_values, n_values), dtype=np.float64)
    block = max(1, block_cells // max(n_values, 1))
    for start in range(0, codes.shape[1], block):
        counts = _value_counts(codes[:, start : start + block], n_values).astype(np.float64)
        m = counts.sum(axis=1)
        pairable = m >= 2
        if not pairable.any():
            continue
        counts, m = counts[pairable], m[pairable]
        weighted = counts / (m - 1)[:, np.newaxis]
        o += weighted.T @ counts
        o[np.diag_indices(n_values)] -= weighted.sum(axis=0)
    return o


def _distances(values, n_v, level: str):
    """Squared distances delta^2_ck between the (ordered) values, as in ``krippendorff``."""
    import numpy as np

    if level == "nominal":
        return 1.0 - np.eye(len(values))
    if level == "ordinal":
        # (sum of n_g for g from c to k) - (n_c + n_k) / 2, squared; indices are ranks.
        cumulative = np.concatenate(([0.0], np.cumsum(n_v)))
        i = np.arange(len(values))
        lo, hi = np.minimum.outer(i, i), np.maximum.outer(i, i)
        between = cumulative[hi + 1] - cumulative[lo]
        return (between - (n_v[lo] + n_v[hi]) / 2) ** 2
    v = np.asarray(values, dtype=np.float64)
    if level == "interval":
        return np.subtract.outer(v, v) ** 2
    if level == "ratio":
        total = np.add.outer(v, v)
        diff = np.subtract.outer(v, v)
        return np.divide(diff, total, out=np.zeros_like(diff), where=total != 0) ** 2
    raise ValueError(f"unknown level of measurement {level!r}; choose from {', '.join(LEVELS)}")


def alpha_from_coincidences(o, values, *, level: str = "nominal") -> float | None:
    """Alpha = 1 - D_o / D_e from a coincidence matrix over the ordered ``values``.
    None when undefined: no pairable values, or all pairable values alike (D_e = 0)."""
    import numpy as np

    o = np.asarray(o, dtype=np.float64)
    n_v = o.sum(axis=0)
    n = n_v.sum()
    if len(values) <= 1 or n <= 1:
        return None
    e = (np.outer(n_v, n_v) - np.diagflat(n_v)) / (n - 1)
    d = _distances(values, n_v, level)
    expected = (e * d).sum()
    if expected == 0:
        return None
    return _finite_or_none(1 - (o * d).sum() / expected)


def _encode(reliability_data, value_domain, level: str):
    """Raters x units codes (int32, -1 missing) and the ordered value domain."""
    import numpy as np

    data = np.asarray(reliability_data)
    if data.ndim != 2:
        raise ValueError("reliability data must be a raters x units matrix")
    if data.dtype.kind in "iufb":
        data = data.astype(np.float64)
        present = ~np.isnan(data)
    elif data.dtype.kind in "US":
        present = data != "nan"  # np.asarray turns NaN into "nan" in a string array (as krippendorff)
    else:
        present = np.vectorize(lambda x: x is not None and not (isinstance(x, float) and math.isnan(x)), otypes=[bool])(
            data
        )
    seen = np.unique(data[present]) if data.dtype.kind != "O" else np.array(sorted(set(data[present].tolist())))
    if value_domain is None:
        if data.dtype.kind not in "iufb" and level != "nominal":
            raise ValueError("non-numeric values need an ordered value_domain for a level other than nominal")
        domain = seen
    else:
        domain = np.asarray(value_domain)
        if not np.isin(seen, domain).all():
            raise ValueError("the reliability data holds values outside value_domain")
    codes = np.full(data.shape, -1, dtype=np.int32)
    if data.dtype.kind == "O" or value_domain is not None:
        index = {value: i for i, value in enumerate(domain.tolist())}
        rows, cols = np.nonzero(present)
        codes[rows, cols] = [index[v] for v in data[rows, cols].tolist()]
    else:
        codes[present] = np.searchsorted(domain, data[present])
    return codes, domain


def krippendorff_alpha(reliability_data, *, level: str = "interval", value_domain=None) -> float | None:
    """Krippendorff's alpha of a raters x units matrix with missing values (NaN, or None
    in an object array): ``krippendorff.alpha(reliability_data, level_of_measurement=level,
    value_domain=value_domain)``, in memory linear in the units. ``value_domain``: the
    ordered possible values (default: the values present, sorted). None where undefined."""
    if level not in LEVELS:
        raise ValueError(f"unknown level of measurement {level!r}; choose from {', '.join(LEVELS)}")
    codes, domain = _encode(reliability_data, value_domain, level)
    if len(domain) <= 1:
        return None
    o = coincidence_matrix(codes, len(domain))
    return alpha_from_coincidences(o, domain, level=level)


def krippendorff_alpha_codes(codes, n_values: int) -> float | None:
    """Nominal alpha of a raters x units matrix of integer codes (-1 = missing)."""
    if n_values <= 1:
        return None
    o = coincidence_matrix(codes, n_values)
    return alpha_from_coincidences(o, list(range(n_values)), level="nominal")


def pairable_units(codes) -> int:
    """Units with two or more values (those alpha rests on)."""
    import numpy as np

    return int(((np.asarray(codes) >= 0).sum(axis=0) >= 2).sum())
