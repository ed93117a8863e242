"""Figure: ImageNet top-1 against ceiled neural predictivity, one point per model."""

from neuralign.io.jobs import run
from neuralign.reporting.figures import accuracy_vs_predictivity
from neuralign.reporting.jobs import write_figure

run(snakemake, write_figure, plot=accuracy_vs_predictivity)
