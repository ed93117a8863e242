"""SIMULATED fMRI in the Generic Object Decoding (GOD) file layout, for the offline demo.

Nothing here is recorded data. ``simulate_god`` writes one HDF5 file per subject in the
published bdpy "BData" layout (``neuralign.datasets.bdata.write_bdata``) and the stimulus
images as ``<stimulus_dir>/{training,test}/n<synset>_<image>.JPEG``, so the experiment's real
route (rule god_fmri_dataset, ``neuralign.datasets.god_fmri.convert_god``) reads them as it
reads the published files. Every file says SIMULATED: the HDF5 root attributes ``simulated``
(1) and ``description``, the metadata descriptions, and so the converted datasets' attrs.

Stimuli: seeded crops of the photographs bundled with scikit-image
(``neuralign.datasets.simulated.demo.random_crops``, cycling through
``neuralign.datasets.simulated.demo.PHOTOS``); ``n_train``
training images are shown once and ``n_test`` test images ``n_repetitions`` times each (the
published data: 1200 × 1 and 50 × 35). Unlike GOD, test images are new crops of the same
photographs. The category of a crop is its photograph, whose FAKE synset number is
``SYNSET_BASE`` + photo index + 1 (n90000001 ...: no ImageNet synset); the image number is the
crop's index + 1 (training first), so stimulus_id is ``<synset>.<image as 6 decimals>`` as in
GOD and the file ``n90000001_1.JPEG``.

Voxels read a fixed hierarchy of feature maps of the images, the same for every subject:

1. level 1: the demo's Gabor-energy front end (``neuralign.datasets.simulated.demo.front_end``:
energy at 4
   orientations × 2 scales and 4 colour-opponent channels, divisively normalised; 64 × 64);
2. level 2: ``N_LEVEL2`` rectified random mixtures of the level-1 maps blurred over 2 px,
   at 32 × 32 (conjunctions of orientation, scale and colour);
3. level 3: ``N_LEVEL3`` rectified random mixtures of the level-2 maps blurred over 3 px, at
   16 × 16, whose receptive-field sums pass through a square root (compressive pooling);
4. category: which photograph the crop came from (a stand-in for object selectivity).

A voxel pools each level's maps through one Gaussian receptive field (centre and width drawn
per voxel, in image fractions) and weights the channels with sparse Gaussian weights; each
level's drive (and the category drive, from Gaussian weights per photograph) is z-scored over
the stimuli and the voxel's signal is Σ_level √share · drive, z-scored again. The shares and
field sizes per ROI (``ROI_MODELS``) go from early to late: V1 reads level 1 through small
fields, V2 V3 V4 more and more of level 2 through larger fields, LOC FFA PPA mostly level 3 and
the category through large fields near the centre (FFA prefers the photographs with faces,
PPA those of scenes and textures). LVC (V1-V3), HVC (LOC FFA PPA) and VC (all) are unions, as
in GOD. Each presentation's value is signal + ``noise`` · N(0, 1), independent per voxel and
presentation. Voxels are drawn per subject (seeded); the feature hierarchy and the images are
shared, as the GOD subjects saw the same images.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image
from scipy import ndimage

import neuralign
from neuralign.datasets import bdata, god_fmri
from neuralign.datasets.simulated.demo import N_CHANNELS, PHOTOS, front_end, random_crops
from neuralign.io.artifacts import stamped
from neuralign.io.atomic import atomic_path

SYNSET_BASE = 90_000_000  # fake synset numbers n90000001...: not ImageNet (SIMULATED)
GENERATOR = "neuralign.datasets.simulated.fmri"
N_LEVEL2, N_LEVEL3 = 16, 16
RUN_LENGTH = 50  # training presentations per run; each test run shows every test image once


@dataclass(frozen=True)
class RoiModel:
    """How the voxels of one simulated ROI read the feature hierarchy."""

    shares: tuple[float, float, float, float]  # level 1, level 2, level 3, category
    sigma: tuple[float, float]  # receptive field SD range, image fractions
    centre: tuple[float, float]  # receptive field centre range (x and y), image fractions
    prefers: tuple[str, ...] = ()  # photographs the ROI's category weights favour


EARLY, LATE = (0.15, 0.85), (0.35, 0.65)
ROI_MODELS = {
    "V1": RoiModel((1.0, 0.0, 0.0, 0.0), (0.06, 0.1), EARLY),
    "V2": RoiModel((0.7, 0.3, 0.0, 0.0), (0.08, 0.14), EARLY),
    "V3": RoiModel((0.4, 0.6, 0.0, 0.0), (0.12, 0.2), EARLY),
    "V4": RoiModel((0.1, 0.6, 0.3, 0.0), (0.18, 0.3), EARLY),
    "LOC": RoiModel((0.0, 0.2, 0.5, 0.3), (0.3, 0.5), LATE),
    "FFA": RoiModel((0.0, 0.0, 0.4, 0.6), (0.35, 0.6), LATE, ("astronaut", "chelsea")),
    "PPA": RoiModel((0.0, 0.0, 0.4, 0.6), (0.35, 0.6), LATE, ("brick", "grass", "gravel", "moon")),
}
UNIONS = {"LVC": ("V1", "V2", "V3"), "HVC": ("LOC", "FFA", "PPA"), "VC": tuple(ROI_MODELS)}
N_VOXELS = {"V1": 60, "V2": 50, "V3": 40, "V4": 30, "LOC": 30, "FFA": 20, "PPA": 20}
PREFERENCE = 1.5  # added to a late ROI's category weights of its preferred photographs


def stimulus_label(synset: int, image: int) -> float:
    """GOD stimulus_id value of image ``image`` of synset ``synset``: 90000001.000012."""
    return synset + image / 1e6


def feature_levels(images: np.ndarray, seed: int) -> list[np.ndarray]:
    """Levels 1-3 of the simulated hierarchy, (stimulus, channel, y, x) each, from uint8
    images; the random mixtures are drawn from ``seed``."""
    rng = np.random.default_rng(seed)
    level1 = front_end(images)
    mix2 = rng.normal(size=(N_LEVEL2, N_CHANNELS)) / np.sqrt(N_CHANNELS)
    level2 = _rectified_mixture(level1, mix2, blur=2.0, stride=2)
    mix3 = rng.normal(size=(N_LEVEL3, N_LEVEL2)) / np.sqrt(N_LEVEL2)
    level3 = _rectified_mixture(level2, mix3, blur=3.0, stride=2)
    return [level1, level2, level3]


def _rectified_mixture(maps: np.ndarray, mix: np.ndarray, blur: float, stride: int):
    blurred = ndimage.gaussian_filter(maps, sigma=(0, 0, blur, blur))[..., ::stride, ::stride]
    z = (blurred - blurred.mean(axis=(0, 2, 3), keepdims=True)) / blurred.std(
        axis=(0, 2, 3), keepdims=True
    )
    return np.maximum(np.einsum("kc,scyx->skyx", mix, z), 0.0)


def gaussian_fields(x: np.ndarray, y: np.ndarray, sigma: np.ndarray, size: int) -> np.ndarray:
    """Gaussian receptive fields (voxel, size, size) centred at (x, y), each summing to one."""
    grid = (np.arange(size) + 0.5) / size
    dx = grid[None, None, :] - x[:, None, None]
    dy = grid[None, :, None] - y[:, None, None]
    fields = np.exp(-(dx**2 + dy**2) / (2 * sigma[:, None, None] ** 2))
    return fields / fields.sum(axis=(1, 2), keepdims=True)


def _zscore(x: np.ndarray) -> np.ndarray:
    sd = x.std(axis=0)
    return (x - x.mean(axis=0)) / np.where(sd > 0, sd, 1.0)


def _sparse_weights(n: int, channels: int, rng: np.random.Generator) -> np.ndarray:
    weights = rng.normal(size=(n, channels)) * (rng.random((n, channels)) < 0.4)
    weights[np.arange(n), rng.integers(0, channels, n)] += rng.choice([-1.0, 1.0], n) * 2
    return weights


def roi_signal(
    roi: str,
    n: int,
    levels: Sequence[np.ndarray],
    categories: np.ndarray,
    rng: np.random.Generator,
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Noise-free signals (stimulus, voxel) of ``n`` voxels of ``roi`` (z-scored over the
    stimuli) and their receptive fields (``rf_x``, ``rf_y``, ``rf_sigma``)."""
    model = ROI_MODELS[roi]
    fields = {
        "rf_x": rng.uniform(*model.centre, n),
        "rf_y": rng.uniform(*model.centre, n),
        "rf_sigma": rng.uniform(*model.sigma, n),
    }
    signal = np.zeros((len(categories), n))
    for k, (share, maps) in enumerate(zip(model.shares[:3], levels, strict=True)):
        weights = _sparse_weights(n, maps.shape[1], rng)  # drawn for every level: stable draws
        if share == 0:
            continue
        size = maps.shape[-1]
        rf = gaussian_fields(fields["rf_x"], fields["rf_y"], fields["rf_sigma"], size)
        pooled = (maps.reshape(-1, size * size) @ rf.reshape(n, size * size).T).reshape(
            len(maps), maps.shape[1], n
        )
        if k == 2:
            pooled = np.sqrt(pooled)
        signal += np.sqrt(share) * _zscore(np.einsum("scv,vc->sv", pooled, weights))
    photos = list(PHOTOS)
    tuning = rng.normal(size=(n, len(photos)))
    tuning[:, [photos.index(name) for name in model.prefers]] += PREFERENCE
    if model.shares[3] > 0:
        codes = np.array([photos.index(name) for name in categories])
        signal += np.sqrt(model.shares[3]) * _zscore(tuning[:, codes].T)
    return _zscore(signal), fields


