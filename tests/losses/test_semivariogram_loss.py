import math
from dataclasses import replace

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from geovario.errors import GeovarioError
from geovario.geo import haversine_km
from geovario.losses import ContrastiveInputs, InfoNCELoss, SemivariogramContrastiveLoss
from geovario.variogram import EmpiricalVariogram, FittedVariogram

# Exponential model: nugget 0.1, partial sill 0.5 (sill 0.6), practical range 500 km.
VARIOGRAM = FittedVariogram.single("exponential", nugget=0.1, partial_sill=0.5,
                                   range_km=500.0)
KM_PER_DEGREE = math.pi * 6371 / 180


def sv_loss(variogram=VARIOGRAM, **options):
    """The loss with no hard-negative margin unless asked (VARIOGRAM has no bins)."""
    return SemivariogramContrastiveLoss(variogram, **{"hard_margin": 0.0, **options})


def unit(angle):
    """A 2-D unit feature at ``angle`` radians: cos between two of them = cos(Δangle)."""
    return [math.cos(angle), math.sin(angle)]


def inputs_for(candidates_km, candidate_angles):
    """One anchor at (0, 0) with feature angle 0; candidate 0 is its own location."""
    coords = [[0.0, 0.0]] + [[0.0, km / KM_PER_DEGREE] for km in candidates_km]
    features = [unit(0.0)] + [unit(a) for a in candidate_angles]
    return ContrastiveInputs(
        targets=torch.tensor([0]),
        anchor_coords=torch.tensor([coords[0]], dtype=torch.float64),
        candidate_coords=torch.tensor(coords, dtype=torch.float64),
        anchor_features=torch.tensor([features[0]]),
        candidate_features=torch.tensor(features),
    )


def weights(loss, inputs):
    n = len(inputs.candidate_coords)
    w, _ = loss.weights_and_targets(inputs, (1, n))
    return w[0, 1:].numpy()


def test_identical_features_at_zero_km_get_the_smallest_weight():
    loss = sv_loss()
    w = weights(loss, inputs_for([0.0, 100.0, 5000.0], [0.0, 0.0, 1.0]))
    # γ(0) = nugget = 0.1 ≥ d = 0 → false negative; w = 1 − (1 − γ(0)/sill) = 0.1 / 0.6.
    assert w[0] == pytest.approx(0.1 / 0.6, rel=1e-6)  # float32 weights
    assert w[0] == w.min()


def test_identical_features_far_beyond_the_range_are_hard():
    loss = sv_loss(hard_strength=1.0, max_weight=5.0)
    (w,) = weights(loss, inputs_for([5000.0], [0.0]))
    gamma = 0.1 + 0.5 * (1 - math.exp(-3 * 5000 / 500))
    # residual (γ − 0) / sill; weight exp(β · residual) under the bound.
    assert w == pytest.approx(math.exp(gamma / 0.6), rel=1e-6)
    assert w > 1


def test_exactly_expected_dissimilarity_beyond_the_range_keeps_weight_one():
    h = 2000.0
    gamma = 0.1 + 0.5 * (1 - math.exp(-3 * h / 500))
    angle = math.acos(1 - gamma)  # 1 − cos = γ(h): exactly as dissimilar as expected
    loss = sv_loss()
    (w,) = weights(loss, inputs_for([h], [angle]))
    assert w == pytest.approx(1.0, abs=1e-6)


def test_weights_are_monotone_in_the_residual_and_bounded():
    angles = np.linspace(0.0, 1.2, 40)  # growing dissimilarity, shrinking residual
    loss = sv_loss(hard_strength=8.0, max_weight=2.5)
    far = weights(loss, inputs_for([3000.0] * len(angles), angles))
    assert np.all(np.diff(far) <= 1e-12) and far.max() <= 2.5 and far.min() >= 1.0
    assert far[0] == pytest.approx(2.5)  # the bound is reached
    near = weights(loss, inputs_for([50.0] * len(angles), angles))
    assert np.all((near > 0) & (near <= 1.0))


