"""The slope behind ``slope_range_km`` (complex step, numpy) against torch's autograd."""

import numpy as np
import pytest
import torch

from geovario.variogram.models import FAMILIES, single_family_names
from geovario.variogram.structures import (
    EARTH_RADIUS_KM,
    Structure,
    _slope_per_radian,
    nested_gamma,
)

CASES = [(name, shape) for name in single_family_names()
         for shape in ([None] if not FAMILIES[name].has_shape
                       else [0.5, 1.5, 2.5] if name == "matern" else [0.7, 1.3, 2.0])]


@pytest.mark.parametrize("name,shape", CASES)
def test_complex_step_slope_equals_autograd(name, shape):
    structures = (Structure(name, 0.3, 800.0, shape), Structure("exponential", 0.1, 5000.0, None))
    h = np.geomspace(1e-3, 3e4, 400)
    tensor = torch.as_tensor(h).requires_grad_(True)
    (grad,) = torch.autograd.grad(nested_gamma(tensor, 0.05, structures).sum(), tensor)
    np.testing.assert_allclose(_slope_per_radian(h, structures),
                               EARTH_RADIUS_KM * grad.numpy(), rtol=1e-12, atol=0)


def test_clipped_lags_have_zero_slope():
    # Beyond a spherical structure's range γ is flat: autograd's clamp gives 0 there too.
    slope = _slope_per_radian(np.array([900.0, 2000.0]), (Structure("spherical", 1.0, 800.0),))
    assert slope.tolist() == [0.0, 0.0]
