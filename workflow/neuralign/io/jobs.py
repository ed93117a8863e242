"""How every workflow script runs: one library job function, given its log, threads and inputs.

A script is ``run(snakemake, job_function)``. ``run`` opens the job's log, sets torch's threads
to the rule's ``threads`` when the job uses torch, and passes a :class:`Job` to the function,
which reads the inputs, calls the library and writes the outputs.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from neuralign.io.logs import log_to
from neuralign.io.provenance import job_provenance


@dataclass(frozen=True)
class Job:
    """One Snakemake job as a library function sees it."""

    snakemake: Any
    log: logging.Logger

    @property
    def input(self):
        return self.snakemake.input

    @property
    def output(self):
        return self.snakemake.output

    @property
    def params(self):
        return self.snakemake.params

    @property
    def wildcards(self):
        return self.snakemake.wildcards

    @property
    def threads(self) -> int:
        return self.snakemake.threads

    def provenance(self, *, simulated: bool = False, **ids) -> dict:
        """The provenance of this job's outputs (see :func:`job_provenance`)."""
        return job_provenance(self.snakemake, simulated=simulated, **ids)


def run(snakemake, function: Callable[[Job], None]) -> None:
    """Run ``function`` as the job ``snakemake``, logging to its log file."""
    with log_to(snakemake.log[0]) as log:
        torch = sys.modules.get("torch")
        if torch is not None:
            torch.set_num_threads(snakemake.threads)
        function(Job(snakemake, log))
