"""The semivariogram loss with a region-wise variogram: each anchor's pairs use its region."""

from dataclasses import replace

import numpy as np
import pytest
import torch

from geovario.losses import ContrastiveInputs, SemivariogramContrastiveLoss, build_loss
from geovario.variogram import EmpiricalVariogram, FittedVariogram
from geovario.variogram.regional import Region, RegionalVariogram

GLOBAL = FittedVariogram.single("exponential", 0.1, 0.5, 1000.0)
#: Region 0 (around 0° E) decorrelates within 300 km, region 1 (around 90° E) within 3,000.
SHORT = FittedVariogram.single("exponential", 0.05, 0.6, 300.0)
LONG = FittedVariogram.single("stable", 0.15, 0.4, 3000.0, 0.8)
CENTRES = ((0.0, 0.0), (0.0, 90.0))


def regional(*fits, glob=GLOBAL, bins=3):
    """One region per fit, centred at CENTRES, beside the global fit ``glob``."""
    regions = tuple(Region(lat, lon, 100, np.zeros(bins, dtype=np.int64), fit)
                    for (lat, lon), fit in zip(CENTRES, fits, strict=True))
    return RegionalVariogram(glob, regions, shrinkage_pairs=100)


def batch(seed=0, anchors=16, queue=48, dim=8):
    """Anchors around both centres; candidates are the anchors' places and a queue nearby."""
    rng = np.random.default_rng(seed)
    centre = np.array(CENTRES)[rng.integers(0, 2, anchors + queue)]
    coords = centre + rng.normal(0, 8, (anchors + queue, 2))  # up to ~2,500 km apart
    features = rng.normal(size=(anchors + queue, dim)) + 3 * coords[:, 1:] / 90
    coords, features = torch.tensor(coords), torch.tensor(features, dtype=torch.float32)
    return ContrastiveInputs(targets=torch.arange(anchors), anchor_coords=coords[:anchors],
                             candidate_coords=coords, anchor_features=features[:anchors],
                             candidate_features=features)


OPTIONS = [dict(), dict(false_negatives="soft-positive", false_strength=0.8),
           dict(residual_scale="sill", hard_strength=1.0, max_weight=5.0),
           dict(rule="prototype")]


@pytest.mark.parametrize("options", OPTIONS)
def test_regions_that_all_equal_the_global_fit_give_exactly_the_global_loss(options):
    inputs = batch()
    logits = torch.randn(16, 64, generator=torch.Generator().manual_seed(1))
    alone = SemivariogramContrastiveLoss(GLOBAL, **options)
    split = SemivariogramContrastiveLoss(regional(GLOBAL, GLOBAL), **options)
    assert torch.equal(alone(logits, inputs), split(logits, inputs))
    assert alone.last_stats == split.last_stats
    if options.get("rule") != "prototype":
        for a, b in zip(alone.weights_and_targets(inputs, (16, 64)),
                        split.weights_and_targets(inputs, (16, 64)), strict=True):
            assert torch.equal(a, b)


@pytest.mark.parametrize("options", OPTIONS[:3])
def test_each_anchor_row_is_what_its_regions_fit_alone_gives(options):
    """Oracle: the global loss with region r's fit, on the rows of r's anchors."""
    inputs = batch(seed=2)
    loss = SemivariogramContrastiveLoss(regional(SHORT, LONG), **options)
    weights, targets = loss.weights_and_targets(inputs, (16, 64))
    region = loss.variogram.region_of(inputs.anchor_coords).numpy()
    assert set(region) == {0, 1}
    for r, fit in enumerate((SHORT, LONG)):
        rows = region == r
        w, t = SemivariogramContrastiveLoss(fit, **options).weights_and_targets(inputs,
                                                                               (16, 64))
        torch.testing.assert_close(weights[rows], w[rows], rtol=1e-6, atol=1e-7)
        torch.testing.assert_close(targets[rows], t[rows], rtol=1e-6, atol=1e-7)
    # The two regions' ranges differ enough that some pair is treated differently.
    w_global, _ = SemivariogramContrastiveLoss(GLOBAL, **options).weights_and_targets(
        inputs, (16, 64))
    assert not torch.equal(weights, w_global)


def test_prototype_rule_uses_each_regions_slope_range():
    inputs = batch(seed=3)
    logits = torch.randn(16, 64, generator=torch.Generator().manual_seed(4))
    loss = SemivariogramContrastiveLoss(regional(SHORT, LONG), rule="prototype")
    out = loss.prototype_logits(logits, inputs)
    region = loss.variogram.region_of(inputs.anchor_coords).numpy()
    for r, fit in enumerate((SHORT, LONG)):
        alone = SemivariogramContrastiveLoss(fit, rule="prototype")
        rows = region == r
        torch.testing.assert_close(out[rows], alone.prototype_logits(logits, inputs)[rows])
    settings = loss.settings()
    assert settings["regions"] == 2
    slopes = [fit.slope_range_km() for fit in (SHORT, LONG)]
    assert (settings["region_range_min_km"], settings["region_range_max_km"]) == \
        (min(slopes), max(slopes))
    assert settings["range_km"] == GLOBAL.slope_range_km()


