"""Bootstrap confidence intervals and paired tests."""

import numpy as np
import pytest
from scipy import stats as scipy_stats

from evaluation.metrics.stats import (
    bootstrap_ci,
    bootstrap_cis,
    mean,
    paired_bootstrap_p,
    paired_compare,
    wilcoxon_p,
)


def sample(n=200, seed=0, shift=0.0):
    return list(np.clip(np.random.default_rng(seed).normal(0.5 + shift, 0.2, n), 0, 1))


def test_ci_contains_the_mean_and_narrows_with_more_documents():
    small, large = sample(30), sample(3000)
    lo, hi = bootstrap_ci(small)
    assert lo < mean(small) < hi
    lo2, hi2 = bootstrap_ci(large)
    assert lo2 < mean(large) < hi2
    assert hi2 - lo2 < hi - lo


def test_ci_is_deterministic_and_depends_on_the_seed():
    values = sample(100)
    assert bootstrap_ci(values) == bootstrap_ci(values)
    assert bootstrap_ci(values, seed=1) != bootstrap_ci(values, seed=2)


def test_ci_edge_cases():
    assert bootstrap_ci([]) is None
    assert bootstrap_ci([0.25]) == (0.25, 0.25)
    assert bootstrap_ci([0.0, 0.0, 0.0]) == (0.0, 0.0)


def test_ci_of_several_columns_equal_to_one_at_a_time():
    # Columns share the resampled documents; each interval is that of its column alone.
    a, b = sample(120, 1), sample(120, 2)
    together = bootstrap_cis([a, b])
    for pair, alone in zip(together, [bootstrap_ci(a), bootstrap_ci(b)], strict=True):
        assert pair == pytest.approx(alone, rel=1e-12)


def test_ci_with_more_documents_than_one_chunk(monkeypatch):
    import evaluation.metrics.stats as stats_module

    values = sample(500)
    whole = bootstrap_ci(values)
    monkeypatch.setattr(stats_module, "CHUNK_CELLS", 1000)  # two resamples per chunk
    assert bootstrap_ci(values) == whole


def test_mean_is_exactly_rounded():
    assert sum([0.1] * 10) / 10 != 0.1  # a plain sum drifts
    assert mean([0.1] * 10) == 0.1
    assert mean([]) is None


def test_wilcoxon_equals_scipy():
    a, b = sample(50, 1), sample(50, 2, shift=0.1)
    assert wilcoxon_p(a, b) == scipy_stats.wilcoxon(a, b).pvalue
    small_a, small_b = [0.1, 0.5, 0.9, 0.3], [0.2, 0.4, 0.6, 0.35]
    assert wilcoxon_p(small_a, small_b) == scipy_stats.wilcoxon(small_a, small_b).pvalue


def test_wilcoxon_undefined_is_null():
    assert wilcoxon_p([0.5, 0.2], [0.5, 0.2]) is None  # every difference zero
    assert wilcoxon_p([], []) is None


def test_paired_bootstrap_p():
    a = sample(300, 1)
    better = [min(1.0, x + 0.1) for x in a]
    assert paired_bootstrap_p(better, a) < 0.01
    noise = sample(300, 2)
    assert paired_bootstrap_p(noise, sample(300, 3)) > 0.05
    assert paired_bootstrap_p(a, a) == 1.0
    assert paired_bootstrap_p([], []) is None
    assert paired_bootstrap_p(better, a) == paired_bootstrap_p(better, a)


def test_paired_compare():
    a, b = [0.5, 0.75, 1.0], [0.25, 0.5, 0.75]
    result = paired_compare(a, b)
    assert result["delta"] == pytest.approx(0.25)
    assert result["n"] == 3
    assert 0 < result["p_bootstrap"] <= 1
    assert result["p_wilcoxon"] == scipy_stats.wilcoxon(a, b).pvalue
    assert paired_compare([], []) == {"delta": None, "p_bootstrap": None, "p_wilcoxon": None, "n": 0}
    with pytest.raises(ValueError):
        paired_compare([0.1], [])


@pytest.mark.parametrize(("n", "seed"), [(7, 1), (200, 2), (3000, 3)])
def test_ci_equals_scipy_percentile_bootstrap(n, seed):
    # Same generator, seed and resampling: scipy.stats.bootstrap(method="percentile") gives
    # the same interval (to rounding: it sums the resamples in another order).
    values = sample(n, seed)
    ours = bootstrap_ci(values)
    reference = scipy_stats.bootstrap(
        (np.asarray(values),),
        np.mean,
        n_resamples=1000,
        method="percentile",
        confidence_level=0.95,
        rng=np.random.default_rng(1234),
    ).confidence_interval
    assert ours == pytest.approx((reference.low, reference.high), rel=1e-12, abs=1e-15)


def test_paired_tests_on_fixed_data_against_scipy():
    a = [0.61, 0.42, 0.77, 0.35, 0.58, 0.91, 0.44, 0.63, 0.52, 0.70, 0.39, 0.81]
    b = [0.55, 0.40, 0.70, 0.36, 0.49, 0.85, 0.41, 0.60, 0.50, 0.61, 0.40, 0.72]
    result = paired_compare(a, b)
    assert result["p_wilcoxon"] == scipy_stats.wilcoxon(a, b).pvalue
    assert result["delta"] == pytest.approx(np.mean(np.subtract(a, b)))
    assert 0 < result["p_bootstrap"] < 0.05  # b is lower on 10 of 12 documents
