"""PLS regression (NIPALS, no scaling) with the predictions of scikit-learn's PLSRegression.

Brain-Score maps model features to neurons with ``PLSRegression(n_components=25,
scale=False)``. NIPALS finds each component's weights by a power iteration whose x-weights
evolve as ``w ← normalise(M Mᵀ w)`` with ``M = Xₖᵀ Yₖ`` (features × targets). Every quantity
the iteration and its stopping rule need (``‖wᵢ − wᵢ₋₁‖²`` included) can be written through
``G = Mᵀ M`` (targets × targets), so we run the same iteration, from the same start and with
the same stopping rule, in target space: the same components at a fraction of the cost. The
deflation of X and Y then follows scikit-learn's regression mode, and ``M`` is updated by the
rank-one identity ``Mₖ₊₁ = Mₖ − (tᵀt) p qᵀ`` instead of being recomputed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


@dataclass
class PLSFit:
    """A fitted PLS mapping: ``y = (x − x_mean) @ coef + y_mean``."""

    x_mean: torch.Tensor
    y_mean: torch.Tensor
    coef: torch.Tensor  # (feature, target)
    n_iter: list[int]

    def predict(self, x: np.ndarray) -> np.ndarray:
        x = torch.as_tensor(np.asarray(x), dtype=self.coef.dtype, device=self.coef.device)
        return ((x - self.x_mean) @ self.coef + self.y_mean).cpu().numpy()


def _first_direction(m: torch.Tensor, yk: torch.Tensor, max_iter: int, tol: float):
    """x-weights of one component by scikit-learn's power method, iterated in target space.

    Returns (x_weights, iterations), or None when every column of Y is (numerically) zero.
    """
    eps = torch.finfo(yk.dtype).eps
    nonzero = (yk.abs() > eps).any(dim=0).nonzero()
    if len(nonzero) == 0:
        return None
    gram = m.T @ m  # G = Mᵀ M
    v = torch.zeros(m.shape[1], dtype=m.dtype, device=m.device)
    v[nonzero[0, 0]] = 1.0  # scikit-learn starts from the first non-zero column of Y
    norm_old, v_old = None, None
    for i in range(max_iter):
        gv = gram @ v
        norm = torch.sqrt(v @ gv)  # ‖M v‖: x_weights = M v / ‖M v‖
        converged = norm_old is not None and 2.0 - 2.0 * (v_old @ gv) / (norm * norm_old) < tol
        if converged or m.shape[1] == 1 or i == max_iter - 1:  # (v_old @ gv)/… = w_newᵀ w_old
            break
        norm_old, v_old, v = norm, v, gv / torch.linalg.vector_norm(gv)
    return m @ v / norm, i + 1


def fit_pls(
    x: np.ndarray,
    y: np.ndarray,
    n_components: int = 25,
    *,
    max_iter: int = 500,
    tol: float = 1e-6,
    device: str = "cpu",
    dtype: torch.dtype = torch.float64,
) -> PLSFit:
    """Fit PLS regression (NIPALS, centred, unscaled) like ``PLSRegression(scale=False)``."""
    xk = torch.as_tensor(np.asarray(x), dtype=dtype, device=device).clone()
    yk = torch.as_tensor(np.asarray(y), dtype=dtype, device=device).clone()
    if xk.ndim != 2 or yk.ndim != 2 or xk.shape[0] != yk.shape[0]:
        raise ValueError(
            f"x (n, p) and y (n, t) must share n: got {tuple(xk.shape)}, {tuple(yk.shape)}"
        )
    if not 1 <= n_components <= min(xk.shape):
        raise ValueError(f"n_components must be in [1, {min(xk.shape)}], got {n_components}")
    x_mean, y_mean = xk.mean(0), yk.mean(0)
    xk -= x_mean
    yk -= y_mean
    y_eps = torch.finfo(dtype).eps
    m = xk.T @ yk  # Xₖᵀ Yₖ, kept up to date by the deflation identity below
    weights, x_loadings, y_loadings, n_iter = [], [], [], []
    for _ in range(n_components):
        negligible = (yk.abs() < 10 * y_eps).all(dim=0)
        yk[:, negligible] = 0.0
        m[:, negligible] = 0.0
        found = _first_direction(m, yk, max_iter, tol)
        if found is None:  # Y fully explained: no further component
            break
        w, iterations = found
        t = xk @ w
        tt = t @ t
        p, q = xk.T @ t / tt, yk.T @ t / tt
        xk -= torch.outer(t, p)
        yk -= torch.outer(t, q)
        m -= tt * torch.outer(p, q)  # (Xₖ − t pᵀ)ᵀ (Yₖ − t qᵀ) = Xₖᵀ Yₖ − (tᵀt) p qᵀ
        weights.append(w)
        x_loadings.append(p)
        y_loadings.append(q)
        n_iter.append(iterations)
    w_mat, p_mat, q_mat = (torch.stack(a, dim=1) for a in (weights, x_loadings, y_loadings))
    rotations = w_mat @ torch.linalg.pinv(p_mat.T @ w_mat)
    return PLSFit(x_mean=x_mean, y_mean=y_mean, coef=rotations @ q_mat.T, n_iter=n_iter)
