"""The fMRI experiment: linear maps between GOD ROIs and sampled units of model layers.

``encoding``: decoding and encoding fits of one subject and one model (``fit_subject``);
``statistics``: bootstrap correlations, paired comparisons; ``summary``: the tables over
subjects and models; ``reading``: the experiment's artifacts; ``jobs``: the workflow jobs. The
experiment's config checks are ``neuralign.config``'s, its workflow targets
workflow/rules/fmri_common.smk's."""

__all__ = ["encoding", "jobs", "reading", "statistics", "summary"]
