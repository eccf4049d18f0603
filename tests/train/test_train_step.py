"""One training step: what the loss sees of the batch and the queue."""

import numpy as np
import torch
from tests.helpers.synthetic_testdata import make_store

from geovario.geo import haversine_km
from geovario.losses import ContrastiveLoss, InfoNCELoss
from geovario.models import GeoCLIP, ModelConfig
from geovario.models.queue import SampleQueue
from geovario.store import open_store
from geovario.train import TrainConfig
from geovario.train.data import Batch
from geovario.train.step import contrastive_step

SMALL = ModelConfig(backbone="synthetic", feature_dim=16, init="scratch", sigmas=(1.0, 16.0),
                    hidden=32, frequencies=16)


class RecordingLoss(ContrastiveLoss):
    """InfoNCE that keeps the inputs it was given."""

    needs_features = True

    def forward(self, logits, inputs):
        self.inputs = inputs
        return InfoNCELoss()(logits, inputs)


def test_the_loss_measures_distances_between_clean_places(tmp_path):
    coords, _ = make_store(tmp_path / "store", n=48, dim=16)
    store = open_store(tmp_path / "store")
    model = GeoCLIP(SMALL)
    encoded = []
    model.location_encoder.register_forward_hook(
        lambda module, args, out: encoded.append(args[0].detach().clone()))
    config = TrainConfig(train_store=str(tmp_path / "store"), batch_size=16, queue_size=32,
                         batch_noise_m=150.0, queue_noise_m=1000.0)
    queue = SampleQueue(32, 16)
    loss = RecordingLoss()
    generator = torch.Generator().manual_seed(0)
    for first in (0, 16, 32):
        rows = np.arange(first, first + 16)
        batch = Batch(torch.from_numpy(store.features(rows)),
                      torch.from_numpy(store.coords[rows]).float(), rows)
        contrastive_step(model, queue, loss, batch, config, generator, torch.device("cpu"))
    # Third step: 16 batch candidates, then the 32 queued ones (rows 0-31).
    clean = torch.from_numpy(coords).float()
    torch.testing.assert_close(loss.inputs.anchor_coords, clean[32:48], rtol=0, atol=0)
    torch.testing.assert_close(loss.inputs.candidate_coords,
                               torch.cat([clean[32:48], clean[:32]]), rtol=0, atol=0)
    # ... while the location encoder saw the noised ones (about 150 m and 1 km off).
    assert not torch.equal(encoded[-1], loss.inputs.candidate_coords)
    moved = encoded[-1].double().numpy()
    place = loss.inputs.candidate_coords.double().numpy()
    km = haversine_km(moved[:, 0], moved[:, 1], place[:, 0], place[:, 1])
    assert 0.03 < np.median(km[:16]) < 0.5 and 0.3 < np.median(km[16:]) < 3.0
