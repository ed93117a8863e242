"""How every workflow script runs: one library function, called with keyword arguments.

A script reads what it needs from ``snakemake`` and hands it over in one call,
``run(snakemake, function, name=value, ...)``. ``run`` opens the job's log, sets torch's threads
to the rule's ``threads`` when the job uses torch, and calls ``function(name=value, ..., log=...,
provenance=...)`` with the job's logger and the provenance of its outputs.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from neuralign.io.logs import log_to
from neuralign.io.provenance import job_provenance


def run(snakemake, function: Callable[..., None], /, *, ids: dict | None = None, **arguments):
    """Run ``function(**arguments)`` as the job ``snakemake``; ``ids`` go to
    :func:`job_provenance` (``simulated=True`` or ids replacing the wildcards)."""
    with log_to(snakemake.log[0]) as log:
        torch = sys.modules.get("torch")
        if torch is not None:
            torch.set_num_threads(snakemake.threads)
        provenance = job_provenance(snakemake, **(ids or {}))
        function(**arguments, log=log, provenance=provenance)
