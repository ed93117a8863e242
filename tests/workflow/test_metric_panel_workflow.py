"""The alignment-metric panel in the real workflow: a tiny demo run, its tables, figure and
report."""

import re
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from neuralign.fitting.alignment.registry import METRICS
from tests.conftest import REPO, SMALL_IMAGES

MODELS = ["mobilenetv2_100", "untrained_resnet18"]
CONFIG = {
    "datasets": ["demo"],
    "models": MODELS,
    "demo": {"n_stimuli": 120, "n_neurons": 6, "n_repetitions": 4, "image_size": 64},
    "activations": {
        "batch_size": 16,
        **SMALL_IMAGES,
        "reduction": {"grid": 2},
    },
    "fitting": {"n_splits": 3, "n_bootstrap": 100, "pls_components": 5},
    "metrics": list(METRICS),
    "metric_panel": {"n_splits": 2, "n_halvings": 4, "max_units": 120},
}
README = (REPO / "README.md").read_text()
# the panel's outputs only (the predictivity fits and their figures are tested elsewhere)
TARGETS = (
    "results/scores/demo_metrics.csv",
    "results/tables/demo/metric_trends.csv",
    "results/tables/demo/metric_agreement.csv",
    "results/figures/demo/metric_panel.png",
)
CAPTIONS = (
    "The alignment-metric panel on dataset demo",
    "Does the accuracy trade-off survive every metric?",
    "Do the alignment metrics rank the models alike?",
    "against each alignment metric (one panel per metric",
)


@pytest.mark.workflow
def test_demo_panel_tables_figure_and_report(run_snakemake, tmp_path):
    run_snakemake(CONFIG, *TARGETS)
    run_snakemake(CONFIG, *TARGETS, "--report", "report.html")
    results = tmp_path / "results"

    table = pd.read_csv(results / "scores" / "demo_metrics.csv")
    assert len(table) == len(MODELS) * len(METRICS)
    assert set(zip(table["model"], table["metric"], strict=True)) == {
        (model, metric) for model in MODELS for metric in METRICS
    }
    assert np.isfinite(table[["raw", "ceiling", "ceiled", "raw_ci_low"]]).all().all()
    assert table["ceiling_available"].all() and (table["simulated"] == 1).all()

    fit = xr.open_dataset(results / "alignment" / "demo" / "mobilenetv2_100.nc")
    assert fit["value"].dims == ("metric", "layer", "split") and fit.sizes["split"] == 2
    assert fit.attrs["rule"] == "alignment_fit" and fit.attrs["simulated"] == 1
    ceilings = xr.open_dataset(results / "ceilings" / "demo_metrics.nc")
    np.testing.assert_allclose(fit["ceiling_per_split"], ceilings["ceiling_per_split"])

    trends = pd.read_csv(results / "tables" / "demo" / "metric_trends.csv")
    assert len(trends) == 2 * len(METRICS)  # below and above 70% per metric
    # one trained model, above 70%: no side can be estimated
    assert set(trends["estimate"]) == {"not estimable (n = 0)", "not estimable (n = 1)"}

    tau = pd.read_csv(results / "tables" / "demo" / "metric_agreement.csv", index_col="metric")
    assert list(tau.index) == list(METRICS)
    np.testing.assert_allclose(np.diag(tau[list(METRICS)].values), 1.0)

    for suffix in ("png", "pdf"):
        assert (results / "figures" / "demo" / f"metric_panel.{suffix}").stat().st_size > 5000

    report = (tmp_path / "report.html").read_text()
    for caption in CAPTIONS:
        assert caption in report, caption

    # the README's example of calling the library runs as written on these results
    example = re.search(r"^ *```python\n(.*?score_alignment.*?)^ *```", README, re.M | re.S)
    printed = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(example.group(1))],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert all(metric in printed for metric in ("cka", "procrustes", "one_to_one"))


@pytest.mark.workflow
def test_without_metrics_the_panel_is_not_planned(run_snakemake):
    planned = run_snakemake({**CONFIG, "metrics": []}, "-n", "--quiet", "rules").stdout
    assert "alignment_fit" not in planned and "metric_scores" not in planned
    assert "fit" in planned
