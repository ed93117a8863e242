import numpy as np
import pandas as pd
import pytest
from scipy import stats

from neuralign.reporting.figures import (
    FAMILY_COLOURS,
    accuracy_correlations,
    accuracy_vs_predictivity,
)


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


def test_models_without_a_top1_are_drawn_in_a_marked_strip_not_at_an_invented_x():
    scores = scores_table()
    scores.loc[[5, 9], ["family", "imagenet_top1"]] = ["harmonized", np.nan]
    figure = accuracy_vs_predictivity(scores, "test")
    ax, strip = figure.axes[:2]
    assert "no ImageNet" in strip.get_title()
    assert [t.get_text() for t in strip.get_xticklabels()] == ["m5", "m9"]
    in_strip = [line for line in strip.lines if line.get_marker() == "D"]
    assert len(in_strip) == 1
    ys = np.asarray(in_strip[0].get_ydata(), dtype=float)
    np.testing.assert_allclose(ys, scores.loc[[5, 9], "ceiled"].to_numpy())
    main = np.concatenate([line.get_xydata() for line in ax.lines if line.get_marker() == "o"])
    assert len(main) == len(scores) - 2 and np.isfinite(main).all()
    assert "harmonized" in [text.get_text() for text in ax.get_legend().get_texts()]
    # the correlations leave them out: of the below/above rows, and of their family's row
    table = accuracy_correlations(scores, n_bootstrap=50)
    over_all = table["family"] == "all trained"
    assert table.loc[over_all, "n_models"].sum() == len(scores) - 4  # 2 untrained, 2 no top-1
    assert table.loc[~over_all, "n_models"].sum() == len(scores) - 4
    assert "harmonized" not in set(table["family"])  # its only models have no top-1


def test_without_a_noise_ceiling_the_raw_r_is_drawn_and_labelled():
    scores = scores_table().rename(columns=lambda c: c.replace("ceiled", "raw"))
    scores[["ceiled", "ceiled_ci_low", "ceiled_ci_high"]] = np.nan
    ax = accuracy_vs_predictivity(scores, "test").axes[0]
    assert "raw predictivity" in ax.get_ylabel() and "no noise ceiling" in ax.get_ylabel()
    points = np.concatenate([line.get_xydata() for line in ax.lines if line.get_marker() == "o"])
    np.testing.assert_allclose(np.sort(points[:, 1]), np.sort(scores["raw"]))
    table = accuracy_correlations(scores, n_bootstrap=50)
    assert (table["predictivity"] == "raw").all() and len(table) == 4
    assert np.isfinite(table["spearman_rho"]).all()
