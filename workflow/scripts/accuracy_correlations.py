"""Table: Spearman correlation of ImageNet top-1 with predictivity below and above 70%, and
within each trained family."""

from neuralign.io.jobs import run
from neuralign.reporting.figures import accuracy_correlations
from neuralign.reporting.jobs import write_trends

run(snakemake, write_trends, trends=accuracy_correlations)
