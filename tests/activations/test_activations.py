import numpy as np
import pytest
import timm
import torch
import torchvision
import xarray as xr
from PIL import Image

from neuralign.activations.extraction import Reducer, extract_to_file
from neuralign.activations.reading import read_activations
from neuralign.models.layers import LayerError, blocks, check_layers, default_layers, resolve_layers
from neuralign.models.loading import (
    LoadedModel,
    build_architecture,
    load_model,
    save_checkpoint,
    torchvision_data_config,
)
from neuralign.models.preprocessing import brainscore_transform, place_in_field
from neuralign.models.table import ModelError


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    root = tmp_path_factory.mktemp("images")
    rng = np.random.default_rng(0)
    paths = []
    for i in range(5):
        path = root / f"{i}.png"
        Image.fromarray(rng.integers(0, 255, (40, 56, 3), dtype=np.uint8)).save(path)
        paths.append(str(path))
    return paths


@pytest.fixture(scope="module")
def resnet():
    return load_model("timm-untrained:resnet18")


def direct_forward(model, paths):
    transform = timm.data.create_transform(**model.data_config)
    batch = torch.stack([transform(Image.open(p).convert("RGB")) for p in paths])
    net = model.module
    with torch.inference_mode():
        x = net.layer3(net.layer2(net.layer1(net.maxpool(net.act1(net.bn1(net.conv1(batch)))))))
        return x, net.global_pool(net.layer4(x))


def extract(model, paths, layers, path, **kwargs):
    ids = [f"s{i}" for i in range(len(paths))]
    extract_to_file(model, paths, ids, layers, path, {"model": "m"}, batch_size=2, **kwargs)
    return xr.open_dataset(path)


