"""The fMRI experiment's workflow jobs: SIMULATED GOD files, sampled units of a model on the GOD
stimuli, one subject × model fit, and the summary tables. Each reads its inputs, calls the
library, writes. The extraction and fitting jobs import the model stack and the fitting
engine where they run, so that the others start in a fraction of the time."""

from __future__ import annotations

from neuralign.analyses.fmri.reading import god_stimuli, load_fits, read_units
from neuralign.analyses.fmri.summary import DIRECTIONS, layers_won, summarize
from neuralign.datasets.simulated.fmri import simulate_god
from neuralign.io.artifacts import write_csv, write_netcdf
from neuralign.io.dataset import open_dataset


def write_simulated_god(
    *, h5_dir: str, stimulus_dir: str, subjects: list[str], simulation: dict, log, provenance
) -> None:
    """SIMULATED subjects' GOD files (HDF5 in the published layout and stimulus images)."""
    options = {key: value for key, value in simulation.items() if key != "enabled"}
    paths = simulate_god(h5_dir, stimulus_dir, subjects, provenance=provenance, **options)
    log.info("wrote SIMULATED GOD files %s and their images in %s", paths, stimulus_dir)


def write_units(
    *,
    dataset_paths: list[str],
    out_path: str,
    model: str,
    source: str,
    layer_spec,
    units: int,
    seed: int,
    options: dict,
    log,
    provenance: dict,
) -> None:
    """Seeded samples of ``units`` units of one model's layers on the GOD stimuli (all
    subjects' images)."""
    from neuralign.activations.cached import extract_cached

    ids, paths = god_stimuli(dataset_paths)
    reduction = {"method": "sample", "units": units, "seed": seed}
    extract_cached(
        source,
        model,
        layer_spec,
        "god_fmri",
        ids,
        paths,
        out_path,
        options,
        reduction,
        log,
        provenance=provenance,
    )


def write_subject_fit(
    *,
    dataset_path: str,
    activations_path: str,
    out_path: str,
    subject: str,
    model: str,
    options: dict,
    log,
    provenance: dict,
) -> None:
    """Decoding and encoding scores of one GOD subject and one model's sampled units."""
    from neuralign.analyses.fmri.encoding import fit_subject
    from neuralign.fitting.mappings import MappingSpec

    ds = open_dataset(dataset_path)
    stimuli, units, attrs = read_units(activations_path)
    fit = fit_subject(
        ds,
        units,
        stimuli,
        rois=options["rois"],
        mapping=MappingSpec.from_options(options),
        n_bootstrap=options["n_bootstrap"],
        seed=options["bootstrap_seed"],
    )
    fit.attrs.update(
        subject=subject,
        model=model,
        **{key: attrs[key] for key in ("model_source", "weights_sha256", "reduction")},
    )
    write_netcdf(fit, out_path, provenance)
    for direction in DIRECTIONS:
        log.info(
            "%s median r (ROI x layer):\n%s",
            direction,
            fit[f"{direction}_median"].to_pandas().round(3).to_string(),
        )


def write_summary(
    *, fit_paths: list[str], summary_path: str, comparison_path: str, models, log, provenance
) -> None:
    """Tables of the fMRI experiment: median r per ROI x layer x model, paired model
    comparison."""
    summary, comparison = summarize(load_fits(fit_paths), list(models))
    write_csv(summary, summary_path, provenance)
    write_csv(comparison, comparison_path, provenance)
    for direction in DIRECTIONS:
        log.info(
            "%s, over subjects: layer positions where model a is better\n%s",
            direction,
            layers_won(comparison, direction).to_string(index=False),
        )
