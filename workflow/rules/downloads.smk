# Every download of the workflow, and the report's "left out" table. Included last: each stage
# has added its files to REMOTE_FILES (and NEEDED_DOWNLOADS) and its gated stages to LEFT_OUT.


rule download:
    output:
        dest="{path}",
    log:
        "results/logs/downloads/{path}.log",
    benchmark:
        "results/benchmarks/downloads/{path}.tsv"
    wildcard_constraints:
        path=one_of(REMOTE_FILES),
    # no `retries`: the download retries network errors itself, and a checksum that does not
    # match never will
    localrule: True
    conda:
        "../../envs/neuralign.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        remote=lambda wildcards: REMOTE_FILES[wildcards.path],
        lock=DOWNLOAD_LOCK,
    script:
        "../scripts/download.py"


# `snakemake --cores 4 downloads` fetches everything `rule all` will read (on a login node
# with internet access, before compute jobs that have none)
rule downloads:
    input:
        sorted(NEEDED_DOWNLOADS),
    localrule: True


rule left_out:
    output:
        out_path=report(
            "results/tables/left_out.csv",
            caption="../report/left_out.rst",
            category="Left out",
        ),
    log:
        "results/logs/tables/left_out.log",
    benchmark:
        "results/benchmarks/tables/left_out.tsv"
    localrule: True
    conda:
        "../../envs/neuralign.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        stages=[vars(stage) for stage in LEFT_OUT],
    script:
        "../scripts/left_out.py"
