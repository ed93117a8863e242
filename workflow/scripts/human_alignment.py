"""Human alignment of one model on the ClickMe validation maps (Spearman / human ceiling)."""

from neuralign.analyses.harmonizer.jobs import write_human_alignment
from neuralign.io.jobs import run

run(
    snakemake,
    write_human_alignment,
    ids={"dataset": "clickme_val"},
    model_id=snakemake.wildcards.model,
    source=snakemake.params.source,
    shards=list(snakemake.input.shards),
    options=snakemake.params.options,
    out_path=snakemake.output.alignment,
    device=snakemake.params.device,
)
