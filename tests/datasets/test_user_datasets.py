"""Datasets declared in the config: images + responses (.npy, .nc, .csv) or a canonical netCDF,
checked on read; scored with a ceiling only where one exists or is given."""

import numpy as np
import pandas as pd
import pytest
import xarray as xr
import yaml
from PIL import Image
from skimage import data

from neuralign.datasets.user import convert_user_dataset
from neuralign.fitting.ceilings import NOT_AVAILABLE, dataset_ceiling, has_repetitions
from neuralign.fitting.metrics import split_half_ceiling
from neuralign.io.artifacts import KEYS, read_provenance, write_netcdf
from neuralign.io.dataset import DatasetError, open_dataset, validate_dataset
from tests.conftest import REPO, SMALL_IMAGES

EXAMPLE = REPO / "config" / "examples" / "example_v4"


def write_images(folder, n, size=48, seed=0):
    """``n`` seeded crops of a scikit-image photograph as PNG files, and their mean RGB."""
    rng = np.random.default_rng(seed)
    photo = data.astronaut()
    folder.mkdir(parents=True, exist_ok=True)
    colours = []
    for k in range(n):
        y, x = rng.integers(0, photo.shape[0] - size, 2)
        crop = photo[y : y + size, x : x + size]
        Image.fromarray(crop).save(folder / f"img{k:03d}.png")
        colours.append(crop.reshape(-1, 3).mean(0) / 255)
    return np.array(colours)


def averaged_responses(colours, n_neurons=5, seed=0):
    """(stimulus, neuroid) responses: seeded mixtures of the images' mean colour plus noise."""
    rng = np.random.default_rng(seed)
    weights = rng.normal(size=(3, n_neurons))
    return colours @ weights + rng.normal(scale=0.05, size=(len(colours), n_neurons))


@pytest.fixture
def user_data(tmp_path):
    colours = write_images(tmp_path / "images", 24)
    responses = averaged_responses(colours)
    np.save(tmp_path / "responses.npy", responses)
    spec = {"images": str(tmp_path / "images"), "responses": str(tmp_path / "responses.npy")}
    return tmp_path, spec, responses


def convert(spec, tmp_path, name="mine"):
    return convert_user_dataset(name, spec, tmp_path / "out" / "images", relative_to=tmp_path)


def test_images_and_averaged_npy_become_a_canonical_dataset(user_data):
    tmp_path, spec, responses = user_data
    ds = convert({**spec, "region": "V4", "citation": "me 2026"}, tmp_path)
    assert ds["responses"].shape == (24, 5, 1) and ds["responses"].dtype == np.float32
    np.testing.assert_allclose(ds["responses"].values[..., 0], responses, rtol=1e-6)
    assert ds["stimulus_id"].values.tolist() == [f"img{k:03d}" for k in range(24)]
    assert (tmp_path / ds["image_path"].values[3]).is_file()
    assert set(ds["region"].values) == {"V4"} and ds.attrs["citation"] == "me 2026"
    assert ds.attrs["response_kind"] == "repeat_averaged"
    write_netcdf(ds, tmp_path / "mine.nc")
    open_dataset(tmp_path / "mine.nc")


def test_stimulus_and_neuroid_tables_say_which_row_is_which(user_data):
    tmp_path, spec, responses = user_data
    order = [f"img{k:03d}.png" for k in reversed(range(24))]
    pd.DataFrame({"image": order, "object": ["a", "b"] * 12}).to_csv(
        tmp_path / "s.csv", index=False
    )
    neuroids = pd.DataFrame({"neuroid_id": list("vwxyz"), "region": ["IT"] * 5})
    neuroids.to_csv(tmp_path / "n.csv", index=False)
    ds = convert(
        {**spec, "stimuli": str(tmp_path / "s.csv"), "neuroids": str(tmp_path / "n.csv")}, tmp_path
    )
    assert ds["stimulus_id"].values.tolist() == [name[:-4] for name in order]
    assert ds["object"].values.tolist() == ["a", "b"] * 12
    assert ds["neuroid_id"].values.tolist() == list("vwxyz")
    np.testing.assert_allclose(ds["responses"].values[0, :, 0], responses[0], rtol=1e-6)


