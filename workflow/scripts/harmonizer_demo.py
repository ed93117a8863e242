"""The offline harmonizer demo: the synthetic shortcut task trained at λ > 0 and at λ = 0."""

import torch

from neuralign.analyses.harmonizer import DEMO_IDS, plot_demo, shortcut_demo
from neuralign.io.artifacts import save_figure, write_csv
from neuralign.io.logs import log_to
from neuralign.io.provenance import job_provenance


def main(
    options: dict,
    summary_path: str,
    figure_paths: list[str],
    threads: int,
    log,
    provenance: dict,
) -> None:
    torch.set_num_threads(threads)
    summary = shortcut_demo(
        lam=options["lambda"],
        n_train=options["n_train"],
        n_test=options["n_test"],
        epochs=options["epochs"],
        lr=options["lr"],
        weight_decay=options["weight_decay"],
        batch_size=options["batch_size"],
        seed=options["seed"],
        log=lambda record: log.info("%s", record),
    )
    write_csv(summary, summary_path, provenance)
    log.info("summary\n%s", summary.to_string())
    save_figure(plot_demo(summary), figure_paths, provenance, dpi=150)


if __name__ == "__main__":
    with log_to(snakemake.log[0]) as log:
        main(
            snakemake.params.options,
            snakemake.output.summary,
            [snakemake.output.png, snakemake.output.pdf],
            snakemake.threads,
            log,
            job_provenance(snakemake, **DEMO_IDS),
        )
