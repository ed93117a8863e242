"""The catalog answers as timm and torchvision do, and from its file without importing them."""

import json
import subprocess
import sys

import pytest
import timm
import torchvision

from neuralign.config import ConfigError, check_layers_resolve
from neuralign.models import catalog
from tests.conftest import REPO


@pytest.fixture
def cache_home(tmp_path, monkeypatch):
    """An empty user cache, and no answers held by this process."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(catalog, "_ANSWERS", {})
    return tmp_path


def test_answers_are_timms_and_torchvisions(cache_home):
    assert catalog.timm_architectures() == timm.list_models()
    for name in ("resnet18", "tf_efficientnet_lite0.in1k", "vit_small_patch16_224.dino"):
        config = timm.models.get_pretrained_cfg(name)
        assert catalog.timm_pretrained(name) == {
            field: getattr(config, field) for field in catalog.PRETRAINED_FIELDS
        }
    assert catalog.timm_pretrained("vit_small_patch16_224.dino")["num_classes"] == 0
    assert catalog.timm_pretrained("resnet18.no_such_tag") is None
    assert catalog.timm_pretrained("no_such_architecture") is None
    assert catalog.torchvision_models() == torchvision.models.list_models()
    weights = catalog.torchvision_weights("resnet50")
    enum = torchvision.models.get_model_weights("resnet50")
    assert weights["DEFAULT"]["name"] == enum.DEFAULT.name == "IMAGENET1K_V2"
    assert weights["IMAGENET1K_V1"] == {
        "name": "IMAGENET1K_V1",
        "url": enum.IMAGENET1K_V1.url,
        "categories": 1000,
    }
    assert catalog.cache_file().parent == cache_home / "neuralign"
    assert "timm.list_models" in json.loads(catalog.cache_file().read_text())


def test_a_new_process_answers_from_the_file_without_importing_torch(cache_home):
    questions = "catalog.timm_architectures(), catalog.timm_pretrained('resnet18')"
    script = (
        "import sys; from neuralign.models import catalog; "
        f"answers = ({questions}); "
        "print(len(answers[0]), answers[1]['num_classes'], "
        "[m for m in ('torch', 'timm', 'torchvision') if m in sys.modules])"
    )
    env = {"XDG_CACHE_HOME": str(cache_home), "PYTHONPATH": str(REPO / "workflow")}

    def run() -> str:
        done = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True
        )
        return done.stdout.split()

    first, second = run(), run()
    assert first[:2] == second[:2] == [str(len(timm.list_models())), "1000"]
    assert first[2:] != ["[]"]  # the first process imported timm to answer
    assert second[2:] == ["[]"]


def test_an_unreadable_file_is_answered_afresh(cache_home):
    catalog.cache_file().parent.mkdir(parents=True)
    catalog.cache_file().write_text("{not json")
    assert catalog.timm_pretrained("resnet18")["num_classes"] == 1000
    assert "timm.get_pretrained_cfg:resnet18" in json.loads(catalog.cache_file().read_text())


def test_a_cache_that_cannot_be_written_costs_only_time(cache_home):
    (cache_home / "neuralign").write_text("a file where the cache folder would be")
    assert "resnet18" in catalog.timm_architectures()


def test_a_layer_check_kept_in_the_catalog_fails_as_the_fresh_one(cache_home, monkeypatch):
    """The layer check's answer is kept, and raises the same ConfigError when read back."""
    messages = []
    for _ in range(2):
        monkeypatch.setattr(catalog, "_ANSWERS", {})
        with pytest.raises(ConfigError) as err:
            check_layers_resolve("timm-untrained:resnet18", ["layer9"], "r18", "config 'x'")
        messages.append(str(err.value))
    assert messages[0] == messages[1]
    assert messages[0].startswith("config 'x': ") and "layer9" in messages[0]
    kept = json.loads(catalog.cache_file().read_text())
    assert [key for key in kept if key.startswith("layers:timm-untrained:resnet18:r18:")]
    check_layers_resolve("timm-untrained:resnet18", ["layer4"], "r18", "config 'x'")
