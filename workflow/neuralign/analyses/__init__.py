"""Analyses built on fitting: spatial maps and attribution, fMRI, ImageNet accuracy, the neural
harmonizer."""

__all__ = ["attribution", "fmri", "harmonizer", "imagenet", "imagenet_jobs", "maps"]
