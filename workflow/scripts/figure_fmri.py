"""Figure: the fMRI experiment, ROI x layer, both models (decoding and encoding)."""

from neuralign.io.jobs import run
from neuralign.reporting.jobs import write_fmri_figures

run(
    snakemake,
    write_fmri_figures,
    ids={"dataset": "god_fmri"},
    outputs={
        "decoding": (snakemake.output.png, snakemake.output.pdf),
        "encoding": (snakemake.output.encoding_png, snakemake.output.encoding_pdf),
    },
)
