"""Figure: ImageNet top-1 against every alignment metric, one panel per metric."""

from neuralign.io.jobs import run
from neuralign.reporting.jobs import write_figure
from neuralign.reporting.metric_panel import panel_figure

run(snakemake, write_figure, plot=panel_figure)
