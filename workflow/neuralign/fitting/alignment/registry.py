"""The alignment-metric registry: one entry per metric, selected by name (config ``metrics``).

Every metric is oriented so that higher means more aligned, is scored per layer and split by
``score(layer, neural, split, spec) -> Scored`` and has a ceiling ``ceiling(neural, split,
spec)``: the value of the metric for a model whose units are the noise-free responses, estimated
from two halves of the repetitions (each module's docstring derives its estimator). The ceiled
value is always raw / ceiling.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module


def _function(name: str) -> Callable:
    module, _, function = name.rpartition(".")
    return getattr(import_module(f"{__package__}.{module}"), function)


@dataclass(frozen=True)
class Metric:
    """A registered metric: its functions (``<module>.<function>`` of this package, imported
    when used: every workflow start reads the registry) and the sentences that describe it in
    artifacts."""

    score_function: str
    ceiling_function: str
    fitted: bool
    value_definition: str
    ceiling_formula: str
    layer_selection: str
    units: str = "all units of the layer"

    @property
    def score(self) -> Callable:
        """``score(layer, neural, split, spec) -> Scored``."""
        return _function(self.score_function)

    @property
    def ceiling(self) -> Callable:
        """``ceiling(neural, split, spec)``."""
        return _function(self.ceiling_function)


_LOO = "best median r of the leave-one-out predictions of the training stimuli"
_INNER = "fitted on one half of the training stimuli, scored on the other, both ways (mean)"
_PER_NEUROID = (
    "median_j sqrt(SB(r_AB,j)) on held-out stimuli: correlation of the noise-free response "
    "with the measured mean (r_AB: split-half r averaged over halvings, SB: Spearman-Brown)"
)

METRICS: dict[str, Metric] = {
    "ridge": Metric(
        "predictivity.score_ridge",
        "predictivity.ceiling_per_neuroid_r",
        fitted=True,
        value_definition="median over neuroids of held-out Pearson r, ridge mapping (one alpha "
        "per neuroid by exact leave-one-out)",
        ceiling_formula=_PER_NEUROID,
        layer_selection=_LOO,
    ),
    "pls": Metric(
        "predictivity.score_pls",
        "predictivity.ceiling_per_neuroid_r",
        fitted=True,
        value_definition="median over neuroids of held-out Pearson r, PLS regression mapping",
        ceiling_formula=_PER_NEUROID,
        layer_selection="best median r of inner-fold predictions of the training stimuli",
    ),
    "rsa": Metric(
        "similarity.score_rsa",
        "similarity.ceiling_rsa",
        fitted=False,
        value_definition="Spearman r between the model RDM and the neural RDM (1 - Pearson r) "
        "over pairs of held-out stimuli",
        ceiling_formula="sqrt(SB(r(RDM_A, RDM_B))) on held-out stimuli, r averaged over "
        "halvings (classical test theory)",
        layer_selection="best value on the training stimuli",
    ),
    "cka": Metric(
        "similarity.score_cka",
        "similarity.ceiling_cka",
        fitted=False,
        value_definition="linear CKA with unbiased HSIC (Song et al. 2012) on held-out stimuli",
        ceiling_formula="sqrt(HSIC_u(A, B) / HSIC_u(Y, Y)) on held-out stimuli, HSIC_u(A, B) "
        "averaged over halvings (cross-half HSIC estimates the noise-free HSIC)",
        layer_selection="best value on the training stimuli",
    ),
    "procrustes": Metric(
        "procrustes.score_procrustes",
        "procrustes.ceiling_procrustes",
        fitted=True,
        value_definition="cos of the angular Procrustes distance on held-out stimuli (distance = "
        "arccos(value)), rotation fitted on training stimuli",
        ceiling_formula="sqrt(<A, B> / ||Y||^2) on held-out stimuli, centred on training "
        "means, <A, B> averaged over halvings",
        layer_selection=_INNER,
        units="layer reduced to its first min(neuroids, training stimuli - 1) principal "
        "components fitted on the training stimuli; neuroids kept; semi-orthogonal map when "
        "the layer has fewer components than neuroids",
    ),
    "soft_matching": Metric(
        "soft_matching.score_soft_matching",
        "soft_matching.ceiling_soft_matching",
        fitted=True,
        value_definition="sum_ij P_ij r_ij on held-out stimuli, P the optimal transport plan "
        "(uniform marginals) maximising it on training stimuli",
        ceiling_formula="mean_j sqrt(SB(r_AB,j)) on held-out stimuli (the plan pairing each "
        "neuroid with its own noise-free response)",
        layer_selection=_INNER,
        units="a seeded subset of at most max_units units, its size rounded down to a "
        "multiple of the neuroid count (exact transport by assignment)",
    ),
    "reverse": Metric(
        "reverse.score_reverse",
        "reverse.ceiling_reverse",
        fitted=True,
        value_definition="median over units of held-out Pearson r of each unit predicted from all "
        "neuroids by ridge (one alpha per unit by exact leave-one-out)",
        ceiling_formula="neuron-to-neuron predictivity: median_j sqrt(s/(1+s)), s = "
        "c1^2/(1-c1^2) + rho_j/(1-rho_j), c1 = r(ridge from the other neuroids, Y_j)/sqrt(rho_j), "
        "rho_j = SB(r_AB,j), on held-out stimuli",
        layer_selection=_LOO,
        units="a seeded subset of at most max_units units",
    ),
    "one_to_one": Metric(
        "predictivity.score_one_to_one",
        "predictivity.ceiling_per_neuroid_r",
        fitted=True,
        value_definition="median over neuroids of held-out Pearson r of the single unit that "
        "correlates best with the neuroid on training stimuli",
        ceiling_formula=_PER_NEUROID,
        layer_selection=_INNER,
    ),
}