def test_the_loss_state_keeps_the_regions(tmp_path):
    variogram = regional(SHORT, LONG)
    variogram.save(tmp_path / "v.json")
    loss = build_loss("semivariogram", variogram=tmp_path / "v.json")
    assert isinstance(loss.variogram, RegionalVariogram)
    state = loss.get_extra_state()
    fresh = SemivariogramContrastiveLoss(GLOBAL)
    fresh.set_extra_state(state)
    inputs = batch(seed=5)
    logits = torch.randn(16, 64, generator=torch.Generator().manual_seed(6))
    assert torch.equal(fresh(logits, inputs), loss(logits, inputs))
    assert fresh.get_extra_state() == state


EDGES = np.array([0.0, 10.0, 100.0, 1000.0, 5000.0, 20000.0])
SPREAD_OPTIONS = [dict(residual_scale="spread"), dict(hard_margin=1.0),
                  dict(residual_scale="spread", hard_margin=0.5, false_negatives="soft-positive")]


def with_bins(fit, spread):
    """``fit`` with five bins of 1,000 pairs whose spread of d is ``spread`` (per bin)."""
    lags = np.array([5.0, 50.0, 500.0, 3000.0, 12000.0])
    return replace(fit, empirical=EmpiricalVariogram(
        EDGES, lags, fit.gamma(lags), np.full(5, 1000), np.asarray(spread, dtype=np.float64),
        "cosine", "matheron", 500))


@pytest.mark.parametrize("options", SPREAD_OPTIONS)
def test_each_anchor_row_uses_its_regions_spread(options):
    """Oracle: the global loss with region r's fit and bins alone, on r's anchors' rows.

    The regions' spreads differ from each other and from the global one by a factor of 2
    to 8, so a loss reading the global spread for every row would not match.
    """
    glob = with_bins(GLOBAL, [0.2, 0.2, 0.2, 0.2, 0.2])
    short = with_bins(SHORT, [0.02, 0.03, 0.05, 0.05, 0.05])
    long = with_bins(LONG, [0.1, 0.1, 0.4, 0.4, 0.3])
    variogram = regional(short, long, glob=glob, bins=5)
    inputs = batch(seed=7)
    loss = SemivariogramContrastiveLoss(variogram, **options)
    weights, targets = loss.weights_and_targets(inputs, (16, 64))
    region = variogram.region_of(inputs.anchor_coords).numpy()
    for r, fit in enumerate((short, long)):
        rows = region == r
        w, t = SemivariogramContrastiveLoss(fit, **options).weights_and_targets(inputs,
                                                                               (16, 64))
        torch.testing.assert_close(weights[rows], w[rows], rtol=1e-6, atol=1e-7)
        torch.testing.assert_close(targets[rows], t[rows], rtol=1e-6, atol=1e-7)
        global_spread = SemivariogramContrastiveLoss(replace(fit, empirical=glob.empirical),
                                                     **options)
        assert not torch.equal(weights[rows], global_spread.weights_and_targets(
            inputs, (16, 64))[0][rows])


def test_a_region_without_bins_of_its_own_uses_the_global_spread():
    glob = with_bins(GLOBAL, [0.2, 0.15, 0.1, 0.1, 0.1])
    short = with_bins(SHORT, [0.02, 0.03, 0.05, 0.05, 0.05])
    variogram = regional(short, LONG, glob=glob, bins=5)
    inputs = batch(seed=8)
    weights, _ = SemivariogramContrastiveLoss(variogram, hard_margin=1.0).weights_and_targets(
        inputs, (16, 64))
    rows = variogram.region_of(inputs.anchor_coords).numpy() == 1
    alone = SemivariogramContrastiveLoss(replace(LONG, empirical=glob.empirical),
                                         hard_margin=1.0)
    torch.testing.assert_close(weights[rows], alone.weights_and_targets(inputs, (16, 64))[0][rows],
                               rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("options", SPREAD_OPTIONS)
def test_regions_on_the_global_curve_give_exactly_the_global_spread_loss(options):
    glob = with_bins(GLOBAL, [0.2, 0.15, 0.1, 0.1, 0.1])
    inputs = batch(seed=9)
    logits = torch.randn(16, 64, generator=torch.Generator().manual_seed(10))
    split = regional(glob, glob, glob=glob, bins=5)
    alone = SemivariogramContrastiveLoss(glob, **options)
    both = SemivariogramContrastiveLoss(split, **options)
    assert torch.equal(alone(logits, inputs), both(logits, inputs))
    for a, b in zip(alone.weights_and_targets(inputs, (16, 64)),
                    both.weights_and_targets(inputs, (16, 64)), strict=True):
        assert torch.equal(a, b)
