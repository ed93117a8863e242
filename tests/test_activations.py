import numpy as np
import pytest
import timm
import torch
from neuralign.activations import activations_dataset, extract, reduce_output
from neuralign.models import ModelError, build_architecture, check_layers, load_model
from PIL import Image


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


def test_features_equal_a_direct_forward_pass(images):
    model = load_model("timm-untrained:resnet18")
    features = extract(model, images, ["layer3", "global_pool"], pool_grid=2, batch_size=2)
    transform = timm.data.create_transform(**model.data_config)
    batch = torch.stack([transform(Image.open(p).convert("RGB")) for p in images])
    with torch.inference_mode():
        net = model.module
        x = net.layer3(net.layer2(net.layer1(net.maxpool(net.act1(net.bn1(net.conv1(batch)))))))
        layer3 = torch.nn.functional.adaptive_avg_pool2d(x, 2).flatten(1)
        pooled = net.global_pool(net.layer4(x))
    np.testing.assert_allclose(features["layer3"], layer3.numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(features["global_pool"], pooled.numpy(), rtol=1e-5, atol=1e-5)


def test_untrained_models_are_seeded():
    a = load_model("timm-untrained:resnet18")
    b = load_model("timm-untrained:resnet18")
    assert a.weights_sha256 == b.weights_sha256


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
    from neuralign.models import default_layers

    module = build_architecture(f"timm-untrained:{arch}")
    assert default_layers(module) == expected
    check_layers(module, expected, arch)


def test_unknown_layer_and_architecture_are_named():
    module = build_architecture("timm-untrained:resnet18")
    with pytest.raises(ModelError, match=r"no layer\(s\) \['layer5'\].*layer4"):
        check_layers(module, ["layer5"], "resnet18")
    with pytest.raises(ModelError, match="no architecture named 'resnet19'"):
        build_architecture("timm-untrained:resnet19")
    with pytest.raises(ModelError, match="<kind>:<name>"):
        build_architecture("hub:resnet18")


def test_token_outputs_are_averaged_and_vectors_kept():
    tokens = torch.arange(24.0).reshape(1, 4, 6)
    np.testing.assert_allclose(reduce_output(tokens, 3), tokens.mean(1))
    vector = torch.ones(2, 7)
    assert reduce_output(vector, 3).shape == (2, 7)


def test_activations_dataset_layout():
    ds = activations_dataset({"a.b": np.ones((3, 4))}, ["s0", "s1", "s2"], {"model_source": "x"})
    assert ds["a.b"].dims == ("stimulus", "a.b_feature")
    assert ds.attrs["layers"] == ["a.b"] and ds["a.b"].dtype == np.float32


def test_hub_source_without_internet_says_what_is_needed(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path))  # an empty cache
    with pytest.raises(ModelError, match="timm:resnet18.tv_in1k.*needs internet access"):
        load_model("timm:resnet18.tv_in1k")


def test_offline_source_needs_known_weights():
    with pytest.raises(ModelError, match="no offline weights for 'resnet50'.*lite0"):
        load_model("offline:resnet50")
