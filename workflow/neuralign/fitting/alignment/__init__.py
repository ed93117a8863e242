"""Alignment metrics between model layers and neural responses, each with its own ceiling.

One registry (``METRICS``) names them; ``score_alignment`` scores a model's layers on a
response dataset with any selection of them (layer chosen on training stimuli, bootstrap CIs
over held-out stimuli) and ``alignment_ceilings`` estimates their ceilings once per dataset::

    spec = AlignmentSpec(n_splits=10, n_bootstrap=1000)
    ceilings = alignment_ceilings(responses, strata, ["cka", "procrustes"], spec)
    fit = score_alignment(features, responses, strata, ["cka", "procrustes"], spec, ceilings)
"""

from neuralign.fitting.alignment.base import AlignmentSpec, Layer, Neural, Scored, Split
from neuralign.fitting.alignment.kernels import cka, hsic
from neuralign.fitting.alignment.procrustes import angular_distance
from neuralign.fitting.alignment.registry import METRICS, Metric
from neuralign.fitting.alignment.scoring import alignment_ceilings, score_alignment
from neuralign.fitting.alignment.soft_matching import uniform_transport

__all__ = [
    "METRICS",
    "AlignmentSpec",
    "Layer",
    "Metric",
    "Neural",
    "Scored",
    "Split",
    "alignment_ceilings",
    "angular_distance",
    "base",
    "cka",
    "hsic",
    "jobs",
    "kernels",
    "predictivity",
    "procrustes",
    "registry",
    "reverse",
    "score_alignment",
    "scoring",
    "similarity",
    "soft_matching",
    "uniform_transport",
]
