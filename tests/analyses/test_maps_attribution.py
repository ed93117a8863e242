"""Feature importance of fitted map readouts (neuralign.analyses.maps.attribution)."""

import numpy as np
import pytest
import torch
from scipy.stats import spearmanr

from neuralign.analyses.maps.attribution import (
    block_average,
    project_to_grid,
    readout_attributions,
    spearman_maps,
)

torch.set_num_threads(1)


class Toy(torch.nn.Module):
    """Two local 3x3 convolutions: a feature at a position depends on nearby pixels only."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.conv = torch.nn.Conv2d(3, 4, 3, padding=1)
        self.features = torch.nn.Conv2d(4, 6, 3, padding=1)

    def forward(self, x):
        return self.features(torch.relu(self.conv(x)))


def test_saliency_lands_where_the_readout_looks():
    """A readout of the top-left quadrant's grid positions only: all attribution lies there."""
    image = torch.randn(3, 32, 32, generator=torch.Generator().manual_seed(0))
    field = 16.0
    positions = np.array([-6.0, -4.0, -2.0])  # degrees: the top-left quadrant of a 16 deg view
    coef = np.random.default_rng(0).normal(size=(6, 3))
    maps = readout_attributions(
        Toy().eval(),
        "features",
        image,
        coef,
        np.zeros(6),
        positions,
        positions,
        field,
        feature_grid=None,
        chunk=2,
    )
    for method in ("saliency", "gradient_input"):
        values = maps[method]
        assert values.shape == (3, 32, 32)
        quadrant = values[:, :16, :16].sum(axis=(1, 2))
        assert (quadrant / values.sum(axis=(1, 2)) > 0.97).all(), method
        assert (values[:, 20:, :] == 0).all()  # 2 pixels of 3x3 reach beyond the last sample


def test_saliency_is_the_gradient_of_the_readout():
    """The saliency equals |autograd gradient| of the same readout, max over colour."""
    model = Toy().eval()
    image = torch.randn(3, 16, 16, generator=torch.Generator().manual_seed(1))
    positions = np.array([-3.0, 0.0, 3.0])
    coef, mean = np.random.default_rng(1).normal(size=(6, 2)), np.full(6, 0.3)
    maps = readout_attributions(model, "features", image, coef, mean, positions, positions, 8.0)
    x = image[None].clone().requires_grad_(True)
    features = torch.nn.functional.grid_sample(
        model(x),
        torch.tensor(
            [[[[2 * px / 8, 2 * py / 8] for px in positions] for py in positions]],
            dtype=torch.float32,
        ),
        align_corners=False,
        padding_mode="border",
    )
    readout = (features.mean(dim=(2, 3))[0] - torch.tensor(mean).float()) @ torch.tensor(
        coef[:, 1]
    ).float()
    (grad,) = torch.autograd.grad(readout, x)
    np.testing.assert_allclose(maps["saliency"][1], grad[0].abs().amax(0).numpy(), atol=1e-6)


def test_spearman_matches_scipy_with_ties_and_gaps():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 5, size=(3, 7, 7)).astype(float)  # ties
    b = rng.normal(size=(3, 7, 7))
    b[1, 2, 3] = np.nan  # a position not shown
    rho = spearman_maps(a, b)
    for k in range(3):
        valid = np.isfinite(b[k]).ravel()
        expected = spearmanr(a[k].ravel()[valid], b[k].ravel()[valid]).statistic
        assert rho[k] == pytest.approx(expected, abs=1e-12)


def test_projection_averages_each_cell_and_quarter_resolution():
    values = np.arange(16.0 * 16).reshape(16, 16)
    positions = np.array([-6.0, -2.0, 2.0, 6.0])  # 4 cells of 4 deg in a 16 deg, 16 px view
    projected = project_to_grid(values, positions, positions, 16.0, 4.0)
    assert projected[0, 0] == pytest.approx(values[:4, :4].mean())
    assert projected[2, 3] == pytest.approx(values[8:12, 12:16].mean())
    odd = np.arange(25.0).reshape(5, 5)
    quarter = block_average(odd)
    assert quarter.shape == (3, 3)
    assert quarter[0, 0] == pytest.approx(odd[:2, :2].mean())
    assert quarter[2, 2] == pytest.approx(odd[4, 4])