def simulate_god(
    h5_dir: str | os.PathLike,
    stimulus_dir: str | os.PathLike,
    subjects: Sequence[str],
    *,
    n_train: int = 120,
    n_test: int = 20,
    n_repetitions: int = 5,
    image_size: int = 112,
    n_voxels: Mapping[str, int] | None = None,
    noise: float = 1.0,
    seed: int = 0,
    provenance: Mapping | None = None,
) -> list[Path]:
    """Write SIMULATED GOD files: ``<h5_dir>/<subject>.h5`` per subject ('Subject1'...),
    atomically, with ``provenance`` in their root attributes, and the images under
    ``stimulus_dir``; the HDF5 paths. Same arguments, same bytes."""
    unknown = [subject for subject in subjects if subject not in god_fmri.SUBJECT_FILES]
    if unknown:
        raise ValueError(f"unknown GOD subjects {unknown}; known: {list(god_fmri.SUBJECT_FILES)}")
    n_voxels = {**N_VOXELS, **(n_voxels or {})}
    if sum(n_voxels.values()) == 0:
        raise ValueError("n_voxels: every ROI has 0 voxels; give at least one voxel")
    stimuli_seed, hierarchy_seed, *subject_seeds = np.random.SeedSequence(seed).spawn(
        2 + len(subjects)
    )
    images, categories = random_crops(
        n_train + n_test, image_size, np.random.default_rng(stimuli_seed)
    )
    categories = np.array(categories)
    photos = list(PHOTOS)
    synsets = np.array([SYNSET_BASE + photos.index(name) + 1 for name in categories])
    labels = stimulus_label(synsets, np.arange(1, n_train + n_test + 1))
    _write_images(stimulus_dir, images, labels, n_train)
    levels = feature_levels(images, int(hierarchy_seed.generate_state(1)[0]))
    Path(h5_dir).mkdir(parents=True, exist_ok=True)
    paths = []
    for subject, subject_seed in zip(subjects, subject_seeds, strict=True):
        rng = np.random.default_rng(subject_seed)
        signal, members, coordinates = _voxels(n_voxels, levels, categories, rng)
        datatype, run, stimulus = _presentations(n_train, n_test, n_repetitions, rng)
        samples = np.column_stack([datatype, run, labels[stimulus]])
        values = signal[stimulus] + noise * rng.normal(size=(len(samples), signal.shape[1]))
        dataset, metadata = god_fmri.bdata_layout(values, samples, members, coordinates)
        attrs = _file_attrs(subject, n_voxels, noise, seed, n_train, n_test, n_repetitions)
        path = Path(h5_dir) / f"{subject}.h5"
        with atomic_path(path) as temp:
            bdata.write_bdata(
                temp,
                dataset,
                metadata,
                descriptions={key: f"SIMULATED ({GENERATOR}): 1 = {key}" for key in metadata},
                attrs=stamped(attrs, provenance),
            )
        paths.append(path)
    return paths