def test_csv_nc_and_repeated_npy_responses(user_data):
    tmp_path, spec, responses = user_data
    pd.DataFrame(responses, columns=[f"cell{k}" for k in range(5)]).to_csv(
        tmp_path / "r.csv", index=False
    )
    from_csv = convert({**spec, "responses": str(tmp_path / "r.csv")}, tmp_path)
    assert from_csv["neuroid_id"].values.tolist() == [f"cell{k}" for k in range(5)]
    np.testing.assert_allclose(from_csv["responses"].values[..., 0], responses, rtol=1e-6)
    repeated = np.stack([responses, responses + 0.1, responses - 0.1], axis=-1)
    repeated[0, 0, 2] = np.nan  # a missing repetition is allowed
    xr.Dataset({"responses": (("s", "n", "r"), repeated)}).to_netcdf(tmp_path / "r.nc")
    from_nc = convert({**spec, "responses": str(tmp_path / "r.nc")}, tmp_path)
    assert from_nc["responses"].shape == (24, 5, 3)
    assert from_nc.attrs["response_kind"] == "raw_repetitions"
    np.save(tmp_path / "r3.npy", repeated)
    np.testing.assert_array_equal(
        convert({**spec, "responses": str(tmp_path / "r3.npy")}, tmp_path)["responses"].values,
        from_nc["responses"].values,
    )


def corrupt(kind, tmp_path, spec, responses):
    """Change one thing of a good dataset; return the spec and the expected message."""
    if kind == "shape":
        np.save(tmp_path / "bad.npy", responses[:20])
        return {**spec, "responses": str(tmp_path / "bad.npy")}, "has 20 stimulus rows"
    if kind == "missing-image":
        names = [f"img{k:03d}.png" for k in range(23)] + ["gone.png"]
        pd.DataFrame({"image": names}).to_csv(tmp_path / "s.csv", index=False)
        return {**spec, "stimuli": str(tmp_path / "s.csv")}, "not in .*images, e.g. 'gone.png'"
    if kind in ("nan", "inf"):
        bad = responses.copy()
        bad[3, 2] = np.nan if kind == "nan" else np.inf
        np.save(tmp_path / "bad.npy", bad)
        what = "have no value \\(NaN\\)" if kind == "nan" else "infinite value"
        return {**spec, "responses": str(tmp_path / "bad.npy")}, f"{what}.*'img003', neuroid 'n002'"
    if kind == "duplicated-stimulus":
        table = pd.DataFrame({"image": [f"img{k:03d}.png" for k in range(24)]})
        table["stimulus_id"] = [f"s{k}" for k in range(23)] + ["s5"]
        table.to_csv(tmp_path / "s.csv", index=False)
        return {**spec, "stimuli": str(tmp_path / "s.csv")}, r"duplicated stimulus ids \['s5'\]"
    if kind == "duplicated-neuroid":
        pd.DataFrame({"neuroid_id": list("abcda")}).to_csv(tmp_path / "n.csv", index=False)
        return {**spec, "neuroids": str(tmp_path / "n.csv")}, r"duplicated neuroid ids \['a'\]"
    if kind == "no-image-column":
        pd.DataFrame({"file": ["img000.png"]}).to_csv(tmp_path / "s.csv", index=False)
        return {**spec, "stimuli": str(tmp_path / "s.csv")}, (
            r"s.csv: the stimulus table .* needs a column 'image'; found \['file'\]"
        )
    if kind == "no-neuroid-column":
        pd.DataFrame({"id": list("abcde")}).to_csv(tmp_path / "n.csv", index=False)
        return {**spec, "neuroids": str(tmp_path / "n.csv")}, (
            r"n.csv: the neuroid table needs a column 'neuroid_id'; found \['id'\]"
        )
    if kind == "non-numeric-csv":
        table = pd.DataFrame(responses).astype(object)
        table.iat[4, 1] = "n/a?"
        table.to_csv(tmp_path / "bad.csv", index=False)
        return {**spec, "responses": str(tmp_path / "bad.csv")}, (
            "non-numeric value 'n/a\\?' in row 5 .*column '1'"
        )
    np.save(tmp_path / "bad.npy", responses.astype(str))
    return {**spec, "responses": str(tmp_path / "bad.npy")}, "non-numeric values"


