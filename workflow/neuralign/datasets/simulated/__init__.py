"""Simulated datasets: the demo's virtual neurons, the simulated fMRI subjects and the synthetic
shortcut task. Every artifact they make is flagged SIMULATED."""

__all__ = ["demo", "fmri", "synthetic_shortcut"]
