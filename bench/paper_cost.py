"""Benchmark: what the paper config (config/config.yaml) costs on one CPU node and on one GPU.

Three parts, all in one run:

1. **Work.** Every row of the model table named by the config, built without weights
   (``neuralign.models.loading.build_architecture``, meta device): forward-pass FLOPs at the model's
   input size (``torch.utils.flop_counter.FlopCounterMode``), parameters, its layers as the
   workflow resolves them (``activations.model_layers`` or ``activations.layers``,
   ``neuralign.models.layers.resolve_layers``) and the width of each layer after the configured
   reduction (``neuralign.activations.extraction.Reducer``: ``pool`` for the encoding fits,
   ``spatial``
   at ``maps.feature_grid`` for the map fits). The three ``keras:`` harmonized rows read files
   that are not here; their keras.applications architectures are counted as timm's
   ``vgg16``, ``resnetv2_50`` and ``efficientnet_b0`` (same layer structure and input size).
2. **Measurements on this machine** (one thread each, ``torch.set_num_threads(1)``, so that
   other jobs on the cores disturb them less): seconds per image of the real extraction path
   (``neuralign.activations.extraction.extract_to_file``: PNG decoding, preprocessing, hooks,
   pooling,
   netCDF) for a spread of architectures with random weights (``timm-untrained:``), seconds
   per image of decoding + preprocessing alone, and seconds per fit of the real mappings
   (``neuralign.fitting.mappings.fit`` for MajajHong2015 and, without inner folds, for the
   Arcaro maps, ``neuralign.analyses.fmri.fit_subject`` for one GOD subject) on random data of the
   paper's shapes.
3. **Prediction.** Extraction seconds per image are fitted against GFLOPs (non-negative least
   squares, so the cost never falls as FLOPs grow; a fit on GFLOPs and parameters is printed
   beside it) and predicted for every model; fit times are interpolated in the layer width
   (GOD's are timed on 2 of its 8 layers and scaled: they are linear in the layers). The
   whole config is summed: MajajHong2015 IT (3200 images, 10 splits), both Arcaro monkeys
   (14 images, nested leave-one-image-out, ridge and PLS, gradient attributions), GOD for the
   two fMRI models (1250 images, 5 subjects), and the ImageNet evaluation (50000 images) of
   the models the config measures. The GPU prediction takes inference throughput from timm's
   published table (``bench/timm_gpu_throughput.csv``) and the fits from an assumed GPU
   float64 rate; every assumption is printed.

Usage: python bench/paper_cost.py [--quick] [--json FILE]
``--quick`` (a smoke run of well under a minute) measures two small models on a few images,
walks only the first rows of the table, and is not a prediction to quote.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.optimize
import timm
import torch
import xarray as xr
import yaml
from PIL import Image
from snakemake.utils import validate
from torch.utils.flop_counter import FlopCounterMode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "workflow"))

from neuralign.activations.extraction import ImageFiles, Reducer, extract_to_file  # noqa: E402
from neuralign.analyses.fmri.encoding import fit_subject  # noqa: E402
from neuralign.analyses.imagenet import models_to_evaluate, models_without_top1  # noqa: E402
from neuralign.datasets.arcaro2020 import MONKEYS  # noqa: E402
from neuralign.datasets.god_fmri import ROIS  # noqa: E402
from neuralign.datasets.simulated.demo import random_crops  # noqa: E402
from neuralign.fitting import mappings  # noqa: E402
from neuralign.fitting.mappings import MappingSpec  # noqa: E402
from neuralign.models.layers import resolve_layers  # noqa: E402
from neuralign.models.loading import build_architecture, load_model, torchvision_data_config  # noqa: E402
from neuralign.models.sources.harmonized import INPUT_SIZE as HARMONIZED_INPUT  # noqa: E402
from neuralign.models.sources.hub_weights import split_torchvision_name  # noqa: E402
from neuralign.models.table import parse_source, read_model_table  # noqa: E402

# Dataset sizes, from the converters' docstrings (neuralign.datasets.*):
MAJAJHONG_IMAGES, MAJAJHONG_NEUROIDS = 3200, 168  # majajhong2015: 3200 images, 168 IT sites
ARCARO_IMAGES = 14  # arcaro2020: 14 natural images per monkey
GOD_TRAIN, GOD_TEST = 1200, 50  # god_fmri: 1200 training and 50 test images
IMAGENET_VAL = 50000  # ILSVRC2012 validation images
# Assumptions (not published in a file this machine has; printed with the prediction):
ARCARO_NEUROIDS = {"George": 64, "Red": 32}  # two 32-channel arrays (George), one (Red)
GOD_VOXELS = {"V1": 1000, "V2": 1000, "V3": 750, "V4": 750, "LOC": 550, "FFA": 550, "PPA": 350}
GOD_SUBJECTS = 5
HVC = ("LOC", "FFA", "PPA")
LVC = ("V1", "V2", "V3")
GPU_FP64_FLOPS = 5e12  # sustained float64 of the fits on one data-centre GPU (A100: 19.5e12 peak)
GPU_LOADER_WORKERS = 8  # CPU processes decoding images for the GPU
GPU_NODE_CORES = 16  # CPU cores beside the GPU, for the fits-on-CPU alternative
FITS = ("majajhong_fits", "map_fits", "god_fits")
BACKWARD_FACTOR = 3.0  # forward + backward ≈ 3 forward passes (attribution gradients)
# The keras.applications architectures of the keras: harmonized rows, as timm counts them.
KERAS_STAND_INS = {
    "vgg16_harmonized": "timm-untrained:vgg16",
    "resnet50v2_harmonized": "timm-untrained:resnetv2_50",
    "efficientnetb0_harmonized": "timm-untrained:efficientnet_b0",
}
# timm's inference benchmark (RTX 4090, AMP, NCHW, batch 1024, PyTorch 2.9.1, CUDA 12.8):
# huggingface/pytorch-image-models results/benchmark-infer-amp-nchw-pt291-cu128-4090.csv at
# commit 90cae8c5ab83d2d7e23b1fb2bab1559bfdcbc7e9; the rows of our architectures are kept in
# bench/timm_gpu_throughput.csv (written by --write-gpu-table from a copy of that file).
GPU_TABLE = ROOT / "bench" / "timm_gpu_throughput.csv"
GPU_SOURCE = (
    "huggingface/pytorch-image-models results/benchmark-infer-amp-nchw-pt291-cu128-4090.csv "
    "at commit 90cae8c5ab83d2d7e23b1fb2bab1559bfdcbc7e9 (RTX 4090, AMP, batch 1024)"
)
SPREAD = [
    "timm-untrained:mobilenetv3_small_100",
    "timm-untrained:resnet18",
    "timm-untrained:resnet50",
    "timm-untrained:convnext_tiny",
    "timm-untrained:vit_base_patch16_224",
]
QUICK_SPREAD = ["timm-untrained:mobilenetv3_small_050", "timm-untrained:resnet18"]


# --------------------------------------------------------------------------- configuration


def paper_config(path: Path) -> dict:
    """The config with the schema's defaults filled in, as the workflow sees it."""
    config = yaml.safe_load(path.read_text())
    validate(config, str(ROOT / "workflow" / "schemas" / "config.schema.yaml"))
    return config


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


