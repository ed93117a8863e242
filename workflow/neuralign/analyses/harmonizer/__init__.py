"""The neural harmonizer (Fel, Linsley et al. 2022): align a model's saliency with human maps:
the loss, training, evaluation (human alignment), training data, workflow runs, the offline demo
and its figure."""

__all__ = ["data", "demo", "evaluate", "jobs", "loss", "plots", "runs", "train"]
