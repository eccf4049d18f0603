import json
import math
from dataclasses import replace

import numpy as np
import pytest

from geovario.errors import GeovarioError
from geovario.variogram import (
    EmpiricalVariogram,
    FitRecord,
    FittedVariogram,
    Structure,
    fit_variogram,
)

R = 6371.0

#: A version-2 file as written before FittedVariogram had a core and named constructors
#: (main at 7a06aa2: an exponential fit to six bins, the first under min_pairs).
WRITTEN_BEFORE = {'format': 'geovario.variogram',
 'version': 2,
 'model': 'exponential',
 'nugget': 0.1347715402541885,
 'partial_sill': 0.4689628631938588,
 'sill': 0.6037344034480473,
 'range_km': 921.3482169409297,
 'curve_range_km': 921.3482169409297,
 'range_bound': None,
 'max_lag_km': 5000.0,
 'range_definition': 'range_km: the first distance where the fitted curve reaches nugget + '
                     '(1 - exp(-3)) * partial_sill (curve_range_km), bounded by the '
                     'largest lag the fit used (max_lag_km) and by 20015 km (half the '
                     'circumference); range_bound names the bound met, or null',
 'shape': None,
 'structures': [{'model': 'exponential',
                 'partial_sill': 0.4689628631938588,
                 'range_km': 921.3482169409297,
                 'shape': None,
                 'formula': 'n + s(1 - exp(-3h/r))'}],
 'slope_range_km': 2113.0275096082187,
 'slope_per_radian': 0.01,
 'gamma_at_km': {'1': 0.13629604593428876,
                 '25': 0.17143382285633854,
                 '200': 0.35921271723997816,
                 '750': 0.5629438650398667,
                 '2500': 0.6035976699042761},
 'dissimilarity': 'cosine',
 'estimator': 'matheron',
 'range_convention': 'practical range: gamma(range_km) = nugget + (1 - exp(-3)) * '
                     'partial_sill (about 95 %); spherical: the finite range; nested '
                     "models: the effective range of the summed curve, each structure's "
                     "range_km in 'structures'",
 'formula': 'n + s(1 - exp(-3h/r))',
 'fit': {'weighting': 'balanced',
         'min_pairs': 30,
         'rss': 0.9324814551607494,
         'criterion': 'AICc',
         'selection': 'AICc; among the candidates within 2 of the lowest, the one with the '
                      'fewest parameters, then the lowest AICc, then the first registered',
         'aicc': -13.843487960585641,
         'range_at_bound': False,
         'warnings': [],
         'candidates_aicc': {'exponential': -13.843487960585641},
         'candidates_parameters': {'exponential': 3}},
 'bins': [{'lag_km': 5.0,
           'gamma': 0.11928765612611143,
           'pairs': 20,
           'spread': 0.2,
           'low_km': 0.0,
           'high_km': 10.0},
          {'lag_km': 30.0,
           'gamma': 0.14320132644574216,
           'pairs': 400,
           'spread': 0.2,
           'low_km': 10.0,
           'high_km': 50.0},
          {'lag_km': 120.0,
           'gamma': 0.3011859241891134,
           'pairs': 4000,
           'spread': 0.2,
           'low_km': 50.0,
           'high_km': 200.0},
          {'lag_km': 500.0,
           'gamma': 0.5033225165775358,
           'pairs': 9000,
           'spread': 0.2,
           'low_km': 200.0,
           'high_km': 800.0},
          {'lag_km': 1800.0,
           'gamma': 0.6094145601896044,
           'pairs': 20000,
           'spread': 0.2,
           'low_km': 800.0,
           'high_km': 3000.0},
          {'lag_km': 5000.0,
           'gamma': 0.5999999964029334,
           'pairs': 30000,
           'spread': 0.2,
           'low_km': 3000.0,
           'high_km': 8000.0}],
 'n_points': 300,
 'sampled_pairs': None}


def nested_fit():
    edges = np.concatenate([[0.0], np.geomspace(1, 20000, 23)])
    lag = np.concatenate([[0.5], np.sqrt(edges[1:-1] * edges[2:])])
    gamma = 0.1 + 0.3 * (1 - np.exp(-3 * lag / 20)) + 0.6 * (1 - np.exp(-3 * lag / 1500))
    pairs = np.r_[np.full(3, 10), np.full(len(lag) - 3, 4000)]  # three bins left out
    emp = EmpiricalVariogram(edges, lag, gamma, pairs, np.full(len(lag), 0.2), "cosine",
                             "matheron", 900)
    return fit_variogram(emp, model="exponential+exponential")


def test_version_2_round_trip_is_exact(tmp_path):
    fitted = nested_fit()
    fitted.save(tmp_path / "v.json")
    loaded = FittedVariogram.load(tmp_path / "v.json")
    assert loaded.to_dict() == fitted.to_dict()
    assert loaded.structures == fitted.structures and loaded.range_km == fitted.range_km
    data = json.loads((tmp_path / "v.json").read_text())
    assert data["version"] == 2 and data["model"] == "exponential+exponential"
    assert [s["model"] for s in data["structures"]] == ["exponential", "exponential"]
    assert data["shape"] is None
    assert data["partial_sill"] == pytest.approx(sum(s["partial_sill"]
                                                     for s in data["structures"]))


def test_a_file_written_before_the_constructors_loads_and_writes_back_the_same(tmp_path):
    (tmp_path / "v.json").write_text(json.dumps(WRITTEN_BEFORE))
    loaded = FittedVariogram.load(tmp_path / "v.json")
    assert loaded.to_dict() == WRITTEN_BEFORE
    fit = WRITTEN_BEFORE["fit"]
    assert loaded.fit == FitRecord("balanced", fit["rss"], fit["aicc"], False,
                                   fit["candidates_aicc"], fit["candidates_parameters"])
    assert (loaded.min_pairs, loaded.max_lag_km, loaded.empirical.n_points) == (30, 5000.0, 300)


