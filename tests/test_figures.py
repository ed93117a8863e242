import numpy as np
import pandas as pd
import pytest
from scipy import stats

from neuralign.figures import FAMILY_COLOURS, accuracy_correlations, accuracy_vs_predictivity


def scores_table(n=12, seed=0):
    rng = np.random.default_rng(seed)
    top1 = np.concatenate([[0.1, 0.1], np.linspace(55, 88, n)])
    ceiled = np.concatenate([[0.2, 0.25], 0.6 - 0.0004 * (top1[2:] - 72) ** 2])
    ceiled = ceiled + rng.normal(scale=0.01, size=len(ceiled))
    return pd.DataFrame(
        {
            "model": [f"m{i}" for i in range(len(top1))],
            "family": ["untrained"] * 2 + ["ConvNet", "Transformer"] * (n // 2),
            "imagenet_top1": top1,
            "ceiled": ceiled,
            "ceiled_ci_low": ceiled - 0.02,
            "ceiled_ci_high": ceiled + 0.02,
            "ceiling_formula": "r/c",
        }
    )


def test_accuracy_correlations_below_and_above_threshold():
    scores = scores_table()
    table = accuracy_correlations(scores, n_bootstrap=300)
    assert table["family"].tolist()[:2] == ["all trained"] * 2
    assert table["range"].tolist() == ["< 70%", ">= 70%", "all", "all"]
    below = scores[(scores["family"] != "untrained") & (scores["imagenet_top1"] < 70)]
    assert table.loc[0, "n_models"] == len(below)
    expected = stats.spearmanr(below["imagenet_top1"], below["ceiled"])[0]
    assert table.loc[0, "spearman_rho"] == pytest.approx(expected)
    assert table.loc[0, "spearman_rho"] > 0 > table.loc[1, "spearman_rho"]
    assert (table["ci_low"] <= table["spearman_rho"]).all()
    assert (table["spearman_rho"] <= table["ci_high"]).all()


def test_too_few_models_give_nan_not_a_number_made_up():
    table = accuracy_correlations(scores_table().iloc[:4], n_bootstrap=50)
    assert table["spearman_rho"].isna().all() and table["n_models"].tolist() == [2, 0, 1, 1]


def test_each_trained_family_gets_its_own_correlation_row():
    """Families follow the figure's order; self-supervised is one of them; untrained is not."""
    scores = scores_table(n=16)
    scores.loc[[3, 6, 9, 12, 15], "family"] = "self-supervised"
    table = accuracy_correlations(scores, n_bootstrap=200)
    per_family = table[table["family"] != "all trained"].set_index("family")
    assert per_family.index.tolist() == ["ConvNet", "Transformer", "self-supervised"]
    assert (per_family["range"] == "all").all()
    for family, row in per_family.iterrows():
        part = scores[scores["family"] == family]
        assert row["n_models"] == len(part)
        expected = stats.spearmanr(part["imagenet_top1"], part["ceiled"])[0]
        assert row["spearman_rho"] == pytest.approx(expected)
        assert row["ci_low"] <= row["spearman_rho"] <= row["ci_high"]


def test_self_supervised_models_have_their_own_colour():
    scores = scores_table()
    scores.loc[[4, 8], "family"] = "self-supervised"
    ax = accuracy_vs_predictivity(scores, "test").axes[0]
    colour = FAMILY_COLOURS["self-supervised"]
    others = [c for family, c in FAMILY_COLOURS.items() if family != "self-supervised"]
    assert colour not in others
    drawn = [line for line in ax.lines if line.get_marker() == "o" and line.get_color() == colour]
    assert len(drawn) == 1 and len(drawn[0].get_xdata()) == 2
    assert "self-supervised" in [text.get_text() for text in ax.get_legend().get_texts()]


def test_figure_draws_every_model_with_its_error_bar():
    scores = scores_table()
    figure = accuracy_vs_predictivity(scores, "test")
    ax = figure.axes[0]
    points = np.concatenate([line.get_xydata() for line in ax.lines if line.get_marker() == "o"])
    assert len(points) == len(scores)
    assert ax.get_legend() is not None
    with pytest.raises(ValueError, match="mix ceiling formulas"):
        accuracy_vs_predictivity(scores.assign(ceiling_formula=["r/c", "r^2/c"] * 7), "x")


def test_harmonized_models_stand_out():
    scores = scores_table()
    scores.loc[[5, 9], "family"] = "harmonized"
    ax = accuracy_vs_predictivity(scores, "test").axes[0]
    diamonds = [line for line in ax.lines if line.get_marker() == "D"]
    assert len(diamonds) == 1
    x = np.asarray(diamonds[0].get_xdata(), dtype=float)
    np.testing.assert_allclose(x, scores.loc[[5, 9], "imagenet_top1"].to_numpy())
    assert sum(len(line.get_xdata()) for line in ax.lines if line.get_marker() == "o") == 12
