"""Measured ImageNet top-1 of every selected model beside the model table's number."""

from neuralign.analyses.imagenet_jobs import write_accuracy_table
from neuralign.io.jobs import run

run(snakemake, write_accuracy_table, ids={"dataset": "imagenet_val"})
