import math

import gstools as gs
import numpy as np
import pytest
from tests.helpers.variogram_models import CASES, gstools_equivalent

from geovario.errors import GeovarioError
from geovario.variogram import (
    FAMILIES,
    EmpiricalVariogram,
    FittedVariogram,
    empirical_variogram,
    fit_model,
    fit_variogram,
    get_model,
    standard_bins,
)

LAGS = np.linspace(50, 4000, 18)


@pytest.mark.parametrize(("name", "shape"), CASES)
def test_noise_free_parameters_are_recovered(name, shape):
    gamma = get_model(name).gamma(LAGS, 0.1, 0.8, 900.0, shape)
    fit = fit_model(LAGS, gamma, model=name)
    assert fit.nugget == pytest.approx(0.1, abs=1e-6)
    assert fit.partial_sill == pytest.approx(0.8, rel=1e-6)
    assert fit.range_km == pytest.approx(900.0, rel=1e-5)
    if shape is not None:
        assert fit.shape == pytest.approx(shape, rel=1e-4)


def gstools_practical_range(model) -> float:
    """Practical range of a fitted GSTools model, from its own correlation function."""
    if isinstance(model, gs.Spherical):
        return model.len_scale
    from scipy.optimize import brentq

    return brentq(lambda h: model.correlation(h) - math.exp(-3), 1e-6, 1e6)


@pytest.mark.parametrize(("name", "shape"), [(n, s) for n, s in CASES if s in (None, 0.3, 1.5)])
def test_weighted_fit_equals_gstools_linear_loss(name, shape):
    rng = np.random.default_rng(0)
    weights = rng.integers(100, 5000, len(LAGS)).astype(float)
    gamma = get_model(name).gamma(LAGS, 0.1, 0.9, 1200.0, shape) + rng.normal(0, 0.02, len(LAGS))
    ours = fit_model(LAGS, gamma, weights, model=name)
    theirs = type(gstools_equivalent(name, shape or 1.0, 1000.0))(dim=2)
    fixed = {"nu": shape} if name == "matern" else {}
    # GSTools minimises Σ (v_k · residual_k)², ours Σ w_k · residual_k²: v = √w.
    theirs.fit_variogram(LAGS, gamma, nugget=True, loss="linear", weights=np.sqrt(weights),
                         **fixed)
    # Same optimum: our loss is no worse than GSTools', and the parameters agree.
    their_rss = float(np.sum(weights * (gamma - theirs.variogram(LAGS)) ** 2))
    assert ours.rss <= their_rss * (1 + 1e-9)
    assert ours.nugget == pytest.approx(theirs.nugget, abs=1e-4)
    assert ours.partial_sill == pytest.approx(theirs.var, rel=1e-4)
    assert ours.range_km == pytest.approx(gstools_practical_range(theirs), rel=1e-3)
    if name == "stable":
        assert ours.shape == pytest.approx(theirs.alpha, rel=1e-3)


def test_fit_without_nugget_keeps_it_at_zero():
    gamma = get_model("exponential").gamma(LAGS, 0.1, 0.8, 900.0)
    fit = fit_model(LAGS, gamma, model="exponential", fit_nugget=False)
    assert fit.nugget == 0.0 and fit.partial_sill > 0.8


def test_flat_data_fits_a_pure_nugget():
    fit = fit_model(LAGS, np.full(len(LAGS), 0.4), model="exponential")
    assert fit.nugget + fit.partial_sill == pytest.approx(0.4, rel=1e-9)


@pytest.mark.slow
def test_range_of_simulated_fields_is_recovered(sphere_points):
    """Simulate → estimate → fit: exponential fields on the sphere with practical range
    1000 km, nugget 0.1 and partial sill 1; recover them over several realisations."""
    fits = []
    for seed in range(8):
        coords = sphere_points(2000, 100 + seed)
        model = gs.Exponential(latlon=True, var=1.0, len_scale=1000 / 3, nugget=0.1,
                               geo_scale=gs.KM_SCALE)
        field = gs.SRF(model, seed=seed)((coords[:, 0], coords[:, 1]))
        emp = empirical_variogram(coords, field, standard_bins(coords, bins=20, max_km=3000),
                                  dissimilarity="euclidean")
        fit = fit_variogram(emp, model="exponential")
        fits.append((fit.nugget, fit.partial_sill, fit.range_km))
    nugget, sill, range_km = np.mean(fits, axis=0)
    # One realisation scatters (sd ≈ 0.1 nugget, 180 km range); the mean of 8 is ~2.8× tighter.
    assert 850 < range_km < 1300
    assert abs(nugget - 0.1) < 0.12
    assert abs(sill - 1.0) < 0.2


