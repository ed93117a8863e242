"""ImageNet validation accuracy: top-1/top-5 against scikit-learn on lite0's own logits, the
Wilson interval against SciPy, the seeded class-balanced subset, and the config checks."""

import numpy as np
import pandas as pd
import pytest
import timm
import torch
from PIL import Image
from scipy import stats
from skimage import data
from sklearn.metrics import accuracy_score, top_k_accuracy_score

from neuralign import gated
from neuralign.analyses.imagenet import (
    accuracy_table,
    evaluate,
    models_to_evaluate,
    models_without_top1,
    stratified_subset,
    wilson_interval,
)
from neuralign.config import ConfigError, check_imagenet_top1
from neuralign.io.imagefolder import imagenet_wnids
from neuralign.models.loading import build_architecture, load_model
from neuralign.models.table import ModelError, has_imagenet_head
from neuralign.reporting.scores import scores_table
from tests.conftest import write_summary_fit

LITE0 = "offline:tf_efficientnet_lite0"
# scikit-image photo -> the wnid folder it is filed under. lite0's top-5 (checked when this was
# written): chelsea tiger cat / Egyptian cat / tabby ...; coffee espresso; camera (a cameraman)
# tripod; rocket (a launch) missile / projectile / drilling platform / space shuttle; astronaut
# football helmet / bobsled ... So 3 of 5 are right at top-1 and 4 of 5 within the top 5.
PHOTOS = {
    "chelsea": "n02123159",  # tiger cat: lite0's top-1
    "coffee": "n07920052",  # espresso: top-1
    "camera": "n04485082",  # tripod: top-1 (a grey-scale image)
    "rocket": "n04266014",  # space shuttle: lite0's 4th guess, a top-5 hit only
    "astronaut": "n02123159",  # deliberately wrong (tiger cat): not in lite0's top 5
}


def write_val_folder(root):
    """The PHOTOS as an ImageNet-style validation folder <root>/<wnid>/<photo>.JPEG."""
    for name, wnid in PHOTOS.items():
        (root / wnid).mkdir(parents=True, exist_ok=True)
        image = Image.fromarray(getattr(data, name)()).convert("RGB")
        image.save(root / wnid / f"{name}.JPEG", quality=95)
    return root


@pytest.fixture(scope="module")
def val_dir(tmp_path_factory):
    return write_val_folder(tmp_path_factory.mktemp("imagenet") / "val")


@pytest.fixture(scope="module")
def lite0():
    return load_model(LITE0)


def independent_logits(module, val_dir):
    """Logits and ImageNet labels of every image, through timm's own transform."""
    config = timm.data.resolve_data_config({}, model=module)
    transform = timm.data.create_transform(**config, is_training=False)
    wnids = imagenet_wnids()
    paths = sorted(val_dir.glob("*/*.JPEG"))
    images = torch.stack([transform(Image.open(path).convert("RGB")) for path in paths])
    with torch.no_grad():
        logits = module.eval()(images).numpy()
    return logits, np.array([wnids.index(path.parent.name) for path in paths])


def test_accuracy_matches_sklearn_on_independent_logits(lite0, val_dir):
    summary = evaluate(lite0.module, lite0.data_config, val_dir, model_id="lite0", batch_size=2)
    logits, labels = independent_logits(lite0.module, val_dir)
    assert summary["top1"] == pytest.approx(100 * accuracy_score(labels, logits.argmax(1)))
    top5 = top_k_accuracy_score(labels, logits, k=5, labels=np.arange(1000))
    assert summary["top5"] == pytest.approx(100 * top5)
    assert (summary["top1"], summary["top5"]) == (60.0, 80.0)  # the labels chosen in PHOTOS
    assert (summary["n_images"], summary["n_classes"]) == (5, 4)
    low, high = wilson_interval(3, 5)
    assert (summary["top1_ci_low"], summary["top1_ci_high"]) == (100 * low, 100 * high)


def test_max_images_evaluates_a_seeded_class_balanced_subset(lite0, val_dir):
    options = {"model_id": "lite0", "max_images": 3, "seed": 0}
    summary = evaluate(lite0.module, lite0.data_config, val_dir, **options)
    assert (summary["n_images"], summary["n_classes"]) == (3, 3)  # one image of 3 classes


