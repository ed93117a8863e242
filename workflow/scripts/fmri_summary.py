"""Tables of the fMRI experiment: median r per ROI x layer x model, paired model comparison."""

from neuralign.fmri import layers_won, load_fits, summarize
from neuralign.logs import log_to


def main(fit_paths: list[str], summary_path: str, comparison_path: str, models, log) -> None:
    summary, comparison = summarize(load_fits(fit_paths), list(models))
    summary.to_csv(summary_path, index=False)
    comparison.to_csv(comparison_path, index=False)
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
        )
