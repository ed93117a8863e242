"""The fMRI experiment: linear maps between GOD ROIs and sampled units of model layers.

``encoding``: decoding and encoding fits of one subject and one model (``fit_subject``);
``statistics``: bootstrap correlations, paired comparisons; ``summary``: the tables over
subjects and models; ``reading``: the experiment's artifacts; ``jobs``: the workflow jobs. The
experiment's config checks are ``neuralign.config``'s, its workflow targets
workflow/rules/fmri_common.smk's."""

from neuralign.analyses.fmri.encoding import TARGET_CHUNK, fit_subject, zscore
from neuralign.analyses.fmri.reading import god_stimuli, load_fits, read_units
from neuralign.analyses.fmri.statistics import (
    bootstrap_counts,
    bootstrap_p,
    bootstrap_pearson,
    compare,
    finite_median,
    over_subjects,
)
from neuralign.analyses.fmri.summary import DIRECTIONS, layers_won, summarize

__all__ = [
    "DIRECTIONS",
    "TARGET_CHUNK",
    "bootstrap_counts",
    "bootstrap_p",
    "bootstrap_pearson",
    "compare",
    "encoding",
    "finite_median",
    "fit_subject",
    "god_stimuli",
    "jobs",
    "layers_won",
    "load_fits",
    "over_subjects",
    "read_units",
    "reading",
    "statistics",
    "summarize",
    "summary",
    "zscore",
]
