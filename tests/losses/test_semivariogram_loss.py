import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from geovario.errors import GeovarioError
from geovario.geo import haversine_km
from geovario.losses import ContrastiveInputs, InfoNCELoss, SemivariogramContrastiveLoss
from geovario.variogram import FittedVariogram

# Exponential model: nugget 0.1, partial sill 0.5 (sill 0.6), practical range 500 km.
VARIOGRAM = FittedVariogram(model="exponential", nugget=0.1, partial_sill=0.5, range_km=500.0)
KM_PER_DEGREE = math.pi * 6371 / 180


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
    loss = SemivariogramContrastiveLoss(VARIOGRAM)
    w = weights(loss, inputs_for([0.0, 100.0, 5000.0], [0.0, 0.0, 1.0]))
    # γ(0) = nugget = 0.1 ≥ d = 0 → false negative; w = 1 − (1 − γ(0)/sill) = 0.1 / 0.6.
    assert w[0] == pytest.approx(0.1 / 0.6, rel=1e-6)  # float32 weights
    assert w[0] == w.min()


def test_identical_features_far_beyond_the_range_are_hard():
    loss = SemivariogramContrastiveLoss(VARIOGRAM, hard_strength=1.0, max_weight=5.0)
    (w,) = weights(loss, inputs_for([5000.0], [0.0]))
    gamma = 0.1 + 0.5 * (1 - math.exp(-3 * 5000 / 500))
    # residual (γ − 0) / sill; weight exp(β · residual) under the bound.
    assert w == pytest.approx(math.exp(gamma / 0.6), rel=1e-6)
    assert w > 1


def test_exactly_expected_dissimilarity_beyond_the_range_keeps_weight_one():
    h = 2000.0
    gamma = 0.1 + 0.5 * (1 - math.exp(-3 * h / 500))
    angle = math.acos(1 - gamma)  # 1 − cos = γ(h): exactly as dissimilar as expected
    loss = SemivariogramContrastiveLoss(VARIOGRAM)
    (w,) = weights(loss, inputs_for([h], [angle]))
    assert w == pytest.approx(1.0, abs=1e-6)


def test_weights_are_monotone_in_the_residual_and_bounded():
    angles = np.linspace(0.0, 1.2, 40)  # growing dissimilarity, shrinking residual
    loss = SemivariogramContrastiveLoss(VARIOGRAM, hard_strength=8.0, max_weight=2.5)
    far = weights(loss, inputs_for([3000.0] * len(angles), angles))
    assert np.all(np.diff(far) <= 1e-12) and far.max() <= 2.5 and far.min() >= 1.0
    assert far[0] == pytest.approx(2.5)  # the bound is reached
    near = weights(loss, inputs_for([50.0] * len(angles), angles))
    assert np.all((near > 0) & (near <= 1.0))


def test_false_negative_modes():
    inputs = inputs_for([0.0, 5000.0], [0.0, 2.0])
    none = SemivariogramContrastiveLoss(VARIOGRAM, false_negatives="none")
    assert weights(none, inputs)[0] == 1.0
    soft = SemivariogramContrastiveLoss(VARIOGRAM, false_negatives="soft-positive")
    w, q = soft.weights_and_targets(inputs, (1, 3))
    share = 1 - 0.1 / 0.6
    assert w[0, 1] == 1.0
    np.testing.assert_allclose(q[0].numpy(), [1 / (1 + share), share / (1 + share), 0.0])


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
    neutral = SemivariogramContrastiveLoss(VARIOGRAM, hard_strength=0.0,
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
    SemivariogramContrastiveLoss(VARIOGRAM)(logits, inputs).backward()
    assert inputs.anchor_features.grad is None
    assert logits.grad is not None


def test_matches_weighted_infonce_written_out():
    inputs = random_inputs(seed=3)
    logits = torch.randn(6, 20, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    loss = SemivariogramContrastiveLoss(VARIOGRAM, hard_strength=2.0)
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
        value = SemivariogramContrastiveLoss(VARIOGRAM, rule=rule)(logits, inputs)
        assert torch.isfinite(value)


def test_prototype_rule_matches_its_transcription():
    inputs = random_inputs(seed=7)
    logits = torch.randn(6, 20, generator=torch.Generator().manual_seed(8))
    ours = SemivariogramContrastiveLoss(VARIOGRAM, rule="prototype")(logits, inputs)
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
            if j != i and h <= 500:
                changed[i, j] = logits[i, j] * math.exp(max(0.0, d - gamma))
    assert ours.item() == pytest.approx(F.cross_entropy(changed, inputs.targets).item(),
                                        rel=1e-5)


def test_warm_up_is_plain_infonce():
    inputs = random_inputs()
    inputs.queue_full = False
    logits = torch.randn(6, 20)
    assert SemivariogramContrastiveLoss(VARIOGRAM, hard_strength=5)(logits, inputs).item() == \
        InfoNCELoss()(logits, inputs).item()


def test_bad_options():
    with pytest.raises(GeovarioError, match="false_negatives must be one of"):
        SemivariogramContrastiveLoss(VARIOGRAM, false_negatives="drop")
    with pytest.raises(GeovarioError, match="rule must be one of"):
        SemivariogramContrastiveLoss(VARIOGRAM, rule="x")
    with pytest.raises(GeovarioError, match="fitted on 'euclidean' dissimilarity"):
        SemivariogramContrastiveLoss(FittedVariogram("exponential", 0, 1, 10,
                                                     dissimilarity="euclidean"))
    with pytest.raises(GeovarioError, match="needs a variogram file with its empirical bins"):
        SemivariogramContrastiveLoss(VARIOGRAM, residual_scale="spread")
