import math

import numpy as np
import pytest
import torch
from scipy.optimize import brentq

from geovario.errors import GeovarioError
from geovario.variogram import (
    FAMILIES,
    EmpiricalVariogram,
    FittedVariogram,
    Structure,
    auto_families,
    fit_model,
    fit_variogram,
    get_model,
)
from geovario.variogram.models import nested_family_names, single_family_names

LAGS = np.geomspace(0.5, 15000, 24)


def exp_part(h, s, r):
    """One exponential structure written out: s(1 − exp(−3h/r))."""
    return s * (1 - np.exp(-3 * h / r))


def sph_part(h, s, r):
    x = np.minimum(h / r, 1.0)
    return s * (1.5 * x - 0.5 * x**3)


def gau_part(h, s, r):
    return s * (1 - np.exp(-3 * (h / r) ** 2))


PARTS = {"exponential": exp_part, "spherical": sph_part, "gaussian": gau_part}


def test_registry_holds_every_ordered_pair_of_shape_free_models():
    shape_free = ["spherical", "exponential", "gaussian"]
    assert set(nested_family_names()) == {f"{a}+{b}" for a in shape_free for b in shape_free}
    assert set(single_family_names()) == {"spherical", "exponential", "gaussian", "stable",
                                         "matern"}
    assert auto_families() == tuple(FAMILIES)


@pytest.mark.parametrize("name", ["exponential+exponential", "spherical+gaussian",
                                  "exponential+spherical", "gaussian+exponential"])
def test_noise_free_nested_curve_recovers_both_ranges(name):
    short, long = name.split("+")
    gamma = 0.1 + PARTS[short](LAGS, 0.3, 20.0) + PARTS[long](LAGS, 0.6, 1500.0)
    fit = fit_model(LAGS, gamma, np.full(len(LAGS), 1000.0), model=name)
    (a, b) = fit.structures
    assert (a.model, b.model) == (short, long)
    assert a.range_km == pytest.approx(20.0, rel=1e-4)
    assert b.range_km == pytest.approx(1500.0, rel=1e-4)
    assert a.partial_sill == pytest.approx(0.3, rel=1e-4)
    assert b.partial_sill == pytest.approx(0.6, rel=1e-4)
    assert fit.nugget == pytest.approx(0.1, abs=1e-5)


def test_nested_evaluation_is_the_sum_of_structures_in_numpy_and_torch():
    structures = (Structure("spherical", 0.25, 30.0), Structure("gaussian", 0.5, 900.0))
    fitted = FittedVariogram(nugget=0.05, structures=structures)
    h = np.array([0.0, 1.0, 25.0, 200.0, 2500.0, 20000.0])
    expected = 0.05 + sph_part(h, 0.25, 30.0) + gau_part(h, 0.5, 900.0)
    np.testing.assert_allclose(fitted.gamma(h), expected, rtol=1e-12)
    for dtype in (torch.float32, torch.float64):
        out = fitted.gamma(torch.tensor(h, dtype=dtype))
        assert out.dtype == dtype
        np.testing.assert_allclose(out.numpy(), expected, rtol=1e-6)
    assert fitted.model == "spherical+gaussian" and fitted.shape is None and fitted.nested
    assert fitted.partial_sill == pytest.approx(0.75) and fitted.sill == pytest.approx(0.8)
    assert fitted.spatial_correlation(np.array(0.0)) == pytest.approx(1 - 0.05 / 0.8)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_nested_gamma_on_cuda():
    fitted = FittedVariogram(nugget=0.1, structures=(Structure("exponential", 0.3, 20.0),
                                                     Structure("exponential", 0.6, 1500.0)))
    h = torch.linspace(0, 5000, 101, device="cuda")
    out = fitted.gamma(h)
    assert out.device.type == "cuda" and out.dtype == torch.float32
    expected = 0.1 + exp_part(h.cpu().double().numpy(), 0.3, 20.0) + exp_part(
        h.cpu().double().numpy(), 0.6, 1500.0)
    np.testing.assert_allclose(out.cpu().numpy(), expected, rtol=1e-5)


