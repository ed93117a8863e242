"""robust: model sources (neuralign.models.sources.robust) on checkpoints written in the published
layout
of the MadryLab robustness library, registered under test names with their own sha256."""

import argparse
import hashlib
import io
from pathlib import Path

import pytest
import torch
import torchvision

from neuralign.io.download import RemoteFile
from neuralign.models.loading import build_architecture, load_model, torchvision_data_config
from neuralign.models.sources import robust as robust_models
from neuralign.models.table import ModelError, check_source, read_model_table
from tests.conftest import REPO

# Not ImageNet's statistics: the data config's mean and std must come from the checkpoint.
MEAN = (0.5, 0.4, 0.3)
STD = (0.2, 0.25, 0.3)


def tensor_bytes(checkpoint, zipfile: bool = True) -> bytes:
    """What ``torch.save`` writes; ``zipfile=False``: the format of torch < 1.6 (2020 files)."""
    buffer = io.BytesIO()
    torch.save(checkpoint, buffer, _use_new_zipfile_serialization=zipfile)
    return buffer.getvalue()


def torchvision_resnet18() -> torch.nn.Module:
    """Seeded random weights, with BN running statistics that are not the identity."""
    torch.manual_seed(0)
    model = torchvision.models.resnet18()
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.uniform_(-0.5, 0.5)
            module.running_var.uniform_(0.5, 2.0)
    return model.eval()


def robustness_checkpoint(model: torch.nn.Module) -> dict:
    """``torch.save`` contents of robustness/train.py for ``DataParallel(AttackerModel(model))``."""
    classifier = model.state_dict()
    # The published attacker copy holds the same tensors; a different one here shows that only
    # module.model.* is loaded.
    attacker = {key: value + 1 for key, value in classifier.items()}
    normalizer = {"new_mean": torch.tensor(MEAN), "new_std": torch.tensor(STD)}
    normalizer = {key: value[:, None, None] for key, value in normalizer.items()}
    state = {
        **{f"module.normalizer.{key}": value for key, value in normalizer.items()},
        **{f"module.model.{key}": value for key, value in classifier.items()},
        **{f"module.attacker.normalize.{key}": value for key, value in normalizer.items()},
        **{f"module.attacker.model.{key}": value for key, value in attacker.items()},
    }
    momentum = {
        i: {"momentum_buffer": torch.zeros_like(p)} for i, p in enumerate(model.parameters())
    }
    params = list(range(len(momentum)))
    return {
        "model": state,
        "optimizer": {
            "state": momentum,
            "param_groups": [
                {"lr": 0.001, "momentum": 0.9, "weight_decay": 1e-4, "params": params}
            ],
        },
        "schedule": {"step_size": 30, "gamma": 0.1, "base_lrs": [0.1], "last_epoch": 90},
        "epoch": 90,
        "amp": None,
        "adv_prec1": torch.tensor(53.12),
    }


@pytest.fixture
def publish(tmp_path, monkeypatch):
    """Register ``name`` (architecture ``arch``) with the sha256 of ``published`` and write
    ``written`` (default: the same bytes) where the workflow keeps it; returns that path."""
    monkeypatch.chdir(tmp_path)

    def register(name: str, arch: str, published: bytes, written: bytes | None = None) -> Path:
        remote = RemoteFile(
            f"{robust_models.HF_FILES}/{name}.ckpt", sha256=hashlib.sha256(published).hexdigest()
        )
        monkeypatch.setitem(
            robust_models.CHECKPOINTS, name, robust_models.RobustCheckpoint(arch, remote)
        )
        path = Path(robust_models.checkpoint_path(name))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(published if written is None else written)
        return path

    return register


@pytest.mark.parametrize("zipfile", [True, False], ids=["zip", "legacy"])
def test_a_published_layout_loads_as_the_torchvision_model_with_its_normalizer(publish, zipfile):
    reference = torchvision_resnet18()
    publish("resnet18_test", "resnet18", tensor_bytes(robustness_checkpoint(reference), zipfile))
    loaded = load_model("robust:resnet18_test")
    config = loaded.data_config
    assert config["mean"] == pytest.approx(MEAN) and config["std"] == pytest.approx(STD)
    expected = torchvision_data_config("resnet18", "IMAGENET1K_V1")
    for key in ("input_size", "interpolation", "crop_pct", "crop_mode"):
        assert config[key] == expected[key], key
    torch.manual_seed(1)
    images = torch.rand(3, 3, 96, 96)
    normalized = (images - torch.tensor(config["mean"])[:, None, None]) / torch.tensor(
        config["std"]
    )[:, None, None]
    with torch.no_grad():
        torch.testing.assert_close(loaded.module(normalized), reference(normalized))
    assert not loaded.module.training
    assert loaded.default_layers == ["act1", "layer1", "layer2", "layer3", "layer4", "global_pool"]