def _voxels(n_voxels: Mapping[str, int], levels, categories, rng):
    """Signals (stimulus, voxel), ROI members (unions included) and voxel coordinates."""
    signals, members, coordinates = [], {}, {"voxel_x": [], "voxel_y": [], "voxel_z": []}
    start = 0
    for k, roi in enumerate(ROI_MODELS):
        n = n_voxels[roi]
        signal, fields = roi_signal(roi, n, levels, categories, rng)
        signals.append(signal)
        members[roi] = list(range(start, start + n))
        coordinates["voxel_x"].append(100 * fields["rf_x"])
        coordinates["voxel_y"].append(100 * fields["rf_y"])
        coordinates["voxel_z"].append(np.full(n, 10.0 * k))
        start += n
    for union, parts in UNIONS.items():
        members[union] = sorted(v for part in parts for v in members[part])
    coordinates = {name: np.concatenate(values) for name, values in coordinates.items()}
    return np.concatenate(signals, axis=1), members, coordinates


def _presentations(n_train: int, n_test: int, n_repetitions: int, rng):
    """DataType, Run and stimulus index of each sample: the training images once in a seeded
    order, ``RUN_LENGTH`` per run, then one run per repetition of the test images in seeded
    orders."""
    train_runs = 1 + np.arange(n_train) // RUN_LENGTH
    test_runs = train_runs[-1] + 1 + np.repeat(np.arange(n_repetitions), n_test)
    datatype = np.repeat([1.0, 2.0], [n_train, n_test * n_repetitions])
    run = np.concatenate([train_runs, test_runs]).astype(float)
    stimulus = np.concatenate(
        [rng.permutation(n_train)]
        + [n_train + rng.permutation(n_test) for _ in range(n_repetitions)]
    )
    return datatype, run, stimulus


