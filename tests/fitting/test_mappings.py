"""The mapping registry (neuralign.fitting.mappings): one fit for every mapping kind."""

import numpy as np
import pytest
from sklearn.cross_decomposition import PLSRegression
from sklearn.linear_model import RidgeCV

from neuralign.fitting import mappings
from neuralign.fitting.mappings import MAPPING_OPTIONS, MAPPINGS, MappingSpec


@pytest.fixture(scope="module")
def problem():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(120, 10))
    y = x @ rng.normal(size=(10, 7)) + rng.normal(size=(120, 7))
    return x, y


def test_ridge_and_pls_equal_sklearn(problem):
    x, y = problem
    spec = MappingSpec("ridge", relative_alphas=(0.1, 1.0, 10.0))
    fitted = mappings.fit(spec, x, y)
    alphas = np.array(spec.relative_alphas) * mappings.mean_gram_eigenvalue(x)
    ref = RidgeCV(alphas=alphas, alpha_per_target=True).fit(x, y)
    np.testing.assert_allclose(fitted.predict(x[:20]), ref.predict(x[:20]), atol=1e-5)
    np.testing.assert_allclose(fitted.linear().predict(x[:20]), ref.predict(x[:20]), atol=1e-5)
    np.testing.assert_allclose(fitted.alpha, ref.alpha_)
    pls = mappings.fit(MappingSpec("pls", pls_components=4), x, y, inner=False)
    ref = PLSRegression(n_components=4, scale=False).fit(x, y)
    np.testing.assert_allclose(pls.linear().predict(x[:20]), ref.predict(x[:20]), atol=1e-5)
    assert pls.inner is None and np.isnan(pls.alpha).all()


def test_blocks_of_targets_give_the_same_ridge_fit(problem):
    """Ridge fits every target apart (PLS2 does not: blocks change a PLS fit)."""
    x, y = problem
    spec = MappingSpec("ridge")
    whole, blocks = mappings.fit(spec, x, y), mappings.fit(spec, x, y, max_targets=3)
    assert len(blocks.parts) == 3
    np.testing.assert_allclose(blocks.predict(x), whole.predict(x), atol=1e-10)
    np.testing.assert_allclose(blocks.inner, whole.inner, atol=1e-10)
    np.testing.assert_allclose(blocks.linear().predict(x), whole.predict(x), atol=1e-10)
    np.testing.assert_array_equal(blocks.alpha, whole.alpha)


def test_spec_from_options():
    options = {"mapping": "pls", "relative_alphas": [1.0, 2.0], "device": "cpu", "cv": "kfold"}
    spec = MappingSpec.from_options(options)
    assert spec == MappingSpec("pls", relative_alphas=(1.0, 2.0))
    assert MappingSpec.from_options(options, "ridge").kind == "ridge"
    assert MappingSpec.from_options({}) == MappingSpec()
    assert set(MAPPING_OPTIONS) < {f for f in MappingSpec.__dataclass_fields__}
    assert list(MAPPINGS) == ["ridge", "pls"]
    with pytest.raises(ValueError, match="unknown mapping 'lasso'; valid: ridge, pls"):
        MappingSpec.from_options({"mapping": "lasso"})
    with pytest.raises(ValueError, match="unknown mapping"):
        mappings.fit(MappingSpec("lasso"), np.zeros((3, 2)), np.zeros((3, 1)))
    assert MappingSpec.from_options({"ridge_precision": "mixed"}).ridge_precision == "mixed"
    with pytest.raises(ValueError, match="unknown ridge_precision 'single'; valid: double, mixed"):
        MappingSpec.from_options({"ridge_precision": "single"})
