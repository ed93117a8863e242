"""Vision models: loading by source, layer names, the model table and preprocessing; ``sources``
reads weights from each published format."""

__all__ = ["layers", "loading", "preprocessing", "sources"]
