"""ImageNet-1k validation top-1 / top-5 of one model on an ImageNet-style folder."""

from neuralign.analyses.imagenet_jobs import write_accuracy
from neuralign.io.jobs import run

run(snakemake, write_accuracy, ids={"dataset": "imagenet_val"})