def test_registered_architectures_have_torchvisions_tensor_names_and_shapes():
    archs = {entry.arch for entry in robust_models.CHECKPOINTS.values()}
    assert archs == {"resnet18", "resnet50"}
    for arch in archs:
        name = next(n for n, e in robust_models.CHECKPOINTS.items() if e.arch == arch)
        ours = build_architecture(f"robust:{name}").state_dict()
        with torch.device("meta"):
            theirs = torchvision.models.get_model(arch).state_dict()
        assert [(k, v.shape) for k, v in ours.items()] == [(k, v.shape) for k, v in theirs.items()]


def test_a_checkpoint_of_another_architecture_names_the_file_and_first_mismatch(publish):
    path = publish(
        "resnet50_test", "resnet50", tensor_bytes(robustness_checkpoint(torchvision_resnet18()))
    )
    with pytest.raises(ModelError) as err:
        load_model("robust:resnet50_test")
    message = str(err.value)
    assert str(path) in message
    assert "module.model.layer1.0.conv1.weight has shape (64, 64, 3, 3)" in message
    assert "resnet50 needs (64, 64, 1, 1)" in message


def test_a_missing_file_says_where_to_get_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ModelError) as err:
        load_model("robust:resnet50_l2_eps3")
    message = str(err.value)
    assert robust_models.checkpoint_path("resnet50_l2_eps3") in message
    assert f"{robust_models.HF_FILES}/resnet50_l2_eps3.ckpt" in message
    assert "snakemake" in message


def test_a_truncated_file_fails_its_checksum(publish):
    published = tensor_bytes(robustness_checkpoint(torchvision_resnet18()))
    path = publish("resnet18_test", "resnet18", published, written=published[:-1000])
    with pytest.raises(ModelError, match="sha256") as err:
        load_model("robust:resnet18_test")
    assert f"delete {path} and rerun" in str(err.value)


@pytest.mark.parametrize(
    "content",
    [
        b"<html>not a checkpoint</html>",
        # arbitrary pickled objects are refused, even in a file whose checksum matches
        tensor_bytes({"model": {}, "args": argparse.Namespace(eps=3.0)}),
    ],
    ids=["not-a-torch-file", "pickled-object"],
)
def test_an_unreadable_file_names_the_file(publish, content):
    path = publish("resnet18_test", "resnet18", content)
    with pytest.raises(ModelError, match=r"torch\.load\(weights_only=True\) cannot read it") as err:
        load_model("robust:resnet18_test")
    assert str(path) in str(err.value)


@pytest.mark.parametrize(
    ("drop", "error"),
    [
        ("model", "no 'model' state dict"),
        ("module.normalizer.new_std", "module.normalizer.new_std"),
    ],
)
def test_a_checkpoint_without_the_robustness_entries_is_refused(publish, drop, error):
    checkpoint = robustness_checkpoint(torchvision_resnet18())
    if drop == "model":
        checkpoint = checkpoint["model"]  # a bare state dict
    else:
        del checkpoint["model"][drop]
    path = publish("resnet18_test", "resnet18", tensor_bytes(checkpoint))
    with pytest.raises(ModelError, match=error) as err:
        load_model("robust:resnet18_test")
    assert str(path) in str(err.value)


def test_an_unregistered_name_lists_the_registered_ones():
    with pytest.raises(ModelError, match="resnet50_l2_eps3"):
        check_source("robust:resnet50_l2_eps4")


def test_the_paper_table_runs_every_registered_checkpoint_pinned_by_sha256():
    table = read_model_table(REPO / "config" / "models.tsv")
    rows = table[table["source"].str.startswith("robust:")]
    assert (rows["source"] == "robust:" + rows["id"]).all()
    assert set(rows["id"]) == set(robust_models.CHECKPOINTS)
    assert (rows["family"] == "robust").all()
    assert rows["notes"].str.contains("cea2c37f09ae24485b7e593a470aa350c3fb32ee").all()
    for name, entry in robust_models.CHECKPOINTS.items():
        assert entry.remote.url.startswith(
            "https://huggingface.co/madrylab/robust-imagenet-models/"
        )
        assert entry.remote.url.endswith(f"/resolve/{robust_models.HF_COMMIT}/{name}.ckpt")
        assert len(entry.remote.sha256) == 64 and set(entry.remote.sha256) <= set(
            "0123456789abcdef"
        )
    assert len(set(robust_models.SHA256.values())) == len(robust_models.SHA256)