def test_false_negative_modes():
    inputs = inputs_for([0.0, 5000.0], [0.0, 2.0])
    none = sv_loss(false_negatives="none")
    assert weights(none, inputs)[0] == 1.0
    soft = sv_loss(false_negatives="soft-positive", false_strength=0.5)
    w, q = soft.weights_and_targets(inputs, (1, 3))
    share = 0.5 * (1 - 0.1 / 0.6)  # λ · c(0), c = 1 − γ(0)/sill
    assert w[0, 1] == 1.0
    np.testing.assert_allclose(q[0].numpy(), [1 - share, share, 0.0], rtol=1e-6)


@pytest.mark.parametrize("strength", [0.2, 0.5, 1.0])
def test_soft_positives_leave_the_own_location_at_least_one_minus_min_lambda_half(strength):
    # 300 near-identical neighbours at 0-3 km: uncapped, each would take λ·c of the target.
    km = np.linspace(0.0, 3.0, 300)
    inputs = inputs_for(list(km), [0.001] * len(km))
    soft = sv_loss(false_negatives="soft-positive", false_strength=strength)
    _, q = soft.weights_and_targets(inputs, (1, len(km) + 1))
    assert q.sum().item() == pytest.approx(1.0, abs=1e-5)
    own = 1 - min(strength, 0.5)  # λ = 1 used to leave the own location nothing
    assert q[0, 0].item() == pytest.approx(own, abs=1e-5)  # the cap binds
    assert (q >= 0).all()
    raw = strength * VARIOGRAM.spatial_correlation(torch.tensor(km))
    ratios = q[0, 1:] / raw.float()  # shares scaled down together: proportions are kept
    torch.testing.assert_close(ratios, torch.full_like(ratios, ratios[0].item()))
    assert soft.last_stats["own_target"] == pytest.approx(own, abs=1e-5)


