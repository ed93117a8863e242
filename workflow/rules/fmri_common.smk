"""Config, checks, downloads and input functions of the fMRI experiment (rules: fmri.smk)."""

from neuralign.config import check_fmri
from neuralign.datasets.god_fmri import SUBJECT_FILES

FMRI = config["fmri"]
_SUBJECTS = {subject.lower(): subject for subject in FMRI["subjects"]}
# SIMULATED subjects (offline demo): rule god_fmri_simulated makes the files the real route reads
FMRI_SIMULATED = bool(_SUBJECTS) and FMRI["simulated"]["enabled"]
_UNBUILT = [
    subject
    for key, subject in _SUBJECTS.items()
    if not Path(f"results/datasets/god_fmri_{key}.nc").exists()
]
# the stimulus images are gated (on request from the authors): without them the experiment is
# left out, and its subjects' fMRI files (gigabytes) are not downloaded
FMRI_LEFT_OUT = (
    gated.god_stimuli(FMRI["stimulus_dir"]) if _UNBUILT and not FMRI_SIMULATED else None
)
if FMRI_LEFT_OUT:
    leave_out(FMRI_LEFT_OUT)
FMRI_SUBJECTS = {} if FMRI_LEFT_OUT else _SUBJECTS
FMRI_MODELS = FMRI["models"] if FMRI_SUBJECTS else {}
FMRI_TARGETS = (
    "results/fmri/summary.csv",
    "results/fmri/comparison.csv",
    "results/figures/fmri/roi_layer.png",
    "results/figures/fmri/roi_layer.pdf",
    "results/figures/fmri/roi_layer_encoding.png",
    "results/figures/fmri/roi_layer_encoding.pdf",
)


def fmri_targets():
    """The outputs that `rule all` builds (none without subjects, or when the experiment is
    left out)."""
    return list(FMRI_TARGETS) if FMRI_SUBJECTS else []


if FMRI_SUBJECTS:
    check_fmri(FMRI, _UNBUILT)
    for _source in FMRI_MODELS.values():
        REMOTE_FILES.update(weights_download(_source))
        NEEDED_DOWNLOADS.update(weights_download(_source))
if FMRI_SUBJECTS and not FMRI_SIMULATED:
    # the subjects' files from figshare, verified by the md5 figshare lists (rule download)
    _GOD_FILES = {
        f"{FMRI['h5_dir']}/{subject}.h5": SUBJECT_FILES[subject]
        for subject in FMRI_SUBJECTS.values()
    }
    REMOTE_FILES.update(_GOD_FILES)
    NEEDED_DOWNLOADS.update(_GOD_FILES)


def fmri_model_weights(wildcards):
    """The weights file an fMRI model reads (downloaded hub weights), if any."""
    return weights_file(FMRI_MODELS[wildcards.model]) or []
