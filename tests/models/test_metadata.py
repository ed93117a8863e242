"""Model metadata (neuralign.models.metadata): the top-1 tables and the first columns of a row."""

import pandas as pd
import pytest

from neuralign.models.metadata import model_columns, read_measured_top1, top1_columns

MEASURED = {"b": {"model": "b", "top1": 71.5, "n_images": 500}}


def test_top1_from_the_table_else_measured_else_unavailable():
    listed = {"id": "a", "family": "cnn", "imagenet_top1": 76.1}
    unlisted = {"id": "b", "family": "cnn", "imagenet_top1": float("nan")}
    missing = {"id": "c", "family": "cnn", "imagenet_top1": float("nan")}
    assert top1_columns(listed, MEASURED)["imagenet_top1_source"] == "model table"
    assert top1_columns(unlisted, MEASURED) == {
        "imagenet_top1": 71.5,
        "imagenet_top1_source": "measured on 500 ImageNet val images",
    }
    assert top1_columns(missing, MEASURED, "left out")["imagenet_top1_source"] == "left out"
    with pytest.raises(ValueError, match="no imagenet_top1"):
        top1_columns(missing, MEASURED)
    assert list(model_columns("demo", listed, MEASURED)) == [
        "dataset",
        "model",
        "family",
        "imagenet_top1",
        "imagenet_top1_source",
    ]


def test_read_measured_top1(tmp_path):
    path = tmp_path / "b.csv"
    pd.DataFrame([MEASURED["b"]]).to_csv(path, index=False)
    assert read_measured_top1([str(path)])["b"]["top1"] == 71.5
