"""Region-wise variograms: recovery on a two-region field, shrinkage, JSON, numpy and torch."""

import json
import math

import numpy as np
import pytest
import torch
from tests.helpers.fields import cap, exponential_field

from geovario.errors import GeovarioError
from geovario.variogram import (
    EmpiricalVariogram,
    FittedVariogram,
    empirical_variogram,
    fit_variogram,
)
from geovario.variogram.regional import RegionalVariogram, load_variogram, variogram_from_dict
from geovario.variogram.regional_fit import _region, fit_regional_variogram, shrunk_bins

#: Region A (Europe) decorrelates within 300 km, region B (South America) within 2,000 km.
RANGE_A, RANGE_B = 300.0, 2000.0


@pytest.fixture(scope="module")
def two_regions():
    """500 places in each region, 32 components; the global and the region-wise fits."""
    rng = np.random.default_rng(0)
    a, b = cap(rng, 45.0, 10.0, 1500, 500), cap(rng, -15.0, -60.0, 4000, 500)
    coords = np.concatenate([a, b])
    features = np.concatenate([exponential_field(rng, a, RANGE_A, 32),
                               exponential_field(rng, b, RANGE_B, 32)])
    emp = empirical_variogram(coords, features, dissimilarity="euclidean")
    global_fit = fit_variogram(emp, model="exponential", warn=False)
    regional = fit_regional_variogram(coords, features, global_fit, regions=2,
                                      model="exponential")
    return coords, features, regional


def test_each_region_recovers_its_own_range_and_the_global_fit_lies_between(two_regions):
    coords, _, regional = two_regions
    assert len(regional.regions) == 2
    west, east = regional.regions  # sorted west to east: B (60° W), then A (10° E)
    np.testing.assert_array_equal(regional.region_of(coords), np.repeat([1, 0], 500))
    # Tolerances for one realisation: the unshrunk fits within 20 %, the shrunk ones within
    # 20 % (A, thousands of pairs per bin) and 35 % (B: 500 places over a cap of 4,000 km
    # leave its bins under 200 km thin, and those are pulled toward the global curve).
    assert east.local.range_km == pytest.approx(RANGE_A, rel=0.2)
    assert west.local.range_km == pytest.approx(RANGE_B, rel=0.2)
    assert east.fitted.range_km == pytest.approx(RANGE_A, rel=0.2)
    assert west.fitted.range_km == pytest.approx(RANGE_B, rel=0.35)
    assert east.fitted.range_km < regional.global_fit.range_km < west.fitted.range_km
    # Both regions level off at the common sill, 32 (± one realisation's scatter).
    for region in regional.regions:
        assert region.fitted.sill == pytest.approx(32, rel=0.1)


def test_shrinkage_of_thin_bins_worked_by_hand():
    edges = np.array([0.0, 10.0, 100.0, 1000.0, 10000.0, 20000.0])
    lags = np.array([5.0, 50.0, 500.0, 5000.0, 15000.0])
    glob = FittedVariogram.single("exponential", 0.1, 0.5, 1000.0, empirical=EmpiricalVariogram(
        edges, lags, np.full(5, 0.4), np.array([20, 200, 2000, 20000, 20000]), np.full(5, 0.1),
        "cosine", "matheron", 1000))
    region = EmpiricalVariogram(edges, np.array([np.nan, 40.0, 400.0, 4000.0, 14000.0]),
                                np.array([np.nan, 0.2, 0.3, 0.5, 0.7]),
                                np.array([0, 10, 100, 900, 9900]), np.full(5, 0.2), "cosine",
                                "matheron", 50)
    shrunk = shrunk_bins(region, glob, shrinkage_pairs=100.0)

    def g(h):  # the global curve
        return 0.1 + 0.5 * (1 - math.exp(-3 * h / 1000))

    # Bin 0: the global fit left it out (20 < 30 pairs), so it stays as it was.
    assert shrunk.pairs[0] == 0 and math.isnan(shrunk.gamma[0])
    # Bin 1: 10 pairs, w = 10/110: mostly the global curve at the region's lag.
    assert shrunk.gamma[1] == pytest.approx(10 / 110 * 0.2 + 100 / 110 * g(40.0), rel=1e-12)
    assert shrunk.gamma[2] == pytest.approx(0.5 * 0.3 + 0.5 * g(400.0), rel=1e-12)
    assert shrunk.gamma[3] == pytest.approx(0.9 * 0.5 + 0.1 * g(4000.0), rel=1e-12)
    assert shrunk.gamma[4] == pytest.approx(0.99 * 0.7 + 0.01 * g(14000.0), rel=1e-12)
    np.testing.assert_array_equal(shrunk.pairs, [0, 110, 200, 1000, 10000])
    np.testing.assert_array_equal(shrunk.lag_km[1:], region.lag_km[1:])


