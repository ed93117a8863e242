import itertools

import numpy as np
import pytest
from scipy import stats
from scipy.spatial.distance import pdist, squareform

from neuralign.fitting.rsa import (
    compare_rdms,
    kendall_tau_a,
    noise_ceiling,
    rdm,
    stimulus_split_scores,
    upper,
)


def test_rdm_is_one_minus_pearson_like_scipy_correlation_distance():
    x = np.random.default_rng(0).normal(size=(12, 30))
    np.testing.assert_allclose(rdm(x), squareform(pdist(x, "correlation")), atol=1e-12)


def test_spearman_comparison_matches_scipy():
    rng = np.random.default_rng(1)
    a, b = rdm(rng.normal(size=(10, 5))), rdm(rng.normal(size=(10, 5)))
    assert compare_rdms(a, b) == pytest.approx(stats.spearmanr(upper(a), upper(b))[0])


def test_kendall_tau_a_against_its_definition_and_scipy():
    rng = np.random.default_rng(2)
    a, b = rng.integers(0, 6, 40).astype(float), rng.integers(0, 6, 40).astype(float)  # ties
    pairs = list(itertools.combinations(range(40), 2))
    direct = sum(np.sign(a[i] - a[j]) * np.sign(b[i] - b[j]) for i, j in pairs) / len(pairs)
    assert kendall_tau_a(a, b) == pytest.approx(direct)
    c, d = rng.normal(size=2500), rng.normal(size=2500)  # no ties: τ-a equals τ-b
    assert kendall_tau_a(c, d) == pytest.approx(stats.kendalltau(c, d)[0], abs=1e-12)
    assert compare_rdms(c, d, "kendall_tau_a") == kendall_tau_a(c, d)
    with pytest.raises(ValueError, match="spearman"):
        compare_rdms(c, d, "pearson")


def test_noise_ceiling_bounds_on_noisy_copies_of_one_rdm():
    rng = np.random.default_rng(3)
    truth = upper(rdm(rng.normal(size=(30, 20))))
    subjects = np.stack([truth + rng.normal(scale=0.05, size=truth.shape) for _ in range(6)])
    low, high = noise_ceiling(subjects)
    assert 0 < low < high <= 1
    means = [compare_rdms(s, truth) for s in subjects]
    assert low <= np.mean(means) <= high + 1e-9  # the true RDM scores within the bounds
    with pytest.raises(ValueError, match="two subject"):
        noise_ceiling(subjects[:1])


def test_layer_chosen_on_one_half_scored_on_the_other():
    rng = np.random.default_rng(4)
    patterns = rng.normal(size=(40, 25))
    target = rdm(patterns + 0.3 * rng.normal(size=patterns.shape))
    layers = {"noise": rdm(rng.normal(size=(40, 25))), "signal": rdm(patterns)}
    out = stimulus_split_scores(layers, target, n_splits=5, seed=0)
    assert (out["chosen"] == 1).all()
    assert out["per_layer"].shape == (2, 5)
    np.testing.assert_allclose(out["scores"], out["per_layer"][1])
