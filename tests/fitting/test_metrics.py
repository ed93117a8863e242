import numpy as np
import pytest
from scipy import stats

from neuralign.fitting.metrics import (
    ceiled_score,
    pearson_columns,
    percentile_ci,
    spearman_brown,
    split_half_ceiling,
    split_halves,
)


def test_pearson_columns_matches_scipy():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(50, 7)), rng.normal(size=(50, 7))
    b[:, 2] += a[:, 2]
    expected = [stats.pearsonr(a[:, j], b[:, j])[0] for j in range(7)]
    np.testing.assert_allclose(pearson_columns(a, b), expected, atol=1e-12)


def test_pearson_columns_leaves_out_nan_rows_per_column():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(30, 2)), rng.normal(size=(30, 2))
    a[[3, 7], 0] = np.nan
    keep = np.isfinite(a[:, 0])
    assert pearson_columns(a, b)[0] == pytest.approx(stats.pearsonr(a[keep, 0], b[keep, 0])[0])
    assert pearson_columns(a, b)[1] == pytest.approx(stats.pearsonr(a[:, 1], b[:, 1])[0])


def test_spearman_brown():
    assert spearman_brown(np.array(0.5)) == pytest.approx(2 / 3)
    assert spearman_brown(np.array(0.5), factor=3) == pytest.approx(0.75)


def test_split_half_ceiling_equals_direct_computation():
    rng = np.random.default_rng(2)
    responses = rng.poisson(rng.uniform(1, 6, size=(40, 5, 1)), size=(40, 5, 8)).astype(float)
    responses[3, 1, 5] = np.nan
    got = split_half_ceiling(responses, n_splits=4, seed=7)["ceiling"]
    rs = []
    for perm in split_halves(8, 4, 7):
        first = np.nanmean(responses[:, :, perm[:4]], axis=2)
        second = np.nanmean(responses[:, :, perm[4:]], axis=2)
        rs.append([stats.pearsonr(first[:, j], second[:, j])[0] for j in range(5)])
    r = np.mean(rs, axis=0)
    np.testing.assert_allclose(got, 2 * r / (1 + r), atol=1e-12)


def test_ceiled_score_formulas():
    assert ceiled_score(0.4, 0.8, "r/c") == pytest.approx(0.5)
    assert ceiled_score(0.4, 0.8, "(r/c)^2") == pytest.approx(0.25)
    assert ceiled_score(0.4, 0.8, "r^2/c") == pytest.approx(0.2)
    with pytest.raises(ValueError, match="r/c"):
        ceiled_score(0.4, 0.8, "r/sqrt(c)")


def test_percentile_ci():
    low, high = percentile_ci(np.arange(1001.0))
    np.testing.assert_allclose([low, high], [25.0, 975.0])


def test_split_halves_needs_two_repetitions():
    with pytest.raises(ValueError, match="at least 2 repetitions"):
        split_halves(1, 3, 0)