@pytest.mark.parametrize(("successes", "n"), [(3, 5), (0, 5), (5, 5), (1, 1), (7012, 10000)])
def test_wilson_interval_matches_scipy(successes, n):
    reference = stats.binomtest(successes, n).proportion_ci(0.95, method="wilson")
    np.testing.assert_allclose(
        wilson_interval(successes, n), (reference.low, reference.high), atol=1e-12
    )


def test_wilson_interval_by_hand():
    # (p + z²/2n ± z sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n), p = 3/5, z = 1.959964
    assert wilson_interval(3, 5) == pytest.approx((0.2307243, 0.8823792), abs=1e-7)
    with pytest.raises(ValueError, match="6 of 5"):
        wilson_interval(6, 5)


def test_stratified_subset_spreads_over_classes_and_depends_on_the_seed():
    samples = [
        (f"{label}_{i}", label) for label, size in [(0, 10), (1, 10), (2, 2)] for i in range(size)
    ]
    subset = stratified_subset(samples, 12, seed=0)
    assert [label for _, label in subset].count(2) == 2  # the small class gives all it has
    assert sorted(np.bincount([label for _, label in subset])) == [2, 5, 5]
    assert subset == sorted(subset, key=samples.index)  # folder order kept
    assert np.ptp(np.bincount([label for _, label in stratified_subset(samples, 5, 0)])) <= 1
    assert subset == stratified_subset(samples, 12, seed=0)
    assert subset != stratified_subset(samples, 12, seed=1)
    assert stratified_subset(samples, None, seed=0) == samples


def test_a_model_without_1000_outputs_is_named(lite0, val_dir):
    module = torch.nn.Sequential(
        torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(3, 10)
    )
    with pytest.raises(ModelError, match=r"model 'ten_classes' outputs shape \(5, 10\)"):
        evaluate(module, lite0.data_config, val_dir, model_id="ten_classes", batch_size=8)


def test_a_folder_not_sorted_by_wnid_is_refused(lite0, tmp_path):
    (tmp_path / "cats").mkdir()
    Image.fromarray(data.chelsea()).save(tmp_path / "cats" / "chelsea.png")
    with pytest.raises(ValueError, match=r"\['cats'\] are not known classes"):
        evaluate(lite0.module, lite0.data_config, tmp_path, model_id="lite0")


TABLE = pd.DataFrame(
    {
        "source": [
            LITE0,
            "keras:harmonized.h5",
            "keras:unused.h5",
            "timm:vit_small_patch16_224.dino",
        ],
        "imagenet_top1": [75.1, np.nan, np.nan, 77.0],
        "family": ["ConvNet", "harmonized", "harmonized", "self-supervised"],
    },
    index=["lite0", "harmonized", "unused", "dino"],
)


def test_models_without_a_top1_and_the_stage_left_out_without_val_images(tmp_path):
    assert models_without_top1(TABLE, ["lite0", "harmonized"]) == ["harmonized"]
    assert models_without_top1(TABLE, ["lite0"]) == []
    assert gated.imagenet_val(str(tmp_path), ["harmonized"]) is None
    for val_dir, where in [(None, "it is not set"), ("nowhere", "nowhere is not a folder")]:
        left_out = gated.imagenet_val(val_dir, ["harmonized"])
        assert "ImageNet top-1 of harmonized" in left_out.stage
        assert f"'imagenet.val_dir': {where}" in left_out.missing
        assert "image-net.org" in left_out.how_to_get_it


@pytest.mark.parametrize(
    ("source", "head"),
    [
        (LITE0, True),
        ("timm:resnet50.a1_in1k", True),
        ("timm-untrained:resnet18", True),
        ("timm:vit_small_patch16_224.dino", False),
        ("timm:regnety_640.seer", False),
        ("timm-untrained:vit_base_patch16_224.mae", False),
    ],
)
def test_imagenet_head_is_read_from_timm_metadata_as_the_architecture_has_it(source, head):
    """Backbone-only weights (self-supervised) have no 1000-way classifier; the answer agrees
    with the architecture timm builds for those weights."""
    assert has_imagenet_head(source) is head
    assert (build_architecture(source).num_classes == 1000) is head


