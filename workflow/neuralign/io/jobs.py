"""How every workflow script runs: one library function, its arguments bound by name.

A script is ``run(snakemake, function)``, plus the constants that pick a variant of a shared
job (``run(snakemake, write_table, table=scores_table)``). ``run`` opens the job's log, sets
torch's threads to the rule's ``threads`` when the job uses torch, makes the process keep
freed memory for reuse (``neuralign.io.memory``), and calls ``function`` with:

- each parameter the script does not give: the rule's input, output or param of that name
  (a list of files as a list of str), else its wildcard of that name; a function that takes
  ``**arguments`` to hand on to a function the script gives (``table=scores_table``) also
  gets those of that function's parameters the job names;
- ``log``: the job's logger, and ``provenance``: the provenance of its outputs.

So a job function's parameters are named after its rule's keywords, and a rule that lacks one
fails with a message naming both.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable

from neuralign.io.logs import log_to
from neuralign.io.memory import keep_freed_memory
from neuralign.io.provenance import job_provenance

SUPPLIED = ("log", "provenance")  # given by ``run`` itself
SECTIONS = ("input", "output", "params")
VARIADIC = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)


class JobError(TypeError):
    """A rule does not give what its job function needs."""


def _plain(value):
    """A named input or output as str (a list of them as a list of str); params unchanged."""
    if isinstance(value, str):
        return str(value)
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def _bound(snakemake, function: Callable, given: dict, *, required: bool) -> dict:
    """The parameters of ``function`` that ``given`` lacks and the job names, by name."""
    arguments = {}
    for name, parameter in inspect.signature(function).parameters.items():
        if name in given or name in SUPPLIED or parameter.kind in VARIADIC:
            continue
        found = [s for s in SECTIONS if name in getattr(snakemake, s).keys()]
        if len(found) > 1:
            raise JobError(
                f"rule {snakemake.rule}: '{name}' is named in both {' and '.join(found)}"
            )
        if found:
            arguments[name] = _plain(getattr(getattr(snakemake, found[0]), name))
        elif name in snakemake.wildcards.keys():
            arguments[name] = str(getattr(snakemake.wildcards, name))
        elif required and parameter.default is inspect.Parameter.empty:
            raise JobError(
                f"rule {snakemake.rule}: {function.__module__}.{function.__name__} needs "
                f"'{name}', which the rule names in none of {', '.join(SECTIONS)} or wildcards"
            )
    return arguments


def job_arguments(snakemake, function: Callable, given: dict) -> dict:
    """The arguments of ``function`` that ``given`` lacks, taken by name from the job (and,
    where it takes ``**arguments``, those of the functions ``given`` hands it that the job
    names)."""
    arguments = _bound(snakemake, function, given, required=True)
    variadic = inspect.Parameter.VAR_KEYWORD
    if any(p.kind is variadic for p in inspect.signature(function).parameters.values()):
        for handed_on in filter(callable, given.values()):
            arguments = {**_bound(snakemake, handed_on, given, required=False), **arguments}
    return arguments


def run(snakemake, function: Callable[..., None], /, *, ids: dict | None = None, **given):
    """Run ``function`` as the job ``snakemake`` (see the module docstring); ``ids`` go to
    :func:`job_provenance` (``simulated=True`` or ids replacing the wildcards)."""
    with log_to(snakemake.log[0]) as log:
        torch = sys.modules.get("torch")
        if torch is not None:
            torch.set_num_threads(snakemake.threads)
        keep_freed_memory()
        arguments = {**job_arguments(snakemake, function, given), **given}
        provenance = job_provenance(snakemake, **(ids or {}))
        function(**arguments, log=log, provenance=provenance)
