"""Map predictivity: how well a layer's spatial features predict IT response maps
(``predictivity``), on the grid geometry of ``geometry``, with the ceilings and per-array
summaries of ``ceilings``, the feature-importance comparison of ``attribution``, the scores
table of ``tables`` and the workflow job of ``jobs``."""

__all__ = ["attribution", "ceilings", "geometry", "jobs", "predictivity", "tables"]
