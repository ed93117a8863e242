"""Converters of published datasets to the canonical format, and the files they need
(``published``); ``simulated`` holds the demo generators."""

__all__ = [
    "arcaro2020",
    "bdata",
    "clickme",
    "clickme_samples",
    "cowley2023",
    "god_fmri",
    "jobs",
    "kriegeskorte2008",
    "majajhong2015",
    "published",
    "simulated",
    "user",
]
