"""Figure: ImageNet top-1 against map predictivity, one panel per array."""

from neuralign.io.jobs import run
from neuralign.reporting.figures import map_predictivity_vs_accuracy
from neuralign.reporting.jobs import write_figure

run(snakemake, write_figure, plot=map_predictivity_vs_accuracy)