# --------------------------------------------------------------------------- work per model


@dataclass
class ModelWork:
    id: str
    source: str
    counted_as: str
    input_size: tuple[int, int, int]
    gflops: float
    mparams: float
    pool_features: list[int]  # per layer, after activations.reduction
    map_channels: list[int]  # per layer kept as (C, y, x) by the spatial reduction
    unreached: list[str]  # layers whose module is never called (a container): no output
    timm_arch: str | None


def architecture(source: str) -> tuple[torch.nn.Module, tuple[int, int, int]]:
    """The meta-device architecture of ``source`` and its input size."""
    module = build_architecture(source)
    kind, name = parse_source(source)
    if kind == "torchvision":
        size = torchvision_data_config(*split_torchvision_name(name))["input_size"]
    elif kind == "harmonized":
        size = HARMONIZED_INPUT
    else:
        size = timm.data.resolve_data_config({}, model=module)["input_size"]
    return module, tuple(size)


def layer_widths(module, layers: list[str], input_size, reductions: dict) -> dict:
    """FLOPs of one forward pass and, per reduction, the reduced width of each layer (on the
    meta device: shapes only)."""
    module.eval()
    outputs = {}
    hooks = [
        module.get_submodule(layer).register_forward_hook(
            lambda _m, _i, out, layer=layer: outputs.__setitem__(layer, out)
        )
        for layer in layers
    ]
    try:
        with FlopCounterMode(display=False) as counter:
            module(torch.empty(1, *input_size, device="meta"))
    finally:
        for hook in hooks:
            hook.remove()
    widths = {
        key: [Reducer(layer, **reduction)(outputs[layer]) for layer in layers if layer in outputs]
        for key, reduction in reductions.items()
    }
    unreached = [layer for layer in layers if layer not in outputs]
    return {"flops": counter.get_total_flops(), "unreached": unreached, **widths}


