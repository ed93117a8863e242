rule demo_dataset:
    output:
        dataset_path="results/datasets/{demo}.nc",
        image_dir=directory("results/datasets/{demo}/images"),
    log:
        "results/logs/datasets/{demo}.log",
    benchmark:
        "results/benchmarks/datasets/{demo}.tsv"
    wildcard_constraints:
        demo=one_of(DEMO_DATASETS),
    conda:
        "../../envs/neuralign.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        kind=lambda wildcards: DEMO_DATASETS[wildcards.demo][0],
        options=lambda wildcards: DEMO_DATASETS[wildcards.demo][1],
    script:
        "../scripts/demo_dataset.py"


rule ceiling:
    input:
        dataset_path="results/datasets/{dataset}.nc",
    output:
        ceiling_path="results/ceilings/{dataset}.nc",
    log:
        "results/logs/ceilings/{dataset}.log",
    benchmark:
        "results/benchmarks/ceilings/{dataset}.tsv"
    conda:
        "../../envs/neuralign.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        n_splits=config["fitting"]["ceiling_splits"],
        seed=config["fitting"]["ceiling_seed"],
        n_bootstrap=config["fitting"]["n_bootstrap"],
    script:
        "../scripts/ceiling.py"


rule cowley_dataset:
    input:
        image_zip=lambda wildcards: resource_path(get_session(wildcards.session).images),
        responses=lambda wildcards: resource_path(
            get_session(wildcards.session).responses
        ),
    output:
        dataset_path="results/datasets/cowley2023_v4_{session}.nc",
        image_dir=directory("results/datasets/cowley2023_v4_{session}/images"),
    log:
        "results/logs/datasets/cowley2023_v4_{session}.log",
    benchmark:
        "results/benchmarks/datasets/cowley2023_v4_{session}.tsv"
    wildcard_constraints:
        session=one_of(COWLEY_SESSIONS),
    conda:
        "../../envs/neuralign.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        raw=lambda wildcards: get_session(wildcards.session).raw is not None,
    script:
        "../scripts/cowley_dataset.py"


rule kriegeskorte_dataset:
    input:
        supplemental=resource_path(kriegeskorte2008.SUPPLEMENTAL),
        brain_rdms=resource_path(kriegeskorte2008.BRAIN_RDMS),
    output:
        dataset_path="results/datasets/kriegeskorte2008_92.nc",
        image_dir=directory("results/datasets/kriegeskorte2008_92/images"),
    log:
        "results/logs/datasets/kriegeskorte2008_92.log",
    benchmark:
        "results/benchmarks/datasets/kriegeskorte2008_92.tsv"
    conda:
        "../../envs/neuralign.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    script:
        "../scripts/kriegeskorte_dataset.py"


rule majajhong2015_dataset:
    input:
        assembly=resource_path(majajhong2015.ASSEMBLY),
        stimulus_csv=resource_path(majajhong2015.STIMULUS_CSV),
        stimulus_zip=resource_path(majajhong2015.STIMULUS_ZIP),
    output:
        dataset_path="results/datasets/majajhong2015_public_{region}.nc",
        image_dir=directory("results/datasets/majajhong2015_public_{region}/images"),
    log:
        "results/logs/datasets/majajhong2015_public_{region}.log",
    benchmark:
        "results/benchmarks/datasets/majajhong2015_public_{region}.tsv"
    wildcard_constraints:
        region="it|v4",
    conda:
        "../../envs/neuralign.yaml"
    threads: 1
    resources:
        mem_mb=8000,
    params:
        region=lambda wildcards: wildcards.region.upper(),
    script:
        "../scripts/majajhong2015_dataset.py"


rule user_dataset:
    input:
        unpack(lambda wildcards: spec_files(USER_DATASETS[wildcards.name])),
    output:
        dataset_path="results/datasets/{name}.nc",
        image_dir=directory("results/datasets/{name}/images"),
    log:
        "results/logs/datasets/{name}.log",
    benchmark:
        "results/benchmarks/datasets/{name}.tsv"
    wildcard_constraints:
        name=one_of(USER_DATASETS),
    conda:
        "../../envs/neuralign.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        spec=lambda wildcards: USER_DATASETS[wildcards.name],
    script:
        "../scripts/user_dataset.py"
