import numpy as np
import pytest
from scipy import stats
from sklearn.linear_model import RidgeCV

from neuralign.fitting.mappings import MappingSpec
from neuralign.fitting.metrics import pearson_columns
from neuralign.fitting.scoring import (
    cv_splits,
    fit_model,
    score_layers,
    shuffle_splits,
)

ALPHAS = np.logspace(-3, 3, 7)


@pytest.fixture(scope="module")
def problem():
    rng = np.random.default_rng(0)
    n, n_neuroids = 120, 8
    signal = rng.normal(size=(n, 20))
    rates = signal @ rng.normal(size=(20, n_neuroids))
    responses = rates[..., None] + rng.normal(scale=2.0, size=(n, n_neuroids, 6))
    features = {
        "noise": rng.normal(size=(n, 30)),
        "signal": signal + 0.1 * rng.normal(size=(n, 20)),
    }
    strata = np.repeat(np.arange(6), n // 6)
    return features, responses, strata


def test_splits_are_stratified_and_seeded(problem):
    _, _, strata = problem
    splits = shuffle_splits(len(strata), strata, 10, 0.9, seed=1)
    assert len(splits) == 10
    for train, test in splits:
        assert len(set(train) & set(test)) == 0 and len(train) == 108
        assert np.bincount(strata[test], minlength=6).tolist() == [2] * 6
    again = shuffle_splits(len(strata), strata, 10, 0.9, seed=1)
    assert all((a[1] == b[1]).all() for a, b in zip(splits, again, strict=True))


def test_test_scores_match_sklearn_and_scipy(problem):
    features, responses, strata = problem
    targets = responses.mean(axis=2)
    splits = shuffle_splits(len(strata), strata, 3, 0.9, seed=1)
    out = score_layers(features, targets, splits, MappingSpec(relative_alphas=(1.0,)))
    train, test = splits[0]
    x = features["signal"]
    xc = x[train] - x[train].mean(0)
    alpha = (xc**2).sum() / min(xc.shape)  # relative alpha 1 = mean Gram eigenvalue
    pred = RidgeCV(alphas=[alpha]).fit(x[train], targets[train]).predict(x[test])
    expected = [stats.pearsonr(pred[:, j], targets[test, j])[0] for j in range(targets.shape[1])]
    got = pearson_columns(out["predictions"][1][0], targets[test])
    np.testing.assert_allclose(got, expected, atol=1e-8)


def test_layer_choice_ignores_held_out_stimuli(problem):
    features, responses, strata = problem
    targets = responses.mean(axis=2)
    splits = shuffle_splits(len(strata), strata, 2, 0.9, seed=1)
    before = score_layers(features, targets, splits, MappingSpec())
    scrambled = targets.copy()
    test = splits[0][1]
    scrambled[test] = np.random.default_rng(1).normal(size=scrambled[test].shape)
    after = score_layers(features, scrambled, splits[:1], MappingSpec())
    np.testing.assert_allclose(after["inner"][:, 0], before["inner"][:, 0])
    assert np.allclose(after["predictions"][1][0], before["predictions"][1][0])  # same fit


@pytest.mark.parametrize(
    "mapping",
    [MappingSpec(relative_alphas=tuple(ALPHAS)), MappingSpec(kind="pls", pls_components=10)],
    ids=["ridge", "pls"],
)
def test_fit_model_picks_the_signal_layer_and_summarises(problem, mapping):
    features, responses, strata = problem
    ceiling = np.full(responses.shape[1], 0.9)
    fit = fit_model(
        features,
        responses,
        strata,
        ceiling,
        n_splits=5,
        train_size=0.9,
        split_seed=1,
        mapping=mapping,
        formula="r^2/c",
        n_bootstrap=200,
        bootstrap_seed=0,
    )
    assert set(fit["chosen_layer"].values) == {"signal"}
    raw = np.median(fit["r_selected"].values, axis=1).mean()
    assert float(fit["raw"]) == pytest.approx(raw)
    assert float(fit["ceiled"]) == pytest.approx(raw**2 / 0.9)
    assert fit["ceiled_ci_low"] <= fit["ceiled"] <= fit["ceiled_ci_high"]
    assert fit["raw"] > 0.8
    assert fit["r"].dims == ("layer", "score_split", "neuroid")
    assert fit["raw_ci_stimuli_low"] <= fit["raw"] <= fit["raw_ci_stimuli_high"]


def test_too_small_test_set_for_stratification_is_explained():
    with pytest.raises(ValueError, match="cannot hold one stimulus of each of 12 objects"):
        shuffle_splits(48, np.arange(48) % 12, 3, 0.9, seed=1)


def test_pls_test_scores_match_sklearn(problem):
    from sklearn.cross_decomposition import PLSRegression

    features, responses, strata = problem
    targets = responses.mean(axis=2)
    splits = shuffle_splits(len(strata), strata, 2, 0.9, seed=1)
    out = score_layers(features, targets, splits, MappingSpec(kind="pls", pls_components=10))
    train, test = splits[1]
    x = features["noise"]
    pred = PLSRegression(10, scale=False).fit(x[train], targets[train]).predict(x[test])
    expected = [stats.pearsonr(pred[:, j], targets[test, j])[0] for j in range(targets.shape[1])]
    got = pearson_columns(out["predictions"][0][1], targets[test])
    np.testing.assert_allclose(got, expected, atol=1e-6)
    assert np.isnan(out["alpha"]).all()


def test_kfold_and_loso_test_every_stimulus_once(problem):
    _, _, strata = problem
    for scheme, n_splits in [("kfold", 5), ("loso", 0)]:
        splits = cv_splits(
            len(strata), strata if scheme == "kfold" else None, scheme, n_splits, 0.9, seed=1
        )
        tested = np.sort(np.concatenate([test for _, test in splits]))
        np.testing.assert_array_equal(tested, np.arange(len(strata)))
    with pytest.raises(ValueError, match="shuffle, kfold, loso"):
        cv_splits(10, None, "bootstrap", 3, 0.9, 1)


def test_loso_pools_held_out_predictions_like_sklearn(problem):
    from sklearn.linear_model import Ridge
    from sklearn.model_selection import LeaveOneOut

    features, responses, _ = problem
    features = {"signal": features["signal"][:40]}
    responses = responses[:40]
    fit = fit_model(
        features,
        responses,
        None,
        np.full(responses.shape[1], 0.9),
        n_splits=0,
        train_size=0.9,
        split_seed=1,
        cv="loso",
        mapping=MappingSpec(relative_alphas=(1.0,)),
        formula="r/c",
        n_bootstrap=100,
        bootstrap_seed=0,
    )
    targets = responses.mean(axis=2)
    x = features["signal"]
    preds = np.empty_like(targets)
    for train, test in LeaveOneOut().split(x):
        xc = x[train] - x[train].mean(0)
        alpha = (xc**2).sum() / min(xc.shape)
        preds[test] = Ridge(alpha=alpha).fit(x[train], targets[train]).predict(x[test])
    np.testing.assert_allclose(
        fit["r_selected"].values[0], pearson_columns(preds, targets), atol=1e-8
    )
    assert fit.sizes["score_split"] == 1 and fit.sizes["split"] == 40
