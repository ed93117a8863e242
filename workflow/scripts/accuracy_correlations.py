"""Table: Spearman correlation of ImageNet top-1 with predictivity below and above 70%, and
within each trained family."""

import pandas as pd

from neuralign.figures import accuracy_correlations
from neuralign.logs import log_to


def main(scores_path: str, out_path: str, n_bootstrap: int, seed: int, log) -> None:
    table = accuracy_correlations(pd.read_csv(scores_path), n_bootstrap, seed)
    table.to_csv(out_path, index=False)
    log.info("\n%s", table.to_string(index=False))


if __name__ == "__main__":
    with log_to(snakemake.log[0]) as log:
        main(
            snakemake.input.scores,
            snakemake.output.table,
            snakemake.params.n_bootstrap,
            snakemake.params.seed,
            log,
        )
