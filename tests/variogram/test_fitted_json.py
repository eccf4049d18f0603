import json
import math
from dataclasses import replace

import numpy as np
import pytest

from geovario.errors import GeovarioError
from geovario.variogram import EmpiricalVariogram, FittedVariogram, Structure, fit_variogram

R = 6371.0


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
    assert loaded.weighting == "pairs" and np.isnan(loaded.empirical.gamma[1])
    assert loaded.to_dict()["version"] == 2


def test_slope_range_hand_worked_exponential():
    n, s, r = 0.1, 0.3, 1000.0
    fitted = FittedVariogram("exponential", n, s, r)
    # dγ/dθ = R · dγ/dh = R · (3s/r) · exp(−3h/r) = 0.01  ⇒  h = (r/3) · ln(R · 3s / (0.01 r)).
    expected = (r / 3) * math.log(R * 3 * s / (0.01 * r))
    assert expected == pytest.approx(2117.2, abs=0.05)
    assert fitted.slope_range_km() == pytest.approx(expected, rel=1e-9)
    assert fitted.slope_range_km(0.1) == pytest.approx((r / 3) * math.log(R * 3 * s / (0.1 * r)),
                                                       rel=1e-9)
    assert fitted.to_dict()["slope_range_km"] == pytest.approx(expected, rel=1e-9)


def test_slope_range_skips_a_gaussian_flat_start():
    s, r = 0.5, 1000.0
    fitted = FittedVariogram("gaussian", 0.0, s, r)
    # slope = R · s · (6h/r²) · exp(−3h²/r²): tiny near 0, steepest at h = r/√6, then falls.
    def slope(h):
        return R * s * 6 * h / r**2 * math.exp(-3 * h**2 / r**2)

    from scipy.optimize import brentq

    expected = brentq(lambda h: slope(h) - 0.01, r / math.sqrt(6), 10 * r, xtol=1e-10)
    assert fitted.slope_range_km() == pytest.approx(expected, rel=1e-9)
    assert slope(1e-3) < 0.01  # the start, which must not count


def test_flat_variogram_has_slope_range_zero():
    assert FittedVariogram("exponential", 0.5, 0.0, 100.0).slope_range_km() == 0.0


def test_replace_keeps_structures_consistent():
    fitted = FittedVariogram("exponential", 0.1, 0.5, 500.0)
    moved = replace(fitted, nugget=0.2)
    assert moved.nugget == 0.2 and moved.structures == fitted.structures
    with pytest.raises(GeovarioError, match="give either structures or"):
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
