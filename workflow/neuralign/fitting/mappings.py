"""The mapping registry: every way features are mapped to neuroids, registered once.

As himalaya's ``RIDGE_SOLVERS`` or scikit-learn's ``solver=`` strings, a mapping is named by a
string, ``MappingSpec.kind``, a key of ``MAPPINGS``; ``fit(spec, x, y)`` is the one function that
fits any of them, for IT predictivity (``neuralign.fitting.scoring``), the alignment metrics,
maps and fMRI. A ``MappingSpec`` is built from a workflow options dict in one place,
``MappingSpec.from_options``.

- ``ridge``: one alpha per target by exact leave-one-out (``neuralign.fitting.ridge``, in
  ``ridge_precision``) over ``relative_alphas`` times the mean eigenvalue of the centred
  training Gram matrix; the leave-one-out predictions are the out-of-sample predictions of
  the training stimuli.
- ``pls``: PLS regression (``neuralign.fitting.pls``) with ``pls_components`` (at most the
  data's rank); ``inner_folds``-fold predictions give the out-of-sample predictions of the
  training stimuli (computed only when asked for: ``fit(..., inner=True)``).

Every entry returns a ``Fitted``: its ``predict`` (torch, on the spec's device), its
out-of-sample predictions of the training stimuli (``inner``), the alpha per target (NaN for
PLS) and, for callers that need the coefficients themselves, ``linear()``: the numpy
``LinearFit``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import torch
from sklearn.model_selection import KFold

from neuralign.fitting.pls import PLSFit, fit_pls
from neuralign.fitting.ridge import RidgeFit, fit_ridge_loo

MAPPING_OPTIONS = ("relative_alphas", "ridge_precision", "pls_components", "inner_folds", "device")
GRAM_DTYPES = {"double": None, "mixed": torch.float32}  # ridge_precision -> gram_dtype


@dataclass(frozen=True)
class MappingSpec:
    """How features map to neuroids.

    ``ridge``: one alpha per neuroid by exact leave-one-out over ``relative_alphas`` (multiples
    of the mean eigenvalue of the training Gram matrix); the leave-one-out predictions score the
    layer; ``ridge_precision`` ``mixed`` runs its largest products in float32
    (``neuralign.fitting.ridge``), and so do the alignment panel's layer Gram matrix
    (``neuralign.fitting.alignment.base.Layer``) and Procrustes' PCA. ``pls``: PLS regression
    with ``pls_components`` (Brain-Score: 25); ``inner_folds``-fold predictions on the training
    stimuli score the layer.
    """

    kind: str = "ridge"
    relative_alphas: tuple[float, ...] = tuple(np.logspace(-3, 3, 13))
    ridge_precision: str = "double"
    pls_components: int = 25
    inner_folds: int = 3
    device: str = "cpu"

    def __post_init__(self):
        if self.ridge_precision not in GRAM_DTYPES:
            raise ValueError(
                f"unknown ridge_precision {self.ridge_precision!r}; valid: {', '.join(GRAM_DTYPES)}"
            )

    @classmethod
    def from_options(cls, options: Mapping, kind: str | None = None) -> MappingSpec:
        """The spec of a workflow options dict: ``kind`` (else the dict's ``mapping``, else
        ridge) and those of ``MAPPING_OPTIONS`` the dict holds (the defaults for the others).
        ValueError for a kind that is not in ``MAPPINGS``."""
        kind = kind or options.get("mapping", "ridge")
        if kind not in MAPPINGS:
            raise ValueError(f"unknown mapping {kind!r}; valid: {', '.join(MAPPINGS)}")
        values = {key: options[key] for key in MAPPING_OPTIONS if key in options}
        if "relative_alphas" in values:
            values["relative_alphas"] = tuple(values["relative_alphas"])
        return cls(kind=kind, **values)


@dataclass
class LinearFit:
    """A fitted linear mapping ``y = (x − x_mean) @ coef + y_mean`` (numpy)."""

    x_mean: np.ndarray
    y_mean: np.ndarray
    coef: np.ndarray  # (feature, neuroid)

    def predict(self, x: np.ndarray) -> np.ndarray:
        return (np.asarray(x, dtype=np.float64) - self.x_mean) @ self.coef + self.y_mean


@dataclass
class Part:
    """One solver fit over a block of targets: the solver's fit, the out-of-sample
    predictions of the training stimuli (None when not asked for) and the alpha per target."""

    solver: RidgeFit | PLSFit
    inner: np.ndarray | None
    alpha: np.ndarray


@dataclass
class Fitted:
    """A mapping fitted on (x, y), in blocks of targets (one block unless ``fit`` was given
    ``max_targets``)."""

    parts: list[Part]

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Predictions (stimulus, target) of the solvers (torch, on the spec's device)."""
        if len(self.parts) == 1:
            return self.parts[0].solver.predict(x)
        return np.hstack([part.solver.predict(x) for part in self.parts])

    @property
    def inner(self) -> np.ndarray | None:
        """Out-of-sample predictions of the training stimuli (None when not computed)."""
        if any(part.inner is None for part in self.parts):
            return None
        return _join([part.inner for part in self.parts])

    @property
    def alpha(self) -> np.ndarray:
        """The alpha per target (NaN for PLS)."""
        return _join([part.alpha for part in self.parts], axis=0)

    def linear(self) -> LinearFit:
        """The fitted coefficients as a numpy ``LinearFit``."""
        x_mean = np.asarray(self.parts[0].solver.x_mean.cpu().numpy())
        y_mean = [np.asarray(part.solver.y_mean.cpu().numpy()) for part in self.parts]
        coef = [np.asarray(part.solver.coef.cpu().numpy()) for part in self.parts]
        return LinearFit(x_mean, _join(y_mean, axis=0), _join(coef))


