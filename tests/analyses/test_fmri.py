"""The fMRI experiment's library: ridge maps between ROIs and units, medians, paired tests."""

import numpy as np
import pytest
import timm
import torch
import torchvision
import xarray as xr
from PIL import Image
from scipy import stats
from sklearn.linear_model import RidgeCV

from neuralign.activations.extraction import extract_to_file
from neuralign.activations.reading import read_activations
from neuralign.analyses.fmri.encoding import fit_subject, zscore
from neuralign.analyses.fmri.reading import read_units
from neuralign.analyses.fmri.statistics import bootstrap_counts, bootstrap_p, bootstrap_pearson
from neuralign.analyses.fmri.summary import layers_won, summarize
from neuralign.datasets.god_fmri import ROIS
from neuralign.fitting import mappings
from neuralign.fitting.mappings import MappingSpec
from neuralign.fitting.metrics import pearson_columns
from neuralign.models.layers import resolve_layers
from neuralign.models.loading import LoadedModel, torchvision_data_config

MAPPING = MappingSpec(relative_alphas=(0.01, 0.1, 1.0, 10.0, 100.0))
N_TRAIN, N_TEST, N_REPS = 120, 30, 3


def god_like(voxels: np.ndarray, members: dict[str, list[int]], subject: str = "Subject1"):
    """A dataset shaped like ``convert_god``'s from (stimulus, voxel) values: training images
    shown once, test images ``N_REPS`` times with noise."""
    rng = np.random.default_rng(1)
    n_stimuli, n_voxels = voxels.shape
    responses = np.full((n_stimuli, n_voxels, N_REPS), np.nan, dtype=np.float32)
    responses[:N_TRAIN, :, 0] = voxels[:N_TRAIN]
    responses[N_TRAIN:] = voxels[N_TRAIN:, :, None] + 0.3 * rng.normal(
        size=(n_stimuli - N_TRAIN, n_voxels, N_REPS)
    )
    ids = [f"n{k:08d}_1" for k in range(n_stimuli)]
    roi_coords = {
        f"roi_{roi}": ("neuroid", np.isin(np.arange(n_voxels), members.get(roi, [])))
        for roi in ROIS
    }
    return xr.Dataset(
        {"responses": (("stimulus", "neuroid", "repetition"), responses)},
        coords={
            "stimulus_id": ("stimulus", ids),
            "split": ("stimulus", ["train"] * N_TRAIN + ["test"] * (n_stimuli - N_TRAIN)),
            "neuroid_id": ("neuroid", [f"{subject}_col{v:05d}" for v in range(n_voxels)]),
            **roi_coords,
        },
        attrs={"dataset": f"god_fmri_{subject.lower()}"},
    )


def synthetic(seed: int = 0):
    """Voxels generated from model A's units; model B's units are unrelated to them."""
    rng = np.random.default_rng(seed)
    n = N_TRAIN + N_TEST
    latent = rng.normal(size=(n, 4))
    model_a = {
        f"a{k}": latent @ rng.normal(size=(4, 25)) + 0.3 * rng.normal(size=(n, 25))
        for k in range(2)
    }
    model_b = {f"b{k}": rng.normal(size=(n, 25)) for k in range(2)}
    voxels = latent @ rng.normal(size=(4, 12)) + 0.5 * rng.normal(size=(n, 12))
    members = {"V1": [0, 1, 2, 3], "V2": [4, 5, 6, 7], "LOC": [8, 9, 10, 11], "VC": list(range(12))}
    return god_like(voxels, members), model_a, model_b


def fit(dataset, features, **kwargs):
    ids = dataset["stimulus_id"].values
    return fit_subject(dataset, features, ids, mapping=MAPPING, n_bootstrap=200, **kwargs)


def test_bootstrap_pearson_matches_resampled_corrcoef():
    rng = np.random.default_rng(0)
    pred, target = rng.normal(size=(20, 5)), rng.normal(size=(20, 5))
    target[:, 4] = pred[:, 4] * 2 + 1  # perfectly correlated column
    counts = bootstrap_counts(20, 30, seed=3)
    got = bootstrap_pearson(pred, target, counts)
    for b, row in enumerate(np.random.default_rng(3).integers(0, 20, size=(30, 20))):
        expected = [np.corrcoef(pred[row, c], target[row, c])[0, 1] for c in range(5)]
        np.testing.assert_allclose(got[b], expected, atol=1e-10)
    constant = bootstrap_pearson(pred, np.ones((20, 5)), counts)
    assert np.isnan(constant).all()


