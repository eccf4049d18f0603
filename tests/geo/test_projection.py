import numpy as np
import pytest
import torch

from geovario.geo import equal_earth
from geovario.geo.projection import SCALE

# Published extent of the Equal Earth map for a unit sphere (Šavrič et al. 2018, table 1):
# x ∈ [−2.7066, 2.7066], y ∈ [−1.3173, 1.3173].
X_EXTENT, Y_EXTENT = 2.706630, 1.317363


def test_origin_and_published_extent():
    xy = equal_earth([[0, 0], [0, 180], [90, 0], [-90, 0]])
    np.testing.assert_allclose(xy[0], [0, 0], atol=1e-15)
    assert xy[1, 0] == pytest.approx(X_EXTENT * SCALE, abs=1e-5)
    assert xy[2, 1] == pytest.approx(Y_EXTENT * SCALE, abs=1e-5)
    np.testing.assert_allclose(xy[3], [0, -Y_EXTENT * SCALE], atol=1e-5)
    # GeoCLIP's scale maps the map's full width onto [-1, 1].
    assert xy[1, 0] == pytest.approx(1.0, abs=1e-4)


def test_equal_area_property(sphere_points):
    # The projection preserves area: |det J| / cos(latitude) is the same everywhere.
    pts = sphere_points(200, 5)
    pts = pts[np.abs(pts[:, 0]) < 85]
    eps = 1e-5
    x_lat = (equal_earth(pts + [eps, 0]) - equal_earth(pts - [eps, 0])) / (2 * eps)
    x_lon = (equal_earth(pts + [0, eps]) - equal_earth(pts - [0, eps])) / (2 * eps)
    det = np.abs(x_lat[:, 0] * x_lon[:, 1] - x_lat[:, 1] * x_lon[:, 0])
    ratio = det / np.cos(np.radians(pts[:, 0]))
    np.testing.assert_allclose(ratio, ratio.mean(), rtol=1e-5)


def test_torch_matches_numpy(sphere_points):
    pts = sphere_points(100, 6)
    got = equal_earth(torch.from_numpy(pts))
    np.testing.assert_allclose(got.numpy(), equal_earth(pts), rtol=1e-12, atol=1e-14)
