"""Vision models: loading by source, layer names, the model table, metadata (the top-1 tables) and
preprocessing; ``sources`` reads weights from each published format."""

__all__ = ["layers", "loading", "metadata", "preprocessing", "sources"]