def _write_images(stimulus_dir, images: np.ndarray, labels: np.ndarray, n_train: int) -> None:
    for k, (image, label) in enumerate(zip(images, labels, strict=True)):
        folder = Path(stimulus_dir) / ("training" if k < n_train else "test")
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(image).save(folder / f"{god_fmri.image_name(label)}.JPEG", quality=90)


def _file_attrs(subject, n_voxels, noise, seed, n_train, n_test, n_repetitions) -> dict:
    voxels = ", ".join(f"{roi} {n}" for roi, n in n_voxels.items())
    return {
        "simulated": 1,
        "generator": GENERATOR,
        "subject": subject,
        "seed": seed,
        "description": (
            f"SIMULATED fMRI of virtual subject {subject} in the GOD BData layout; not recorded "
            f"data. {n_train} training images shown once, {n_test} test images shown "
            f"{n_repetitions} times; voxels per ROI: {voxels}; signal (SD 1) from a fixed "
            "feature hierarchy (early ROIs: Gabor energy through small receptive fields; late "
            f"ROIs: pooled nonlinear features and the photograph through large fields) plus "
            f"Gaussian noise of SD {noise:g}; see {GENERATOR}"
        ),
        "stimulus_images": (
            "SIMULATED stimuli: seeded crops of the scikit-image photographs "
            f"(neuralign.datasets.simulated.demo.PHOTOS); FAKE synsets n{SYNSET_BASE + 1:08d}... "
            f"(one per "
            "photograph), not ImageNet"
        ),
        "neuralign_version": neuralign.__version__,
    }
