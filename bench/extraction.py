"""Benchmark: activation extraction throughput and memory.

1. Images/s of the full extraction path (file decoding, preprocessing, hooks, reduction,
   netCDF writing) against a bare ``model(x)`` loop over already-decoded tensors, same batch
   size, same run. Target ratio >= 0.9.
2. Peak RSS of the extraction at 500 and at 2000 stimuli (each in a fresh process). Target: flat.

Usage: python bench/extraction.py [--model timm-untrained:resnet18] [--device cpu]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import timm
import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "workflow"))

from neuralign.activations.extraction import extract_to_file  # noqa: E402
from neuralign.datasets.simulated.demo import random_crops  # noqa: E402
from neuralign.models.loading import load_model  # noqa: E402


def write_images(root: Path, n: int, size: int = 128) -> list[str]:
    images, _ = random_crops(n, size, np.random.default_rng(0))
    paths = []
    for i, image in enumerate(images):
        path = root / f"{i:05d}.png"
        Image.fromarray(image).save(path)
        paths.append(str(path))
    return paths


def bare_loop(model, paths, batch_size, device) -> float:
    """Images/s of model(x) over tensors decoded and preprocessed beforehand."""
    transform = timm.data.create_transform(**model.data_config)
    tensors = torch.stack([transform(Image.open(p).convert("RGB")) for p in paths])
    module = model.module.to(device)
    with torch.inference_mode():
        module(tensors[:batch_size].to(device))  # warm-up
        _sync(device)
        start = time.perf_counter()
        for i in range(0, len(tensors), batch_size):
            module(tensors[i : i + batch_size].to(device))
        _sync(device)
    return len(tensors) / (time.perf_counter() - start)


def full_path(model, paths, out, batch_size, device, workers) -> float:
    """Images/s of the whole extraction, files to netCDF."""
    ids = [Path(p).stem for p in paths]
    extract_to_file(
        model,
        paths[:batch_size],
        ids[:batch_size],
        model.default_layers,
        out,
        {},
        batch_size=batch_size,
        device=device,
    )  # warm-up
    start = time.perf_counter()
    extract_to_file(
        model,
        paths,
        ids,
        model.default_layers,
        out,
        {},
        batch_size=batch_size,
        num_workers=workers,
        device=device,
    )
    _sync(device)
    return len(paths) / (time.perf_counter() - start)


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def peak_rss_child(args) -> None:
    """Run one extraction and print its peak RSS in MiB (called in a fresh process)."""
    model = load_model(args.model)
    paths = sorted(str(p) for p in Path(args.images).glob("*.png"))[: args.n]
    extract_to_file(
        model,
        paths,
        [Path(p).stem for p in paths],
        model.default_layers,
        Path(args.images) / f"rss_{args.n}.nc",
        {},
        batch_size=args.batch_size,
        num_workers=args.workers,
        device=args.device,
    )
    print(json.dumps({"peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def peak_rss(args, images: Path, n: int) -> float:
    cmd = [
        sys.executable,
        __file__,
        "--child",
        "--images",
        str(images),
        "--n",
        str(n),
        "--model",
        args.model,
        "--device",
        args.device,
        "--batch-size",
        str(args.batch_size),
        "--workers",
        str(args.workers),
    ]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])["peak_rss_mib"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="timm-untrained:resnet18")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--throughput-images", type=int, default=256)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--images", help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return peak_rss_child(args)

    print(
        f"machine: {torch.get_num_threads()} threads, device {args.device}, "
        f"torch {torch.__version__}, model {args.model}, batch {args.batch_size}, "
        f"{args.workers} loader workers"
    )
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        paths = write_images(root, 2000)
        model = load_model(args.model)
        subset = paths[: args.throughput_images]
        bare = bare_loop(model, subset, args.batch_size, args.device)
        full = full_path(
            model, subset, root / "full.nc", args.batch_size, args.device, args.workers
        )
        print(
            f"throughput: bare model(x) {bare:.1f} img/s, full path {full:.1f} img/s, "
            f"ratio {full / bare:.2f} (target >= 0.9)"
        )
        small, large = peak_rss(args, root, 500), peak_rss(args, root, 2000)
        print(
            f"peak RSS: 500 stimuli {small:.0f} MiB, 2000 stimuli {large:.0f} MiB, "
            f"ratio {large / small:.2f} (target: flat, ~1.0)"
        )


if __name__ == "__main__":
    main()
