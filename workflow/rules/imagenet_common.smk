"""Config, checks and input functions of the ImageNet accuracy stage (rules in imagenet.smk)."""

import sys

from neuralign.imagenet_eval import check_imagenet_config, models_to_evaluate

IMAGENET = config["imagenet"]
IMAGENET_OPTIONS = {
    key: IMAGENET[key]
    for key in ("device", "batch_size", "max_images", "seed", "workers")
}
# selected models without a top-1 in the model table: the scores take their measured one
MEASURED_TOP1 = check_imagenet_config(
    IMAGENET, MODEL_TABLE, MODELS, config["model_table"]
)
IMAGENET_MODELS, _skipped = models_to_evaluate(
    IMAGENET, MODEL_TABLE, MODELS, MEASURED_TOP1
)
if _skipped and IMAGENET["val_dir"] is not None:
    print(
        _skipped, file=sys.stderr
    )  # Snakemake does not show logger messages of parse time


def imagenet_val_dir(wildcards):
    """The configured validation folder (a job of this stage needs one)."""
    if IMAGENET["val_dir"] is None:
        raise WorkflowError(
            f"results/imagenet/{wildcards.model}.csv needs config 'imagenet.val_dir': an "
            "ImageNet validation folder sorted into <wnid>/ subfolders"
        )
    return IMAGENET["val_dir"]


def measured_top1_files(wildcards=None):
    """Accuracy tables of the models whose top-1 the scores take from a measurement."""
    return expand("results/imagenet/{model}.csv", model=MEASURED_TOP1)


def imagenet_targets():
    """Outputs of this stage that `rule all` builds (none without 'imagenet.val_dir' or
    without a model to evaluate)."""
    if IMAGENET["val_dir"] is None or not IMAGENET_MODELS:
        return []
    return ["results/tables/imagenet_accuracy.csv"]