def test_torchvision_robust_and_harmonized_models_have_an_imagenet_head():
    for source in ["torchvision:alexnet", "robust:resnet18_l2_eps3", "harmonized:vit_b16"]:
        assert has_imagenet_head(source), source
        module = build_architecture(source)
        assert list(module.modules())[-1].out_features == 1000, source


def test_evaluate_all_skips_backbones_and_says_so():
    models = ["lite0", "harmonized", "dino"]
    assert models_to_evaluate({"evaluate": "missing"}, TABLE, models, ["harmonized"]) == (
        ["harmonized"],
        None,
    )
    evaluated, note = models_to_evaluate({"evaluate": "all"}, TABLE, models, ["harmonized"])
    assert evaluated == ["lite0", "harmonized"]
    assert "skips 1 model(s) without a 1000-way ImageNet classifier" in note
    assert note.endswith(": dino")
    assert models_to_evaluate({"evaluate": "all"}, TABLE, models[:2], []) == (models[:2], None)


def test_a_backbone_without_a_top1_cannot_be_measured():
    """With or without ImageNet validation images: such a model stops the run."""
    table = TABLE.assign(imagenet_top1=[75.1, np.nan, np.nan, np.nan])
    with pytest.raises(ConfigError) as error:
        check_imagenet_top1(table, ["lite0", "dino"], "m.tsv")
    for text in ("['dino'] of m.tsv have no imagenet_top1 and no 1000-way", "linear probe"):
        assert text in str(error.value)


def measured(tmp_path, model, top1, n_images=5):
    path = tmp_path / f"{model}.csv"
    low, high = (100 * x for x in wilson_interval(round(top1 * n_images / 100), n_images))
    row = {"model": model, "top1": top1, "top1_ci_low": low, "top1_ci_high": high}
    pd.DataFrame([{**row, "top5": 80.0, "n_images": n_images}]).to_csv(path, index=False)
    return str(path)


def test_accuracy_table_sets_the_measured_top1_beside_the_table(tmp_path):
    models = [
        {"id": "lite0", "family": "ConvNet", "imagenet_top1": 75.1, "notes": ""},
        {"id": "harmonized", "family": "harmonized", "imagenet_top1": np.nan, "notes": ""},
    ]
    paths = [measured(tmp_path, "harmonized", 40.0), measured(tmp_path, "lite0", 60.0)]
    table = accuracy_table(paths, models).set_index("model")
    assert table.index.tolist() == ["lite0", "harmonized"]
    assert table.loc["lite0", "difference"] == pytest.approx(60.0 - 75.1)
    assert table.loc["lite0", "table_in_ci"] == True  # noqa: E712 (75.1 in 23.1-88.2)
    assert np.isnan(table.loc["harmonized", "difference"])
    assert pd.isna(table.loc["harmonized", "table_in_ci"])
    with pytest.raises(ValueError, match=r"model\(s\) \['lite0'\]"):
        accuracy_table(paths[:1], models)


def test_scores_take_the_measured_top1_of_models_without_one(tmp_path):
    fits = [write_summary_fit(tmp_path / "fit.nc")] * 2
    models = [
        {"id": "lite0", "family": "ConvNet", "imagenet_top1": 75.1, "notes": ""},
        {"id": "harmonized", "family": "harmonized", "imagenet_top1": np.nan, "notes": ""},
    ]
    paths = [measured(tmp_path, "harmonized", 40.0)]
    table = scores_table(fits, models, "demo", imagenet_paths=paths).set_index("model")
    assert table["imagenet_top1"].tolist() == [75.1, 40.0]
    assert table["imagenet_top1_source"].tolist() == [
        "model table",
        "measured on 5 ImageNet val images",
    ]
    with pytest.raises(ValueError, match="'harmonized' has no imagenet_top1"):
        scores_table(fits, models, "demo")
    # the ImageNet stage left out: the top-1 stays empty and its source says why
    why = "not available: no ImageNet validation images (config 'imagenet.val_dir')"
    table = scores_table(fits, models, "demo", top1_unavailable=why).set_index("model")
    assert table.loc["lite0", "imagenet_top1"] == 75.1
    assert np.isnan(table.loc["harmonized", "imagenet_top1"])
    assert table["imagenet_top1_source"].tolist() == ["model table", why]
