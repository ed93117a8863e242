import numpy as np
import pytest

from neuralign.datasets.simulated.demo import (
    VirtualPopulation,
    front_end,
    make_demo,
    position_maps,
    random_crops,
)
from neuralign.fitting.metrics import percentile_ci, split_half_ceiling
from neuralign.io.dataset import validate_dataset


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    root = tmp_path_factory.mktemp("demo")
    ds = make_demo(
        root / "images",
        n_stimuli=240,
        n_neurons=40,
        n_repetitions=10,
        image_size=64,
        seed=3,
        relative_to=root,
    )
    return root, ds


def test_demo_is_a_valid_dataset_with_its_images(demo):
    root, ds = demo
    validate_dataset(ds)
    assert ds.attrs["simulated"] == 1 and "SIMULATED" in ds.attrs["description"]
    assert ds["responses"].shape == (240, 40, 10)
    assert all((root / path).is_file() for path in ds["image_path"].values)
    counts = ds["object"].to_series().value_counts()
    assert counts.max() - counts.min() <= 1  # photos used in turn


def test_demo_is_deterministic(tmp_path):
    a = make_demo(tmp_path / "a", n_stimuli=24, n_neurons=3, n_repetitions=2, image_size=32, seed=5)
    b = make_demo(tmp_path / "b", n_stimuli=24, n_neurons=3, n_repetitions=2, image_size=32, seed=5)
    np.testing.assert_array_equal(a["responses"], b["responses"])


def test_counts_are_poisson_around_the_rates(demo):
    _, ds = demo
    counts, rates = ds["responses"].values, ds["rates"].values
    np.testing.assert_allclose(counts.mean(axis=2).mean(), rates.mean(), rtol=0.02)
    # Poisson: variance over repetitions equals the mean
    np.testing.assert_allclose(counts.var(axis=2, ddof=1).mean(), rates.mean(), rtol=0.05)


def test_estimated_ceiling_is_within_its_ci_of_the_true_one(demo):
    _, ds = demo
    result = split_half_ceiling(ds["responses"].values, n_splits=10, seed=0, n_bootstrap=500)
    low, high = percentile_ci(result["bootstrap"])
    truth = ds["true_ceiling"].values
    inside = (low <= truth) & (truth <= high)
    assert inside.mean() >= 0.9, f"true ceiling inside the 95% CI for only {inside.mean():.0%}"
    median_low, median_high = percentile_ci(np.median(result["bootstrap"], axis=1))
    assert median_low <= np.median(truth) <= median_high
    assert abs(np.median(result["ceiling"]) - np.median(truth)) < 0.05


def test_neurons_only_see_their_receptive_field():
    rng = np.random.default_rng(0)
    images, _ = random_crops(30, 64, rng)
    population = VirtualPopulation(
        rf_x=np.array([0.25]),
        rf_y=np.array([0.25]),
        rf_sigma=np.array([0.06]),
        weights=np.ones((1, 12)),
        baseline=np.ones(1),
        gain=np.ones(1),
    )
    edited = images.copy()
    edited[:, 40:, 40:] = rng.integers(0, 255, size=edited[:, 40:, 40:].shape)
    far = population.drive(front_end(np.concatenate([images, edited])))
    np.testing.assert_allclose(far[:30], far[30:], rtol=1e-3)
    edited = images.copy()
    edited[:, 8:24, 8:24] = rng.integers(0, 255, size=edited[:, 8:24, 8:24].shape)
    near = population.drive(front_end(np.concatenate([images, edited])))
    assert np.abs(near[:30] - near[30:]).mean() > 10 * np.abs(far[:30] - far[30:]).mean()


def test_position_maps_peak_where_the_object_falls_on_the_receptive_field():
    image = np.full((64, 64, 3), 128, dtype=np.uint8)
    image[28:36, 28:36] = (255, 0, 0)  # a red square at the centre
    weights = np.zeros((2, 12))
    weights[:, 8] = 1.0  # the R-G channel
    population = VirtualPopulation(
        rf_x=np.array([0.5, 0.75]),
        rf_y=np.array([0.5, 0.25]),
        rf_sigma=np.array([0.05] * 2),
        weights=weights,
        baseline=np.ones(2),
        gain=np.ones(2),
    )
    maps, offsets = position_maps(population, image[None], grid=9, step=0.125)
    assert maps.shape == (1, 2, 9, 9)
    np.testing.assert_allclose(offsets, np.arange(-4, 5) * 0.125)
    for neuron, (y, x) in enumerate([(0.0, 0.0), (-0.25, 0.25)]):  # RF centre minus square
        peak = np.unravel_index(maps[0, neuron].argmax(), (9, 9))
        assert (offsets[peak[0]], offsets[peak[1]]) == (y, x)


def test_population_round_trips_through_the_dataset(demo):
    _, ds = demo
    population = VirtualPopulation.from_dataset(ds)
    assert population.weights.shape == (40, 12)
    np.testing.assert_array_equal(population.rf_x, ds["rf_x"].values)
