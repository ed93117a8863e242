"""Convert one monkey of the published Arcaro 2020 archive (downloaded, or the user's copy)."""

from neuralign.datasets.jobs import write_arcaro
from neuralign.io.jobs import run

run(snakemake, write_arcaro)