def test_zscored_chunked_ridge_matches_sklearn():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(60, 30)) * rng.uniform(0.1, 10, size=30) + 5
    y = x[:, :3] @ rng.normal(size=(3, 7)) + rng.normal(size=(60, 7))
    train, test = np.arange(45), np.arange(45, 60)
    xz = zscore(x, train)
    fitted = mappings.fit(MAPPING, xz[train], y[train], max_targets=3)
    pred, alphas = fitted.predict(xz[test]), fitted.alpha
    xz = (x - x[train].mean(0)) / x[train].std(0)
    xc = xz[train] - xz[train].mean(0)
    grid = np.array(MAPPING.relative_alphas) * (xc**2).sum() / min(xc.shape)
    ref = RidgeCV(alphas=grid, alpha_per_target=True).fit(xz[train], y[train])
    np.testing.assert_allclose(pred, ref.predict(xz[test]), atol=1e-8)
    np.testing.assert_allclose(alphas, ref.alpha_)


def test_the_generating_model_decodes_and_encodes_better():
    dataset, model_a, model_b = synthetic()
    fits = []
    for name, features in [("A", model_a), ("B", model_b)]:
        result = fit(dataset, features)
        result.attrs.update(subject="Subject1", model=name)
        fits.append(result)
    a, b = fits
    assert list(a["roi"].values) == ["V1", "V2", "LOC", "VC"]  # V3 ... have no voxels
    assert a.attrs["rois_absent"] == "V3 V4 FFA PPA LVC HVC"
    assert (a["decoding_median"] > 0.6).all() and (abs(b["decoding_median"]) < 0.3).all()
    assert (a["encoding_median"] > 0.6).all() and (abs(b["encoding_median"]) < 0.3).all()
    # the medians are over units (decoding) and over the ROI's voxels (encoding)
    np.testing.assert_allclose(a["decoding_median"], a["decoding_r"].median("unit"), rtol=1e-6)
    v1 = a["encoding_r"].values[:, :4]
    np.testing.assert_allclose(a["encoding_median"].sel(roi="V1"), np.median(v1, 1), rtol=1e-6)
    # decoding r of one ROI and layer equals an independent sklearn fit
    voxels = dataset["responses"].mean("repetition").values[:, :4]
    train, test = np.arange(N_TRAIN), np.arange(N_TRAIN, N_TRAIN + N_TEST)
    xz = (voxels - voxels[train].mean(0)) / voxels[train].std(0)
    xc = xz[train] - xz[train].mean(0)
    grid = np.array(MAPPING.relative_alphas) * (xc**2).sum() / min(xc.shape)
    ref = RidgeCV(alphas=grid, alpha_per_target=True).fit(xz[train], model_a["a1"][train])
    np.testing.assert_allclose(
        a["decoding_r"].sel(roi="V1", layer="a1"),
        pearson_columns(ref.predict(xz[test]), model_a["a1"][test]),
        atol=1e-5,
    )

    summary, comparison = summarize(fits, ["A", "B"])
    dec = comparison[(comparison["direction"] == "decoding") & (comparison["subject"] == "all")]
    assert len(dec) == 4 * 2
    assert (dec["difference"] > 0.4).all() and (dec["ci_low"] > 0).all()
    np.testing.assert_allclose(dec["p_bootstrap"], 2 / 201)  # no draw at or below 0
    assert dec["t"].isna().all()  # one subject: no test over subjects
    won = layers_won(comparison)
    assert won["layers_a_better"].tolist() == [2] * 4
    row = summary.query("direction == 'encoding' and subject == 'Subject1' and roi == 'V2'")
    assert row["model"].tolist() == ["A", "A", "B", "B"]
    assert (row["ci_low"] <= row["median_r"]).all() and (row["median_r"] <= row["ci_high"]).all()


def test_over_subjects_the_pairs_are_per_subject_medians():
    fits = []
    for s, seed in enumerate((0, 5, 7)):
        dataset, model_a, model_b = synthetic(seed)
        for name, features in [("A", model_a), ("B", model_b)]:
            result = fit(dataset, features, rois=("V1", "VC"))
            result.attrs.update(subject=f"Subject{s + 1}", model=name)
            fits.append(result)
    summary, comparison = summarize(fits, ["A", "B"])
    row = comparison.query("direction == 'decoding' and subject == 'all' and roi == 'V1'").iloc[0]
    a = np.array([f["decoding_median"].sel(roi="V1").values[0] for f in fits[0::2]])
    b = np.array([f["decoding_median"].sel(roi="V1").values[0] for f in fits[1::2]])
    d = a - b
    t = d.mean() / (d.std(ddof=1) / np.sqrt(3))
    assert row["n_subjects"] == 3 and row["t"] == pytest.approx(t)
    assert row["p_ttest"] == pytest.approx(2 * stats.t.sf(abs(t), 2))
    assert row["p_wilcoxon"] == pytest.approx(0.25)  # all 3 differences positive: 2 / 2³
    assert row["difference"] == pytest.approx(d.mean())
    mean = summary.query("subject == 'all' and direction == 'decoding' and roi == 'V1'")
    assert mean.query("model == 'A'")["median_r"].iloc[0] == pytest.approx(a.mean())


