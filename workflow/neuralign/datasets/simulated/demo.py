"""The built-in offline demo dataset: SIMULATED neurons responding to natural image crops.

Nothing here is recorded data. Stimuli are seeded random crops (position, scale, flip) of the
natural photographs bundled with scikit-image. Each virtual neuron reads a fixed, documented
front end through a Gaussian spatial receptive field:

1. front end (``front_end``): on a 64×64 copy of the image, Gabor energy (quadrature pairs,
   4 orientations × 2 spatial frequencies) of luminance plus 4 rectified colour-opponent
   channels (R−G, G−R, B−Y, Y−B), each blurred and divisively normalised by the local mean
   over channels → 12 channels (an image's maps do not depend on the other stimuli);
2. neuron ``i``: drive = Σ_c w_ic ⟨RF_i, F_c⟩ with a Gaussian receptive field RF_i (centre and
   width drawn per neuron) and sparse Gaussian tuning weights w_i; the drive is z-scored over
   the stimulus set and mapped to a rate λ = baseline · exp(gain · z) spikes per presentation;
3. responses: independent Poisson counts, ``n_repetitions`` per stimulus.

Because the rates are known, the reliability of the repetition-averaged response, which the
split-half Spearman–Brown ceiling estimates, is known exactly (``true_ceiling``):
``Var_s(λ) / (Var_s(λ) + mean_s(λ) / n_repetitions)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import skimage.data
import xarray as xr
from PIL import Image
from scipy import ndimage
from skimage.transform import resize

import neuralign
from neuralign.io.dataset import image_path_values

PHOTOS = {
    "astronaut": skimage.data.astronaut,
    "brick": skimage.data.brick,
    "camera": skimage.data.camera,
    "chelsea": skimage.data.chelsea,
    "coffee": skimage.data.coffee,
    "coins": skimage.data.coins,
    "grass": skimage.data.grass,
    "gravel": skimage.data.gravel,
    "hubble_deep_field": skimage.data.hubble_deep_field,
    "moon": skimage.data.moon,
    "motorcycle": lambda: skimage.data.stereo_motorcycle()[0],
    "rocket": skimage.data.rocket,
}
FRONT_END_SIZE = 64
ORIENTATIONS = 4
WAVELENGTHS = (6.0, 12.0)  # pixels at FRONT_END_SIZE
N_CHANNELS = ORIENTATIONS * len(WAVELENGTHS) + 4
NORMALISATION = 0.05  # semi-saturation constant of the divisive normalisation


def load_photo(name: str) -> np.ndarray:
    """One bundled photograph as float RGB in [0, 1]."""
    img = np.asarray(PHOTOS[name](), dtype=np.float32) / 255.0
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=2)
    return img[..., :3]


def random_crops(n: int, size: int, rng: np.random.Generator) -> tuple[np.ndarray, list[str]]:
    """``n`` square crops (uint8, n×size×size×3), cycling through the photos for balance."""
    names = list(PHOTOS)
    photos = {name: load_photo(name) for name in names}
    crops, objects = [], []
    for i in range(n):
        name = names[i % len(names)]
        photo = photos[name]
        height, width = photo.shape[:2]
        side = int(min(height, width) * rng.uniform(0.35, 1.0))
        top = rng.integers(0, height - side + 1)
        left = rng.integers(0, width - side + 1)
        crop = photo[top : top + side, left : left + side]
        if rng.random() < 0.5:
            crop = crop[:, ::-1]
        crop = resize(crop, (size, size), anti_aliasing=True)
        crops.append(np.round(crop * 255).astype(np.uint8))
        objects.append(name)
    return np.stack(crops), objects


def _gabor_pair(wavelength: float, theta: float) -> tuple[np.ndarray, np.ndarray]:
    sigma = 0.5 * wavelength
    half = int(np.ceil(2.5 * sigma))
    y, x = np.mgrid[-half : half + 1, -half : half + 1].astype(np.float64)
    rotated = x * np.cos(theta) + y * np.sin(theta)
    envelope = np.exp(-(x**2 + y**2) / (2 * sigma**2))
    even = envelope * np.cos(2 * np.pi * rotated / wavelength)
    odd = envelope * np.sin(2 * np.pi * rotated / wavelength)
    unit = envelope.sum() / 2  # a unit-amplitude grating at the preferred frequency gives ~1
    return (even - even.mean()) / unit, odd / unit


def front_end(images: np.ndarray) -> np.ndarray:
    """Fixed feature maps (n, N_CHANNELS, 64, 64) from uint8 RGB images (n, h, w, 3)."""
    from scipy import signal  # here only: every workflow start reads this module's constants

    small = np.stack(
        [resize(im, (FRONT_END_SIZE, FRONT_END_SIZE), anti_aliasing=True) for im in images]
    )
    small = small.astype(np.float64) / (255.0 if images.dtype == np.uint8 else 1.0)
    red, green, blue = small[..., 0], small[..., 1], small[..., 2]
    luminance = 0.299 * red + 0.587 * green + 0.114 * blue
    channels = []
    for wavelength in WAVELENGTHS:
        for k in range(ORIENTATIONS):
            even, odd = _gabor_pair(wavelength, np.pi * k / ORIENTATIONS)
            resp_even = signal.fftconvolve(luminance, even[None], mode="same", axes=(1, 2))
            resp_odd = signal.fftconvolve(luminance, odd[None], mode="same", axes=(1, 2))
            channels.append(np.sqrt(resp_even**2 + resp_odd**2))
    red_green, blue_yellow = red - green, blue - 0.5 * (red + green)
    for opponent in (red_green, -red_green, blue_yellow, -blue_yellow):
        channels.append(np.maximum(opponent, 0.0))
    maps = np.stack(channels, axis=1)
    maps = ndimage.gaussian_filter(maps, sigma=(0, 0, 1.0, 1.0))
    return maps / (NORMALISATION + maps.mean(axis=1, keepdims=True))


@dataclass(frozen=True)
class VirtualPopulation:
    """Receptive fields (in image fractions) and tuning of simulated neurons."""

    rf_x: np.ndarray
    rf_y: np.ndarray
    rf_sigma: np.ndarray
    weights: np.ndarray  # (neuron, channel)
    baseline: np.ndarray
    gain: np.ndarray

    @classmethod
    def draw(cls, n: int, rng: np.random.Generator) -> VirtualPopulation:
        weights = rng.normal(size=(n, N_CHANNELS)) * (rng.random((n, N_CHANNELS)) < 0.4)
        weights[np.arange(n), rng.integers(0, N_CHANNELS, n)] += rng.choice([-1.0, 1.0], n) * 2
        return cls(
            rf_x=rng.uniform(0.2, 0.8, n),
            rf_y=rng.uniform(0.2, 0.8, n),
            rf_sigma=rng.uniform(0.08, 0.3, n),
            weights=weights,
            baseline=rng.uniform(0.5, 4.0, n),
            gain=rng.uniform(0.2, 0.6, n),
        )

    @classmethod
    def from_dataset(cls, ds) -> VirtualPopulation:
        """The population stored in a demo dataset."""
        return cls(
            *(
                ds[name].values
                for name in ("rf_x", "rf_y", "rf_sigma", "tuning", "baseline", "gain")
            )
        )

    def neuroid_coords(self) -> dict[str, tuple[str, object]]:
        """Neuroid coords of a dataset: ids, region, subject and the generating parameters."""
        n = len(self.rf_x)
        return {
            "neuroid_id": ("neuroid", [f"virtual_{i:03d}" for i in range(n)]),
            "region": ("neuroid", ["simulated"] * n),
            "subject": ("neuroid", ["virtual"] * n),
            **{
                name: ("neuroid", getattr(self, name))
                for name in ("rf_x", "rf_y", "rf_sigma", "baseline", "gain")
            },
        }

    def receptive_fields(self, size: int = FRONT_END_SIZE) -> np.ndarray:
        """Gaussian receptive fields (neuron, size, size), each summing to one."""
        grid = (np.arange(size) + 0.5) / size
        dx = grid[None, None, :] - self.rf_x[:, None, None]
        dy = grid[None, :, None] - self.rf_y[:, None, None]
        rf = np.exp(-(dx**2 + dy**2) / (2 * self.rf_sigma[:, None, None] ** 2))
        return rf / rf.sum(axis=(1, 2), keepdims=True)

    def drive(self, features: np.ndarray) -> np.ndarray:
        """Linear drive (stimulus, neuron) from front-end maps (stimulus, channel, y, x)."""
        pooled = np.einsum("scyx,nyx->snc", features, self.receptive_fields(features.shape[-1]))
        return np.einsum("snc,nc->sn", pooled, self.weights)

    def rates(self, features: np.ndarray) -> np.ndarray:
        """Expected spike counts per presentation (stimulus, neuron)."""
        drive = self.drive(features)
        z = (drive - drive.mean(axis=0)) / drive.std(axis=0)
        return self.baseline * np.exp(self.gain * z)


def save_pngs(images: np.ndarray, stimulus_ids: list[str], image_dir: str | Path) -> list[Path]:
    """Write each image as ``<image_dir>/<stimulus_id>.png``; returns the paths."""
    image_dir = Path(image_dir)
    image_dir.mkdir(parents=True, exist_ok=True)
    paths = [image_dir / f"{stimulus_id}.png" for stimulus_id in stimulus_ids]
    for path, image in zip(paths, images, strict=True):
        Image.fromarray(image).save(path)
    return paths


def true_ceiling(rates: np.ndarray, n_repetitions: int) -> np.ndarray:
    """Reliability of the mean over ``n_repetitions`` Poisson draws, per neuron."""
    signal_var = rates.var(axis=0, ddof=1)
    return signal_var / (signal_var + rates.mean(axis=0) / n_repetitions)


def make_demo(
    image_dir: str | Path,
    *,
    n_stimuli: int,
    n_neurons: int,
    n_repetitions: int,
    image_size: int,
    seed: int,
    relative_to: str | Path | None = None,
) -> xr.Dataset:
    """Generate the demo dataset, writing its PNG stimuli into ``image_dir``.

    ``image_path`` values are relative to ``relative_to`` (the dataset file's folder) if given,
    else absolute.
    """
    rng = np.random.default_rng(seed)
    images, objects = random_crops(n_stimuli, image_size, rng)
    population = VirtualPopulation.draw(n_neurons, rng)
    rates = population.rates(front_end(images))
    counts = rng.poisson(rates[..., None], size=(*rates.shape, n_repetitions))

    stimulus_ids = [f"demo_{i:04d}" for i in range(n_stimuli)]
    paths = save_pngs(images, stimulus_ids, image_dir)
    return xr.Dataset(
        {
            "responses": (("stimulus", "neuroid", "repetition"), counts.astype(np.float32)),
            "rates": (("stimulus", "neuroid"), rates.astype(np.float32)),
            "true_ceiling": ("neuroid", true_ceiling(rates, n_repetitions)),
            "tuning": (("neuroid", "channel"), population.weights),
        },
        coords={
            "stimulus_id": ("stimulus", stimulus_ids),
            "image_path": ("stimulus", image_path_values(paths, relative_to)),
            "object": ("stimulus", objects),
            **population.neuroid_coords(),
        },
        attrs={
            "dataset": "demo",
            "simulated": 1,
            "description": "SIMULATED responses of virtual neurons "
            "(neuralign.datasets.simulated.demo); not recorded "
            "data. Poisson spike counts; 'rates' are the generating means and 'true_ceiling' the "
            "exact reliability of the repetition-averaged response; rf_*, tuning, baseline and "
            "gain are the generating parameters "
            "(neuralign.datasets.simulated.demo.VirtualPopulation).",
            "citation": "neuralign built-in demo; photographs from scikit-image (skimage.data)",
            "license": "simulated responses: MIT; images: see scikit-image data licences",
            "seed": seed,
            "neuralign_version": neuralign.__version__,
        },
    )


def shifted_on_grey(image: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """``image`` (h, w, 3 uint8) moved by (dy, dx) pixels on a grey field of the same size."""
    height, width = image.shape[:2]
    field = np.full_like(image, 128)
    top, left = max(dy, 0), max(dx, 0)
    src_top, src_left = max(-dy, 0), max(-dx, 0)
    h, w = height - abs(dy), width - abs(dx)
    if h > 0 and w > 0:
        field[top : top + h, left : left + w] = image[
            src_top : src_top + h, src_left : src_left + w
        ]
    return field


def position_maps(
    population: VirtualPopulation, images: np.ndarray, grid: int, step: float
) -> tuple[np.ndarray, np.ndarray]:
    """Expected responses (image, neuron, y, x) to each image shown at every position of a
    ``grid`` × ``grid`` grid (offsets ``step`` apart, in fractions of the field, centred), and
    the offsets. Drives are z-scored per neuron over all presentations, as in ``rates``."""
    size = images.shape[1]
    offsets = (np.arange(grid) - (grid - 1) / 2) * step
    pixels = np.round(offsets * size).astype(int)
    shown = np.stack(
        [shifted_on_grey(image, dy, dx) for image in images for dy in pixels for dx in pixels]
    )
    rates = population.rates(front_end(shown))  # (image·y·x, neuron)
    maps = rates.reshape(len(images), grid, grid, -1).transpose(0, 3, 1, 2)
    return maps, offsets


DEMO_MAPS_IMAGE_DEGREES = 16.0  # nominal size of a demo map image (as in Arcaro et al. 2020)


def make_demo_maps(
    image_dir: str | Path,
    *,
    n_images: int,
    n_neurons: int,
    n_repetitions: int,
    grid: int,
    step: float,
    image_size: int,
    seed: int,
    relative_to: str | Path | None = None,
) -> xr.Dataset:
    """SIMULATED position maps (``demo_maps``), writing the ``n_images`` PNG images.

    Each image is shown shifted on grey at every offset of a ``grid`` × ``grid`` grid
    (``step`` apart, in fractions of the image; ``position_maps``) to virtual neurons whose
    receptive fields lie near the centre of the field. Coordinates follow the Arcaro 2020
    converter: ``maps[..., y, x]`` is the response when image point (y, x) (degrees from the
    image centre, the image spanning ``DEMO_MAPS_IMAGE_DEGREES``) lay at the centre of the
    field, i.e. over the receptive field of a neuron centred there (the image was shifted by
    (−y, −x)); a neuron whose receptive field is off centre by d sees image point (y, x) + d.
    Half the neurons (``array`` ``small_rf``) have narrow receptive fields, half (``large_rf``)
    wide ones. Counts are Poisson (``map_repetitions``); ``maps`` is their mean and
    ``true_maps`` the generating rates.
    """
    rng = np.random.default_rng(seed)
    images, objects = random_crops(n_images, image_size, rng)
    population = VirtualPopulation.draw(n_neurons, rng)
    small = np.arange(n_neurons) < (n_neurons + 1) // 2
    population = VirtualPopulation(
        rf_x=rng.uniform(0.45, 0.55, n_neurons),
        rf_y=rng.uniform(0.45, 0.55, n_neurons),
        rf_sigma=np.where(
            small, rng.uniform(0.04, 0.08, n_neurons), rng.uniform(0.1, 0.2, n_neurons)
        ),
        weights=population.weights,
        baseline=rng.uniform(2.0, 6.0, n_neurons),
        gain=rng.uniform(0.4, 0.7, n_neurons),
    )
    by_offset, offsets = position_maps(population, images, grid, step)
    true_maps = by_offset[:, :, ::-1, ::-1]  # offset (dy, dx) showed image point (−dy, −dx)
    counts = rng.poisson(true_maps[..., None], size=(*true_maps.shape, n_repetitions))

    stimulus_ids = [f"demo_maps_{i:02d}" for i in range(n_images)]
    paths = save_pngs(images, stimulus_ids, image_dir)
    degrees = offsets * DEMO_MAPS_IMAGE_DEGREES
    dims = ("stimulus", "neuroid", "y", "x")
    return xr.Dataset(
        {
            "maps": (dims, counts.mean(axis=-1).astype(np.float32)),
            "map_repetitions": ((*dims, "repetition"), counts.astype(np.float32)),
            "true_maps": (dims, true_maps.astype(np.float32)),
            "tuning": (("neuroid", "channel"), population.weights),
        },
        coords={
            "stimulus_id": ("stimulus", stimulus_ids),
            "image_path": ("stimulus", image_path_values(paths, relative_to)),
            "object": ("stimulus", objects),
            "y": ("y", degrees, {"units": "degrees"}),
            "x": ("x", degrees, {"units": "degrees"}),
            **population.neuroid_coords(),
            "array": ("neuroid", np.where(small, "small_rf", "large_rf")),
        },
        attrs={
            "dataset": "demo_maps",
            "simulated": 1,
            "description": "SIMULATED position maps of virtual neurons "
            "(neuralign.datasets.simulated.demo."
            "make_demo_maps); not recorded data. maps(stimulus, neuroid, y, x) is the mean of "
            "the Poisson counts map_repetitions over repetitions; (y, x) is the image point, in "
            "degrees from the image centre, that lay at the field centre (over the receptive "
            "field of a centred neuron); true_maps are the generating rates; rf_* (fractions "
            "of the field), tuning, baseline and gain the generating parameters.",
            "citation": "neuralign built-in demo; photographs from scikit-image (skimage.data)",
            "license": "simulated responses: MIT; images: see scikit-image data licences",
            "seed": seed,
            "grid_size": grid,
            "grid_step_deg": step * DEMO_MAPS_IMAGE_DEGREES,
            "image_size_deg": DEMO_MAPS_IMAGE_DEGREES,
            "neuralign_version": neuralign.__version__,
        },
    )
