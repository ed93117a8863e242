"""The reporting stage's workflow jobs: each reads its inputs, builds a table or figure, writes."""

from __future__ import annotations

from neuralign.io.artifacts import write_csv
from neuralign.io.jobs import Job
from neuralign.reporting.scores import scores_table


def scores(job: Job) -> None:
    """Collect the fits of every model on one dataset into the scores table."""
    table = scores_table(
        list(job.input.fits),
        job.params.models,
        job.wildcards.dataset,
        list(job.input.alignment),
        list(job.input.imagenet),
        job.params.top1_unavailable,
    )
    write_csv(table, job.output.scores, job.provenance())
    job.log.info("wrote %s with %d models", job.output.scores, len(table))
