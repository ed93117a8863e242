"""Human alignment of one model on the ClickMe validation maps (Spearman / human ceiling)."""

from neuralign.analyses.harmonizer.jobs import write_human_alignment
from neuralign.io.jobs import run

run(snakemake, write_human_alignment, ids={"dataset": "clickme_val"})
