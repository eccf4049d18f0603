"""One training step, run alone or under torchrun; rank 0 saves the loss and gradients.

Usage: python ddp_step_child.py OUT.pt   (or under torchrun --nproc_per_node N)
"""

import sys

import numpy as np
import torch
from tests.helpers.synthetic_testdata import smooth_features, sphere_points
from torch.nn.parallel import DistributedDataParallel

from geovario import distributed
from geovario.losses import InfoNCELoss
from geovario.models import GeoCLIP, ModelConfig
from geovario.models.queue import SampleQueue
from geovario.train import TrainConfig
from geovario.train.data import Batch
from geovario.train.step import contrastive_step

BATCH = 32


def main(out: str) -> None:
    _, device = distributed.init_distributed("cpu")
    rank, world = distributed.rank(), distributed.world_size()
    # float32: bfloat16 (amp auto on a CPU with AVX512-BF16) rounds the two ranks' halves
    # differently from the whole batch, and this compares them to 1e-4.
    config = TrainConfig(batch_size=BATCH, queue_size=100, seed=0, amp="off")
    model = GeoCLIP(ModelConfig(backbone="synthetic", feature_dim=16, init="scratch",
                                sigmas=(1.0, 16.0), hidden=64, frequencies=16))
    queue = SampleQueue(config.queue_size)
    coords = sphere_points(BATCH + 90, seed=5).astype(np.float32)
    features = smooth_features(coords, 16, 0.1, seed=5)
    queue.enqueue(torch.from_numpy(coords[BATCH:]))  # 90 of 100 slots: not yet full
    local = BATCH // world
    rows = np.arange(rank * local, (rank + 1) * local)
    batch = Batch(torch.from_numpy(features[rows]), torch.from_numpy(coords[rows]), rows)
    network = DistributedDataParallel(model) if world > 1 else model
    generator = torch.Generator().manual_seed(7)
    out_step = contrastive_step(network, queue, InfoNCELoss(), batch, config, generator, device)
    out_step.loss.backward()
    loss = distributed.all_gather(out_step.loss.detach().reshape(1)).mean()
    if rank == 0:
        grads = {name: p.grad.clone() for name, p in model.named_parameters()}
        torch.save({"loss": loss, "grads": grads, "queue": queue.state_dict(),
                    "candidates": out_step.candidates}, out)


if __name__ == "__main__":
    try:
        main(sys.argv[1])
    finally:
        # Leaving the process group joins gloo's threads; exiting with them alive aborts.
        distributed.barrier()
        distributed.cleanup()