def test_effective_range_solves_the_95_percent_crossing():
    n, s1, r1, s2, r2 = 0.1, 0.3, 20.0, 0.6, 1500.0
    fitted = FittedVariogram(nugget=n, structures=(Structure("exponential", s1, r1),
                                                   Structure("exponential", s2, r2)))
    target = (1 - math.exp(-3)) * (s1 + s2)
    expected = brentq(lambda h: exp_part(h, s1, r1) + exp_part(h, s2, r2) - target, 1, 1e5,
                      xtol=1e-12)
    assert fitted.range_km == pytest.approx(expected, rel=1e-9)
    assert r1 < fitted.range_km < r2
    # A structure without sill does not move it: the other's own range.
    alone = FittedVariogram(nugget=n, structures=(Structure("exponential", 0.0, r1),
                                                  Structure("exponential", s2, r2)))
    assert alone.range_km == pytest.approx(r2, rel=1e-9)


def test_auto_prefers_the_nested_model_on_two_scale_data_and_counts_its_parameters():
    rng = np.random.default_rng(3)
    edges = np.concatenate([[0.0], np.geomspace(1, 20000, 23)])
    lag = np.concatenate([[0.5], np.sqrt(edges[1:-1] * edges[2:])])
    gamma = 0.1 + exp_part(lag, 0.3, 20.0) + exp_part(lag, 0.6, 1500.0)
    gamma = gamma + rng.normal(0, 0.005, len(lag))
    emp = EmpiricalVariogram(edges, lag, gamma, np.full(len(lag), 3000), np.full(len(lag), 0.1),
                             "euclidean", "matheron", 1000)
    fitted = fit_variogram(emp)
    assert fitted.nested and fitted.model.endswith("+exponential")
    assert fitted.fit.aicc == min(fitted.fit.candidates.values())  # by far: no simpler one within 2
    # AICc = K ln(RSS/K) − Σ ln w + 2p + 2p(p + 1)/(K − p − 1), p = 5 for nugget + two
    # (sill, range) structures.
    w = np.full(len(lag), 3000 / (1 + 3000 / 2000))
    k, p = len(lag), 5
    expected = k * math.log(fitted.fit.rss / k) - np.log(w).sum() + 2 * p + 2 * p * (p + 1) / (
        k - p - 1)
    assert fitted.fit.aicc == pytest.approx(expected, rel=1e-12)
    assert fitted.fit.parameters[fitted.model] == 5 and fitted.fit.parameters["exponential"] == 3


def test_nested_model_errors():
    with pytest.raises(GeovarioError, match="nested model 'exponential\\+gaussian' needs "
                                            "structures"):
        FittedVariogram.single("exponential+gaussian", 0.1, 0.5, 100.0)
    with pytest.raises(GeovarioError, match="'exponential\\+gaussian' is a nested family"):
        Structure("exponential+gaussian", 0.5, 100.0)
    # The former one-structure form, and no structures at all, point at the constructor.
    for args in (("exponential", 0.1, 0.5, 100.0), (0.1, ()), (0.1, (("exponential", 1, 10),))):
        with pytest.raises(GeovarioError, match=r"for one structure by name use "
                                                r"FittedVariogram\.single\(model, nugget"):
            FittedVariogram(*args)
    with pytest.raises(GeovarioError, match="range must be positive"):
        Structure("exponential", 0.5, 0.0)
    with pytest.raises(GeovarioError, match="partial sill must be finite and >= 0"):
        Structure("exponential", -0.5, 10.0)
    with pytest.raises(GeovarioError, match="stable takes a shape"):
        Structure("stable", 0.5, 10.0)
    with pytest.raises(GeovarioError, match="matern shape must be one of"):
        Structure("matern", 0.5, 10.0, 1.0)
    assert len(get_model("gaussian+spherical").components) == 2
