"""``neuralign.io.jobs.run``: a job function's arguments come from its rule by name."""

import logging

import pytest
from snakemake.iocontainers import (
    InputFiles,
    Log,
    OutputFiles,
    Params,
    ResourceList,
    Snakemake,
    Wildcards,
)

from neuralign.io.jobs import JobError, job_arguments, run


def named(kind, items: dict):
    """A snakemake named list of files as a rule builds it: a list-valued name spans its files."""
    files = kind()
    for name, value in items.items():
        start = len(files)
        files.extend(value if isinstance(value, list) else [value])
        files._set_name(name, start, len(files) if isinstance(value, list) else None)
    return files


def job(tmp_path, *, inputs=None, outputs=None, params=None, wildcards=None) -> Snakemake:
    """A real ``snakemake`` object, as a rule ``demo_rule`` hands it to its script."""
    return Snakemake(
        named(InputFiles, inputs or {}),
        named(OutputFiles, outputs or {}),
        Params(fromdict=params or {}),
        Wildcards(fromdict=wildcards or {}),
        1,
        ResourceList(),
        Log(fromdict={"log": str(tmp_path / "job.log")}),
        {},
        "demo_rule",
        None,
    )


def test_each_parameter_takes_the_input_output_param_or_wildcard_of_its_name(tmp_path):
    received = {}

    def write(*, dataset_path, fit_paths, out_path, options, model, log, provenance, seed=3):
        received.update(locals())

    snakemake = job(
        tmp_path,
        inputs={"dataset_path": "d.txt", "fit_paths": ["a.txt", "b.txt"]},
        outputs={"out_path": "o.txt"},
        params={"options": {"n": 2}},
        wildcards={"model": "m1", "dataset": "demo"},
    )
    run(snakemake, write)
    assert received["dataset_path"] == "d.txt" and type(received["dataset_path"]) is str
    assert received["fit_paths"] == ["a.txt", "b.txt"] and type(received["fit_paths"]) is list
    assert (received["out_path"], received["options"], received["model"]) == (
        "o.txt",
        {"n": 2},
        "m1",
    )
    assert received["seed"] == 3  # a default the rule does not set stays
    assert isinstance(received["log"], logging.Logger)
    assert received["provenance"]["rule"] == "demo_rule"
    assert received["provenance"]["model"] == "m1"


def test_the_script_gives_the_rest_and_a_handed_on_function_gets_its_arguments(tmp_path):
    def table(fit_paths, dataset, top1=None):
        return (fit_paths, dataset, top1)

    def write(*, build, out_path, log, provenance, **arguments):
        (tmp_path / out_path).write_text(repr(build(**arguments)))

    snakemake = job(
        tmp_path,
        inputs={"fit_paths": ["f.txt"]},
        outputs={"out_path": "t.txt"},
        wildcards={"dataset": "demo"},
    )
    run(snakemake, write, build=table)
    assert (tmp_path / "t.txt").read_text() == "(['f.txt'], 'demo', None)"


def test_a_rule_that_lacks_a_name_or_names_it_twice_is_refused(tmp_path):
    def write(*, dataset_path, out_path, log, provenance):
        pass

    snakemake = job(tmp_path, inputs={"dataset_path": "d.txt"}, outputs={"dataset": "o.txt"})
    with pytest.raises(JobError, match=r"rule demo_rule: .*write needs 'out_path'"):
        job_arguments(snakemake, write, {})
    snakemake = job(tmp_path, inputs={"out_path": "d.txt"}, outputs={"out_path": "o.txt"})
    with pytest.raises(JobError, match="'out_path' is named in both input and output"):
        job_arguments(snakemake, write, {"dataset_path": "x"})
