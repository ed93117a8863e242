"""Kriegeskorte et al. (2008): 92 object images, monkey and human IT RDMs (an RDM-only dataset).

Files come from ``rsagroup/rsatoolbox`` at a pinned commit (``demos/92imageData/``):

- ``Kriegeskorte_Neuron2008_supplementalData.mat``: ``stimuli_92objs`` (92 structs: ``image``
  175×175×3 uint8, ``category`` string, flags ``human``/``face``/``animal``/``natural``),
  ``RDMs_mIT_hIT_fig1`` (the Figure 1 RDMs as condensed 4186-vectors: ``mIT_674neurons``, monkey
  IT from Kiani et al. 2007, and ``hITvisStim_316vx``, human IT fMRI), ``categoryVectors``
  (92×12 0/1) and ``categoryLabels`` (12 overlapping labels: animate, inanim, human, …);
- ``92_brainRDMs.mat``: ``RDMs`` (4 subjects × 2 sessions), 92×92 float32 human IT RDMs named
  ``hIT | <initials> | Session: <n>``.

Subjects of the ``rdm`` variable: ``monkey_IT`` and ``human_IT`` (the Figure 1 group RDMs;
``human_IT`` equals the mean of the 8 session RDMs) and ``human_IT_<initials>`` for each human,
the mean of their two sessions. Coord ``level`` says ``group`` or ``individual``. Stimulus
``k`` (1-based, the order of the .mat files) is ``image{k:02d}``, written as a PNG; ``image_path``
values are relative to ``relative_to`` when given (the dataset file's folder), else absolute.
"""

from __future__ import annotations

import os
import re
from collections import defaultdict
from pathlib import Path

import numpy as np
import scipy.io
import xarray as xr
from PIL import Image
from scipy.spatial.distance import squareform

import neuralign
from neuralign.io.dataset import DatasetError, image_path_values
from neuralign.io.download import RemoteFile

COMMIT = "f1f83cadb7243492a1aae7460466e0f0140b20ac"
BASE_URL = f"https://raw.githubusercontent.com/rsagroup/rsatoolbox/{COMMIT}/demos/92imageData"
SUPPLEMENTAL = RemoteFile(
    f"{BASE_URL}/Kriegeskorte_Neuron2008_supplementalData.mat",
    "06f21214399a5d43dc264eed19a7f4b8daf11c8622a59eec3e106064ce5e3504",
    3603779,
)
BRAIN_RDMS = RemoteFile(
    f"{BASE_URL}/92_brainRDMs.mat",
    "1743f90a15e895798a94318649e80e1123a7e5943a1703fa1dd7c31ea5780b7c",
    224663,
)
N_STIMULI = 92
GROUP_SUBJECTS = {"mIT_674neurons": "monkey_IT", "hITvisStim_316vx": "human_IT"}
SESSION_NAME = re.compile(r"hIT \| (\w+) \| Session: (\d+)")
CITATION = (
    "Kriegeskorte N, Mur M, Ruff DA, Kiani R, Bodurka J, Esteky H, Tanaka K, Bandettini PA. "
    "Matching categorical object representations in inferior temporal cortex of man and monkey. "
    "Neuron 60(6):1126-1141 (2008), doi:10.1016/j.neuron.2008.10.043. Monkey IT data: Kiani R, "
    "Esteky H, Mirpour K, Tanaka K. Object category structure in response patterns of neuronal "
    "population in monkey inferior temporal cortex. J Neurophysiol 97(6):4296-4309 (2007)"
)


