"""Reporting: score tables, the alignment-metric panel tables and the figures."""

__all__ = ["figures", "jobs", "metric_panel", "scores"]
