"""Noise ceiling of every neuroid of a dataset: split-half over repetitions, given with the
dataset, or not available (responses published as repeat averages)."""

from neuralign.fitting.jobs import write_ceiling
from neuralign.io.jobs import run

run(
    snakemake,
    write_ceiling,
    dataset_path=snakemake.input.dataset,
    ceiling_path=snakemake.output.ceiling,
    n_splits=snakemake.params.n_splits,
    seed=snakemake.params.seed,
    n_bootstrap=snakemake.params.n_bootstrap,
)
