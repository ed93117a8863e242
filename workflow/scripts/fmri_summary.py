"""Tables of the fMRI experiment: median r per ROI x layer x model, paired model comparison."""

from neuralign.analyses.fmri import layers_won, load_fits, summarize
from neuralign.io.artifacts import write_csv
from neuralign.io.logs import log_to
from neuralign.io.provenance import job_provenance


def main(
    fit_paths: list[str], summary_path: str, comparison_path: str, models, log, provenance: dict
) -> None:
    summary, comparison = summarize(load_fits(fit_paths), list(models))
    write_csv(summary, summary_path, provenance)
    write_csv(comparison, comparison_path, provenance)
    for direction in ("decoding", "encoding"):
        log.info(
            "%s, over subjects: layer positions where model a is better\n%s",
            direction,
            layers_won(comparison, direction).to_string(index=False),
        )


if __name__ == "__main__":
    with log_to(snakemake.log[0]) as log:
        main(
            list(snakemake.input.fits),
            snakemake.output.summary,
            snakemake.output.comparison,
            snakemake.params.models,
            log,
            job_provenance(snakemake, dataset="god_fmri"),
        )