def test_a_region_with_few_pairs_is_pulled_toward_the_global_curve(two_regions):
    """The same places, with region A's pairs thinned: its curve moves toward the global one."""
    coords, features, regional = two_regions
    glob, east = regional.global_fit, regional.regions[1]
    thin = fit_regional_variogram(coords, features, glob, regions=2, shrinkage_pairs=1e5,
                                  centroids_deg=regional.centroids_deg,
                                  model="exponential").regions[1]
    h = np.geomspace(20, 5000, 50)
    # κ = 10⁵ pairs outweighs A's bins (≤ ~10⁵ each): its curve ends near the global one.
    gap = np.abs(thin.fitted.gamma(h) - glob.gamma(h)).max()
    assert gap < 0.5 * np.abs(east.fitted.gamma(h) - glob.gamma(h)).max()
    assert thin.local.range_km == east.local.range_km  # the unshrunk fit does not change
    assert east.fitted.range_km < thin.fitted.range_km < glob.range_km


def test_gamma_per_region_in_numpy_and_torch(two_regions):
    _, _, regional = two_regions
    anchors = np.array([[45.0, 10.0], [-15.0, -60.0], [50.0, 0.0]])
    h = np.array([[10.0, 300.0, 3000.0]] * 3)
    expected = np.stack([regional.regions[1].fitted.gamma(h[0]),
                         regional.regions[0].fitted.gamma(h[1]),
                         regional.regions[1].fitted.gamma(h[2])])
    np.testing.assert_allclose(regional.gamma(h, anchors), expected, rtol=1e-12)
    in_torch = regional.gamma(torch.tensor(h), torch.tensor(anchors))
    np.testing.assert_allclose(in_torch.numpy(), expected, rtol=1e-12)
    # float32 distances stay float32, as the loss computes them.
    assert regional.gamma(torch.tensor(h, dtype=torch.float32),
                          torch.tensor(anchors)).dtype == torch.float32
    curves = regional.for_anchors(torch.tensor(anchors))
    assert curves.sill.shape == (3, 1) and curves.sill.dtype == torch.float32
    np.testing.assert_allclose(curves.range_km[:, 0].numpy(),
                               [regional.regions[i].fitted.range_km for i in (1, 0, 1)],
                               rtol=1e-6)
    np.testing.assert_allclose(regional.for_anchors(anchors).range_km[:, 0],
                               [regional.regions[i].fitted.range_km for i in (1, 0, 1)])
    # Without anchors: the global curve; γ at the report distances per region.
    np.testing.assert_array_equal(regional.gamma(h), regional.global_fit.gamma(h))
    assert regional.gamma_at_km(region=1) == regional.regions[1].fitted.gamma_at_km()


def test_json_round_trip_and_global_files(two_regions, tmp_path):
    _, _, regional = two_regions
    regional.save(tmp_path / "regional.json")
    loaded = load_variogram(tmp_path / "regional.json")
    assert isinstance(loaded, RegionalVariogram)
    assert json.dumps(loaded.to_dict()) == json.dumps(regional.to_dict())
    h = np.geomspace(1, 15000, 40)
    for old, new in zip(regional.regions, loaded.regions, strict=True):
        np.testing.assert_array_equal(old.fitted.gamma(h), new.fitted.gamma(h))
        assert (old.lat, old.lon, old.points) == (new.lat, new.lon, new.points)
    data = json.loads((tmp_path / "regional.json").read_text())
    assert data["regional"]["regions"][1]["range_km"] == regional.regions[1].fitted.range_km
    # A reader of global files reads the global fit; a global file loads as before.
    as_global = FittedVariogram.load(tmp_path / "regional.json")
    assert as_global.to_dict() == regional.global_fit.to_dict()
    regional.global_fit.save(tmp_path / "global.json")
    plain = load_variogram(tmp_path / "global.json")
    assert type(plain) is FittedVariogram and plain.to_dict() == regional.global_fit.to_dict()