@pytest.mark.parametrize(
    "kind",
    [
        "shape",
        "missing-image",
        "nan",
        "inf",
        "duplicated-stimulus",
        "duplicated-neuroid",
        "no-image-column",
        "no-neuroid-column",
        "non-numeric-csv",
        "non-numeric-npy",
    ],
)
def test_bad_input_names_the_file_and_the_problem(user_data, kind):
    tmp_path, spec, responses = user_data
    bad_spec, message = corrupt(kind, tmp_path, spec, responses)
    with pytest.raises(DatasetError, match=message) as err:
        convert(bad_spec, tmp_path)
    assert str(tmp_path) in str(err.value)


def test_a_canonical_netcdf_is_validated_and_its_images_copied(user_data, tmp_path):
    tmp_path, spec, _ = user_data
    ds = convert(spec, tmp_path)
    ds.attrs["dataset"] = "theirs"
    write_netcdf(ds, tmp_path / "theirs.nc")
    copy = convert_user_dataset(
        "mine_nc", {"netcdf": str(tmp_path / "theirs.nc")}, tmp_path / "o2", relative_to=tmp_path
    )
    assert copy.attrs["dataset"] == "mine_nc" and copy.attrs["source_dataset"] == "theirs"
    assert all((tmp_path / path).is_file() for path in copy["image_path"].values)
    assert str(copy["image_path"].values[0]).startswith("o2/")
    ds["responses"][0, 0, 0] = np.inf
    write_netcdf(ds, tmp_path / "bad.nc")
    with pytest.raises(DatasetError, match="bad.nc: 'responses' contains 1 infinite"):
        convert_user_dataset("x", {"netcdf": str(tmp_path / "bad.nc")}, tmp_path / "o3")


def test_validation_says_where_and_prints_plain_strings(user_data):
    tmp_path, spec, _ = user_data
    ds = convert(spec, tmp_path)
    bad = ds.copy(deep=True)
    bad["responses"][7, 3, 0] = -np.inf
    with pytest.raises(DatasetError) as err:
        validate_dataset(bad, "x.nc")
    assert "stimulus 'img007', neuroid 'n003'" in str(err.value)
    assert "np.str_" not in str(err.value)
    ids = ds["stimulus_id"].values.copy()
    ids[4] = ids[9]
    with pytest.raises(DatasetError, match=r"not unique: 'img009' \(2 times\)"):
        validate_dataset(ds.assign_coords(stimulus_id=("stimulus", ids)), "x.nc")
    bad = ds.copy(deep=True)
    bad["responses"][1, 2, 0] = np.nan
    with pytest.raises(DatasetError, match="stimulus 'img001', neuroid 'n002' has none"):
        validate_dataset(bad, "x.nc")