def random_inputs(b=6, c=20, dim=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    lat = torch.rand(c, generator=g, dtype=torch.float64) * 120 - 60
    lon = torch.rand(c, generator=g, dtype=torch.float64) * 360 - 180
    coords = torch.stack([lat, lon], 1)
    features = torch.randn(c, dim, generator=g)
    features[1] = features[0] + 0.01  # near-duplicates make every kind of pair appear
    return ContrastiveInputs(targets=torch.arange(b), anchor_coords=coords[:b],
                             candidate_coords=coords, anchor_features=features[:b].clone(),
                             candidate_features=features)


def test_all_ones_weights_reproduce_infonce_exactly():
    inputs = random_inputs()
    logits = torch.randn(6, 20, generator=torch.Generator().manual_seed(1), requires_grad=True)
    neutral = sv_loss(hard_strength=0.0,
                                           false_negatives="none")
    ours = neutral(logits, inputs)
    theirs = InfoNCELoss()(logits, inputs)
    assert ours.item() == theirs.item()
    torch.testing.assert_close(torch.autograd.grad(ours, logits)[0],
                               torch.autograd.grad(theirs, logits)[0], rtol=0, atol=1e-7)


def test_no_gradient_flows_through_the_weights():
    inputs = random_inputs()
    inputs.anchor_features.requires_grad_(True)
    logits = torch.randn(6, 20, requires_grad=True)
    sv_loss()(logits, inputs).backward()
    assert inputs.anchor_features.grad is None
    assert logits.grad is not None


def test_matches_weighted_infonce_written_out():
    inputs = random_inputs(seed=3)
    logits = torch.randn(6, 20, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    loss = sv_loss(hard_strength=2.0)
    w, _ = loss.weights_and_targets(inputs, (6, 20))
    expected = np.mean([
        -logits[i, i].item() + math.log(math.exp(logits[i, i].item()) + sum(
            w[i, j].item() * math.exp(logits[i, j].item()) for j in range(20) if j != i))
        for i in range(6)])
    assert loss(logits, inputs).item() == pytest.approx(expected, rel=1e-6)
    stats = loss.last_stats
    assert 0 <= stats["hard_share"] <= 1 and 0 <= stats["false_share"] <= 1


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
@pytest.mark.parametrize("scale", [1.0, 100.0, 1e4])
def test_stable_with_low_precision_and_extreme_logit_scales(dtype, scale):
    inputs = random_inputs(seed=5)
    cos = torch.rand(6, 20, generator=torch.Generator().manual_seed(6)) * 2 - 1
    logits = (scale * cos).clamp(-6e4, 6e4).to(dtype)
    for rule in ("abstract", "prototype"):
        value = sv_loss(rule=rule)(logits, inputs)
        assert torch.isfinite(value)


def test_prototype_rule_matches_its_transcription():
    inputs = random_inputs(seed=7)
    logits = torch.randn(6, 20, generator=torch.Generator().manual_seed(8))
    loss = sv_loss(rule="prototype")
    ours = loss(logits, inputs)
    # The prototype's range: the slope of γ per radian of arc, 6371·(3s/r)·exp(−3h/r),
    # falls to 0.01 at h = (r/3)·ln(6371·3s/(0.01·r)) (s = 0.5, r = 500 km): 1,259 km.
    prototype_range = 500 / 3 * math.log(6371 * 3 * 0.5 / (0.01 * 500))
    assert loss.range_km == pytest.approx(prototype_range, rel=1e-3)
    assert loss.settings()["range_km"] == loss.range_km
    # Direct transcription: within the range, p = max(0, d − γ(h)); logit × exp(p).
    a, c = inputs.anchor_coords.numpy(), inputs.candidate_coords.numpy()
    fa = F.normalize(inputs.anchor_features, dim=1).numpy()
    fc = F.normalize(inputs.candidate_features, dim=1).numpy()
    changed = logits.clone()
    for i in range(6):
        for j in range(20):
            h = haversine_km(a[i, 0], a[i, 1], c[j, 0], c[j, 1])
            d = 1 - float(fa[i] @ fc[j])
            gamma = 0.1 + 0.5 * (1 - math.exp(-3 * h / 500))
            if j != i and h <= prototype_range:
                changed[i, j] = logits[i, j] * math.exp(max(0.0, d - gamma))
    assert ours.item() == pytest.approx(F.cross_entropy(changed, inputs.targets).item(),
                                        rel=1e-5)


def test_warm_up_is_plain_infonce():
    inputs = random_inputs()
    inputs.queue_full = False
    logits = torch.randn(6, 20)
    assert sv_loss(hard_strength=5)(logits, inputs).item() == \
        InfoNCELoss()(logits, inputs).item()


def test_bad_options():
    with pytest.raises(GeovarioError, match="false_negatives must be one of"):
        sv_loss(false_negatives="drop")
    with pytest.raises(GeovarioError, match="rule must be one of"):
        sv_loss(rule="x")
    with pytest.raises(GeovarioError, match="fitted on 'euclidean' dissimilarity"):
        SemivariogramContrastiveLoss(FittedVariogram.single("exponential", 0, 1, 10,
                                                     dissimilarity="euclidean"))
    with pytest.raises(GeovarioError, match="need a variogram file with its empirical bins"):
        sv_loss(residual_scale="spread")
    with pytest.raises(GeovarioError, match="need a variogram file with its empirical bins"):
        SemivariogramContrastiveLoss(VARIOGRAM, hard_margin=1.0)  # a margin needs the spread
    SemivariogramContrastiveLoss(VARIOGRAM)  # the default margin 0 needs no empirical bins
    with pytest.raises(GeovarioError, match="hard_margin >= 0"):
        sv_loss(hard_margin=-1.0)
    with pytest.raises(GeovarioError, match="false_ramp > 0"):
        sv_loss(false_ramp=0.0)


SPREAD = 0.1


def binned(variogram=VARIOGRAM, spread=SPREAD):
    """VARIOGRAM with empirical bins whose per-bin spread of d is ``spread`` everywhere."""
    edges = np.array([0.0, 10, 100, 1000, 10000, 20000])
    lags = (edges[:-1] + edges[1:]) / 2
    empirical = EmpiricalVariogram(edges, lags, variogram.gamma(lags), np.full(5, 1000),
                                   np.full(5, spread), "cosine", "matheron", 100)
    return replace(variogram, empirical=empirical)


def test_far_pairs_are_hard_only_beyond_the_margin():
    h = 5000.0
    gamma = 0.1 + 0.5 * (1 - math.exp(-3 * h / 500))
    beta = 3.0
    loss = SemivariogramContrastiveLoss(binned(), hard_margin=1.0, hard_strength=beta,
                                        max_weight=10.0)
    # d = γ − 0.05: more alike than expected, but within one spread (0.1): not hard.
    # d = γ − 0.25: 2.5 spreads more alike: hard, weight exp(β(r − r_m)) with r and the
    # margin r_m both in units of the sill.
    within, beyond = weights(loss, inputs_for([h, h], [math.acos(1 - (gamma - 0.05)),
                                                       math.acos(1 - (gamma - 0.25))]))
    assert within == pytest.approx(1.0, abs=1e-6)
    assert beyond == pytest.approx(math.exp(beta * (0.25 - SPREAD) / 0.6), rel=1e-4)


def test_the_margin_makes_hard_negatives_selective():
    # Far candidates whose dissimilarity scatters around γ with the bins' spread: without a
    # margin half count as hard; with a margin of one spread, P(Z > 1) ≈ 15.9 %.
    rng = np.random.default_rng(0)
    n, h = 4000, 3000.0
    gamma = 0.1 + 0.5 * (1 - math.exp(-3 * h / 500))
    d = np.clip(gamma + SPREAD * rng.standard_normal(n), 0.0, 2.0)
    inputs = inputs_for([h] * n, list(np.arccos(1 - d)))
    shares = {}
    for margin in (0.0, 1.0, 2.0):
        loss = SemivariogramContrastiveLoss(binned(), hard_margin=margin)
        weights(loss, inputs)
        shares[margin] = loss.last_stats["hard_share_of_far"]
    assert shares[0.0] == pytest.approx(0.5, abs=0.03)
    assert shares[1.0] == pytest.approx(0.1587, abs=0.02)
    assert shares[2.0] == pytest.approx(0.0228, abs=0.01)


def test_soft_positive_at_the_default_strength_keeps_half_the_target_and_no_negative_mass():
    # λ = 1 (the default): a crowd of look-alike neighbours at 0–3 km used to take the whole
    # target (own location 0.000, slightly negative at the minimum).
    km = np.linspace(0.0, 3.0, 1000)
    inputs = inputs_for(list(km), [0.0] * len(km))
    _, q = sv_loss(false_negatives="soft-positive").weights_and_targets(inputs, (1, len(km) + 1))
    assert q[0, 0].item() == pytest.approx(0.5, abs=1e-6)
    assert (q >= 0).all() and q.sum().item() == pytest.approx(1.0, abs=1e-5)


def angle_for(d):
    """The feature angle whose cosine dissimilarity to angle 0 is ``d``."""
    return math.acos(1 - d)


def test_false_negative_weight_is_continuous_as_d_crosses_the_expectation():
    h = 50.0
    gamma = 0.1 + 0.5 * (1 - math.exp(-3 * h / 500))
    c = 1 - gamma / 0.6
    loss = sv_loss()  # λ = 1, ramp δ = 0.05 of the sill
    eps = 1e-4
    below, above = weights(loss, inputs_for([h, h], [angle_for(gamma + eps),
                                                     angle_for(gamma - eps)]))
    assert below == pytest.approx(1.0, abs=1e-6)  # less alike than expected: untouched
    assert above == pytest.approx(1.0, abs=0.01)  # the old rule jumped to 1 − c ≈ 0.38 here
    # On the ramp: r = δ/2 → half the treatment; from r = δ on, all of it.
    half, full = weights(loss, inputs_for([h, h], [angle_for(gamma - 0.025 * 0.6),
                                                   angle_for(gamma - 0.2 * 0.6)]))
    assert half == pytest.approx(1 - c / 2, rel=1e-3)
    assert full == pytest.approx(1 - c, rel=1e-4)
    soft = sv_loss(false_negatives="soft-positive", false_strength=0.5)
    _, q = soft.weights_and_targets(inputs_for([h], [angle_for(gamma - eps)]), (1, 2))
    assert q[0, 1].item() == pytest.approx(0.0, abs=0.01)  # the target share ramps in too
