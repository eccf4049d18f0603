"""One contrastive training step, the same on one process and under torchrun.

Every rank sees the global batch's coordinates (all-gathered, no gradient) followed by
the queue, so all ranks contrast against the same candidates. The candidates' location
embeddings, the expensive part, are computed in equal shares by the ranks and
all-gathered *with* gradient, so N processes do 1/N of the location encoder's work.
GPS noise is drawn for the whole global batch from a generator that every rank seeds
alike, so N ranks × B/N reproduce 1 rank × B exactly.
"""

from dataclasses import dataclass

import torch

from geovario import distributed
from geovario.geo.noise import jitter_coords
from geovario.losses.base import ContrastiveInputs
from geovario.models.queue import SampleQueue
from geovario.train.config import TrainConfig
from geovario.train.data import Batch


@dataclass
class StepOutput:
    """A step's loss (with graph) and its number of candidates."""

    loss: torch.Tensor
    candidates: int


def contrastive_step(model: torch.nn.Module, queue: SampleQueue, loss_fn: torch.nn.Module,
                     batch: Batch, config: TrainConfig, generator: torch.Generator,
                     device: torch.device, feature_space: str = "backbone") -> StepOutput:
    """Forward pass and loss for one batch; enqueues the batch afterwards (as GeoCLIP).

    Backbone features travel with the candidates when the loss asks for them
    (``loss_fn.needs_features``); with ``feature_space="head"`` the loss sees them
    through the current image head instead (the space of a refitted variogram).
    """
    rank, world_size = distributed.rank(), distributed.world_size()
    features = batch.features.to(device, non_blocking=True)
    coords = batch.coords.to(device, non_blocking=True)
    global_coords = distributed.all_gather(coords)
    track = loss_fn.needs_features
    global_features = distributed.all_gather(features) if track else None

    noisy_batch = jitter_coords(global_coords, config.batch_noise_m, generator)
    queue_coords, queue_features = queue.valid()
    noisy_queue = jitter_coords(queue_coords, config.queue_noise_m, generator)
    candidates = torch.cat([noisy_batch, noisy_queue])

    share = torch.tensor_split(candidates, world_size)
    width = share[0].shape[0]
    own = share[rank]
    padded = torch.cat([own, own.new_zeros(width - len(own), 2)]) if len(own) < width else own
    with torch.autocast(device.type, dtype=torch.bfloat16,
                        enabled=config.autocast_enabled(device.type)):
        image_emb, location_part, scale = model(features, padded)
    parts = distributed.all_gather_with_grad(location_part.float())
    location_emb = torch.cat([part[:len(s)] for part, s in zip(parts, share, strict=True)])
    logits = scale.float() * image_emb.float() @ location_emb.T

    local = len(features)
    inputs = ContrastiveInputs(
        targets=torch.arange(local, device=device) + rank * local,
        # The loss compares the places themselves: distances from the clean coordinates,
        # as the variogram was fitted on them (the noise only augments the encoder's input).
        anchor_coords=global_coords[rank * local:(rank + 1) * local],
        candidate_coords=torch.cat([global_coords, queue_coords.to(device)]),
        anchor_features=features if track else None,
        candidate_features=(torch.cat([global_features, queue_features.to(device)])
                            if track else None),
        queue_full=queue.is_full,
    )
    if track and feature_space == "head":
        head = getattr(model, "module", model).image_head
        with torch.no_grad():
            inputs.anchor_features = head(inputs.anchor_features).float()
            inputs.candidate_features = head(inputs.candidate_features).float()
    loss = loss_fn(logits, inputs)
    queue.enqueue(global_coords, global_features)
    return StepOutput(loss, len(candidates))