def test_gamma_at_km_keys_and_values():
    fitted = FittedVariogram(nugget=0.1, structures=(Structure("exponential", 0.3, 20.0),
                                                     Structure("spherical", 0.6, 1500.0)))
    at = fitted.to_dict()["gamma_at_km"]
    assert list(at) == ["1", "25", "200", "750", "2500"]
    for key, value in at.items():
        h = float(key)
        x = min(h / 1500, 1.0)
        expected = 0.1 + 0.3 * (1 - math.exp(-3 * h / 20)) + 0.6 * (1.5 * x - 0.5 * x**3)
        assert value == pytest.approx(expected, rel=1e-12)


def test_version_1_file_still_loads(tmp_path):
    v1 = {"format": "geovario.variogram", "version": 1, "model": "stable", "nugget": 0.1,
          "partial_sill": 0.5, "sill": 0.6, "range_km": 800.0, "shape": 1.2,
          "dissimilarity": "cosine", "estimator": "matheron",
          "fit": {"weighting": "pairs", "min_pairs": 30, "rss": 0.5, "aic": -10.0,
                  "range_at_bound": False, "candidates_aic": {"stable": -10.0}},
          "bins": [{"lag_km": 100.0, "gamma": 0.2, "pairs": 50, "spread": 0.1, "low_km": 0.0,
                    "high_km": 200.0},
                   {"lag_km": None, "gamma": None, "pairs": 0, "spread": None, "low_km": 200.0,
                    "high_km": 400.0}]}
    (tmp_path / "v1.json").write_text(json.dumps(v1))
    loaded = FittedVariogram.load(tmp_path / "v1.json")
    assert loaded.structures == (Structure("stable", 0.5, 800.0, 1.2),)
    assert (loaded.model, loaded.nugget, loaded.curve_range_km, loaded.shape) == (
        "stable", 0.1, 800.0, 1.2)
    # Its one usable bin lies at 100 km: the loss's range stops at the largest lag seen.
    assert (loaded.range_km, loaded.range_bound) == (100.0, "largest_lag")
    h = np.array([0.0, 300.0, 800.0])
    np.testing.assert_allclose(loaded.gamma(h), 0.1 + 0.5 * (1 - np.exp(-3 * (h / 800) ** 1.2)),
                               rtol=1e-12)
    assert loaded.fit.weighting == "pairs" and np.isnan(loaded.empirical.gamma[1])
    assert loaded.to_dict()["version"] == 2


def test_slope_range_hand_worked_exponential():
    n, s, r = 0.1, 0.3, 1000.0
    fitted = FittedVariogram.single("exponential", n, s, r)
    # dγ/dθ = R · dγ/dh = R · (3s/r) · exp(−3h/r) = 0.01  ⇒  h = (r/3) · ln(R · 3s / (0.01 r)).
    expected = (r / 3) * math.log(R * 3 * s / (0.01 * r))
    assert expected == pytest.approx(2117.2, abs=0.05)
    assert fitted.slope_range_km() == pytest.approx(expected, rel=1e-9)
    assert fitted.slope_range_km(0.1) == pytest.approx((r / 3) * math.log(R * 3 * s / (0.1 * r)),
                                                       rel=1e-9)
    assert fitted.to_dict()["slope_range_km"] == pytest.approx(expected, rel=1e-9)


def test_slope_range_skips_a_gaussian_flat_start():
    s, r = 0.5, 1000.0
    fitted = FittedVariogram.single("gaussian", 0.0, s, r)
    # slope = R · s · (6h/r²) · exp(−3h²/r²): tiny near 0, steepest at h = r/√6, then falls.
    def slope(h):
        return R * s * 6 * h / r**2 * math.exp(-3 * h**2 / r**2)

    from scipy.optimize import brentq

    expected = brentq(lambda h: slope(h) - 0.01, r / math.sqrt(6), 10 * r, xtol=1e-10)
    assert fitted.slope_range_km() == pytest.approx(expected, rel=1e-9)
    assert slope(1e-3) < 0.01  # the start, which must not count


def test_flat_variogram_has_slope_range_zero():
    assert FittedVariogram.single("exponential", 0.5, 0.0, 100.0).slope_range_km() == 0.0


def test_replace_keeps_structures_consistent():
    fitted = FittedVariogram.single("exponential", 0.1, 0.5, 500.0)
    moved = replace(fitted, nugget=0.2)
    assert moved.nugget == 0.2 and moved.structures == fitted.structures
    with pytest.raises(TypeError, match="range_km"):  # read off the structures, not set
        replace(fitted, range_km=600.0)
    longer = replace(fitted, structures=(Structure("exponential", 0.5, 600.0),))
    assert longer.range_km == 600.0


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"structures": [{"model": "exponential", "partial_sill": 1, "range_km": 5}],
          "model": "gaussian"}, "model 'gaussian' does not match its structures"),
        ({"structures": [{"model": "cubic", "partial_sill": 1, "range_km": 5}],
          "model": "cubic"}, "unknown variogram family 'cubic'"),
        ({"structures": [{"model": "exponential", "partial_sill": 1}]}, "missing field"),
    ],
)
def test_bad_version_2_files(tmp_path, change, message):
    data = nested_fit().to_dict()
    data.update(change)
    (tmp_path / "v.json").write_text(json.dumps(data))
    with pytest.raises(GeovarioError, match=f"{tmp_path / 'v.json'}: .*{message}"):
        FittedVariogram.load(tmp_path / "v.json")
