import numpy as np
import pytest
from sklearn.linear_model import Ridge, RidgeCV

from neuralign.fitting.ridge import NUMPY_GRAM_FROM, fit_ridge_loo

ALPHAS = np.logspace(-2, 5, 15)


def problem(n, p, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, p)) * rng.uniform(0.1, 3.0, p)
    y = x @ rng.normal(size=(p, 6)) * rng.uniform(0.0, 1.0, 6) + 3 * rng.normal(size=(n, 6)) + 4
    return x, y, rng.normal(size=(12, p))


LARGE = NUMPY_GRAM_FROM + 100  # from here on a CPU the Gram matrix goes through numpy and scipy


@pytest.mark.parametrize(
    "n,p",
    [(80, 30), (60, 200), (LARGE + 100, LARGE), (LARGE, LARGE + 300)],
    ids=["tall", "wide", "tall-numpy-route", "wide-numpy-route"],
)
def test_matches_sklearn_ridgecv_per_target(n, p):
    x, y, x_new = problem(n, p)
    ours = fit_ridge_loo(x, y, ALPHAS)
    ref = RidgeCV(alphas=ALPHAS, alpha_per_target=True).fit(x, y)
    np.testing.assert_array_equal(ours.alpha, ref.alpha_)
    np.testing.assert_allclose(ours.predict(x_new), ref.predict(x_new), atol=1e-8)


def test_fixed_alpha_matches_sklearn_ridge():
    x, y, x_new = problem(50, 20, seed=1)
    ours = fit_ridge_loo(x, y, [3.0])
    np.testing.assert_allclose(
        ours.predict(x_new), Ridge(alpha=3.0).fit(x, y).predict(x_new), atol=1e-10
    )


def test_loo_predictions_equal_brute_force_refits():
    x, y, _ = problem(40, 60, seed=2)
    fit = fit_ridge_loo(x, y, ALPHAS)
    for target in (0, 3):
        alpha = fit.alpha[target]
        brute = [
            Ridge(alpha=alpha)
            .fit(np.delete(x, i, 0), np.delete(y[:, target], i))
            .predict(x[i : i + 1])[0]
            for i in range(len(x))
        ]
        np.testing.assert_allclose(fit.loo_predictions[:, target], brute, atol=1e-7)


def test_float32_backend_agrees():
    import torch

    x, y, x_new = problem(80, 30, seed=3)
    fit64 = fit_ridge_loo(x, y, [10.0])
    fit32 = fit_ridge_loo(x, y, [10.0], dtype=torch.float32)
    np.testing.assert_allclose(fit32.predict(x_new), fit64.predict(x_new), rtol=1e-3, atol=1e-3)


@pytest.mark.parametrize("alphas", [[], [0.0], [-1.0, 1.0]])
def test_bad_alphas_rejected(alphas):
    x, y, _ = problem(20, 5)
    with pytest.raises(ValueError, match="alphas"):
        fit_ridge_loo(x, y, alphas)


def test_mismatched_shapes_rejected():
    with pytest.raises(ValueError, match="share n"):
        fit_ridge_loo(np.zeros((10, 3)), np.zeros((9, 2)), [1.0])


@pytest.mark.parametrize(("n", "p"), [(60, 400), (400, 60)], ids=["wide", "tall"])
def test_float32_gram_agrees_with_float64(n, p):
    """On the project's grid (alphas relative to the mean Gram eigenvalue, from 1e-3)."""
    import torch

    x, y, x_new = problem(n, p, seed=4)
    centred = x - x.mean(axis=0)
    alphas = np.logspace(-3, 3, 13) * (centred**2).sum() / min(centred.shape)
    fit64 = fit_ridge_loo(x, y, alphas)
    fit32 = fit_ridge_loo(x, y, alphas, gram_dtype=torch.float32)
    np.testing.assert_array_equal(fit32.alpha, fit64.alpha)
    np.testing.assert_allclose(fit32.predict(x_new), fit64.predict(x_new), rtol=1e-4, atol=1e-4)
