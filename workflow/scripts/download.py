"""Download one published file, verified by its published checksums or by the lock file (trust
on first use); NEURALIGN_MIRROR is served first."""

from neuralign.io.jobs import run
from neuralign.io.resources import fetch_verified

run(snakemake, fetch_verified)
