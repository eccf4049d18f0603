"""``variogram.blend``: moving a fitted variogram part of the way to a refit, as curves."""

import math

import numpy as np
import pytest

from geovario.variogram import EmpiricalVariogram, FitRecord, FittedVariogram, Structure, blend

GRID = np.geomspace(1.0, 15000.0, 200)


def nested(n, s1, r1, s2, r2, short="exponential", long="exponential"):
    return FittedVariogram(nugget=n, structures=(Structure(short, s1, r1),
                                                 Structure(long, s2, r2)))


def with_bins(variogram, max_km=15000.0):
    """``variogram`` with bins from 0.5 to ``max_km`` (its largest observed lag)."""
    lags = np.geomspace(0.5, max_km, 20)
    edges = np.concatenate([[0.0], np.sqrt(lags[:-1] * lags[1:]), [max_km * 1.2]])
    emp = EmpiricalVariogram(edges, lags, variogram.gamma(lags), np.full(20, 1000),
                             np.full(20, 0.1), "cosine", "matheron", 500)
    return FittedVariogram(variogram.nugget, variogram.structures, empirical=emp,
                           fit=FitRecord(aicc=-50.0, candidates={"x": -50.0}))


def mix(old, new, alpha):
    return (1 - alpha) * old.gamma(GRID) + alpha * new.gamma(GRID)


@pytest.mark.parametrize(("old", "new"), [
    (FittedVariogram.single("exponential", 0.1, 0.5, 800.0),
     FittedVariogram.single("exponential", 0.2, 0.7, 1200.0)),
    (nested(0.1, 0.2, 10.0, 0.6, 1000.0), nested(0.3, 0.4, 30.0, 0.2, 2000.0)),
    # Different families: parameters cannot be mixed, curves can (the old blend took new).
    (FittedVariogram.single("exponential", 0.1, 0.5, 800.0),
     nested(0.3, 0.4, 30.0, 0.2, 2000.0, long="gaussian")),
    (FittedVariogram.single("stable", 0.1, 0.5, 800.0, 0.6),
     FittedVariogram.single("spherical", 0.15, 0.5, 1500.0)),
])
def test_the_blend_is_the_mixed_curve(old, new):
    old, new = with_bins(old), with_bins(new)
    alpha = 0.25
    mixed = blend(old, new, alpha)
    sill = max(old.sill, new.sill)
    assert np.abs(mixed.gamma(GRID) - mix(old, new, alpha)).max() < 0.01 * sill
    low, high = sorted((old.range_km, new.range_km))
    assert low * 0.95 <= mixed.range_km <= high * 1.05


def test_same_family_single_structures_mix_to_the_curve_not_the_parameters():
    # Mixing ranges linearly (the old rule) gives 0.5·(100 + 3000) = 1,550 km; the mixed
    # curve reaches 95 % of its partial sill elsewhere.
    old, new = (with_bins(FittedVariogram.single("exponential", 0.0, 1.0, r))
                for r in (100.0, 3000.0))
    mixed = blend(old, new, 0.5)
    target = 0.5 * (1 - np.exp(-3 * GRID / 100)) + 0.5 * (1 - np.exp(-3 * GRID / 3000))
    assert np.abs(mixed.gamma(GRID) - target).max() < 0.03
    # Its 95 % crossing: 0.5·exp(−3h/3000) = 0.05 (the short term has long died out).
    assert mixed.range_km == pytest.approx(1000 * math.log(10), rel=0.02)  # 2,303 km


def test_the_blend_carries_no_fit_statistics_and_alpha_one_is_the_refit():
    old = with_bins(FittedVariogram.single("exponential", 0.1, 0.5, 800.0))
    new = with_bins(FittedVariogram.single("exponential", 0.2, 0.7, 1200.0))
    mixed = blend(old, new, 0.5)
    assert math.isnan(mixed.fit.aicc) and mixed.fit.candidates == {}  # not the refit's own
    assert mixed.empirical is new.empirical
    assert blend(old, new, 1.0) is new
    same = blend(old, old, 0.3)
    np.testing.assert_allclose(same.gamma(GRID), old.gamma(GRID), atol=1e-6)
