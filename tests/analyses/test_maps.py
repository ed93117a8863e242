"""Map predictivity (neuralign.analyses.maps) on SIMULATED maps with known receptive fields."""

import numpy as np
import pytest
import torch
from PIL import Image
from scipy import ndimage

from neuralign.analyses.maps.ceilings import neighbour_ceiling, split_half_map_ceiling
from neuralign.analyses.maps.geometry import (
    design,
    field_degrees,
    grid_field,
    grid_step,
    sample_at_positions,
)
from neuralign.analyses.maps.predictivity import fit_map_model, loio
from neuralign.datasets.simulated.demo import front_end, make_demo_maps
from neuralign.fitting.mappings import MappingSpec
from neuralign.fitting.metrics import pearson_columns
from neuralign.io.dataset import DatasetError, validate_dataset

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo_maps")
    ds = make_demo_maps(
        folder / "images",
        n_images=6,
        n_neurons=8,
        n_repetitions=10,
        grid=9,
        step=0.08,
        image_size=96,
        seed=0,
        relative_to=folder,
    )
    images = np.stack([np.asarray(Image.open(folder / p)) for p in ds["image_path"].values])
    return ds, images


def test_demo_maps_dataset_is_valid_and_simulated(demo):
    ds, images = demo
    validate_dataset(ds)
    assert ds["maps"].dims == ("stimulus", "neuroid", "y", "x")
    assert ds["map_repetitions"].dims == ("stimulus", "neuroid", "y", "x", "repetition")
    np.testing.assert_allclose(ds["maps"], ds["map_repetitions"].mean("repetition"), rtol=1e-6)
    assert ds.attrs["simulated"] == 1 and "SIMULATED" in ds.attrs["description"]
    assert images.shape == (6, 96, 96, 3)
    np.testing.assert_allclose(ds["y"], (np.arange(9) - 4) * 0.08 * 16)


def test_demo_maps_follow_the_arcaro_orientation(demo):
    """maps[..., y, x] is the response when image point (y, x) lay over the receptive field:
    a neuron reading only a bright dot responds most where the dot is."""
    from neuralign.datasets.simulated.demo import VirtualPopulation, position_maps

    image = np.full((1, 64, 64, 3), 128, np.uint8)
    image[0, 10:16, 40:46] = 255  # a bright patch above and right of the centre
    pop = VirtualPopulation(
        rf_x=np.array([0.5]),
        rf_y=np.array([0.5]),
        rf_sigma=np.array([0.05]),
        weights=np.eye(12)[None, 0] * 1.0,
        baseline=np.ones(1),
        gain=np.ones(1),
    )
    by_offset, offsets = position_maps(pop, image, 9, 0.1)
    maps = by_offset[:, :, ::-1, ::-1]  # the flip make_demo_maps applies
    y, x = np.unravel_index(maps[0, 0].argmax(), (9, 9))
    assert offsets[y] < -0.15 and offsets[x] > 0.15  # up (negative y) and right


def test_recovered_maps_match_the_true_maps(demo):
    """Features that see the generating front end recover the true (noise-free) maps: held-out
    predictions correlate with ``true_maps`` (median over neuroids of the mean r over images)
    above 0.5 with ridge and PLS, and a layer of noise is never chosen."""
    ds, images = demo
    fe = front_end(images)
    layers = {
        "noise": np.random.default_rng(0).normal(size=(6, 12, 16, 16)),
        "front_end": ndimage.gaussian_filter(fe, (0, 0, 3, 3)),
    }
    y, x = ds["y"].values, ds["x"].values
    field = field_degrees(16.0, y, x, grid_step(y))
    fit, _ = fit_map_model(
        layers,
        ds["maps"].values,
        y,
        x,
        field,
        ds["array"].values,
        [MappingSpec("ridge"), MappingSpec("pls", pls_components=5)],
        repetitions=ds["map_repetitions"].values,
        n_bootstrap=100,
    )
    assert (fit["chosen_layer"].values == "front_end").all()
    truth = ds["true_maps"].values.reshape(6, 8, -1)
    for mapping in ("ridge", "pls"):
        predicted = fit["predicted_maps"].sel(mapping=mapping).values.reshape(6, 8, -1)
        r = pearson_columns(predicted, truth, axis=2)
        assert np.median(r.mean(axis=0)) > 0.5, mapping
    noise_only, _ = fit_map_model(
        {"noise": layers["noise"]},
        ds["maps"].values,
        y,
        x,
        field,
        ds["array"].values,
        [MappingSpec("ridge")],
        n_bootstrap=100,
    )
    r = pearson_columns(noise_only["predicted_maps"].values[0].reshape(6, 8, -1), truth, axis=2)
    assert np.median(r.mean(axis=0)) < 0.3
    # ceilings: a split-half one from the repetitions, and the published alternative
    assert fit["split_half_ceiling"].shape == (2,) and (fit["split_half_ceiling"] > 0.2).all()
    assert (fit["raw_ci_low"] <= fit["raw"]).all() and (fit["raw"] <= fit["raw_ci_high"]).all()


