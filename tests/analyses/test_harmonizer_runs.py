"""Tests of the harmonizer's workflow pieces: training data, resume bookkeeping, scores column."""

import numpy as np
import pandas as pd
import pytest
import torch
from scipy.stats import spearmanr

from neuralign.analyses.harmonizer import data as hz_data
from neuralign.analyses.harmonizer import evaluate as hz_evaluate
from neuralign.analyses.harmonizer import runs as hz_runs
from neuralign.datasets import clickme
from neuralign.datasets.simulated import synthetic_shortcut as ss
from neuralign.io import tfrecord as tr
from neuralign.models.loading import save_checkpoint
from neuralign.models.table import ModelError
from neuralign.reporting.scores import scores_table
from tests.conftest import write_summary_fit

RUN = {"data": "synthetic", "seed": 3, "image_size": 48, "n_images": 10}
CONFIG = {"input_size": (3, 224, 224), "mean": (0.5,) * 3, "std": (0.5,) * 3}


def test_synthetic_training_data_is_the_shortcut_task_resized():
    data = hz_data.training_data(RUN, CONFIG)
    images, labels, maps, has_map = data.tensors
    assert images.shape == (10, 3, 48, 48) and maps.shape == (10, 48, 48)
    small = ss.make_dataset(10, seed=3).tensors
    assert torch.equal(labels, small[1]) and torch.equal(has_map, small[3])
    # nearest-neighbour upsampling by 1.5: every output pixel is some input pixel of its row
    assert torch.equal(images[:, :, ::3, ::3], small[0][:, :, ::2, ::2])
    assert torch.equal(maps[:, ::3, ::3], small[2][:, ::2, ::2])


def test_clickme_training_data_and_errors(tmp_path):
    image = np.zeros((256, 256, 3), np.uint8)
    heatmap = np.zeros((256, 256), np.uint8)
    heatmap[100:150, 100:150] = 255
    buffers = [clickme_jpeg(image), clickme_jpeg(heatmap)]
    tr.write_examples(
        tmp_path / "train-0.tfrecords",
        [{"image": buffers[0], "heatmap": buffers[1], "label": k} for k in range(3)],
    )
    shards = [str(p) for p in clickme.shard_paths(tmp_path, "train")]
    data = hz_data.training_data(
        {**RUN, "data": "clickme", "n_images": 2}, CONFIG, clickme_train=shards
    )
    assert len(data) == 2
    image, label, human, has_map = data[1]
    assert image.shape == (3, 48, 48) and label == 1 and has_map
    assert human[24, 24] > human[2, 2]
    with pytest.raises(ValueError, match="needs ClickMe training shards"):
        hz_data.training_data({**RUN, "data": "clickme"}, CONFIG)
    with pytest.raises(ValueError, match="needs config 'harmonizer.imagenet_train'"):
        hz_data.training_data({**RUN, "data": "clickme+imagenet"}, CONFIG, clickme_train=shards)


def clickme_jpeg(array):
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="JPEG", quality=95)
    return buffer.getvalue()


def test_stale_checkpoint_is_discarded_when_options_change(tmp_path):
    options = {"base": "timm-untrained:resnet10t", "lambda": 1.0, "epochs": 1}
    assert not hz_runs.discard_stale_state(tmp_path, options)
    (tmp_path / "last.pt").write_bytes(b"state")
    # more epochs: resume
    assert not hz_runs.discard_stale_state(tmp_path, {**options, "epochs": 3})
    assert (tmp_path / "last.pt").is_file()
    # another lambda: start again
    assert hz_runs.discard_stale_state(tmp_path, {**options, "lambda": 0.5})
    assert not (tmp_path / "last.pt").exists()


def test_checkpoint_arch(tmp_path):
    assert hz_runs.checkpoint_arch("offline:tf_efficientnet_lite0") == "tf_efficientnet_lite0"
    assert hz_runs.checkpoint_arch("timm:resnet50.a1_in1k") == "resnet50.a1_in1k"
    save_checkpoint(torch.nn.Linear(2, 2), "resnet10t", tmp_path / "m.pt")
    assert hz_runs.checkpoint_arch(f"checkpoint:{tmp_path / 'm.pt'}") == "resnet10t"
    with pytest.raises(ModelError, match="harmonized checkpoints are timm models"):
        hz_runs.checkpoint_arch("torchvision:resnet18")


def test_alignment_summary_and_dataset_alignment():
    summary = hz_evaluate.alignment_summary(np.array([0.2, 0.4, 0.6]))
    assert summary["human_alignment"] == pytest.approx(0.4 / 0.6575315343478081)
    assert summary["human_alignment_sem"] == pytest.approx(0.2 / np.sqrt(3) / 0.6575315343478081)
    assert summary["n_images"] == 3
    with pytest.raises(ValueError, match="1 of 2 per-image Spearman"):
        hz_evaluate.alignment_summary(np.array([0.1, np.nan]))

    torch.manual_seed(0)
    model = ss.TinyCNN(width=4)
    images, labels, maps, has_map = ss.make_dataset(7, seed=0, map_fraction=1.0).tensors
    data = torch.utils.data.TensorDataset(images, labels, maps, has_map)
    result = hz_evaluate.dataset_alignment(model, data, batch_size=3)
    saliency = hz_evaluate.evaluation_saliency(model, images, labels)
    rho = [
        spearmanr(s.flatten(), m.flatten()).statistic for s, m in zip(saliency, maps, strict=True)
    ]
    assert result["spearman"] == pytest.approx(np.mean(rho))
    assert result["n_images"] == 7


def test_scores_table_gets_human_alignment_column(tmp_path):
    write_summary_fit(tmp_path / "fit.nc")
    models = [{"id": "m", "family": "harmonized", "imagenet_top1": 1.0, "notes": ""}]
    pd.DataFrame({"model": ["m"], "human_alignment": [0.7]}).to_csv(tmp_path / "m.csv")
    table = scores_table([tmp_path / "fit.nc"], models, "demo", [tmp_path / "m.csv"])
    assert table["human_alignment"].tolist() == [0.7]
    assert "human_alignment" not in scores_table([tmp_path / "fit.nc"], models, "demo").columns
    pd.DataFrame({"model": ["other"], "human_alignment": [0.7]}).to_csv(tmp_path / "o.csv")
    with pytest.raises(ValueError, match=r"no human alignment for model\(s\) \['m'\]"):
        scores_table([tmp_path / "fit.nc"], models, "demo", [tmp_path / "o.csv"])
