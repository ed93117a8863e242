"""Logging for workflow scripts: everything a job says goes to its Snakemake log file."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stderr


@contextmanager
def log_to(path: str) -> Iterator[logging.Logger]:
    """Send logging and stderr to ``path``; a failure is logged with its traceback, then raised."""
    with open(path, "w") as handle, redirect_stderr(handle):
        logging.basicConfig(
            stream=handle,
            level=logging.INFO,
            format="%(asctime)s %(levelname)s %(message)s",
            force=True,
        )
        logger = logging.getLogger("neuralign")
        try:
            yield logger
        except Exception:
            logger.exception("job failed")
            raise