def test_bad_regional_files(two_regions):
    data = two_regions[2].to_dict()
    with pytest.raises(GeovarioError, match="v.json: regional variogram version 9, this "
                                            "geovario reads version 1"):
        variogram_from_dict({**data, "regional": {**data["regional"], "version": 9}}, "v.json")
    broken = {**data["regional"], "regions": [{"lat": 1.0}]}
    with pytest.raises(GeovarioError, match="v.json: regional variogram: missing field 'lon'"):
        variogram_from_dict({**data, "regional": broken}, "v.json")


def test_a_global_only_regional_variogram_and_refused_input(two_regions):
    coords, features, regional = two_regions
    alone = RegionalVariogram(regional.global_fit)
    curves = alone.for_anchors(torch.zeros(4, 2))
    assert curves.rows is None and curves.sill == regional.global_fit.sill
    with pytest.raises(GeovarioError, match="a global variogram has no regions"):
        alone.region_of(coords)
    with pytest.raises(GeovarioError, match="shrinkage_pairs must be positive, got 0"):
        fit_regional_variogram(coords, features, regional.global_fit, regions=2,
                               shrinkage_pairs=0)
    bare = FittedVariogram.single("exponential", 0.1, 0.5, 500.0)
    with pytest.raises(GeovarioError, match="region-wise fits need the global fit's bins"):
        fit_regional_variogram(coords, features, bare, regions=2)


def test_regions_choose_their_family_by_aicc_or_take_the_global_one(two_regions):
    coords, features, regional = two_regions
    gaussian = fit_variogram(regional.global_fit.empirical, model="gaussian", warn=False)
    # model=None: every region in the global fit's family, whatever that family is.
    for family_fit in (regional.global_fit, gaussian):
        same = fit_regional_variogram(coords, features, family_fit, regions=2, model=None)
        assert [r.fitted.model for r in same.regions] == [family_fit.model] * 2
        assert [r.local.model for r in same.regions] == [family_fit.model] * 2
    # Default "auto": each region's best by AICc among every family, as a global fit of
    # its own shrunk bins would choose (here not the Gaussian of the global curve: the
    # fields are exponential).
    auto = fit_regional_variogram(coords, features, gaussian, regions=2)
    for region in auto.regions:
        assert region.fitted.model == fit_variogram(region.fitted.empirical, warn=False).model
    assert any(r.fitted.model != "gaussian" for r in auto.regions)


def test_a_region_whose_curve_never_levels_off_uses_the_global_curve():
    """Bins still rising at the largest lag: the region's clipped range is an artefact."""
    edges = np.geomspace(1.0, 20000.0, 25)
    edges[0] = 0.0
    lags = np.sqrt(np.maximum(edges[:-1], 0.5) * edges[1:])
    pairs = np.full(24, 100_000)  # so many that shrinkage leaves the region's bins alone
    glob = fit_variogram(EmpiricalVariogram(
        edges, lags, 0.05 + 0.35 * (1 - np.exp(-3 * lags / 800.0)), pairs, np.full(24, 0.1),
        "cosine", "matheron", 5000), model="exponential", warn=False)
    assert glob.range_bound is None
    rising = EmpiricalVariogram(edges, lags, 0.05 + 0.4 * lags / 20000.0, pairs,
                                np.full(24, 0.1), "cosine", "matheron", 300)
    levelling = EmpiricalVariogram(edges, lags, 0.05 + 0.35 * (1 - np.exp(-3 * lags / 300.0)),
                                   pairs, np.full(24, 0.1), "cosine", "matheron", 300)
    region = _region((0.0, 0.0), rising, glob, 100.0, "exponential")
    assert region.local.range_bound is not None  # its own fit, kept for comparison
    assert region.fitted is glob
    own = _region((0.0, 0.0), levelling, glob, 100.0, "exponential")
    assert own.fitted is not glob and own.fitted.range_km == pytest.approx(300.0, rel=0.05)
