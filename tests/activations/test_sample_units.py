import numpy as np

from neuralign.activations.extraction import sample_units


def test_sample_units_is_seeded_and_bounded():
    a, b = sample_units(5000, 1000, seed=3), sample_units(5000, 1000, seed=3)
    np.testing.assert_array_equal(a, b)
    assert len(np.unique(a)) == 1000 and a.max() < 5000
    np.testing.assert_array_equal(sample_units(10, 1000, seed=3), np.arange(10))
