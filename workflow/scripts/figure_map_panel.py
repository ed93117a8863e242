"""Figure: images, an IT map and the held-out maps predicted by a low- and a high-accuracy
model."""

from neuralign.io.jobs import run
from neuralign.reporting.jobs import write_map_panel

run(snakemake, write_map_panel)
