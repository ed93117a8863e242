"""Fitting model features to neural data: ridge, PLS, the mapping registry, RSA,
cross-validated neural scoring, ceilings, metrics and the alignment-metric registry."""

__all__ = [
    "alignment",
    "ceilings",
    "chosen",
    "jobs",
    "mappings",
    "metrics",
    "pls",
    "ridge",
    "rsa",
    "scoring",
]
