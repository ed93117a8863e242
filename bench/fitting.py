"""Benchmark: the fitting engine against scikit-learn, in one run.

Synthetic features with latent structure (n stimuli × {1000, 20000} features) predict 168
neuroids; 10 shuffle splits, train 0.9. Prints, per feature count:
- PLS-25: our NIPALS (target space iteration) vs sklearn's PLSRegression: speed-up and
  max |Δ median test r| over splits (targets: >= 10x, <= 1e-4);
- ridge with per-neuroid LOO alphas: time at 20000 features relative to 1000 (target <= 2x).

Usage: python bench/fitting.py [--stimuli 3200] [--splits 10] [--device cpu] [--ridge-only]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.cross_decomposition import PLSRegression

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "workflow"))

from neuralign.fitting import shuffle_splits  # noqa: E402
from neuralign.metrics import pearson_columns  # noqa: E402
from neuralign.pls import fit_pls  # noqa: E402
from neuralign.ridge import fit_ridge_loo  # noqa: E402

ALPHAS = np.logspace(-3, 3, 13)


def data(n: int, p: int, t: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    latent = rng.normal(size=(n, 50))
    x = latent @ rng.normal(size=(50, p)) + rng.normal(size=(n, p))
    y = latent @ rng.normal(size=(50, t)) + 5 * rng.normal(size=(n, t))
    return x.astype(np.float64), y


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return result, time.perf_counter() - start


def median_r(predict, x, y, test) -> float:
    return float(np.median(pearson_columns(predict(x[test]), y[test])))


def run(n: int, p: int, splits, device: str, pls: bool = True) -> dict:
    x, y = data(n, p, 168)
    out = {"ours": 0.0, "sklearn": 0.0, "ridge": 0.0, "delta": 0.0}
    for train, test in splits:
        if pls:
            pls_split(out, x, y, train, test, device)
        scale = float(((x[train] - x[train].mean(0)) ** 2).sum() / min(len(train), p))
        _, t_ridge = timed(fit_ridge_loo, x[train], y[train], ALPHAS * scale, device=device)
        out["ridge"] += t_ridge
    return out


def pls_split(out: dict, x, y, train, test, device: str) -> None:
    """Time our PLS and scikit-learn's on one split; keep the largest |Δ median r|."""
    ours, t_ours = timed(fit_pls, x[train], y[train], 25, device=device)
    ref, t_ref = timed(PLSRegression(25, scale=False).fit, x[train], y[train])
    out["ours"] += t_ours
    out["sklearn"] += t_ref
    delta = abs(median_r(ours.predict, x, y, test) - median_r(ref.predict, x, y, test))
    out["delta"] = max(out["delta"], delta)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stimuli", type=int, default=3200)
    parser.add_argument("--splits", type=int, default=10)
    parser.add_argument("--features", type=int, nargs=2, default=[1000, 20000])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--ridge-only", action="store_true", help="skip the PLS comparison")
    args = parser.parse_args()
    splits = shuffle_splits(args.stimuli, None, args.splits, 0.9, seed=1)
    print(
        f"machine: {torch.get_num_threads()} threads, device {args.device}, torch "
        f"{torch.__version__}; {args.stimuli} stimuli, 168 neuroids, {args.splits} splits"
    )
    results = {}
    for p in args.features:
        r = results[p] = run(args.stimuli, p, splits, args.device, pls=not args.ridge_only)
        if not args.ridge_only:
            print(
                f"{p} features: PLS ours {r['ours']:.1f} s, sklearn {r['sklearn']:.1f} s, "
                f"speed-up {r['sklearn'] / r['ours']:.1f}x (target >= 10), max |delta median r| "
                f"{r['delta']:.2e} (target <= 1e-4)"
            )
        print(f"{p} features: ridge {r['ridge']:.1f} s")
    low, high = args.features
    ratio = results[high]["ridge"] / results[low]["ridge"]
    print(f"ridge time at {high} / {low} features: {ratio:.2f} (target <= 2)")


if __name__ == "__main__":
    main()
