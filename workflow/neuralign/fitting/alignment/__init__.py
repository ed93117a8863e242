"""Alignment metrics between model layers and neural responses, each with its own ceiling.

One registry (``registry.METRICS``) names them; ``scoring.score_alignment`` scores a model's
layers on a response dataset with any selection of them (layer chosen on training stimuli,
bootstrap CIs over held-out stimuli) and ``scoring.alignment_ceilings`` estimates their
ceilings once per dataset (``base.AlignmentSpec`` holds the settings)::

    spec = AlignmentSpec(n_splits=10, n_bootstrap=1000)
    ceilings = alignment_ceilings(responses, strata, ["cka", "procrustes"], spec)
    fit = score_alignment(features, responses, strata, ["cka", "procrustes"], spec, ceilings)
"""

__all__ = [
    "base",
    "jobs",
    "kernels",
    "predictivity",
    "procrustes",
    "registry",
    "reverse",
    "scoring",
    "similarity",
    "soft_matching",
]
