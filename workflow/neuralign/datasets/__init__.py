"""Converters from published neural data files to the canonical dataset format."""
