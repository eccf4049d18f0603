import math

import numpy as np
import pytest
import torch
from tests.helpers.variogram_models import CASES, gstools_equivalent

from geovario.errors import GeovarioError
from geovario.variogram import get_model


@pytest.mark.parametrize(("name", "shape"), CASES)
def test_identities_hold_for_every_model(name, shape):
    model = get_model(name)
    n, s, r = 0.2, 0.7, 800.0
    assert model.gamma(np.array(0.0), n, s, r, shape) == pytest.approx(n, abs=1e-12)
    at_range = n + s if name == "spherical" else n + (1 - math.exp(-3)) * s
    assert model.gamma(np.array(r), n, s, r, shape) == pytest.approx(at_range, rel=1e-9)
    h = np.linspace(0, 50 * r, 2000)
    gamma = model.gamma(h, n, s, r, shape)
    assert np.all(np.diff(gamma) >= -1e-12), "a semivariogram never decreases"
    assert gamma[-1] == pytest.approx(n + s, abs=1e-4)  # reaches the sill far away
    torch_gamma = model.gamma(torch.from_numpy(h), n, s, r, shape)
    np.testing.assert_allclose(torch_gamma.numpy(), gamma, rtol=1e-12, atol=1e-15)



@pytest.mark.parametrize(("name", "shape"), CASES)
def test_correlation_equals_gstools_with_converted_length_scale(name, shape):
    r = 1234.0
    h = np.linspace(0, 5000, 300)
    ours = get_model(name).correlation(h / r, shape, np)
    np.testing.assert_allclose(ours, gstools_equivalent(name, shape, r).correlation(h),
                               rtol=1e-9, atol=1e-12)


def test_unknown_model_and_bad_matern_shape():
    with pytest.raises(GeovarioError,
                       match="unknown variogram family 'cubic' \\(choose from spherical"):
        get_model("cubic")
    with pytest.raises(GeovarioError, match="matern shape \\(nu\\) must be one of"):
        get_model("matern").gamma(np.array(1.0), 0, 1, 10, 1.0)
