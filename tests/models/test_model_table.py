"""The paper's model table (config/models.tsv): valid, loadable by name, and its numbers checked."""

import pandas as pd
import pytest
import timm
import torchvision
import yaml
from snakemake.utils import validate

from neuralign.config import check_layer_config
from neuralign.models.layers import default_layers
from neuralign.models.loading import build_architecture
from neuralign.models.sources import harmonized as harmonized_models
from neuralign.models.sources import offline_weights
from neuralign.models.table import (
    has_imagenet_head,
    read_model_table,
    weights_download,
    weights_file,
)
from tests.conftest import REPO

TABLE_PATH = REPO / "config" / "models.tsv"
PAPER_CONFIG = REPO / "config" / "config.yaml"
SCHEMA = REPO / "workflow" / "schemas" / "models.schema.yaml"
TIMM_RESULTS = REPO / "config" / "sources" / "timm_results_imagenet.csv"
TIMM_RESULTS_COMMIT = "4e5207c7bb6592474ca56e28b2cf85be8f1a550f"

# Top-1 as printed in the papers that introduced the weights (percent), against which timm's
# re-evaluation must agree to 0.3 points.
PAPER_TOP1 = {
    "deit_base": 81.8,  # Touvron et al. 2021, DeiT-B
    "swin_base_in22k": 85.2,  # Liu et al. 2021, Swin-B 224, ImageNet-22k pretrained
    "swin_large_384_in22k": 87.3,  # Liu et al. 2021, Swin-L 384, ImageNet-22k pretrained
    "convnext_large_in22k_384": 87.5,  # Liu et al. 2022, ConvNeXt-L 384, ImageNet-22k
    "beit_large_512_in22k": 88.6,  # Bao et al. 2022, BEiT-L 512, ImageNet-22k
    "resnext101_32x32d_wsl": 85.1,  # Mahajan et al. 2018, ResNeXt-101 32x32d, IG-940M
    "tf_efficientnet_b7_ns": 86.9,  # Xie et al. 2020, Noisy Student EfficientNet-B7
    "tf_efficientnet_l2_ns": 88.4,  # Xie et al. 2020, Noisy Student EfficientNet-L2
}


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return read_model_table(TABLE_PATH)


def timm_names(table: pd.DataFrame) -> pd.Series:
    timm_rows = table["source"].str.startswith("timm:")
    return table.loc[timm_rows, "source"].str.removeprefix("timm:")


def test_table_validates_against_the_schema(table):
    validate(table, str(SCHEMA))


def test_ids_and_sources_are_unique(table):
    assert table["id"].is_unique
    assert table["source"].is_unique


def test_every_timm_name_is_a_pretrained_tag_the_installed_timm_knows(table):
    names = timm_names(table)
    assert len(names) >= 120
    assert all("." in name for name in names), "name the pretrained tag: <arch>.<tag>"
    unknown = sorted(set(names) - set(timm.list_pretrained()))
    assert not unknown, f"timm {timm.__version__} has no pretrained weights {unknown}"


def test_offline_rows_have_installed_weight_packages(table):
    offline = table.loc[table["source"].str.startswith("offline:"), "source"]
    assert set(offline.str.removeprefix("offline:")) <= set(offline_weights.OFFLINE_WEIGHTS)


def test_the_starter_rows_are_kept(table):
    starters = ["resnet18_tv", "resnet50_tv", "vgg16_tv", "convnext_tiny", "deit_small"]
    assert set(starters + ["tf_efficientnet_lite0", "mobilenetv2_100"]) <= set(table["id"])


def test_families_cover_the_paper(table):
    counts = table["family"].value_counts()
    assert len(table) >= 120
    assert counts.get("ConvNet", 0) >= 30 and counts.get("Transformer", 0) >= 20
    assert counts.get("extra data", 0) >= 20 and counts.get("robust", 0) >= 2
    assert set(counts.index) == {
        "ConvNet",
        "Transformer",
        "robust",
        "extra data",
        "self-supervised",
        "harmonized",
    }


def test_harmonized_rows_are_the_seven_published_models_with_a_measured_top1(table):
    """Their top-1 is published only as a plotted point, so the workflow measures it; their
    files are downloaded from their published URLs (serre-lab/Harmonization docs/models.md):
    the url column for whole Keras models, the registry (``harmonized_models.MODELS``) for the
    weights-only ones, whose rows repeat it in the url column."""
    harmonized = table[table["family"] == "harmonized"]
    keras = harmonized["source"].str.startswith("keras:resources/harmonized/")
    weights_only = harmonized["source"].str.removeprefix("harmonized:")
    assert keras.sum() == 3
    assert sorted(weights_only[~keras]) == sorted(harmonized_models.MODELS)
    assert harmonized["imagenet_top1"].isna().all()
    assert table.loc[table["family"] != "harmonized", "imagenet_top1"].notna().all()
    for model, source, url in zip(
        harmonized.index, harmonized["source"], harmonized["url"], strict=True
    ):
        kind, _, name = source.partition(":")
        file = harmonized_models.MODELS[name].url if kind == "harmonized" else name
        file = file.rpartition("/")[2]
        assert url == f"https://storage.googleapis.com/serrelab/prj_harmonization/models/{file}"
        [(path, remote)] = weights_download(source, url).items()
        assert remote.url == url and remote.trust_on_first_use, model
        assert path == weights_file(source), model
    assert (table.loc[table["family"] != "harmonized", "url"].fillna("") == "").all()


