import numpy as np
from sklearn.linear_model import RidgeCV

from neuralign.fitting.decoding import heldout_scores, sample_units
from neuralign.fitting.metrics import pearson_columns
from neuralign.fitting.scoring import MappingSpec


def test_sample_units_is_seeded_and_bounded():
    a, b = sample_units(5000, 1000, seed=3), sample_units(5000, 1000, seed=3)
    np.testing.assert_array_equal(a, b)
    assert len(np.unique(a)) == 1000 and a.max() < 5000
    np.testing.assert_array_equal(sample_units(10, 1000, seed=3), np.arange(10))


def test_decoding_and_encoding_match_sklearn():
    rng = np.random.default_rng(0)
    latent = rng.normal(size=(90, 5))
    voxels = latent @ rng.normal(size=(5, 40)) + rng.normal(size=(90, 40))
    units = latent @ rng.normal(size=(5, 12)) + 0.5 * rng.normal(size=(90, 12))
    train, test = np.arange(70), np.arange(70, 90)
    mapping = MappingSpec(relative_alphas=(0.1, 1.0, 10.0))
    for source, target in [(voxels, units), (units, voxels)]:
        got = heldout_scores(source, target, train, test, mapping)
        xc = source[train] - source[train].mean(0)
        alphas = np.array(mapping.relative_alphas) * (xc**2).sum() / min(xc.shape)
        ref = RidgeCV(alphas=alphas, alpha_per_target=True).fit(source[train], target[train])
        np.testing.assert_allclose(
            got, pearson_columns(ref.predict(source[test]), target[test]), atol=1e-8
        )
