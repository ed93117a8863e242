"""Fitting model features to neural data: ridge, PLS, RSA, cross-validated neural scoring,
ceilings, metrics and the alignment-metric registry."""

__all__ = ["alignment", "ceilings", "decoding", "metrics", "pls", "ridge", "rsa", "scoring"]
