"""Activations: extraction through forward hooks with reductions, and the cached extraction step."""

__all__ = ["cached", "extraction", "jobs", "reading"]
