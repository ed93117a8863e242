"""Gated inputs: data behind a request form or a registration, which no workflow can download.

When one is missing, the stage that needs it is left out instead of stopping the run: the
workflow prints one line at start-up (``LeftOut.line``) and its report gets a "left out" table
(``left_out_table``, written by rule ``left_out``) saying what is missing and how to get it.
Everything public is downloaded, so only these two inputs can leave a stage out:

- the Generic Object Decoding stimulus images (Horikawa & Kamitani 2017), shared by the
  authors on request: without them the fMRI experiment is left out, and its subjects' fMRI
  files (gigabytes) are not downloaded;
- the ImageNet-1k validation images (ILSVRC2012, behind a registration at image-net.org):
  without them the ImageNet accuracy stage is left out, and models without a published top-1
  are scored with an empty top-1 whose ``imagenet_top1_source`` says why.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd

from neuralign.datasets.god_fmri import IMAGE_REQUEST, REPOSITORY
from neuralign.io.artifacts import write_csv

IMAGE_SUFFIXES = {".jpeg", ".jpg", ".png"}
IMAGENET_REGISTRATION = "https://image-net.org/download-images.php"
IMAGENET_SORTING = (
    "https://github.com/pytorch/examples/blob/0cb38ebb1b6e50426464b3485435c0c6affc2b65/"
    "imagenet/extract_ILSVRC.sh"
)
COLUMNS = ("stage", "missing", "how_to_get_it")


@dataclass(frozen=True)
class LeftOut:
    """A stage left out, what is missing and how to get it."""

    stage: str
    missing: str
    how_to_get_it: str

    def line(self) -> str:
        """The one line printed at start-up."""
        return f"neuralign: left out {self.stage}: {self.missing}; {self.how_to_get_it}"


def has_images(folder: str | os.PathLike | None) -> bool:
    """Whether ``folder`` exists and holds at least one image file (at any depth)."""
    if not folder or not Path(folder).is_dir():
        return False
    return any(
        path.suffix.lower() in IMAGE_SUFFIXES for path in Path(folder).rglob("*") if path.is_file()
    )


def god_stimuli(stimulus_dir: str | None) -> LeftOut | None:
    """The fMRI experiment is left out unless ``fmri.stimulus_dir`` holds images."""
    if has_images(stimulus_dir):
        return None
    where = f"{stimulus_dir} holds no images" if stimulus_dir else "it is not set"
    return LeftOut(
        stage="the fMRI experiment (Generic Object Decoding)",
        missing=f"the GOD stimulus images (config 'fmri.stimulus_dir': {where})",
        how_to_get_it=(
            f"the authors share them on request ({IMAGE_REQUEST}; see {REPOSITORY}); put "
            "them in that folder and rerun: the subjects' fMRI files are then downloaded from "
            "figshare"
        ),
    )


def imagenet_val(val_dir: str | None, models: Sequence[str]) -> LeftOut | None:
    """The ImageNet accuracy of ``models`` is left out unless ``imagenet.val_dir`` is a folder."""
    if val_dir and Path(val_dir).is_dir():
        return None
    where = f"{val_dir} is not a folder" if val_dir else "it is not set"
    return LeftOut(
        stage=f"the measured ImageNet top-1 of {', '.join(models)}",
        missing=f"the ImageNet validation images (config 'imagenet.val_dir': {where})",
        how_to_get_it=(
            f"register at {IMAGENET_REGISTRATION}, download ILSVRC2012_img_val.tar and sort it "
            f"into one folder per class, <val_dir>/<wnid>/<image> (e.g. {IMAGENET_SORTING}); "
            "until then these models are scored with an empty imagenet_top1"
        ),
    )


def left_out_table(stages: Sequence[LeftOut | dict]) -> pd.DataFrame:
    """The report's "left out" table: one row per stage left out."""
    rows = [asdict(stage) if isinstance(stage, LeftOut) else dict(stage) for stage in stages]
    return pd.DataFrame(rows, columns=list(COLUMNS))


def write_left_out(
    *, stages: Sequence[LeftOut | dict], out_path: str, log, provenance: dict
) -> None:
    """Write the report's "left out" table (the workflow job of rule ``left_out``)."""
    table = left_out_table(stages)
    write_csv(table, out_path, provenance)
    log.info("left out:\n%s", table.to_string(index=False))
