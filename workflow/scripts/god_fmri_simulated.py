"""Write SIMULATED subjects' GOD files (HDF5 in the published layout and stimulus images)."""

from neuralign.datasets.simulated.fmri import simulate_god
from neuralign.io.logs import log_to
from neuralign.io.provenance import job_provenance


def main(
    h5_dir: str,
    stimulus_dir: str,
    subjects: list[str],
    simulation: dict,
    log,
    provenance: dict,
) -> None:
    options = {key: value for key, value in simulation.items() if key != "enabled"}
    paths = simulate_god(h5_dir, stimulus_dir, subjects, provenance=provenance, **options)
    log.info("wrote SIMULATED GOD files %s and their images in %s", paths, stimulus_dir)


if __name__ == "__main__":
    with log_to(snakemake.log[0]) as log:
        main(
            snakemake.params.h5_dir,
            snakemake.output.stimuli,
            snakemake.params.subjects,
            snakemake.params.simulation,
            log,
            job_provenance(snakemake, dataset="god_fmri", simulated=True),
        )
