"""Table: per alignment metric, Spearman of ImageNet top-1 with the score below and above 70%."""

from neuralign.io.jobs import run
from neuralign.reporting.jobs import write_trends
from neuralign.reporting.metric_panel import trend_table

run(snakemake, write_trends, trends=trend_table)
