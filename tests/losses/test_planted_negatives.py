"""The semivariogram loss singles out planted false and hard negatives, and training moves
them the intended way; plain InfoNCE (all weights 1) would fail every assertion here.

The world, from which the variogram is fitted: places uniform on the sphere whose features
are a smooth function of the place plus noise (near places look alike, far ones do not).
A batch: anchors from that world; for every anchor, planted, a false negative 2 km away
that looks the same (near and alike) and a hard negative on the other side of the world
that looks the same (far and alike); and clutter, places anywhere with random features.
"""

import numpy as np
import pytest
import torch

from geovario.geo import uniform_sphere_points, unit_vectors
from geovario.geo.destination import offsets_to_latlon
from geovario.losses import ContrastiveInputs, InfoNCELoss, SemivariogramContrastiveLoss
from geovario.models import GeoCLIP, ModelConfig
from geovario.variogram import empirical_variogram, fit_variogram

ANCHORS, BACKGROUND, DIM = 48, 400, 32
FREQUENCIES = np.random.default_rng(99).normal(0, 1 / 0.05, (512, 3))  # ~300 km scale
PHASES = np.random.default_rng(98).uniform(0, 2 * np.pi, 512)
MIXING = np.random.default_rng(97).normal(size=(512, DIM)) / np.sqrt(256)


def field(coords, noise, seed):
    """Features that vary smoothly over a few hundred km (random Fourier features of the
    unit vector, so a Gaussian correlation in chord distance), plus white noise."""
    smooth = np.cos(unit_vectors(coords) @ FREQUENCIES.T + PHASES) @ MIXING
    return smooth + np.random.default_rng(seed).normal(0, noise, smooth.shape)


@pytest.fixture(scope="module")
def world():
    rng = np.random.default_rng(0)
    background = uniform_sphere_points(3000, 1)
    variogram = fit_variogram(empirical_variogram(background, field(background, 0.3, 1)))
    anchors = uniform_sphere_points(ANCHORS, 2)
    anchors[:, 0] = np.clip(anchors[:, 0], -70, 70)
    features = field(anchors, 0.3, 2)
    lat, lon = offsets_to_latlon(anchors[:, 0], anchors[:, 1], 2.0 * np.ones(ANCHORS),
                                 np.zeros(ANCHORS))
    near = np.stack([lat, lon], 1)
    far = np.stack([-anchors[:, 0], (anchors[:, 1] + 360) % 360 - 180], 1)  # antipodes
    alike = [features + rng.normal(0, 0.01, features.shape) for _ in range(2)]
    others = uniform_sphere_points(BACKGROUND, 3)
    coords = np.concatenate([anchors, near, far, others])
    clutter = rng.normal(size=(BACKGROUND, DIM))
    candidate_features = np.concatenate([features, *alike, clutter])
    inputs = ContrastiveInputs(
        targets=torch.arange(ANCHORS),
        anchor_coords=torch.tensor(anchors), candidate_coords=torch.tensor(coords),
        anchor_features=torch.tensor(features, dtype=torch.float32),
        candidate_features=torch.tensor(candidate_features, dtype=torch.float32))
    rows = torch.arange(ANCHORS)
    return variogram, inputs, (rows, rows + ANCHORS), (rows, rows + 2 * ANCHORS)


def test_the_weights_single_out_the_planted_pairs(world):
    variogram, inputs, false, hard = world
    # No cap on the weight, so that the hard negatives' weights rank them.
    loss = SemivariogramContrastiveLoss(variogram, hard_strength=4.0, max_weight=1e6)
    weights, _ = loss.weights_and_targets(inputs, (ANCHORS, len(inputs.candidate_coords)))
    columns = weights.shape[1]
    planted_false = set((false[0] * columns + false[1]).tolist())
    planted_hard = set((hard[0] * columns + hard[1]).tolist())
    # False negatives: every planted pair is down-weighted (recall), and the pairs
    # down-weighted are the planted ones (precision).
    down = set(torch.nonzero(weights.flatten() < 1).flatten().tolist())
    assert planted_false <= down
    # Clutter within the range that happens to look as alike as expected there is a false
    # negative by the rule too: about one pair in four here.
    assert len(down & planted_false) / len(down) >= 0.7
    # Hard negatives: every planted pair is up-weighted, and they carry the largest weights
    # (clutter that looks alike by chance is up-weighted too, but barely).
    assert (weights[hard] > 1).all()
    highest = set(weights.flatten().argsort(descending=True)[:ANCHORS].tolist())
    assert len(highest & planted_hard) / ANCHORS >= 0.9


def test_gradients_push_hard_negatives_harder_and_false_negatives_less(world):
    variogram, inputs, false, hard = world
    logits = torch.randn(ANCHORS, len(inputs.candidate_coords),
                         generator=torch.Generator().manual_seed(4), requires_grad=True)
    ours = torch.autograd.grad(SemivariogramContrastiveLoss(variogram)(logits, inputs),
                               logits)[0]
    plain = torch.autograd.grad(InfoNCELoss()(logits, inputs), logits)[0]
    # d loss / d logit of a negative is its (weighted) softmax share: how hard it is pushed.
    assert (ours[hard] > plain[hard]).all()
    assert (ours[false] < plain[false]).all()


def train(variogram_or_none, inputs: ContrastiveInputs, steps: int = 60) -> torch.Tensor:
    """Similarities (anchors × candidates) after ``steps`` on one batch, from a fixed start."""
    config = ModelConfig(backbone="synthetic", feature_dim=DIM, init="scratch",
                         sigmas=(1.0, 16.0, 256.0), hidden=64, frequencies=32, seed=0)
    loss_fn = InfoNCELoss() if variogram_or_none is None else SemivariogramContrastiveLoss(
        variogram_or_none, hard_strength=4.0)
    model = GeoCLIP(config)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    coords = inputs.candidate_coords.float()
    for _ in range(steps):
        images, locations, scale = model(inputs.anchor_features, coords)
        loss = loss_fn(scale * images @ locations.T, inputs)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        images, locations, _ = model(inputs.anchor_features, coords)
        return images @ locations.T


def gap(similarity: torch.Tensor, pairs) -> torch.Tensor:
    """How much closer each anchor's image is to its own place than to the planted one."""
    rows = pairs[0]
    return (similarity[rows, rows] - similarity[pairs]).mean()


def test_training_keeps_false_negatives_close(world):
    variogram, inputs, false, _ = world
    ours, plain = train(variogram, inputs), train(None, inputs)
    # InfoNCE pushes the 2 km look-alike away from the anchor's image; the semivariogram
    # loss mostly stops pushing it.
    assert gap(ours, false) < gap(plain, false) - 0.1


def test_training_separates_look_alike_anchors_far_apart(world):
    # Hard negatives matter when the far look-alike is itself a training image: InfoNCE
    # then sees the same picture at two places and cannot tell them apart.
    variogram, inputs, false, hard = world
    every = 3 * ANCHORS
    anchors = ContrastiveInputs(
        targets=torch.arange(every), anchor_coords=inputs.candidate_coords[:every],
        candidate_coords=inputs.candidate_coords,
        anchor_features=inputs.candidate_features[:every],
        candidate_features=inputs.candidate_features)
    ours, plain = train(variogram, anchors), train(None, anchors)
    assert gap(plain, hard) < 0.02
    assert gap(ours, hard) > gap(plain, hard) + 0.03