def _join(arrays: list[np.ndarray], axis: int = 1) -> np.ndarray:
    return arrays[0] if len(arrays) == 1 else np.concatenate(arrays, axis=axis)


def mean_gram_eigenvalue(x: np.ndarray) -> float:
    """Mean eigenvalue of the centred Gram matrix: the scale of a relative alpha grid."""
    xc = x - x.mean(axis=0)
    return float((xc * xc).sum() / min(xc.shape))


def fit_ridge(spec: MappingSpec, x: np.ndarray, y: np.ndarray, inner: bool) -> Part:
    """Ridge, one alpha per target by exact leave-one-out over the relative alpha grid."""
    alphas = np.asarray(spec.relative_alphas) * mean_gram_eigenvalue(x)
    gram_dtype = GRAM_DTYPES[spec.ridge_precision]
    fit = fit_ridge_loo(x, y, alphas, device=spec.device, gram_dtype=gram_dtype)
    return Part(fit, fit.loo_predictions, fit.alpha)


def fit_pls_mapping(spec: MappingSpec, x: np.ndarray, y: np.ndarray, inner: bool) -> Part:
    """PLS with at most ``spec.pls_components``; with ``inner``, ``spec.inner_folds``-fold
    predictions of the training stimuli."""

    def solve(x_fit, y_fit):
        components = min(spec.pls_components, *x_fit.shape)
        return fit_pls(x_fit, y_fit, components, device=spec.device)

    held = None
    if inner:
        held = np.empty_like(y, dtype=np.float64)
        for train, test in KFold(spec.inner_folds, shuffle=True, random_state=0).split(x):
            held[test] = solve(x[train], y[train]).predict(x[test])
    return Part(solve(x, y), held, np.full(y.shape[1], np.nan))


MAPPINGS: dict[str, Callable[[MappingSpec, np.ndarray, np.ndarray, bool], Part]] = {
    "ridge": fit_ridge,
    "pls": fit_pls_mapping,
}


def fit(
    spec: MappingSpec,
    x: np.ndarray,
    y: np.ndarray,
    *,
    inner: bool = True,
    max_targets: int | None = None,
) -> Fitted:
    """Fit the mapping ``spec.kind`` from ``x`` (stimulus, feature) to ``y`` (stimulus,
    target); ``inner``: also the out-of-sample predictions of the training stimuli (free for
    ridge); ``max_targets``: fit at most that many targets at once (bounds memory), in blocks of
    near-equal size."""
    if spec.kind not in MAPPINGS:
        raise ValueError(f"unknown mapping {spec.kind!r}; valid: {', '.join(MAPPINGS)}")
    solve = MAPPINGS[spec.kind]
    if max_targets is None:
        return Fitted([solve(spec, x, y, inner)])
    n_blocks = max(1, -(-y.shape[1] // max_targets))
    blocks = np.array_split(np.arange(y.shape[1]), n_blocks)
    return Fitted([solve(spec, x, y[:, block], inner) for block in blocks])
