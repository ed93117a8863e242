"""The offline harmonizer demo: the synthetic shortcut task trained at λ > 0 and at λ = 0."""

import torch

from neuralign.harmonizer import plot_demo, shortcut_demo
from neuralign.logs import log_to


def main(options: dict, summary_path: str, figure_paths: list[str], threads: int, log) -> None:
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
    summary.to_csv(summary_path, index=False)
    log.info("summary\n%s", summary.to_string())
    figure = plot_demo(summary)
    for path in figure_paths:
        figure.savefig(path, dpi=150)


if __name__ == "__main__":
    with log_to(snakemake.log[0]) as log:
        main(
            snakemake.params.options,
            snakemake.output.summary,
            [snakemake.output.png, snakemake.output.pdf],
            snakemake.threads,
            log,
        )