def test_features_equal_a_direct_forward_pass(resnet, images, tmp_path):
    ds = extract(
        resnet, images, ["layer3", "global_pool"], tmp_path / "a.nc", reduction={"grid": 2}
    )
    layer3, pooled = direct_forward(resnet, images)
    expected = torch.nn.functional.adaptive_avg_pool2d(layer3, 2).flatten(1).numpy()
    np.testing.assert_allclose(ds["layer3"], expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(ds["global_pool"], pooled.numpy(), rtol=1e-5, atol=1e-5)
    assert ds["stimulus_id"].values.tolist() == [f"s{i}" for i in range(5)]
    assert ds.attrs["layers"] == ["layer3", "global_pool"]


def test_spatial_and_full_reductions_keep_everything(resnet, images, tmp_path):
    layer3, _ = direct_forward(resnet, images)
    spatial = extract(
        resnet, images, ["layer3"], tmp_path / "s.nc", reduction={"method": "spatial", "grid": 4}
    )
    assert spatial["layer3"].dims == ("stimulus", "layer3_channel", "layer3_y", "layer3_x")
    np.testing.assert_allclose(
        spatial["layer3"], torch.nn.functional.adaptive_avg_pool2d(layer3, 4).numpy(), atol=1e-5
    )
    full = extract(resnet, images, ["layer3"], tmp_path / "f.nc", reduction={"method": "full"})
    np.testing.assert_allclose(full["layer3"], layer3.flatten(1).numpy(), atol=1e-5)
    assert read_activations(tmp_path / "s.nc")["layer3"].shape == (5, 256 * 16)


@pytest.mark.parametrize("method", ["full", "pool"])
def test_outputs_before_an_inplace_relu_are_kept_as_computed(images, tmp_path, method):
    """AlexNet's conv and linear layers feed ReLU(inplace=True): features are taken before it."""
    module = torchvision.models.alexnet().eval()  # untrained: no download
    model = LoadedModel(module, torchvision_data_config("alexnet"), [], "untrained")
    layers = ["features.0", "classifier.1"]
    ds = extract(model, images, layers, tmp_path / "a.nc", reduction={"method": method})
    transform = timm.data.create_transform(**model.data_config)
    batch = torch.stack([transform(Image.open(p).convert("RGB")) for p in images])
    with torch.inference_mode():
        conv1 = model.module.features[0](batch)
    assert float(ds["features.0"].min()) < 0 and float(ds["classifier.1"].min()) < 0
    if method == "full":
        np.testing.assert_allclose(ds["features.0"], conv1.flatten(1).numpy(), atol=1e-5)


def test_sparse_random_projection_is_seeded_and_preserves_distances():
    rng = np.random.default_rng(0)
    x = torch.as_tensor(rng.normal(size=(20, 5000)), dtype=torch.float32)
    a = Reducer("l", "srp", components=2000, seed=1)(x)
    b = Reducer("l", "srp", components=2000, seed=1)(x)
    assert a.shape == (20, 2000)
    torch.testing.assert_close(a, b)
    ratio = torch.pdist(a) / torch.pdist(x)
    assert 0.85 < ratio.min() and ratio.max() < 1.15


def test_failed_extraction_leaves_no_file(resnet, images, tmp_path):
    with pytest.raises(FileNotFoundError):
        extract(resnet, [*images, str(tmp_path / "missing.png")], ["layer1"], tmp_path / "x.nc")
    assert list(tmp_path.iterdir()) == []


def test_a_container_that_never_runs_as_one_module_is_refused_by_name(images, tmp_path):
    coat = load_model("timm-untrained:coat_lite_tiny")  # its stages are walked block by block
    with pytest.raises(ValueError, match=r"\['serial_blocks1'\] never ran.*model_layers"):
        extract(coat, images[:2], ["serial_blocks1"], tmp_path / "x.nc")
    assert list(tmp_path.iterdir()) == []
    ds = extract(coat, images[:2], ["serial_blocks1.1"], tmp_path / "y.nc")
    assert ds["serial_blocks1.1"].shape[0] == 2


def test_untrained_models_are_seeded(resnet):
    assert load_model("timm-untrained:resnet18").weights_sha256 == resnet.weights_sha256


def test_checkpoint_source_round_trip(resnet, tmp_path):
    save_checkpoint(resnet.module, "resnet18", tmp_path / "model.pt")
    loaded = load_model(f"checkpoint:{tmp_path / 'model.pt'}")
    assert loaded.weights_sha256 == resnet.weights_sha256
    with pytest.raises(ModelError, match="does not exist"):
        load_model(f"checkpoint:{tmp_path / 'nope.pt'}")


@pytest.mark.parametrize(
    "arch, expected",
    [
        ("resnet18", ["act1", "layer1", "layer2", "layer3", "layer4", "global_pool"]),
        (
            "tf_efficientnet_lite0",
            ["blocks.0", "blocks.1", "blocks.2", "blocks.4", "blocks.6", "global_pool"],
        ),
        ("vit_tiny_patch16_224", [f"blocks.{i}" for i in range(12)]),
    ],
)
def test_stage_layers_resolve_for_convnet_efficientnet_and_vit(arch, expected):
    module = build_architecture(f"timm-untrained:{arch}")
    assert default_layers(module) == expected
    assert resolve_layers(module, "stages", arch) == expected


def test_layer_specs_names_globs_and_evenly_spaced_blocks():
    resnet = build_architecture("timm-untrained:resnet18")
    assert blocks(resnet) == [f"layer{i}.{j}" for i in range(1, 5) for j in range(2)]
    assert resolve_layers(resnet, 4, "r") == ["layer1.0", "layer2.0", "layer3.1", "layer4.1"]
    assert resolve_layers(resnet, ["layer4.*.conv1", "fc"], "r") == [
        "layer4.0.conv1",
        "layer4.1.conv1",
        "fc",
    ]
    vit = build_architecture("timm-untrained:vit_tiny_patch16_224")
    assert resolve_layers(vit, 3, "v") == ["blocks.0", "blocks.6", "blocks.11"]
    alexnet = build_architecture("torchvision:alexnet")
    assert len(resolve_layers(alexnet, 8, "a")) == 8  # five conv + three linear layers


def test_unknown_layers_and_architectures_are_named():
    module = build_architecture("timm-untrained:resnet18")
    with pytest.raises(LayerError, match=r"no layer\(s\) \['layer5'\].*layer4"):
        check_layers(module, ["layer5"], "resnet18")
    with pytest.raises(LayerError, match=r"no layer\(s\) \['block\*'\]"):
        resolve_layers(module, ["block*"], "resnet18")
    with pytest.raises(ModelError, match="no architecture named 'resnet19'"):
        build_architecture("timm-untrained:resnet19")
    with pytest.raises(ModelError, match="torchvision has no model named 'alexnt'"):
        build_architecture("torchvision:alexnt")
    with pytest.raises(ModelError, match="<kind>:<name>"):
        build_architecture("hub:resnet18")
    with pytest.raises(ModelError, match="no offline weights for 'resnet50'.*lite0"):
        load_model("offline:resnet50")


def test_torchvision_preprocessing_follows_its_weights():
    config = torchvision_data_config("resnet50", "IMAGENET1K_V1")
    assert config["input_size"] == (3, 224, 224) and config["crop_pct"] == 224 / 256
    assert config["interpolation"] == "bilinear"


def test_brainscore_preprocessing_places_the_stimulus_on_grey():
    image = Image.new("RGB", (100, 100), (255, 0, 0))
    field = place_in_field(image, stimulus_degrees=4, model_degrees=8)
    assert field.size == (200, 200) and field.getpixel((0, 0)) == (128, 128, 128)
    assert field.getpixel((100, 100)) == (255, 0, 0)
    assert place_in_field(image, 10, 8).size == (80, 80)  # larger stimuli are cropped
    tensor = brainscore_transform(224, 8, 8)(image)
    assert tensor.shape == (3, 224, 224)
    np.testing.assert_allclose(
        tensor[:, 0, 0], [(1 - 0.485) / 0.229, -0.456 / 0.224, -0.406 / 0.225], atol=1e-5
    )


def test_pca_reduction_matches_sklearn_fitted_on_separate_images(resnet, images, tmp_path):
    from sklearn.decomposition import PCA

    fit_images = images[:4]
    ds = extract(
        resnet,
        images,
        ["layer4"],
        tmp_path / "p.nc",
        reduction={"method": "pca", "components": 3},
        pca_images=fit_images,
    )
    full = extract(resnet, images, ["layer4"], tmp_path / "f.nc", reduction={"method": "full"})
    pca = PCA(3).fit(full["layer4"].values[:4])
    expected = pca.transform(full["layer4"].values)
    got = ds["layer4"].values
    signs = np.sign((got * expected).sum(axis=0))  # components are defined up to sign
    np.testing.assert_allclose(got * signs, expected, rtol=1e-3, atol=1e-3)
    with pytest.raises(ValueError, match="separate image set"):
        extract(resnet, images, ["layer4"], tmp_path / "q.nc", reduction={"method": "pca"})
