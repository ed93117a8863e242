"""The alignment panel's tables and figure, on constructed score tables and real artifacts."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from neuralign.fitting.alignment.base import AlignmentSpec
from neuralign.fitting.alignment.scoring import score_alignment
from neuralign.reporting.metric_panel import (
    metrics_table,
    panel_figure,
    rank_agreement,
    trend_table,
)

BELOW = [55.0, 58.0, 61.0, 64.0, 67.0]
ABOVE = [72.0, 75.0, 78.0, 81.0, 84.0]


def table(metric_scores: dict[str, list[float]], top1=BELOW + ABOVE, untrained=True):
    """A metrics table: every metric scores the models in order; plus an untrained model."""
    rows = []
    for metric, scores in metric_scores.items():
        models = [
            (f"m{i}", "ConvNet", t, s) for i, (t, s) in enumerate(zip(top1, scores, strict=True))
        ]
        if untrained:
            models.append(("random", "untrained", 0.1, 0.9))
        for model, family, t, s in models:
            rows.append(
                {
                    "model": model,
                    "family": family,
                    "imagenet_top1": t,
                    "metric": metric,
                    "raw": s,
                    "raw_ci_low": s - 0.05,
                    "raw_ci_high": s + 0.05,
                    "ceiling": 0.8,
                    "ceiling_available": True,
                    "ceiled": s / 0.8,
                    "ceiled_ci_low": (s - 0.05) / 0.8,
                    "ceiled_ci_high": (s + 0.05) / 0.8,
                }
            )
    return pd.DataFrame(rows)


RISE = [0.30, 0.35, 0.40, 0.45, 0.50]


def test_trend_table_finds_a_known_flip_and_a_known_non_flip():
    scores = table({"flips": RISE + RISE[::-1], "keeps": RISE + [0.55, 0.6, 0.62, 0.7, 0.75]})
    trend = trend_table(scores, n_bootstrap=200).set_index(["metric", "range"])
    flips, keeps = trend.loc["flips"], trend.loc["keeps"]
    assert flips["spearman_rho"].tolist() == pytest.approx([1.0, -1.0])
    assert set(flips["sign_flip"]) == {"yes"} and flips["flip_supported"].all()
    assert keeps["spearman_rho"].tolist() == pytest.approx([1.0, 1.0])
    assert set(keeps["sign_flip"]) == {"no"} and not keeps["flip_supported"].any()
    assert flips["n_models"].tolist() == [5, 5]  # the untrained model is left out
    assert flips["estimate"].iloc[1] == "-1.00 [-1.00, -1.00]"
    assert set(trend["score"]) == {"ceiled"}


def test_trend_table_says_when_a_side_has_too_few_models():
    top1 = [60.0, 65.0, 71.0, 75.0, 80.0, 85.0]
    trend = trend_table(table({"cka": [0.2, 0.3, 0.5, 0.4, 0.3, 0.2]}, top1), n_bootstrap=50)
    below = trend[trend["range"].str.startswith("<")].iloc[0]
    assert below["estimate"] == "not estimable (n = 2)"
    assert set(trend["sign_flip"]) == {"not estimable"}
    above = trend[trend["range"].str.startswith(">=")].iloc[0]
    assert above["spearman_rho"] == pytest.approx(
        stats.spearmanr([71, 75, 80, 85], [0.5, 0.4, 0.3, 0.2])[0]
    )


def test_rank_agreement_is_kendalls_tau_between_model_rankings():
    rng = np.random.default_rng(0)
    a = rng.normal(size=10)
    b = a + rng.normal(size=10)
    tau = rank_agreement(table({"a": list(a), "same": list(2 * a), "b": list(b)}, untrained=False))
    assert tau.loc["a", "same"] == pytest.approx(1.0)
    assert tau.loc["a", "b"] == pytest.approx(stats.kendalltau(a, b)[0])
    assert tau.loc["b", "a"] == tau.loc["a", "b"]
    assert list(tau.index) == ["a", "same", "b"]


def test_metrics_table_and_figure_from_alignment_artifacts(tmp_path):
    rng = np.random.default_rng(1)
    latent = rng.normal(size=(60, 4))
    responses = (latent @ rng.normal(size=(4, 6)))[..., None] + rng.normal(size=(60, 6, 4))
    spec = AlignmentSpec(cv="kfold", n_splits=3, n_bootstrap=20, n_halvings=2, max_units=12)
    models, paths = [], []
    for i, (family, top1) in enumerate([("ConvNet", 60.0), ("Transformer", 80.0)]):
        features = {"a": latent @ rng.normal(size=(4, 12)) + i * rng.normal(size=(60, 12))}
        path = tmp_path / f"model{i}.nc"
        score_alignment(features, responses, None, ["cka", "one_to_one"], spec).to_netcdf(path)
        models.append({"id": f"model{i}", "family": family, "imagenet_top1": top1})
        paths.append(str(path))
    rows = metrics_table(paths, models, "toy")
    assert len(rows) == 4 and set(rows["metric"]) == {"cka", "one_to_one"}
    assert rows["ceiling_available"].all() and (rows["layer"] == "a").all()
    np.testing.assert_allclose(rows["ceiled"], rows["raw"] / rows["ceiling"])
    assert set(rows["imagenet_top1_source"]) == {"model table"}
    fig = panel_figure(rows, "toy (SIMULATED)")
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in visible] == [
        "cka (raw / ceiling)",
        "one_to_one (raw / ceiling)",
    ]
    fig.savefig(tmp_path / "panel.png")
    assert (tmp_path / "panel.png").stat().st_size > 10_000
    with pytest.raises(ValueError, match="2 alignment artifacts for 1 models"):
        metrics_table(paths, models[:1], "toy")
