"""The offline harmonizer demo: the synthetic shortcut task trained at λ > 0 and at λ = 0."""

from neuralign.analyses.harmonizer.demo import DEMO_IDS
from neuralign.analyses.harmonizer.jobs import write_demo
from neuralign.io.jobs import run

run(snakemake, write_demo, ids=DEMO_IDS, figure_paths=[snakemake.output.png, snakemake.output.pdf])
