"""Benchmark: the fitting engine against scikit-learn, in one run.

Synthetic features with latent structure (n stimuli × {1000, 20000} features) predict 168
neuroids; 10 shuffle splits, train 0.9. Prints, per feature count:
- PLS-25: our NIPALS (target space iteration) vs sklearn's PLSRegression: speed-up and
  max |Δ median test r| over splits (targets: >= 10x, <= 1e-4);
- ridge with per-neuroid LOO alphas: time at 20000 features relative to 1000 (target <= 2x);
- with ``--ridgecv``: our ridge (float64, and with a float32 Gram matrix) against
  scikit-learn's ``RidgeCV(alphas, alpha_per_target=True)`` on the same splits: speed-up
  (target >= 2x) and max |Δ test r| per neuroid against float64 (target <= 1e-4);
- with ``--panel``: the alignment metrics other than ridge and PLS (``neuralign.fitting.alignment``:
  rsa, cka, procrustes, soft_matching, reverse, one_to_one; ceilings computed beforehand, as
  once per dataset) on the same layers (the two feature counts) and splits, as a multiple of
  the ridge fits there (target <= 2x); responses get 4 repetitions; ``--breakdown`` adds
  each metric's time alone (its own Gram matrix included) to see which dominates. Both parts
  fit ridge (reverse predictivity's too) in ``--ridge-precision`` (default ``mixed``, the
  workflow's ``fitting.ridge_precision``).
``--threads N`` caps torch's and BLAS's threads (on a machine shared with other jobs,
multithreaded BLAS makes the panel's many small operations much slower: measure both parts
at the same setting). Everything runs with freed memory kept in the process, as the
workflow's jobs do (``neuralign.io.memory``); ``--fresh-memory`` leaves glibc's default.

Usage: python bench/fitting.py [--stimuli 3200] [--splits 10] [--device cpu] [--ridge-only]
       [--ridgecv] [--panel [--breakdown]] [--ridge-precision mixed|double] [--threads N]
       [--fresh-memory]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.cross_decomposition import PLSRegression
from sklearn.linear_model import RidgeCV
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "workflow"))

from neuralign.fitting.alignment.base import AlignmentSpec  # noqa: E402
from neuralign.fitting.alignment.scoring import alignment_ceilings, score_alignment  # noqa: E402
from neuralign.fitting.mappings import GRAM_DTYPES, MappingSpec  # noqa: E402
from neuralign.fitting.metrics import pearson_columns  # noqa: E402
from neuralign.fitting.pls import fit_pls  # noqa: E402
from neuralign.fitting.ridge import fit_ridge_loo  # noqa: E402
from neuralign.fitting.scoring import shuffle_splits  # noqa: E402
from neuralign.io.memory import keep_freed_memory  # noqa: E402

ALPHAS = np.logspace(-3, 3, 13)
NEW_METRICS = ["rsa", "cka", "procrustes", "soft_matching", "reverse", "one_to_one"]


def data(n: int, p: int, t: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    latent = rng.normal(size=(n, 50))
    x = latent @ rng.normal(size=(50, p)) + rng.normal(size=(n, p))
    y = latent @ rng.normal(size=(50, t)) + 5 * rng.normal(size=(n, t))
    return x.astype(np.float64), y


def scaled_alphas(x_train: np.ndarray) -> np.ndarray:
    """The relative alpha grid in units of the mean eigenvalue of the centred Gram matrix."""
    centred = x_train - x_train.mean(0)
    return ALPHAS * float((centred**2).sum() / min(centred.shape))


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
        _, t_ridge = timed(
            fit_ridge_loo, x[train], y[train], scaled_alphas(x[train]), device=device
        )
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


def ridgecv(x, y, splits, device: str) -> dict:
    """Per split: our ridge in float64, with a float32 Gram matrix, and RidgeCV; times and
    the largest |Δ r| per neuroid on held-out stimuli against our float64 fit."""
    out = {"f64": 0.0, "f32": 0.0, "sklearn": 0.0, "delta_f32": 0.0, "delta_sklearn": 0.0}
    for train, test in splits:
        alphas = scaled_alphas(x[train])
        f64, t64 = timed(fit_ridge_loo, x[train], y[train], alphas, device=device)
        f32, t32 = timed(
            fit_ridge_loo, x[train], y[train], alphas, device=device, gram_dtype=torch.float32
        )
        ref, tref = timed(RidgeCV(alphas=alphas, alpha_per_target=True).fit, x[train], y[train])
        out["f64"] += t64
        out["f32"] += t32
        out["sklearn"] += tref
        r64 = pearson_columns(f64.predict(x[test]), y[test])
        for key, fit in (("delta_f32", f32), ("delta_sklearn", ref)):
            delta = np.abs(pearson_columns(fit.predict(x[test]), y[test]) - r64).max()
            out[key] = max(out[key], float(delta))
    return out


def panel(features: dict, y, splits, device: str, precision: str, breakdown: bool = False) -> dict:
    """Times of the new alignment metrics and of ridge on the same layers and splits, ridge
    fitted in ``precision`` (``MappingSpec.ridge_precision``) in both."""
    rng = np.random.default_rng(1)
    responses = y[..., None] + rng.normal(scale=2.0, size=(*y.shape, 4))
    mapping = MappingSpec(ridge_precision=precision)
    spec = AlignmentSpec(n_splits=len(splits), train_size=0.9, split_seed=1, mapping=mapping)
    ceilings, t_ceilings = timed(alignment_ceilings, responses, None, NEW_METRICS, spec)
    _, t_new = timed(score_alignment, features, responses, None, NEW_METRICS, spec, ceilings)
    alone = {}
    for metric in NEW_METRICS if breakdown else ():
        own = ceilings.sel(metric=[metric])
        alone[metric] = timed(score_alignment, features, responses, None, [metric], spec, own)[1]
    t_ridge = 0.0
    targets = responses.mean(axis=2)
    for x in features.values():
        for train, _ in splits:
            _, t = timed(
                fit_ridge_loo,
                x[train],
                targets[train],
                scaled_alphas(x[train]),
                device=device,
                gram_dtype=GRAM_DTYPES[precision],
            )
            t_ridge += t
    return {"new": t_new, "ridge": t_ridge, "ceilings": t_ceilings, "alone": alone}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stimuli", type=int, default=3200)
    parser.add_argument("--splits", type=int, default=10)
    parser.add_argument("--features", type=int, nargs=2, default=[1000, 20000])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--ridge-only", action="store_true", help="skip the PLS comparison")
    parser.add_argument("--ridgecv", action="store_true", help="ridge against sklearn RidgeCV")
    parser.add_argument("--panel", action="store_true", help="new alignment metrics vs ridge")
    parser.add_argument("--breakdown", action="store_true", help="--panel: each metric alone")
    parser.add_argument("--threads", type=int, default=None, help="torch and BLAS threads")
    parser.add_argument(
        "--ridge-precision", choices=sorted(GRAM_DTYPES), default="mixed", help="--panel: ridge"
    )
    parser.add_argument(
        "--fresh-memory", action="store_true", help="leave glibc's default (unmap freed memory)"
    )
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
        threadpool_limits(args.threads)
    kept = not args.fresh_memory and keep_freed_memory()  # as the workflow's jobs do
    splits = shuffle_splits(args.stimuli, None, args.splits, 0.9, seed=1)
    print(
        f"machine: {torch.get_num_threads()} threads, device {args.device}, torch "
        f"{torch.__version__}; {args.stimuli} stimuli, 168 neuroids, {args.splits} splits; "
        f"freed memory {'kept' if kept else 'unmapped'}"
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
    if args.ridgecv:
        x, y = data(args.stimuli, high, 168)
        r = ridgecv(x, y, splits, args.device)
        print(
            f"{high} features, RidgeCV {r['sklearn']:.1f} s; ours float64 {r['f64']:.1f} s "
            f"({r['sklearn'] / r['f64']:.2f}x), float32 Gram {r['f32']:.1f} s "
            f"({r['sklearn'] / r['f32']:.2f}x, target >= 2); max |delta r| vs float64: "
            f"float32 Gram {r['delta_f32']:.1e} (target <= 1e-4), RidgeCV {r['delta_sklearn']:.1e}"
        )
    if args.panel:
        features = {f"{p}_features": data(args.stimuli, p, 168)[0] for p in args.features}
        y = data(args.stimuli, low, 168)[1]
        r = panel(features, y, splits, args.device, args.ridge_precision, args.breakdown)
        print(
            f"ridge precision {args.ridge_precision}; "
            f"alignment metrics {', '.join(NEW_METRICS)}: {r['new']:.1f} s on layers "
            f"{list(features)}; ridge there {r['ridge']:.1f} s; ratio "
            f"{r['new'] / r['ridge']:.2f} (target <= 2); ceilings (once per dataset) "
            f"{r['ceilings']:.1f} s"
        )
        if r["alone"]:
            print("each alone: " + ", ".join(f"{m} {t:.1f} s" for m, t in r["alone"].items()))


if __name__ == "__main__":
    main()
