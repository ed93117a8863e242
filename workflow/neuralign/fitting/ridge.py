"""Ridge regression with one regularisation per target, chosen by exact leave-one-out.

One eigendecomposition of the smaller Gram matrix of the centred training features (``Xc Xcᵀ``
when features outnumber stimuli, else ``Xcᵀ Xc``) gives ``Xc = U S Vᵀ`` and serves every alpha
at once; with an unpenalised intercept the hat matrix is
``H(α) = 11ᵀ/n + U diag(s²/(s²+α)) Uᵀ``, so the leave-one-out residual of sample i is
``(y_i − ŷ_i) / (1 − H_ii)`` exactly (as in scikit-learn's ``RidgeCV`` with
``alpha_per_target=True``). Works on numpy input with a torch backend (``cpu`` or ``cuda``).

With ``gram_dtype=torch.float32`` the three largest products, the Gram matrix (n²p, when
features outnumber stimuli), the coefficients (npt) and the training residuals of every alpha
(n²t per alpha, computed without cancellation), run in single precision; the
eigendecomposition stays in double precision. Held-out r then moves by about 1e-7
(bench/fitting.py ``--ridgecv``); decomposing in single precision as well moved it by up to
6.5e-4 there, so that is not offered.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg
import torch

NUMPY_GRAM_FROM = 1000  # Gram matrix size from which the CPU route of _gram_eigh pays


@dataclass
class RidgeFit:
    """A fitted ridge mapping: ``y = (x − x_mean) @ coef + y_mean``."""

    x_mean: torch.Tensor
    y_mean: torch.Tensor
    coef: torch.Tensor  # (feature, target)
    alpha: np.ndarray  # (target,)
    loo_mse: np.ndarray  # (alpha, target)
    loo_predictions: np.ndarray  # (sample, target) at the chosen alphas

    def predict(self, x: np.ndarray) -> np.ndarray:
        x = torch.as_tensor(x, dtype=self.coef.dtype, device=self.coef.device)
        return ((x - self.x_mean) @ self.coef + self.y_mean).cpu().numpy()


def fit_ridge_loo(
    x: np.ndarray,
    y: np.ndarray,
    alphas: np.ndarray,
    device: str = "cpu",
    dtype: torch.dtype = torch.float64,
    gram_dtype: torch.dtype | None = None,
) -> RidgeFit:
    """Fit ridge for every alpha, keep per target the alpha with the lowest LOO error
    (``gram_dtype``: precision of the three largest products, ``dtype`` when None)."""
    alphas_np = np.asarray(alphas, dtype=np.float64)
    if alphas_np.ndim != 1 or alphas_np.size == 0 or (alphas_np <= 0).any():
        raise ValueError(f"alphas must be a non-empty 1-d array of positive values: {alphas}")
    x_t = torch.as_tensor(np.asarray(x), dtype=dtype, device=device)
    y_t = torch.as_tensor(np.asarray(y), dtype=dtype, device=device)
    if x_t.ndim != 2 or y_t.ndim != 2 or x_t.shape[0] != y_t.shape[0]:
        raise ValueError(
            f"x (n, p) and y (n, t) must share n: got {tuple(x_t.shape)}, {tuple(y_t.shape)}"
        )
    n = x_t.shape[0]
    x_mean, y_mean = x_t.mean(0), y_t.mean(0)
    xc, yc = x_t - x_mean, y_t - y_mean
    xc_low = xc.to(gram_dtype or dtype)
    u, s = _left_singular(xc, xc_low)
    a = torch.as_tensor(alphas_np, dtype=dtype, device=device)

    shrink = s**2 / (s**2 + a[:, None])  # (alpha, k)
    uty = u.T @ yc  # (k, t)
    low = xc_low.dtype
    u_low, uty_low, keep_low = u.to(low), uty.to(low), (1.0 - shrink).to(low)
    outside = yc - u @ uty  # the part of yc outside U's span
    leverage = 1.0 / n + u**2 @ shrink.T  # (n, alpha): diag of H

    def loo_residuals(i: int, cols=slice(None)) -> torch.Tensor:
        """(n, target) LOO residuals at alpha ``i``: the training residuals yc − U diag(shrink)
        Uᵀyc, taken as the part of yc outside U's span plus U diag(1 − shrink) Uᵀyc (no
        cancellation, so the large product may run in low precision), over 1 − diag H."""
        resid = (u_low @ (keep_low[i, :, None] * uty_low[:, cols])).to(dtype)
        resid += outside[:, cols]
        return resid.div_(1.0 - leverage[:, i, None])

    # one alpha at a time: no (alpha, n, target) array, whose fresh pages cost more than
    # the arithmetic; the chosen alpha's residuals are recomputed (at most one alpha's work)
    loo_mse = torch.stack([loo_residuals(i).square_().sum(0) for i in range(len(a))]) / n
    best = loo_mse.argmin(0)  # (t,)
    loo_pred = torch.empty_like(y_t)
    for i in best.unique().tolist():
        cols = torch.nonzero(best == i).squeeze(1)
        loo_pred[:, cols] = y_t[:, cols] - loo_residuals(i, cols)
    weights = u @ (uty / (s[:, None] ** 2 + a[best][None, :]))  # coef = Xcᵀ U (S²+α)⁻¹ UᵀY
    coef = (xc_low.T @ weights.to(xc_low.dtype)).to(dtype)
    return RidgeFit(
        x_mean=x_mean,
        y_mean=y_mean,
        coef=coef,
        alpha=alphas_np[best.cpu().numpy()],
        loo_mse=loo_mse.cpu().numpy(),
        loo_predictions=loo_pred.cpu().numpy(),
    )


def _gram_eigh(xc: torch.Tensor, low: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Eigenvalues and vectors of the smaller Gram matrix of ``xc``, computed from its copy
    ``low`` in the Gram precision and decomposed in ``xc``'s dtype. A large one on a CPU goes
    through numpy and scipy: numpy computes ``a @ a.T`` with BLAS's symmetric rank-k update
    (half the work of a general product), and LAPACK's divide-and-conquer ``evd`` outran
    ``torch.linalg.eigh`` (bench/README.md). Below ``NUMPY_GRAM_FROM`` switching between
    torch's and numpy's thread pools costs more than it saves."""
    n, p = xc.shape
    on_numpy = xc.device.type == "cpu" and min(n, p) >= NUMPY_GRAM_FROM
    # with fewer features than stimuli the singular vectors come from Xc V / s, whose small
    # singular values a low-precision Gram matrix would spoil: that (cheaper) route keeps xc
    low = low if p >= n else xc
    low = low.numpy() if on_numpy else low
    gram = low @ low.T if p >= n else low.T @ low
    if not on_numpy:
        return torch.linalg.eigh(gram.to(xc.dtype))
    gram = gram.astype(xc.numpy().dtype, copy=False)
    values, vectors = scipy.linalg.eigh(gram, driver="evd", overwrite_a=True, check_finite=False)
    return torch.from_numpy(values), torch.from_numpy(vectors)


def _left_singular(xc: torch.Tensor, low: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Left singular vectors and the non-negligible singular values of ``xc`` (``low``: its
    copy in the Gram precision)."""
    n, p = xc.shape
    eigenvalues, vectors = _gram_eigh(xc, low)
    keep = eigenvalues > eigenvalues.max() * max(n, p) * torch.finfo(xc.dtype).eps
    s = eigenvalues[keep].sqrt()
    u = vectors[:, keep] if p >= n else xc @ vectors[:, keep] / s
    return u, s