def convert_kriegeskorte(
    supplemental_mat: str | os.PathLike,
    brain_rdms_mat: str | os.PathLike,
    image_dir: str | os.PathLike,
    *,
    relative_to: str | os.PathLike | None = None,
) -> xr.Dataset:
    """Build the RDM-only dataset, writing the 92 images as PNG files into ``image_dir``.

    Both inputs must be the published files (checked by sha256; DownloadError otherwise).
    """
    supplemental_mat, brain_rdms_mat = Path(supplemental_mat), Path(brain_rdms_mat)
    supplemental = _loadmat(supplemental_mat, SUPPLEMENTAL)
    stimuli = _field(supplemental, "stimuli_92objs", supplemental_mat)
    if len(stimuli) != N_STIMULI:
        raise DatasetError(f"{supplemental_mat}: 'stimuli_92objs' has {len(stimuli)} entries")
    names, rdms = _group_rdms(
        _field(supplemental, "RDMs_mIT_hIT_fig1", supplemental_mat), supplemental_mat
    )
    individual_names, individual_rdms = _individual_rdms(
        _field(_loadmat(brain_rdms_mat, BRAIN_RDMS), "RDMs", brain_rdms_mat), brain_rdms_mat
    )
    image_paths = _write_images(stimuli, Path(image_dir), relative_to, supplemental_mat)
    subjects = [*names, *individual_names]
    return xr.Dataset(
        {"rdm": (("subject", "stimulus", "stimulus_other"), np.stack(rdms + individual_rdms))},
        coords={
            "subject": subjects,
            "level": ("subject", ["group"] * len(names) + ["individual"] * len(individual_names)),
            "species": ("subject", [name.split("_")[0] for name in subjects]),
            "stimulus_id": ("stimulus", [f"image{k:02d}" for k in range(1, N_STIMULI + 1)]),
            "image_path": ("stimulus", image_paths),
            "category": ("stimulus", [str(s["category"]) for s in stimuli]),
            "category_label": _labels(supplemental, supplemental_mat),
            "category_member": (
                ("stimulus", "category_label"),
                _field(supplemental, "categoryVectors", supplemental_mat).astype(bool),
            ),
        },
        attrs={
            "dataset": "kriegeskorte2008_92",
            "citation": CITATION,
            "license": "MIT (rsagroup/rsatoolbox, which distributes these files)",
            "description": (
                "RDMs of 92 object images. monkey_IT: Kiani et al. 2007, 674 neurons; human_IT: "
                "fMRI group RDM, 316 voxels (the mean of the 8 session RDMs); human_IT_<initials>: "
                "one subject, mean of their 2 sessions. Stimuli in the order of the .mat files."
            ),
            "rdm_measure": "1 - Pearson correlation between response patterns",
            "source_supplemental_url": SUPPLEMENTAL.url,
            "source_supplemental_sha256": SUPPLEMENTAL.sha256,
            "source_brain_rdms_url": BRAIN_RDMS.url,
            "source_brain_rdms_sha256": BRAIN_RDMS.sha256,
            "neuralign_version": neuralign.__version__,
        },
    )


def _loadmat(path: Path, published: RemoteFile) -> dict:
    """Load a published .mat file (checked by sha256) with MATLAB structs squeezed."""
    published.verify(path)
    return scipy.io.loadmat(path, squeeze_me=True)


def _field(mat: dict, key: str, path: Path):
    if key not in mat:
        raise DatasetError(f"{path}: has no variable {key!r}")
    return mat[key]


def _square(rdm: np.ndarray, what: str, path: Path) -> np.ndarray:
    """A 92×92 float64 RDM from a square or condensed array."""
    rdm = np.asarray(rdm, dtype=np.float64)
    if rdm.shape == (N_STIMULI * (N_STIMULI - 1) // 2,):
        rdm = squareform(rdm)
    if rdm.shape != (N_STIMULI, N_STIMULI):
        raise DatasetError(f"{path}: RDM {what!r} has shape {rdm.shape}, expected 92×92")
    return rdm


def _group_rdms(entries: np.ndarray, path: Path) -> tuple[list[str], list[np.ndarray]]:
    """Subject names and RDMs of the Figure 1 group RDMs (monkey IT, human IT)."""
    found = {str(entry["name"]): entry["RDM"] for entry in entries}
    if found.keys() != GROUP_SUBJECTS.keys():
        raise DatasetError(
            f"{path}: 'RDMs_mIT_hIT_fig1' holds {sorted(found)}, expected {sorted(GROUP_SUBJECTS)}"
        )
    names = list(GROUP_SUBJECTS.values())
    return names, [_square(found[key], key, path) for key in GROUP_SUBJECTS]


def _individual_rdms(entries: np.ndarray, path: Path) -> tuple[list[str], list[np.ndarray]]:
    """``human_IT_<initials>`` names and session-averaged RDMs, subjects in file order."""
    sessions: dict[str, list[np.ndarray]] = defaultdict(list)
    for entry in entries.ravel():
        name = str(entry["name"])
        match = SESSION_NAME.fullmatch(name)
        if match is None:
            raise DatasetError(f"{path}: unexpected RDM name {name!r} in 'RDMs'")
        sessions[match.group(1)].append(_square(entry["RDM"], name, path))
    names = [f"human_IT_{initials}" for initials in sessions]
    return names, [np.mean(rdms, axis=0) for rdms in sessions.values()]


def _labels(mat: dict, path: Path) -> list[str]:
    labels = [str(label) for label in _field(mat, "categoryLabels", path)]
    if len(labels) != _field(mat, "categoryVectors", path).shape[1]:
        raise DatasetError(f"{path}: 'categoryLabels' and 'categoryVectors' disagree in length")
    return labels


def _write_images(
    stimuli: np.ndarray, image_dir: Path, relative_to: str | os.PathLike | None, path: Path
) -> list[str]:
    """Write each stimulus image as ``image{k:02d}.png``; return the ``image_path`` values."""
    image_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for k, stimulus in enumerate(stimuli, start=1):
        image = np.asarray(stimulus["image"])
        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
            raise DatasetError(f"{path}: image {k} is {image.dtype} {image.shape}, not RGB uint8")
        target = image_dir / f"image{k:02d}.png"
        Image.fromarray(image).save(target)
        paths.append(target)
    return image_path_values(paths, relative_to)
