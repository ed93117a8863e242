"""Table: Spearman correlation of ImageNet top-1 with predictivity below and above 70%, and
within each trained family."""

from neuralign.io.jobs import run
from neuralign.reporting.figures import accuracy_correlations
from neuralign.reporting.jobs import write_trends

run(
    snakemake,
    write_trends,
    trends=accuracy_correlations,
    scores_path=snakemake.input.scores,
    out_path=snakemake.output.table,
    n_bootstrap=snakemake.params.n_bootstrap,
    seed=snakemake.params.seed,
)
