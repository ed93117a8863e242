"""Tables of the fMRI experiment: median r per ROI x layer x model, paired model comparison."""

from neuralign.analyses.fmri.jobs import write_summary
from neuralign.io.jobs import run

run(
    snakemake,
    write_summary,
    ids={"dataset": "god_fmri"},
    fit_paths=list(snakemake.input.fits),
    summary_path=snakemake.output.summary,
    comparison_path=snakemake.output.comparison,
    models=snakemake.params.models,
)