def model_work(model_id: str, source: str, layer_spec, reduction: dict, feature_grid: int):
    """The ModelWork of one model table row."""
    counted = KERAS_STAND_INS.get(model_id, source)
    module, size = architecture(counted)
    spec = "stages" if model_id in KERAS_STAND_INS else layer_spec
    layers = resolve_layers(module, spec, model_id)
    widths = layer_widths(
        module,
        layers,
        size,
        {"pool": reduction, "spatial": {"method": "spatial", "grid": feature_grid}},
    )
    return ModelWork(
        id=model_id,
        source=source,
        counted_as=counted,
        input_size=size,
        gflops=widths["flops"] / 1e9,
        mparams=sum(p.numel() for p in module.parameters()) / 1e6,
        pool_features=[int(np.prod(t.shape[1:])) for t in widths["pool"]],
        map_channels=[int(t.shape[1]) for t in widths["spatial"] if t.ndim == 4],
        unreached=widths["unreached"],
        timm_arch=getattr(module, "pretrained_cfg", {}).get("architecture"),
    )


def paper_work(config: dict, table: pd.DataFrame, limit: int | None = None) -> list[ModelWork]:
    """ModelWork of every model the config selects (all table rows when ``models`` is
    empty), or of the first ``limit`` of them."""
    ids = config["models"] or list(table.index)
    activations = config["activations"]
    work = []
    for model_id in ids[:limit]:
        spec = activations["model_layers"].get(model_id, activations["layers"])
        work.append(
            model_work(
                model_id,
                table.loc[model_id, "source"],
                spec,
                activations["reduction"],
                config["maps"]["feature_grid"],
            )
        )
    return work


def god_work(config: dict) -> list[ModelWork]:
    """The fMRI models, with their layers (``fmri.model_layers`` or ``fmri.layers`` evenly
    spaced blocks) sampled to ``fmri.units`` units."""
    fmri = config["fmri"]
    out = []
    for name, source in fmri["models"].items():
        spec = fmri["model_layers"].get(name, fmri["layers"])
        work = model_work(name, source, spec, {"method": "pool", "grid": 1}, 1)
        work.pool_features = [min(fmri["units"], f) for f in work.pool_features]
        out.append(work)
    return out


# --------------------------------------------------------------------------- measurements


def write_images(folder: Path, n: int, size: int) -> list[str]:
    images, _ = random_crops(n, size, np.random.default_rng(0))
    paths = []
    for i, image in enumerate(images):
        paths.append(str(folder / f"{i:05d}.png"))
        Image.fromarray(image).save(paths[-1])
    return paths


def timed(fn, *args, **kwargs) -> float:
    start = time.perf_counter()
    fn(*args, **kwargs)
    return time.perf_counter() - start


def measure_extraction(sources, paths, reduction: dict, batch_size: int, out: Path) -> list:
    """Seconds per image of the real extraction path, per model (one thread, after a
    warm-up batch), and of decoding + preprocessing alone."""
    rows = []
    for source in sources:
        model = load_model(source)
        module, size = architecture(source)
        layers = resolve_layers(module, "stages", source)
        flops = layer_widths(module, layers, size, {})["flops"]

        def run(subset, model=model, layers=layers):
            extract_to_file(
                model,
                subset,
                [Path(p).stem for p in subset],
                layers,
                out,
                {},
                reduction=reduction,
                batch_size=batch_size,
                device="cpu",
            )

        run(paths[:batch_size])
        seconds = timed(run, paths) / len(paths)
        decode = ImageFiles(paths, timm.data.create_transform(**model.data_config))
        decode_seconds = timed(lambda d=decode: [d[i] for i in range(len(d))]) / len(paths)
        rows.append(
            {
                "source": source,
                "gflops": flops / 1e9,
                "mparams": sum(p.numel() for p in model.module.parameters()) / 1e6,
                "s_per_image": seconds,
                "decode_s_per_image": decode_seconds,
            }
        )
        print(
            f"  {source}: {flops / 1e9:.2f} GFLOPs, {seconds * 1e3:.1f} ms/image "
            f"(decoding + preprocessing {decode_seconds * 1e3:.1f} ms)",
            flush=True,
        )
    return rows