def synthetic_empirical(name="spherical", noise=0.01, seed=0, pairs=None):
    rng = np.random.default_rng(seed)
    edges = np.linspace(0, 4000, 21)
    lag = (edges[:-1] + edges[1:]) / 2
    gamma = get_model(name).gamma(lag, 0.05, 0.6, 1500.0, None) + rng.normal(0, noise, 20)
    counts = np.full(20, 1000) if pairs is None else np.asarray(pairs)
    return EmpiricalVariogram(edges, lag, gamma, counts, np.full(20, 0.1), "cosine",
                              "matheron", 500)


def test_auto_picks_the_generating_model_family():
    fitted = fit_variogram(synthetic_empirical("spherical", noise=0.003), model="auto")
    assert fitted.model == "spherical"
    assert set(fitted.fit.candidates) == set(FAMILIES)  # every registered model, nested ones too
    assert fitted.fit.aicc == fitted.fit.candidates["spherical"]


def test_small_bins_are_dropped_and_cressie_weights_converge():
    counts = [1000] * 17 + [5, 5, 5]
    emp = synthetic_empirical("exponential", noise=0.0, pairs=counts)
    emp.gamma[-3:] = 5.0  # wild values in bins too small to trust
    for weighting in ("pairs", "cressie", "equal"):
        fitted = fit_variogram(emp, model="exponential", weighting=weighting, min_pairs=30)
        assert fitted.range_km == pytest.approx(1500.0, rel=1e-4)


def test_fit_errors():
    emp = synthetic_empirical(pairs=[10] * 18 + [100, 100])
    with pytest.raises(GeovarioError, match="fit: only 2 bins hold at least 30 pairs; need 3"):
        fit_variogram(emp)
    with pytest.raises(GeovarioError, match="fit: unknown weighting 'inverse'"):
        fit_variogram(synthetic_empirical(), weighting="inverse")
    with pytest.raises(GeovarioError, match="fit: need at least 3 bins"):
        fit_model([1, 2], [0.1, 0.2])
    with pytest.raises(GeovarioError, match="fit: lags, gamma and weights must be finite"):
        fit_model([1, 2, 3], [0.1, np.nan, 0.2])
    with pytest.raises(GeovarioError, match="fit: lags, gamma and weights differ in length"):
        fit_model([1, 2, 3], [0.1, 0.2])
    with pytest.raises(GeovarioError, match="fit: weights must be positive"):
        fit_model([1, 2, 3], [0.1, 0.2, 0.3], [1, 0, 1])


def test_json_round_trip_and_torch_evaluation(tmp_path):
    import torch

    fitted = fit_variogram(synthetic_empirical("exponential"), model="stable")
    path = tmp_path / "sub" / "variogram.json"
    fitted.save(path)
    loaded = FittedVariogram.load(path)
    assert loaded.to_dict() == fitted.to_dict()
    h = np.array([0.0, 100.0, 1500.0, 9000.0])
    np.testing.assert_allclose(loaded.gamma(h), fitted.gamma(h), rtol=1e-15)
    np.testing.assert_allclose(fitted.gamma(torch.from_numpy(h)).numpy(), fitted.gamma(h),
                               rtol=1e-12)
    assert fitted.spatial_correlation(np.array(0.0)) == pytest.approx(
        1 - fitted.nugget / fitted.sill)
    assert not list(tmp_path.glob("sub/.*tmp")), "no temp file is left behind"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON"),
        ('{"format": "other"}', "not a geovario variogram file"),
        ('{"format": "geovario.variogram", "version": 9}', "variogram file version 9"),
        ('{"format": "geovario.variogram", "version": 1, "model": "stable"}',
         "missing field 'nugget'"),
    ],
)
def test_bad_variogram_files(tmp_path, content, message):
    path = tmp_path / "v.json"
    path.write_text(content)
    with pytest.raises(GeovarioError, match=message):
        FittedVariogram.load(path)
    with pytest.raises(GeovarioError, match="no such variogram file"):
        FittedVariogram.load(tmp_path / "missing.json")