# The self-supervised rows: method (first word of the notes) -> pretrained weights of timm
# (backbones without a classifier) whose top-1 is a published linear probe.
SELF_SUPERVISED_METHODS = {"DINO", "DINOv2", "MAE", "SEER"}


def test_self_supervised_rows_are_label_free_backbones_with_a_linear_probe_top1(table):
    rows = table[table["family"] == "self-supervised"]
    methods = rows["notes"].str.split(" ").str[0]
    assert len(rows) >= 12 and set(methods) == SELF_SUPERVISED_METHODS
    assert methods.value_counts().max() <= len(rows) / 3  # not one method in many sizes
    assert rows["notes"].str.contains("linear prob").all()
    assert rows["notes"].str.contains("without labels").all()
    assert rows["notes"].str.contains(r"at commit [0-9a-f]{40}").all()
    for model, source in rows["source"].items():
        assert source.startswith("timm:"), model
        assert not has_imagenet_head(source), f"{model}: expected a backbone without a head"
    # CLIP (language supervision) stays in extra data, as do models fine-tuned with labels
    assert not rows["source"].str.contains("clip|_ft_").any()


def test_adversarially_trained_inceptions_are_robust(table):
    robust = set(timm_names(table[table["family"] == "robust"]))
    assert {"inception_v3.tf_adv_in1k", "inception_resnet_v2.tf_ens_adv_in1k"} <= robust


def test_extra_data_rows_name_a_larger_pretraining_set(table):
    names = timm_names(table[table["family"] == "extra data"])
    markers = ("in21k", "in22k", "ig1b", "yfcc100m", "jft", "clip", "laion", "seer", "swag")
    assert all(any(marker in name for marker in markers) for name in names), names.tolist()
    in1k_only = timm_names(table[table["family"].isin(["ConvNet", "Transformer"])])
    assert not any(marker in name for name in in1k_only for marker in markers)


def test_top1_spans_low_to_high_accuracy(table):
    top1 = table["imagenet_top1"]
    assert top1.min() < 60 and top1.max() > 88
    assert (top1 < 70).sum() >= 10 and (top1 > 85).sum() >= 10


def test_every_row_says_where_its_number_comes_from(table):
    assert (table["notes"].str.len() > 20).all()


def test_torchvision_weights_match_torchvision_metadata(table):
    """Rows of torchvision's weights carry the top-1 that torchvision publishes for them."""
    names = timm_names(table)
    archs = names[names.str.endswith(".tv_in1k")].str.removesuffix(".tv_in1k").to_dict()
    archs["mobilenetv2_100"] = "mobilenet_v2"  # offline copy of torchvision's weights
    torchvision_rows = table["source"].str.startswith("torchvision:")
    archs.update(table.loc[torchvision_rows, "source"].str.removeprefix("torchvision:").to_dict())
    assert len(archs) >= 15
    for model, name in archs.items():
        arch, _, weights = name.partition(".")
        meta = torchvision.models.get_model_weights(arch)[weights or "IMAGENET1K_V1"].meta
        assert table.loc[model, "imagenet_top1"] == meta["_metrics"]["ImageNet-1K"]["acc@1"]
    assert table.loc["resnet50_tv", "imagenet_top1"] == 76.13
    assert table.loc["alexnet_tv", "imagenet_top1"] == 56.522


def test_the_paper_config_names_the_layers_of_every_torchvision_model(table):
    """torchvision models have no stage list; config.yaml names their layers, and they exist."""
    activations = yaml.safe_load(PAPER_CONFIG.read_text())["activations"]
    activations.setdefault("model_layers", {})
    check_layer_config(activations, table, list(table.index))


def test_timm_numbers_are_those_of_timms_results_at_the_default_input_size(table):
    results = pd.read_csv(TIMM_RESULTS).set_index("model")
    from_results = table[table["notes"].str.contains("results-imagenet.csv", regex=False)]
    assert len(from_results) >= 100
    for model, row in from_results.iterrows():
        name = row["source"].removeprefix("timm:")
        assert TIMM_RESULTS_COMMIT in row["notes"]
        assert row["imagenet_top1"] == results.loc[name, "top1"], model
        size = timm.models.get_pretrained_cfg(name).input_size[-1]
        assert results.loc[name, "img_size"] == size, model


@pytest.mark.parametrize(("model", "paper"), PAPER_TOP1.items())
def test_timm_numbers_agree_with_the_papers(table, model, paper):
    assert table.loc[model, "imagenet_top1"] == pytest.approx(paper, abs=0.3)


def test_default_stage_layers_resolve_on_every_architecture(table):
    """The paper config's `layers: stages` names distinct modules of every model (built on the
    meta device, once per architecture: ~30 s on two CPU cores)."""
    kind = table["source"].str.partition(":")[0]
    arch = table["source"].str.partition(":")[2].str.partition(".")[0]
    sources = ("timm-untrained:" + arch[kind.isin(["timm", "offline"])]).drop_duplicates()
    assert len(sources) >= 100
    for model, source in sources.items():
        module = build_architecture(source)
        layers = default_layers(module)
        names = dict(module.named_modules())
        assert len(set(layers)) == len(layers), (model, layers)
        assert all(layer in names for layer in layers), (model, layers)