def random_fit_data(n: int, p: int, t: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    latent = rng.normal(size=(n, 20))
    x = latent @ rng.normal(size=(20, p)) + rng.normal(size=(n, p))
    return x, latent @ rng.normal(size=(20, t)) + rng.normal(size=(n, t))


def measure_fits(fit, n: int, t: int, widths: list[int]) -> dict[int, float]:
    """Seconds of one ``fit(x, y)`` at each layer width."""
    times = {}
    for p in widths:
        x, y = random_fit_data(n, p, t)
        times[p] = timed(fit, x, y)
    return times


def measure_god_subject(n_bootstrap: int, n_layers: int, units: int, scale: float = 1.0):
    """Seconds of the real ``fit_subject`` for one subject on random data of GOD's shapes
    (voxel counts of GOD_VOXELS times ``scale``)."""
    rng = np.random.default_rng(0)
    counts = {roi: max(3, int(v * scale)) for roi, v in GOD_VOXELS.items()}
    n_voxels = sum(counts.values())
    n_images = GOD_TRAIN + GOD_TEST
    roi_of = np.repeat(list(counts), list(counts.values()))
    coords = {f"roi_{roi}": ("neuroid", roi_of == roi) for roi in counts}
    coords["roi_LVC"] = ("neuroid", np.isin(roi_of, LVC))
    coords["roi_HVC"] = ("neuroid", np.isin(roi_of, HVC))
    coords["roi_VC"] = ("neuroid", np.ones(n_voxels, bool))
    ids = [f"s{i}" for i in range(n_images)]
    responses = rng.normal(size=(n_images, n_voxels, 1))
    dataset = xr.Dataset(
        {"responses": (("stimulus", "neuroid", "repetition"), responses)},
        coords={
            "stimulus_id": ("stimulus", ids),
            "neuroid_id": ("neuroid", [f"v{i}" for i in range(n_voxels)]),
            "split": ("stimulus", ["train"] * GOD_TRAIN + ["test"] * GOD_TEST),
            **coords,
        },
    )
    features = {f"l{i}": rng.normal(size=(n_images, units)) for i in range(n_layers)}
    return timed(fit_subject, dataset, features, ids, rois=ROIS, n_bootstrap=n_bootstrap)


def cpu_fp64_flops() -> float:
    """Float64 matrix-product rate of one thread (FLOP/s), to scale fits to a GPU."""
    a = torch.randn(1024, 1024, dtype=torch.float64)
    a @ a
    seconds = min(timed(lambda: a @ a) for _ in range(3))
    return 2 * 1024**3 / seconds


# --------------------------------------------------------------------------- cost model


def fit_cost_model(gflops, seconds, mparams=None) -> np.ndarray:
    """Coefficients (c0, c_gflop, c_mparam) of seconds ≈ c0 + c_gflop·GFLOPs + c_mparam·Mparams
    (c_mparam 0 when ``mparams`` is None), non-negative least squares: the cost never falls as
    FLOPs or parameters grow."""
    columns = [np.ones(len(gflops)), np.asarray(gflops, dtype=np.float64)]
    if mparams is not None:
        columns.append(np.asarray(mparams, dtype=np.float64))
    coef, _ = scipy.optimize.nnls(np.column_stack(columns), np.asarray(seconds, np.float64))
    return np.append(coef, 0.0) if mparams is None else coef


def predict_cost(coef: np.ndarray, gflops, mparams) -> np.ndarray:
    return coef[0] + coef[1] * np.asarray(gflops) + coef[2] * np.asarray(mparams)


def interpolate(times: dict[int, float], width: float) -> float:
    """Seconds at ``width`` from measured (width → seconds): linear between measured widths,
    linear with the last slope beyond them (fit cost grows linearly in the width once it
    exceeds the number of samples), and the first value below them."""
    widths = np.array(sorted(times), dtype=np.float64)
    values = np.array([times[int(w)] for w in widths])
    if width <= widths[-1]:
        return float(np.interp(width, widths, values))
    slope = (values[-1] - values[-2]) / (widths[-1] - widths[-2]) if len(widths) > 1 else 0.0
    return float(values[-1] + max(slope, 0.0) * (width - widths[-1]))


def gpu_throughput_table(path: Path = GPU_TABLE) -> pd.DataFrame:
    return pd.read_csv(path, comment="#")


def gpu_images_per_second(table: pd.DataFrame, work: ModelWork, fallback) -> tuple[float, str]:
    """timm's published images/s of the architecture at its input size (the nearest size
    listed), else ``fallback(work)`` (the relation fitted on the table)."""
    rows = table[table["model"] == work.timm_arch] if work.timm_arch else table.iloc[:0]
    if len(rows):
        row = rows.iloc[(rows["infer_img_size"] - work.input_size[-1]).abs().argmin()]
        return float(row["infer_samples_per_sec"]), "timm table"
    return fallback(work), "predicted from FLOPs"


def gpu_flops_relation(table: pd.DataFrame):
    """log(images/s) against log(GMACs) over the stored table: a predictor for
    architectures the table lacks."""
    x = np.log(table["infer_gmacs"].clip(lower=1e-3))
    slope, intercept = np.polyfit(x, np.log(table["infer_samples_per_sec"]), 1)
    return lambda work: float(np.exp(intercept + slope * np.log(max(work.gflops / 2, 1e-3))))


# --------------------------------------------------------------------------- the paper's cost


def paper_cost(
    config: dict,
    table: pd.DataFrame,
    works: list[ModelWork],
    god: list[ModelWork],
    m: dict,
    gpu_table: pd.DataFrame,
    coef_key: str = "extraction_coef",
) -> dict:
    """Seconds per stage of the whole config: single-thread CPU (this machine) and one GPU;
    extraction seconds per image from the cost model ``m[coef_key]``."""
    coef = m[coef_key]
    decode = float(np.mean([r["decode_s_per_image"] for r in m["extraction"]]))
    gpu_speedup = GPU_FP64_FLOPS / m["cpu_fp64_flops"]
    gpu_rate = gpu_flops_relation(gpu_table)
    n_splits = config["fitting"]["n_splits"]
    measured_top1 = models_without_top1(table, [w.id for w in works])
    to_evaluate, _ = models_to_evaluate(
        config["imagenet"], table, [w.id for w in works], measured_top1
    )
    mappings = config["maps"]["mappings"]
    monkeys = [d.removeprefix("arcaro2020_").capitalize() for d in config["maps"]["datasets"]]
    attribution = config["maps"]["attribution"]
    cpu = dict.fromkeys(
        [
            "extraction",
            "majajhong_fits",
            "map_fits",
            "attribution",
            "imagenet",
            "god_extraction",
            "god_fits",
        ],
        0.0,
    )
    gpu = dict(cpu)
    per_model = []
    for work in works:
        img_cpu = float(predict_cost(coef, work.gflops, work.mparams))
        rate, rate_source = gpu_images_per_second(gpu_table, work, gpu_rate)
        img_gpu = max(1.0 / rate, decode / GPU_LOADER_WORKERS)
        n_images = MAJAJHONG_IMAGES + ARCARO_IMAGES * len(monkeys)
        fits = n_splits * sum(interpolate(m["majajhong_fit"], p) for p in work.pool_features)
        maps = 0.0
        for monkey in monkeys:
            for kind in mappings:
                per_fit = m["map_fit"][monkey][kind]
                maps += ARCARO_IMAGES**2 * sum(interpolate(per_fit, c) for c in work.map_channels)
        attrib = (
            sum(ARCARO_IMAGES * ARCARO_NEUROIDS[mk] * BACKWARD_FACTOR for mk in monkeys)
            if attribution and work.map_channels
            else 0.0
        )
        imagenet = IMAGENET_VAL if work.id in to_evaluate else 0
        row = {
            "id": work.id,
            "gflops": work.gflops,
            "mparams": work.mparams,
            "cpu_s_per_image": img_cpu,
            "gpu_images_per_s": rate,
            "gpu_rate_source": rate_source,
            "cpu": {
                "extraction": n_images * img_cpu,
                "majajhong_fits": fits,
                "map_fits": maps,
                "attribution": attrib * img_cpu,
                "imagenet": imagenet * img_cpu,
            },
            "gpu": {
                "extraction": n_images * img_gpu,
                "majajhong_fits": fits / gpu_speedup,
                "map_fits": maps / gpu_speedup,
                "attribution": attrib * img_gpu,
                "imagenet": imagenet * img_gpu,
            },
        }
        for stage in row["cpu"]:
            cpu[stage] += row["cpu"][stage]
            gpu[stage] += row["gpu"][stage]
        per_model.append(row)
    for work in god:
        img_cpu = float(predict_cost(coef, work.gflops, work.mparams))
        rate, _ = gpu_images_per_second(gpu_table, work, gpu_rate)
        n_images = GOD_TRAIN + GOD_TEST
        cpu["god_extraction"] += n_images * img_cpu
        gpu["god_extraction"] += n_images * max(1.0 / rate, decode / GPU_LOADER_WORKERS)
        cpu["god_fits"] += GOD_SUBJECTS * m["god_subject_s"]
        gpu["god_fits"] += GOD_SUBJECTS * m["god_subject_s"] / gpu_speedup
    return {
        "cpu_single_thread_s": cpu,
        "gpu_s": gpu,
        "cpu_total_single_thread_s": sum(cpu.values()),
        "gpu_total_s": sum(gpu.values()),
        "imagenet_models": to_evaluate,
        "gpu_fit_speedup": gpu_speedup,
        "per_model": per_model,
    }


def assumptions(config: dict, cores: int) -> list[str]:
    return [
        f"MajajHong2015 IT: {MAJAJHONG_IMAGES} images x {MAJAJHONG_NEUROIDS} neuroids, "
        f"{config['fitting']['n_splits']} splits (train {config['fitting']['train_size']}); "
        "one ridge fit per layer and split (13 relative alphas, exact leave-one-out)",
        f"Arcaro maps: {ARCARO_IMAGES} images per monkey, neuroids assumed {ARCARO_NEUROIDS} "
        f"(not on this machine); nested leave-one-image-out = {ARCARO_IMAGES}^2 fits per layer "
        f"and mapping ({config['maps']['mappings']}), each timed on {ARCARO_IMAGES - 1} images' "
        "samples; attributions counted as one forward+backward (3 forward passes) per image "
        "and neuroid (estimate, not measured)",
        f"GOD: {GOD_TRAIN}+{GOD_TEST} images, {GOD_SUBJECTS} subjects, voxels per ROI assumed "
        f"{GOD_VOXELS} (the published files are not on this machine)",
        f"ImageNet evaluation: {IMAGENET_VAL} images per model the config measures "
        "(imagenet.evaluate); same seconds per image as the extraction path",
        "extraction seconds per image: non-negative least squares on GFLOPs over "
        "the measured spread (random weights; weights do not change the time), PNG inputs of "
        "256 px; dataset preparation, downloads and figures are not counted",
        f"CPU node: this machine measured with 1 thread; a node with C cores runs C such jobs "
        f"at once (Snakemake's job parallelism), time = single-thread total / C; printed for "
        f"C = {cores} (this machine) and 32; assumes memory bandwidth does not limit",
        f"GPU: extraction at max(1 / timm's images/s, decoding time / {GPU_LOADER_WORKERS} "
        f"loader workers); timm's table: {GPU_SOURCE}; architectures it lacks are predicted "
        "from a log-log fit of images/s on GMACs over the stored rows; our batch is "
        f"{config['activations']['batch_size']} without AMP, so the table is optimistic for "
        "small models; decoding was timed on 256 px PNGs (ImageNet's larger JPEGs decode "
        "slower, which only matters where the loader bound applies)",
        f"GPU fits: the CPU fit seconds scaled by an assumed sustained float64 rate of "
        f"{GPU_FP64_FLOPS / 1e12:.0f} TFLOP/s over this machine's one-thread float64 matmul "
        "rate (not measured on a GPU: no GPU was available)",
    ]


# --------------------------------------------------------------------------- report


def hours(seconds: float) -> str:
    return f"{seconds / 3600:.1f} h"


def report(cost: dict, cores: int) -> list[str]:
    lines = ["stage                    CPU 1 thread     GPU"]
    for stage, seconds in cost["cpu_single_thread_s"].items():
        lines.append(f"  {stage:22s} {hours(seconds):>12s} {hours(cost['gpu_s'][stage]):>10s}")
    total_cpu, total_gpu = cost["cpu_total_single_thread_s"], cost["gpu_total_s"]
    fits_cpu = sum(cost["cpu_single_thread_s"][stage] for stage in FITS)
    fits_gpu = sum(cost["gpu_s"][stage] for stage in FITS)
    on_cpu = total_gpu - fits_gpu + fits_cpu / GPU_NODE_CORES
    lines += [
        f"  {'total':22s} {hours(total_cpu):>12s} {hours(total_gpu):>10s}",
        f"CPU node, {cores} cores (this machine): {hours(total_cpu / cores)} "
        f"({total_cpu / cores / 86400:.1f} days); 32 cores: {hours(total_cpu / 32)}",
        f"1 GPU: {hours(total_gpu)} ({total_gpu / 86400:.2f} GPU-days; target < 1)",
        f"1 GPU with the fits on {GPU_NODE_CORES} CPU cores of its node instead: "
        f"{hours(on_cpu)} ({on_cpu / 86400:.2f} days)",
    ]
    return lines


def measure(args, config: dict) -> dict:
    """Every measurement on this machine, one thread each."""
    torch.set_num_threads(1)
    spread = QUICK_SPREAD if args.quick else SPREAD
    n_images = 4 if args.quick else args.images
    out = {"uptime_before": uptime()}
    n_train = int(config["fitting"]["train_size"] * MAJAJHONG_IMAGES)
    with tempfile.TemporaryDirectory() as tmp:
        paths = write_images(Path(tmp), n_images, 256)
        print(f"extraction ({n_images} images of 256 px, batch {min(16, n_images)}):", flush=True)
        out["extraction"] = measure_extraction(
            spread,
            paths,
            config["activations"]["reduction"],
            min(16, n_images),
            Path(tmp) / "features.nc",
        )
    rows = out["extraction"]
    gflops, seconds = [r["gflops"] for r in rows], [r["s_per_image"] for r in rows]
    out["extraction_coef"] = fit_cost_model(gflops, seconds)
    out["extraction_coef_with_params"] = fit_cost_model(
        gflops, seconds, [r["mparams"] for r in rows]
    )
    scale = 8 if args.quick else 1  # quick: shapes shrunk 8x, not a prediction
    ridge = MappingSpec()
    widths = [64, 256, 512] if args.quick else [500, 1500, 2880, 8000, 20000]
    print(f"MajajHong2015 ridge fits, {n_train // scale} training stimuli:", flush=True)
    out["majajhong_fit"] = measure_fits(
        lambda x, y: mappings.fit(ridge, x, y), n_train // scale, MAJAJHONG_NEUROIDS, widths
    )
    print(f"  seconds per fit by width: {_fmt(out['majajhong_fit'])}", flush=True)
    out["map_fit"] = {}
    for monkey, info in MONKEYS.items():
        n = (ARCARO_IMAGES - 1) * info.grid**2 // scale
        channel_widths = [32, 128] if args.quick else [64, 256, 1024, 2048]
        out["map_fit"][monkey] = {}
        for kind in config["maps"]["mappings"]:
            options = {k: config["maps"][k] for k in ("relative_alphas", "pls_components")}
            spec = MappingSpec.from_options(options, kind)
            out["map_fit"][monkey][kind] = measure_fits(
                lambda x, y, spec=spec: mappings.fit(spec, x, y, inner=False).linear(),
                n,
                ARCARO_NEUROIDS[monkey],
                channel_widths,
            )
            print(
                f"map fits {monkey} {kind}, {n} samples: {_fmt(out['map_fit'][monkey][kind])}",
                flush=True,
            )
    # GOD: fit_subject's fits and bootstrap are per ROI x layer and per layer, so its time is
    # linear in the number of layers; timing 2 of them and scaling keeps the run short
    fmri, timed_layers = config["fmri"], 1 if args.quick else 2
    per_layer = (
        measure_god_subject(
            100 if args.quick else fmri["n_bootstrap"],
            timed_layers,
            fmri["units"] // scale,
            1 / scale,
        )
        / timed_layers
    )
    out["god_subject_s"] = per_layer * len(god_work(config)[0].pool_features)
    print(
        f"GOD fit_subject, one subject, {per_layer:.1f} s per layer ({timed_layers} timed): "
        f"{out['god_subject_s']:.1f} s",
        flush=True,
    )
    out["cpu_fp64_flops"] = cpu_fp64_flops()
    out["uptime_after"] = uptime()
    return out


def _fmt(times: dict) -> str:
    return ", ".join(f"{p}: {s:.2f}" for p, s in times.items())


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=ROOT / "config" / "config.yaml")
    parser.add_argument("--quick", action="store_true", help="smoke run (< 1 min), no prediction")
    parser.add_argument("--images", type=int, default=32, help="images per measured model")
    parser.add_argument("--json", type=Path, help="write the numbers to this file")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    config = paper_config(args.config)
    table = read_model_table(ROOT / config["model_table"])
    cores = os.cpu_count() or 1
    print(
        f"machine: {cores} CPU cores, torch {torch.__version__}, timm {timm.__version__}; "
        f"load: {uptime()}",
        flush=True,
    )
    measured = measure(args, config)
    works = paper_work(config, table, limit=3 if args.quick else None)
    god = god_work(config)
    print(
        f"work: {len(works)} models, {sum(w.gflops for w in works):.0f} GFLOPs per image in all",
        flush=True,
    )
    gpu_table = gpu_throughput_table()
    cost = paper_cost(config, table, works, god, measured, gpu_table)
    with_params = paper_cost(
        config, table, works, god, measured, gpu_table, "extraction_coef_with_params"
    )
    lines = report(cost, cores)
    notes = assumptions(config, cores)
    print("\n".join(["", "Predicted cost of the paper config:", *lines, "", "Assumptions:"]))
    print("\n".join(f"- {note}" for note in notes))
    coef, alt = measured["extraction_coef"], measured["extraction_coef_with_params"]
    unreached = {w.id: w.unreached for w in works if w.unreached}
    from_flops = [m["id"] for m in cost["per_model"] if m["gpu_rate_source"] != "timm table"]
    for device in ("cpu", "gpu"):
        ranked = sorted(cost["per_model"], key=lambda m, d=device: -sum(m[d].values()))[:5]
        print(
            f"largest {device.upper()} costs: "
            + ", ".join(f"{m['id']} {sum(m[device].values()) / 60:.1f} min" for m in ranked)
        )
    print(
        f"\nextraction cost model (one thread): s/image = {coef[0]:.4f} + {coef[1]:.5f} x GFLOPs; "
        f"with parameters: {alt[0]:.4f} + {alt[1]:.5f} x GFLOPs + {alt[2]:.6f} x Mparams, "
        f"which gives CPU {hours(with_params['cpu_total_single_thread_s'])} (one thread) and "
        f"GPU {hours(with_params['gpu_total_s'])}\n"
        f"GPU images/s predicted from FLOPs (not in timm's table): {from_flops or 'none'}\n"
        f"layers never called in a forward pass (containers; no output, not counted): "
        f"{unreached or 'none'}\n"
        f"load before: {measured['uptime_before']}\nload after:  {measured['uptime_after']}\n"
        f"benchmark wall time {time.perf_counter() - start:.0f} s"
        + (" (--quick: not a prediction)" if args.quick else "")
    )
    result = {
        "quick": args.quick,
        "machine": {"cores": cores, "torch": torch.__version__},
        "measured": measured,
        "work": [w.__dict__ for w in works],
        "cost": cost,
        "cost_with_params": {k: v for k, v in with_params.items() if k != "per_model"},
        "summary": lines,
        "assumptions": notes,
    }
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=1, default=_jsonable))
    return result


def _jsonable(value):
    if isinstance(value, (np.generic, np.ndarray)):
        return value.tolist()
    return str(value)


def write_gpu_table(source_csv: Path) -> None:
    """Keep the rows of timm's benchmark file of the timm architectures the paper config uses
    (the model table's and the fMRI models')."""
    config = paper_config(ROOT / "config" / "config.yaml")
    table = read_model_table(ROOT / config["model_table"])
    archs = {w.timm_arch for w in paper_work(config, table) + god_work(config)}
    rows = pd.read_csv(source_csv)
    kept = rows[rows["model"].isin(archs)]
    header = f"# rows of {GPU_SOURCE} for the architectures of config/models.tsv\n"
    GPU_TABLE.write_text(header + kept.to_csv(index=False))


if __name__ == "__main__":
    if sys.argv[1:2] == ["--write-gpu-table"]:
        write_gpu_table(Path(sys.argv[2]))
    else:
        main()
