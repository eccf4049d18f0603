import numpy as np
import pytest
import torch

from geovario.geo import haversine_km
from geovario.geo.noise import jitter_coords


@pytest.mark.parametrize("latitude", [0.0, 45.0, 70.0, -80.0])
@pytest.mark.parametrize("sigma_m", [150.0, 1000.0])
def test_noise_has_the_requested_spread_in_metres(latitude, sigma_m):
    n = 20000
    coords = torch.tensor([[latitude, 30.0]], dtype=torch.float64).repeat(n, 1)
    moved = jitter_coords(coords, sigma_m, torch.Generator().manual_seed(0)).numpy()
    d_m = 1000 * haversine_km(latitude, 30.0, moved[:, 0], moved[:, 1])
    # Distance of a 2-D isotropic Gaussian offset is Rayleigh: E[d²] = 2σ².
    assert np.sqrt(np.mean(d_m**2) / 2) == pytest.approx(sigma_m, rel=0.02)
    # East and north offsets separately have σ too (east measured along the parallel).
    north_m = 1000 * haversine_km(latitude, 30.0, moved[:, 0], 30.0) * np.sign(
        moved[:, 0] - latitude)
    assert north_m.std() == pytest.approx(sigma_m, rel=0.03)


def test_noise_stays_on_the_globe_at_the_pole_and_date_line():
    coords = torch.tensor([[89.9999, 179.9999]], dtype=torch.float64).repeat(5000, 1)
    moved = jitter_coords(coords, 1000.0, torch.Generator().manual_seed(1))
    assert moved[:, 0].abs().max() <= 90 and moved[:, 1].abs().max() <= 180
    d_km = haversine_km(89.9999, 179.9999, moved[:, 0].numpy(), moved[:, 1].numpy())
    assert np.sqrt(np.mean(d_km**2) / 2) == pytest.approx(1.0, rel=0.05)


def test_zero_noise_is_the_identity():
    coords = torch.randn(5, 2)
    assert jitter_coords(coords, 0.0) is coords
