"""The GeoCLIP model on cached backbone features: image head, location encoder, logit scale.

logits = exp(t) · normalize(head(f)) · normalize(loc(g))ᵀ, t learnable, initialised at
log(1/0.07) (CLIP's temperature).
"""

import math

import torch
import torch.nn.functional as F
from torch import nn

from geovario.models.config import ModelConfig
from geovario.models.image_head import ImageHead
from geovario.models.location_encoder import LocationEncoder


class GeoCLIP(nn.Module):
    """Image head + location encoder + logit scale; the backbone stays outside (frozen)."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        with torch.random.fork_rng():  # the same config always builds the same initial weights
            torch.manual_seed(config.seed)
            self.image_head = ImageHead(config.feature_dim, config.embed_dim)
            self.location_encoder = LocationEncoder(
                config.sigmas, frequencies=config.frequencies, hidden=config.hidden,
                out_dim=config.embed_dim, seed=config.seed)
        self.logit_scale = nn.Parameter(torch.tensor(math.log(1 / 0.07)))

    def encode_images(self, features: torch.Tensor) -> torch.Tensor:
        """Backbone features (N, D) → unit image embeddings (N, E)."""
        return F.normalize(self.image_head(features), dim=-1)

    def encode_locations(self, coords_deg: torch.Tensor) -> torch.Tensor:
        """(N, 2) degrees → unit location embeddings (N, E)."""
        return F.normalize(self.location_encoder(coords_deg), dim=-1)

    def forward(self, features: torch.Tensor,
                coords_deg: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Unit image and location embeddings and exp(logit scale).

        One call computes everything with parameters, as DistributedDataParallel expects;
        the logits are ``scale · images @ locationsᵀ``.
        """
        return self.encode_images(features), self.encode_locations(coords_deg), \
            self.logit_scale.exp()

    def logits(self, features: torch.Tensor, coords_deg: torch.Tensor) -> torch.Tensor:
        """Logits (N images × M locations)."""
        images, locations, scale = self(features, coords_deg)
        return scale * images @ locations.T
