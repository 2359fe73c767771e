"""Agreement statistics equal their reference implementations: sklearn's Cohen's kappa,
statsmodels' Fleiss' kappa, the krippendorff package's alpha; Krippendorff's own worked
example; null (never NaN) where a statistic is undefined; linear memory."""

import math
import tracemalloc
import warnings

import krippendorff
import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss_kappa

from evaluation.metrics import agreement as ag

nan = np.nan

# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section C: 4 coders x 12 units.
KRIPPENDORFF_2011 = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, nan, nan, nan],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, nan, 3],
    [nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, nan],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, nan],
]


@pytest.mark.parametrize(
    ("level", "expected"), [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849), ("ratio", 0.797)]
)
def test_krippendorff_2011_worked_example(level, expected):
    value = ag.krippendorff_alpha(KRIPPENDORFF_2011, level=level)
    assert round(value, 3) == expected
    assert value == pytest.approx(krippendorff.alpha(KRIPPENDORFF_2011, level_of_measurement=level), abs=1e-12)


def test_krippendorff_2011_as_labels_with_an_ordered_domain():
    names = {1: "very low", 2: "low", 3: "mid", 4: "high", 5: "very high"}
    labels = np.array([[None if math.isnan(v) else names[v] for v in row] for row in KRIPPENDORFF_2011], dtype=object)
    assert round(ag.krippendorff_alpha(labels, level="nominal"), 3) == 0.743
    domain = list(names.values())
    assert round(ag.krippendorff_alpha(labels, level="ordinal", value_domain=domain), 3) == 0.815


def _reference_alpha(data, level):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            value = krippendorff.alpha(data, level_of_measurement=level)
    except ValueError:  # one value only, or no unit with two values
        return None
    return value if np.isfinite(value) else None


@pytest.mark.parametrize("level", ag.LEVELS)
def test_krippendorff_alpha_equals_the_package_on_random_data(level):
    rng = np.random.default_rng(20111)
    compared = 0
    for _ in range(300):
        coders, units, n_values = rng.integers(2, 7), rng.integers(1, 40), rng.integers(1, 9)
        domain = np.sort(rng.choice(np.arange(0, 50), n_values, replace=False)).astype(float)
        data = rng.choice(domain, (coders, units))
        data[rng.random(data.shape) < rng.random() * 0.7] = nan
        expected = _reference_alpha(data, level)
        got = ag.krippendorff_alpha(data, level=level)
        if expected is None:
            assert got is None
        else:
            compared += 1
            assert got == pytest.approx(expected, abs=1e-9)
    assert compared > 200


def test_krippendorff_alpha_blocks_do_not_change_the_result():
    rng = np.random.default_rng(3)
    codes = rng.integers(-1, 6, (4, 500)).astype(np.int32)
    whole = ag.coincidence_matrix(codes, 6, block_cells=10**9)
    blocked = ag.coincidence_matrix(codes, 6, block_cells=7)  # one unit per block
    np.testing.assert_allclose(blocked, whole, atol=1e-9)


def test_krippendorff_alpha_is_null_where_undefined():
    assert ag.krippendorff_alpha([[1, 1, 1], [1, 1, 1]], level="nominal") is None  # one value
    assert ag.krippendorff_alpha([[1, nan, 2], [nan, 3, nan]], level="nominal") is None  # nothing pairable
    assert ag.krippendorff_alpha_codes(np.array([[0, 0], [0, 0]]), 1) is None


def test_krippendorff_alpha_linear_memory_101_values_100k_units():
    """The krippendorff package needs units x values^2 floats here (24 GB); this stays small."""
    rng = np.random.default_rng(7)
    data = rng.integers(0, 101, (3, 100_000)).astype(float)
    data[rng.random(data.shape) < 0.2] = nan
    tracemalloc.start()
    try:
        for level in ag.LEVELS:
            value = ag.krippendorff_alpha(data, level=level)
            assert value is not None and abs(value) < 0.05  # random codes: no agreement beyond chance
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 200 * 2**20


def test_krippendorff_alpha_matches_the_package_with_many_values_on_a_slice():
    rng = np.random.default_rng(8)
    data = rng.integers(0, 101, (3, 2000)).astype(float)
    data[:, ::3] = data[0, ::3]  # some agreement
    data[rng.random(data.shape) < 0.2] = nan
    for level in ag.LEVELS:
        assert ag.krippendorff_alpha(data, level=level) == pytest.approx(
            krippendorff.alpha(data, level_of_measurement=level), abs=1e-9
        )


