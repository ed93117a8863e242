import numpy as np
import pytest
from sklearn.cross_decomposition import PLSRegression

from neuralign.fitting.pls import fit_pls


def problem(n, p, t, seed=0):
    rng = np.random.default_rng(seed)
    latent = rng.normal(size=(n, 8))
    x = latent @ rng.normal(size=(8, p)) + 0.5 * rng.normal(size=(n, p))
    y = latent @ rng.normal(size=(8, t)) + rng.normal(size=(n, t)) + 3.0
    return x, y, rng.normal(size=(15, p))


@pytest.mark.parametrize(
    "n,p,t,k",
    [(120, 40, 6, 5), (60, 300, 10, 25), (80, 30, 1, 4)],
    ids=["tall", "wide-25", "one-target"],
)
def test_predictions_equal_sklearn_pls_regression(n, p, t, k):
    x, y, x_new = problem(n, p, t)
    ours = fit_pls(x, y, n_components=k)
    ref = PLSRegression(n_components=k, scale=False).fit(x, y)
    np.testing.assert_allclose(
        ours.predict(x_new), ref.predict(x_new).reshape(15, t), rtol=1e-6, atol=1e-6
    )
    assert ours.n_iter == ref.n_iter_


def test_iteration_cap_matches_sklearn():
    x, y, x_new = problem(50, 20, 5, seed=3)
    ours = fit_pls(x, y, n_components=3, max_iter=2)
    with pytest.warns(Warning):
        ref = PLSRegression(n_components=3, scale=False, max_iter=2).fit(x, y)
    np.testing.assert_allclose(ours.predict(x_new), ref.predict(x_new), rtol=1e-6, atol=1e-6)


def test_bad_shapes_and_components_rejected():
    with pytest.raises(ValueError, match="share n"):
        fit_pls(np.zeros((10, 3)), np.zeros((9, 2)))
    with pytest.raises(ValueError, match="n_components"):
        fit_pls(np.ones((10, 3)), np.ones((10, 2)), n_components=4)
