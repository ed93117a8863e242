"""Table: Kendall's τ between the model rankings of every two alignment metrics."""

from neuralign.io.jobs import run
from neuralign.reporting.jobs import write_metric_agreement

run(snakemake, write_metric_agreement)
