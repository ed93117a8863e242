"""Vision models: the model table and its sources (``table``, checked against ``catalog``),
loading by source, layer names, metadata (the top-1 tables) and preprocessing; ``sources``
reads weights from each published format."""

__all__ = ["catalog", "layers", "loading", "metadata", "preprocessing", "sources", "table"]
