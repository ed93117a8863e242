"""Analyses built on fitting: spatial maps and their attribution (``maps``), fMRI, ImageNet
accuracy, the neural harmonizer."""

__all__ = ["fmri", "harmonizer", "imagenet", "imagenet_jobs", "maps"]