# --- Cohen ------------------------------------------------------------------------------


def test_cohen_kappa_equals_sklearn_on_random_labels():
    rng = np.random.default_rng(1)
    labels = ["correct", "partially_correct", "incorrect", "missing", "hallucinated", "wrong_category"]
    compared = 0
    for _ in range(300):
        n, k = rng.integers(1, 60), rng.integers(1, 7)
        y1 = list(rng.choice(labels[:k], n))
        y2 = [a if rng.random() < 0.6 else rng.choice(labels[:k]) for a in y1]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected = cohen_kappa_score(y1, y2)
        got = ag.cohen_kappa(y1, y2)
        if np.isnan(expected):
            assert got is None
        else:
            compared += 1
            assert got == pytest.approx(expected, abs=1e-12)
    assert compared > 200


def test_cohen_kappa_textbook_example():
    # 50 items, two raters: 20 yes/yes, 5 yes/no, 10 no/yes, 15 no/no -> kappa 0.4 (Wikipedia "Cohen's kappa")
    y1 = ["yes"] * 25 + ["no"] * 25
    y2 = ["yes"] * 20 + ["no"] * 5 + ["yes"] * 10 + ["no"] * 15
    assert ag.cohen_kappa(y1, y2) == pytest.approx(0.4)


def test_cohen_kappa_on_codes_uses_only_items_both_rated():
    a = np.array([0, 1, 2, -1, 1, 0, 2])
    b = np.array([0, 1, 1, 2, -1, 0, 2])
    kappa, n = ag.cohen_kappa_codes(a, b)
    assert n == 5
    assert kappa == pytest.approx(cohen_kappa_score([0, 1, 2, 0, 2], [0, 1, 1, 0, 2]))
    assert ag.cohen_kappa_codes(np.array([0, -1]), np.array([-1, 1])) == (None, 0)
    assert ag.cohen_kappa(["a", "a"], ["a", "a"]) is None  # one label: undefined, not NaN


# --- Fleiss -----------------------------------------------------------------------------


def test_fleiss_kappa_textbook_example():
    # Fleiss (1971) / Wikipedia "Fleiss' kappa": 10 subjects, 14 raters, 5 categories -> 0.210
    table = [
        [0, 0, 0, 0, 14],
        [0, 2, 6, 4, 2],
        [0, 0, 3, 5, 6],
        [0, 3, 9, 2, 0],
        [2, 2, 8, 1, 1],
        [7, 7, 0, 0, 0],
        [3, 2, 6, 3, 0],
        [2, 5, 3, 2, 2],
        [6, 5, 2, 1, 0],
        [0, 2, 2, 3, 7],
    ]
    assert round(ag.fleiss_kappa(table), 3) == 0.210
    assert ag.fleiss_kappa(table) == pytest.approx(sm_fleiss_kappa(table), abs=1e-12)


def test_fleiss_kappa_equals_statsmodels_on_random_tables():
    rng = np.random.default_rng(2)
    compared = 0
    for _ in range(300):
        subjects, raters, categories = rng.integers(1, 30), rng.integers(2, 8), rng.integers(2, 7)
        table = np.array([rng.multinomial(raters, rng.dirichlet(np.ones(categories))) for _ in range(subjects)])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected = sm_fleiss_kappa(table)
        got = ag.fleiss_kappa(table)
        if not np.isfinite(expected):
            assert got is None
        else:
            compared += 1
            assert got == pytest.approx(expected, abs=1e-12)
    assert compared > 200


def test_fleiss_takes_the_items_with_the_most_common_number_of_raters():
    codes = np.array(
        [
            [0, 1, 0, 2, 0, -1],
            [0, 1, 1, 2, -1, 0],
            [-1, 1, 0, -1, -1, -1],
        ]
    )
    # raters per item: 2, 3, 3, 2, 1, 1 -> a tie between 2 and 3: the larger wins
    table, raters, items = ag.fleiss_table_most_common(codes, 3)
    assert (raters, items) == (3, 2)
    assert table.tolist() == [[0, 3, 0], [2, 1, 0]]
    assert ag.fleiss_kappa(np.zeros((0, 3))) is None
    assert ag.fleiss_kappa([[2, 0], [2, 0]]) is None  # one category used: undefined
