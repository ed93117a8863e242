"""Config and input functions of the ImageNet accuracy stage (rules in imagenet.smk)."""

from neuralign import gated
from neuralign.analyses.imagenet import models_to_evaluate, models_without_top1

IMAGENET = config["imagenet"]
IMAGENET_OPTIONS = {
    key: IMAGENET[key]
    for key in ("device", "batch_size", "max_images", "seed", "workers")
}
# selected models without a top-1 in the model table: the scores take their measured one
WITHOUT_TOP1 = models_without_top1(MODEL_TABLE, MODELS)
# `evaluate: all` skips backbone-only models (no ImageNet head), saying so
_WANTED, _SKIPPED = models_to_evaluate(IMAGENET, MODEL_TABLE, MODELS, WITHOUT_TOP1)
# the validation images are gated (a registration): without them the stage is left out and the
# models without a published top-1 are scored with an empty one that says why
IMAGENET_LEFT_OUT = (
    gated.imagenet_val(IMAGENET["val_dir"], _WANTED) if _WANTED else None
)
if IMAGENET_LEFT_OUT:
    leave_out(IMAGENET_LEFT_OUT)
elif _SKIPPED and workflow.is_main_process:
    print(
        _SKIPPED, file=sys.stderr
    )  # Snakemake does not show logger messages of parse time
MEASURED_TOP1 = [] if IMAGENET_LEFT_OUT else WITHOUT_TOP1
IMAGENET_MODELS = [] if IMAGENET_LEFT_OUT else _WANTED
TOP1_UNAVAILABLE = (
    "not available: no ImageNet validation images (config 'imagenet.val_dir')"
    if IMAGENET_LEFT_OUT
    else None
)


def measured_top1_files(wildcards=None):
    """Accuracy tables of the models whose top-1 the scores take from a measurement."""
    return expand("results/imagenet/{model}.csv", model=MEASURED_TOP1)


def imagenet_targets():
    """Outputs of this stage that `rule all` builds (none when it is left out or has no model
    to evaluate)."""
    return ["results/tables/imagenet_accuracy.csv"] if IMAGENET_MODELS else []
