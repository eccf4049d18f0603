"""The location encoder keeps its fine scales under bfloat16 autocast (CPU autocast follows
the same low-precision rules as CUDA's: matrix products run in bfloat16)."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from tests.helpers.synthetic_testdata import make_store

from geovario.geo import haversine_km
from geovario.geo.projection import equal_earth
from geovario.losses import InfoNCELoss
from geovario.models import ModelConfig, build_model
from geovario.models.queue import SampleQueue
from geovario.store import open_store
from geovario.train import TrainConfig
from geovario.train.data import Batch
from geovario.train.step import contrastive_step

KM_NORTH_DEG = math.degrees(1.0 / 6371.0)


@pytest.fixture(scope="module")
def encoder():
    return build_model(ModelConfig()).location_encoder.eval()  # the published weights


def places_and_neighbours(n, seed):
    """Random places and, for each, the place 1 km due north (same longitude)."""
    g = torch.Generator().manual_seed(seed)
    places = torch.stack([torch.rand(n, generator=g) * 160 - 80,
                          torch.rand(n, generator=g) * 360 - 180], 1)
    north = places + torch.tensor([KM_NORTH_DEG, 0.0])
    return places, north


def test_neighbours_are_one_kilometre_apart():
    places, north = places_and_neighbours(50, 0)
    km = haversine_km(places[:, 0].numpy(), places[:, 1].numpy(), north[:, 0].numpy(),
                      north[:, 1].numpy())
    np.testing.assert_allclose(km, 1.0, rtol=2e-3)  # float32 degrees: ~1 m


def test_bf16_phases_would_lose_the_fine_scales(encoder):
    # Why the encoder must not let autocast touch its Fourier phases: the σ = 256 branch's
    # phases reach thousands of radians, and a bfloat16 product is off by radians.
    places, _ = places_and_neighbours(500, 1)
    branch = encoder.branches[2]
    p = 2 * math.pi * equal_earth(places)
    exact = p.double() @ branch.frequencies.double().T
    low = (p.bfloat16() @ branch.frequencies.bfloat16().T).double()
    assert exact.abs().max() > 3000
    assert (exact - low).abs().max() > 1.0


def test_location_embeddings_under_bf16_autocast_match_float32(encoder):
    places, north = places_and_neighbours(2000, 2)
    coords = torch.cat([places, north])
    with torch.no_grad():
        exact = encoder(coords)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            low = encoder(coords)
    cosine = F.cosine_similarity(exact, low.float(), dim=1)
    assert cosine.min() >= 0.999
    # Points 1 km apart never share an embedding under autocast.
    a, b = low[:2000].float(), low[2000:].float()
    assert ((a - b).abs().amax(dim=1) > 0).all()


def test_training_step_under_bf16_autocast_keeps_the_fine_scales(tmp_path, encoder):
    make_store(tmp_path / "store", n=64, dim=768)
    store = open_store(tmp_path / "store")
    model = build_model(ModelConfig(feature_dim=768))
    seen = []
    model.location_encoder.register_forward_hook(
        lambda module, args, out: seen.append((args[0].detach(), out.detach())))
    places, north = places_and_neighbours(32, 3)
    coords = torch.cat([places, north])
    batch = Batch(torch.from_numpy(store.features(np.arange(64))), coords.float(),
                  np.arange(64))
    config = TrainConfig(train_store=str(tmp_path / "store"), batch_size=64, queue_size=0,
                         batch_noise_m=0.0, queue_noise_m=0.0, amp="bf16")
    assert config.autocast_enabled("cpu")
    out = contrastive_step(model, SampleQueue(0, 0), InfoNCELoss(), batch, config,
                           torch.Generator().manual_seed(0), torch.device("cpu"))
    out.loss.backward()
    assert torch.isfinite(out.loss)
    inputs, low = seen[0]
    assert low.dtype == torch.bfloat16  # the step really ran under autocast
    with torch.no_grad():
        exact = model.location_encoder(inputs)
    assert F.cosine_similarity(exact, low.float(), dim=1).min() >= 0.999
    assert ((low[:32].float() - low[32:].float()).abs().amax(dim=1) > 0).all()
