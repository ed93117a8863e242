"""Hub weights (timm, torchvision): URLs from the libraries' metadata, fetched by the one
download function (mirror, trust on first use), loaded from the file; files that do not fit the
architecture are named."""

import hashlib

import pytest
import safetensors.torch
import timm
import torch
import torchvision

from neuralign.io.resources import DownloadError, DownloadLock, mirror_path
from neuralign.models.loading import load_model
from neuralign.models.sources import hub_weights
from neuralign.models.sources.hub_weights import WeightsError, load_timm, load_torchvision
from neuralign.models.table import ModelError, weights_download, weights_file

TIMM = "resnet10t.c3_in1k"


def test_urls_come_from_the_libraries_metadata():
    remote, from_hub = hub_weights.timm_weights("resnet18.a1_in1k")
    assert from_hub and remote.url == (
        "https://huggingface.co/timm/resnet18.a1_in1k/resolve/main/model.safetensors"
    )
    assert remote.trust_on_first_use
    legacy, from_hub = hub_weights.timm_weights("legacy_xception.tf_in1k")  # no hub copy
    assert not from_hub and legacy.url == timm.models.get_pretrained_cfg("legacy_xception").url
    alexnet = hub_weights.torchvision_weights("alexnet", "IMAGENET1K_V1")
    assert alexnet.url == "https://download.pytorch.org/models/alexnet-owt-7be5be79.pth"
    assert alexnet.sha256_prefix == "7be5be79"
    default = hub_weights.remote_weights("torchvision", "resnet50")
    assert default.url == torchvision.models.ResNet50_Weights.DEFAULT.url
    with pytest.raises(WeightsError, match="no pretrained weights named 'resnet18.nope'"):
        hub_weights.timm_weights("resnet18.nope")


def test_every_selected_hub_model_gets_a_file_under_resources():
    files = weights_download("timm:resnet18.a1_in1k")
    assert list(files) == [
        "resources/huggingface.co/timm/resnet18.a1_in1k/resolve/main/model.safetensors"
    ]
    assert weights_file("timm:resnet18.a1_in1k") == next(iter(files))
    assert weights_file("torchvision:alexnet.IMAGENET1K_V1") == (
        "resources/download.pytorch.org/models/alexnet-owt-7be5be79.pth"
    )
    assert weights_download("timm-untrained:resnet18") == {}
    assert weights_download("keras:model.h5", "https://example.org/m.h5")["model.h5"].url == (
        "https://example.org/m.h5"
    )


def test_timm_weights_go_through_the_mirror_and_load_from_the_file(tmp_path, monkeypatch):
    """The real path: mirror copy → download (recorded in the lock) → load_model."""
    torch.manual_seed(1)
    reference = timm.create_model(TIMM, pretrained=False).state_dict()
    remote, _ = hub_weights.timm_weights(TIMM)
    mirror = tmp_path / "mirror"
    (mirror / mirror_path(remote.url)).parent.mkdir(parents=True)
    safetensors.torch.save_file(reference, mirror / mirror_path(remote.url))
    monkeypatch.chdir(tmp_path)
    lock = DownloadLock("config/downloads.lock")
    path = weights_file(f"timm:{TIMM}")
    remote.fetch(path, lock=lock, mirror=mirror, progress=False)
    digest = hashlib.sha256((mirror / mirror_path(remote.url)).read_bytes()).hexdigest()
    assert lock.get(remote.url).sha256 == digest
    loaded = load_model(f"timm:{TIMM}").module.state_dict()
    assert loaded.keys() == reference.keys()
    assert all(torch.equal(loaded[key], reference[key]) for key in reference)


def test_missing_weights_say_how_to_download_them(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(
        ModelError,
        match=r"rule download fetches them \(`snakemake --cores 1 resources/huggingface.co/",
    ):
        load_model(f"timm:{TIMM}")


def test_timm_file_of_another_architecture_is_named(tmp_path):
    path = tmp_path / "model.safetensors"
    safetensors.torch.save_file(timm.create_model("resnet14t").state_dict(), path)
    with pytest.raises(WeightsError, match=rf"{path}: its tensors do not fit timm's {TIMM}"):
        load_timm(TIMM, path)


def test_torchvision_weights_load_through_torchvisions_builder(tmp_path):
    """GoogLeNet's published weights need the builder's settings (transform_input on, the
    auxiliary heads loaded then dropped): they are kept."""
    torch.manual_seed(2)
    reference = torchvision.models.GoogLeNet(aux_logits=True, init_weights=False).state_dict()
    path = tmp_path / "googlenet.pth"
    torch.save(reference, path)
    module = load_torchvision("googlenet.IMAGENET1K_V1", path)
    assert module.transform_input and module.aux1 is None
    loaded = module.state_dict()
    assert all(torch.equal(loaded[key], reference[key]) for key in loaded)


def test_torchvision_file_of_another_architecture_is_named(tmp_path):
    path = tmp_path / "squeezenet.pth"
    torch.save(torchvision.models.squeezenet1_0().state_dict(), path)
    with pytest.raises(
        WeightsError, match=rf"{path}: its tensors do not fit torchvision's squeezenet1_1"
    ):
        load_torchvision("squeezenet1_1.IMAGENET1K_V1", path)
    torch.save({"not": "tensors"}, path)
    with pytest.raises(WeightsError, match="not a state dict of tensors"):
        load_torchvision("squeezenet1_1.IMAGENET1K_V1", path)


def test_torchvision_file_must_match_the_hash_in_its_name(tmp_path):
    remote = hub_weights.torchvision_weights("squeezenet1_1", "IMAGENET1K_V1")
    mirror = tmp_path / "mirror"
    (mirror / mirror_path(remote.url)).parent.mkdir(parents=True)
    torch.save(torchvision.models.squeezenet1_1().state_dict(), mirror / mirror_path(remote.url))
    with pytest.raises(DownloadError, match=f"does not start with {remote.sha256_prefix}"):
        remote.fetch(tmp_path / "w.pth", mirror=mirror, progress=False)