def test_held_out_image_never_influences_its_own_prediction(demo):
    """Scrambling the held-out image's neural maps changes neither the layer chosen for it nor
    its predictions (every fit, inner and outer, uses the other images only)."""
    ds, _ = demo
    rng = np.random.default_rng(1)
    layers = {name: rng.normal(size=(6, 5, 9, 9)) for name in ("a", "b", "c")}
    maps = ds["maps"].values.astype(np.float64)
    _, target, image, _ = design(layers["a"], maps)
    feats = {name: design(v, maps)[0] for name, v in layers.items()}
    spec = MappingSpec("ridge")
    base = loio(feats, target, image, spec)
    for held in (0, 3):
        scrambled = target.copy()
        scrambled[image == held] = rng.normal(size=scrambled[image == held].shape) * 100
        other = loio(feats, scrambled, image, spec)
        assert other["chosen"][held] == base["chosen"][held]
        np.testing.assert_allclose(
            other["predictions"][image == held], base["predictions"][image == held]
        )
        # while the folds that train on it do change
        assert not np.allclose(
            other["predictions"][image != held], base["predictions"][image != held]
        )


def test_sampling_positions_is_bilinear_in_degrees():
    """A feature map equal to its own x coordinate (degrees) is read back at the positions."""
    field, size = 16.0, 32
    centres = ((np.arange(size) + 0.5) / size - 0.5) * field
    features = np.broadcast_to(centres, (1, 1, size, size)).copy()
    positions = np.array([-6.3, -1.0, 0.0, 2.5, 7.0])
    sampled = sample_at_positions(features, positions, positions, field)
    np.testing.assert_allclose(sampled[0, 0, 0], positions, atol=1e-9)
    assert grid_field(16.0, 17, 2.0) == 34.0 and grid_field(16.0, 9, 2.0) == 18.0


def test_ceilings_on_known_cases():
    rng = np.random.default_rng(0)
    signal = rng.normal(size=(3, 4, 6, 6))
    reps = signal[..., None] + rng.normal(size=(3, 4, 6, 6, 20)) * 0.01
    assert split_half_map_ceiling(reps, 5, 0) == pytest.approx(1.0, abs=1e-3)
    noise = rng.normal(size=(3, 4, 6, 6, 20))
    assert abs(np.mean(split_half_map_ceiling(noise, 5, 0))) < 0.2
    maps = rng.normal(size=(2, 3, 5, 5))
    maps[:, 1] = 2 * maps[:, 0] + 1  # neuroids 0 and 1 share their maps
    best = neighbour_ceiling(maps)
    np.testing.assert_allclose(best[:, :2], 1.0)
    expected = max(np.corrcoef(maps[0, 2].ravel(), maps[0, k].ravel())[0, 1] for k in (0, 1))
    assert best[0, 2] == pytest.approx(expected)


def test_validation_checks_map_repetitions(demo):
    ds, _ = demo
    bad = ds.assign(map_repetitions=ds["map_repetitions"].transpose("repetition", ...))
    with pytest.raises(DatasetError, match="'map_repetitions' has dims"):
        validate_dataset(bad)
    with pytest.raises(DatasetError, match="beside 'maps'"):
        validate_dataset(
            ds.drop_vars("maps").assign(responses=ds["map_repetitions"].isel(y=0, x=0))
        )


def test_map_preprocessing_divides_by_the_imagenet_std():
    """The published code divided by the ImageNet mean; the maps' transform uses the std."""
    from neuralign.models.preprocessing import IMAGENET_MEAN, IMAGENET_STD, brainscore_transform

    grey = Image.new("RGB", (32, 32), (200, 200, 200))
    tensor = brainscore_transform(32, 16.0, 18.0)(grey)
    centre = tensor[:, 16, 16].numpy()
    expected = (200 / 255 - np.array(IMAGENET_MEAN)) / np.array(IMAGENET_STD)
    np.testing.assert_allclose(centre, expected, rtol=1e-5)
    corner = tensor[:, 0, 0].numpy()  # the grey surround of the 18 deg field
    np.testing.assert_allclose(
        corner, (128 / 255 - np.array(IMAGENET_MEAN)) / np.array(IMAGENET_STD), rtol=1e-5
    )