def test_ceilings_split_half_given_or_not_available(user_data):
    tmp_path, spec, responses = user_data
    averaged = convert(spec, tmp_path)
    assert not has_repetitions(averaged["responses"].values)
    none = dataset_ceiling(averaged, 10, 0, 50)
    assert np.isnan(none["ceiling"]).all() and none.attrs["ceiling_source"] == NOT_AVAILABLE
    given = dataset_ceiling(convert({**spec, "ceiling": 0.8}, tmp_path), 10, 0, 50)
    np.testing.assert_allclose(given["ceiling"], 0.8, rtol=1e-6)
    assert given.attrs["ceiling_source"].startswith("given: config user_datasets.mine.ceiling")
    np.save(tmp_path / "c.npy", np.linspace(0.5, 0.9, 5))
    per_neuroid = convert({**spec, "ceiling": str(tmp_path / "c.npy")}, tmp_path)
    np.testing.assert_allclose(
        dataset_ceiling(per_neuroid, 10, 0, 50)["ceiling"], np.linspace(0.5, 0.9, 5), rtol=1e-6
    )
    table = pd.DataFrame({"neuroid_id": [f"n{k:03d}" for k in range(5)], "ceiling": 0.7})
    table.to_csv(tmp_path / "c.csv", index=False)
    from_csv = convert({**spec, "ceiling": str(tmp_path / "c.csv")}, tmp_path)
    np.testing.assert_allclose(from_csv["ceiling_given"], 0.7, rtol=1e-6)
    np.save(tmp_path / "c.npy", np.linspace(0.5, 0.9, 4))
    with pytest.raises(DatasetError, match="c.npy: has 4 ceilings for 5 neuroids"):
        convert({**spec, "ceiling": str(tmp_path / "c.npy")}, tmp_path)
    rng = np.random.default_rng(0)
    repeated = responses[..., None] + rng.normal(scale=0.3, size=(*responses.shape, 4))
    np.save(tmp_path / "r.npy", repeated)
    split = dataset_ceiling(
        convert({**spec, "responses": str(tmp_path / "r.npy")}, tmp_path), 10, 0, 50
    )
    expected = split_half_ceiling(repeated.astype(np.float32), 10, 0)["ceiling"]
    np.testing.assert_allclose(split["ceiling"], expected, rtol=1e-5)
    assert split.attrs["ceiling_source"].startswith("split-half")


def test_the_shipped_example_is_what_these_helpers_write(tmp_path):
    """config/examples/example_v4 (the README's worked example) is reproducible."""
    colours = write_images(tmp_path / "images", 40)
    np.testing.assert_array_equal(
        np.load(EXAMPLE / "responses.npy"), averaged_responses(colours, 6)
    )
    shipped = sorted((EXAMPLE / "images").iterdir())
    assert [p.name for p in shipped] == sorted(p.name for p in (tmp_path / "images").iterdir())
    for path in shipped:
        np.testing.assert_array_equal(
            np.asarray(Image.open(path)), np.asarray(Image.open(tmp_path / "images" / path.name))
        )


@pytest.mark.workflow
def test_the_worked_example_of_images_and_averaged_npy_is_scored(run_snakemake, tmp_path):
    """A real run of config/user_dataset_example.yaml (images + repeat-averaged .npy): scores
    (raw r, no ceiling) and the figure."""
    config = yaml.safe_load((REPO / "config" / "user_dataset_example.yaml").read_text())
    spec = config["user_datasets"]["example_v4"]
    spec.update(images=str(REPO / spec["images"]), responses=str(REPO / spec["responses"]))
    config.update(
        models=["untrained_resnet18", "mobilenetv2_100"],
        model_table=str(REPO / config["model_table"]),
    )
    config["activations"].update(
        layers=["layer2", "layer4"],
        model_layers={"mobilenetv2_100": ["blocks.2", "blocks.5"]},
        **SMALL_IMAGES,
    )
    config["fitting"].update(n_splits=3, n_bootstrap=100)
    run_snakemake(config)
    results = tmp_path / "results"
    assert open_dataset(results / "datasets" / "example_v4.nc")["responses"].shape == (40, 6, 1)
    scores = pd.read_csv(results / "scores" / "example_v4.csv")
    assert scores["model"].tolist() == ["untrained_resnet18", "mobilenetv2_100"]
    assert np.isfinite(scores[["raw", "raw_ci_low", "raw_ci_high"]]).all().all()
    assert scores[["ceiling", "ceiled"]].isna().all().all()
    assert (scores["ceiling_source"] == NOT_AVAILABLE).all()
    for suffix in ("png", "pdf"):
        figure = results / "figures" / "example_v4" / f"accuracy_vs_predictivity.{suffix}"
        assert figure.stat().st_size > 5000
    table = pd.read_csv(results / "tables" / "example_v4" / "accuracy_correlations.csv")
    assert table["family"].tolist() == ["all trained", "all trained", "ConvNet"]
    assert (table["predictivity"] == "raw").all()
    # the converted dataset says what produced it, like every artifact
    provenance = read_provenance(results / "datasets" / "example_v4.nc")
    assert set(KEYS) <= provenance.keys()
    assert (provenance["rule"], provenance["dataset"]) == ("user_dataset", "example_v4")