def test_fits_with_other_test_images_are_not_compared():
    dataset, model_a, _ = synthetic()
    a = fit(dataset, model_a, rois=("V1",))
    b = fit_subject(
        dataset,
        model_a,
        dataset["stimulus_id"].values,
        mapping=MAPPING,
        n_bootstrap=200,
        seed=9,
        rois=("V1",),
    )
    a.attrs.update(subject="Subject1", model="A")
    b.attrs.update(subject="Subject1", model="B")
    with pytest.raises(ValueError, match="differ in test images or bootstrap draws"):
        summarize([a, b], ["A", "B"])


def test_features_must_cover_the_dataset_stimuli():
    dataset, model_a, _ = synthetic()
    ids = dataset["stimulus_id"].values.copy()
    ids[5] = "n99999999_1"
    with pytest.raises(ValueError, match=r"1 dataset stimuli have no activations.*n00000005_1"):
        fit_subject(dataset, model_a, ids, rois=("V1",))


def test_bootstrap_p():
    assert bootstrap_p(np.ones(99)) == pytest.approx(2 / 100)
    assert bootstrap_p(np.r_[-np.ones(50), np.ones(50)]) == 1.0
    assert bootstrap_p(np.r_[-np.ones(10), np.ones(89)]) == pytest.approx(22 / 100)


def test_sampled_units_of_alexnet_are_its_flattened_outputs(tmp_path):
    """The ``sample`` reduction keeps seeded entries of each of AlexNet's 8 layers."""
    torch.manual_seed(0)
    module = torchvision.models.alexnet().eval()  # untrained: no download
    model = LoadedModel(module, torchvision_data_config("alexnet"), [], "untrained")
    layers = resolve_layers(module, 8, "alexnet")
    assert layers[0] == "features.0" and layers[-1] == "classifier.6"
    paths = []
    for k in range(3):
        image = np.random.default_rng(k).integers(0, 255, size=(40, 50, 3), dtype=np.uint8)
        paths.append(tmp_path / f"{k}.png")
        Image.fromarray(image).save(paths[-1])
    ids = ["a", "b", "c"]
    reduction = {"method": "sample", "units": 50, "seed": 4}
    extract_to_file(model, paths, ids, layers, tmp_path / "s.nc", {}, reduction=reduction)
    sampled = read_activations(tmp_path / "s.nc")
    assert [v.shape for v in sampled.values()] == [(3, 50)] * 8
    ids_read, units, attrs = read_units(tmp_path / "s.nc")
    assert ids_read.tolist() == ids and list(units) == layers == attrs["layers"]
    for layer in layers:
        np.testing.assert_array_equal(units[layer], sampled[layer])
    with xr.open_dataset(tmp_path / "s.nc") as ds:
        index = ds["features.0_feature"].values
        assert ds["features.0_feature"].attrs["layer_shape"].tolist() == [64, 55, 55]
        assert np.atleast_1d(ds["classifier.6_feature"].attrs["layer_shape"]).tolist() == [1000]
        assert "50 units sampled from the flattened output (seed 4)" in ds.attrs["reduction"]
    expected = np.sort(np.random.default_rng(4).choice(64 * 55 * 55, 50, replace=False))
    np.testing.assert_array_equal(index, expected)
    # a hook reads conv1 before AlexNet's in-place ReLU: the sample is of the conv output
    transform = timm.data.create_transform(**model.data_config, is_training=False)
    batch = torch.stack([transform(Image.open(path).convert("RGB")) for path in paths])
    with torch.inference_mode():
        conv1 = module.features[0](batch).flatten(1).numpy()
    np.testing.assert_allclose(sampled["features.0"], conv1[:, index], rtol=1e-5, atol=1e-5)
    # after the ReLU module: non-negative
    extract_to_file(model, paths, ids, ["features.1"], tmp_path / "r.nc", {}, reduction=reduction)
    relu1 = read_activations(tmp_path / "r.nc")["features.1"]
    np.testing.assert_allclose(relu1, np.maximum(conv1[:, index], 0), rtol=1e-5, atol=1e-5)
