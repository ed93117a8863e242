"""Figure: images, an IT map and the held-out maps predicted by a low- and a high-accuracy
model."""

import numpy as np
from PIL import Image

from neuralign.analyses.maps import grid_step
from neuralign.io.artifacts import open_netcdf, save_figure
from neuralign.io.dataset import open_dataset, stimulus_images
from neuralign.io.logs import log_to
from neuralign.io.provenance import job_provenance
from neuralign.reporting.figures import map_panel


def main(
    dataset_path: str,
    fit_paths: list[str],
    labels: list[str],
    mapping: str,
    n_images: int,
    png_path: str,
    pdf_path: str,
    log,
    provenance: dict,
) -> None:
    ds = open_dataset(dataset_path)
    fits = [open_netcdf(path) for path in fit_paths]
    reliability = np.nanmean(fits[0]["neighbour_ceiling_per_image"].values, axis=0)
    if "split_half_ceiling_per_image" in fits[0]:
        reliability = np.nanmean(fits[0]["split_half_ceiling_per_image"].values, axis=0)
    neuroid = int(np.nanargmax(reliability))
    shown = range(min(n_images, ds.sizes["stimulus"]))
    files = stimulus_images(ds, dataset_path)
    images = [np.asarray(Image.open(files[k])) for k in shown]
    half_image = float(ds.attrs["image_size_deg"]) / 2
    y, x = ds["y"].values, ds["x"].values
    step = grid_step(y)
    predictions = {
        label: fit["predicted_maps"].sel(mapping=mapping).values[list(shown), neuroid]
        for label, fit in zip(labels, fits, strict=True)
    }
    figure = map_panel(
        images,
        ds["maps"].values[list(shown), neuroid],
        predictions,
        (-half_image, half_image, half_image, -half_image),
        (x[0] - step / 2, x[-1] + step / 2, y[-1] + step / 2, y[0] - step / 2),
        str(ds["neuroid_id"].values[neuroid]),
    )
    save_figure(figure, [png_path, pdf_path], provenance, dpi=150)
    log.info("wrote %s and %s (neuroid %s)", png_path, pdf_path, ds["neuroid_id"].values[neuroid])


if __name__ == "__main__":
    with log_to(snakemake.log[0]) as log:
        main(
            snakemake.input.dataset,
            list(snakemake.input.fits),
            snakemake.params.labels,
            snakemake.params.mapping,
            snakemake.params.n_images,
            snakemake.output.png,
            snakemake.output.pdf,
            log,
            job_provenance(snakemake),
        )
