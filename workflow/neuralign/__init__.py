"""neuralign: score vision models as models of primate visual cortex."""

__version__ = "0.1.0"
