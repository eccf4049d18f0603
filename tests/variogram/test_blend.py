"""``train.refit.blend``: moving a fitted variogram part of the way to a refit."""

import pytest

from geovario.train.refit import blend
from geovario.variogram import FittedVariogram, Structure


def nested(n, s1, r1, s2, r2, short="exponential", long="exponential"):
    return FittedVariogram(nugget=n, structures=(Structure(short, s1, r1),
                                                 Structure(long, s2, r2)))


def test_nested_fits_mix_structure_by_structure():
    old, new = nested(0.1, 0.2, 10.0, 0.6, 1000.0), nested(0.3, 0.4, 30.0, 0.2, 2000.0)
    mixed = blend(old, new, 0.25)
    assert mixed.model == "exponential+exponential"
    assert mixed.nugget == pytest.approx(0.75 * 0.1 + 0.25 * 0.3)
    (a, b) = mixed.structures
    assert (a.partial_sill, a.range_km) == pytest.approx((0.25, 15.0))
    assert (b.partial_sill, b.range_km) == pytest.approx((0.5, 1250.0))
    assert mixed.range_km < b.range_km  # derived fields follow the mixed structures


def test_single_fits_mix_as_before_including_a_continuous_shape():
    old = FittedVariogram("stable", 0.1, 0.5, 800.0, 1.0)
    new = FittedVariogram("stable", 0.2, 0.7, 1200.0, 1.5)
    mixed = blend(old, new, 0.5)
    assert (mixed.nugget, mixed.partial_sill, mixed.range_km, mixed.shape) == pytest.approx(
        (0.15, 0.6, 1000.0, 1.25))


def test_matern_smoothness_is_taken_from_the_new_fit():
    old = FittedVariogram("matern", 0.1, 0.5, 800.0, 0.5)
    new = FittedVariogram("matern", 0.1, 0.5, 800.0, 2.5)
    assert blend(old, new, 0.5).shape == 2.5  # 1.5 would be a mix, 1.0 no Matérn at all


def test_different_layouts_take_the_new_fit():
    old = FittedVariogram("exponential", 0.1, 0.5, 800.0)
    new = nested(0.3, 0.4, 30.0, 0.2, 2000.0, long="gaussian")
    assert blend(old, new, 0.1) is new
    assert blend(nested(0.1, 0.2, 10.0, 0.6, 1000.0), new, 0.1) is new
