"""The trainable image head on top of frozen backbone embeddings (GeoCLIP: 768 → 768 → 512)."""

import torch
from torch import nn


class ImageHead(nn.Module):
    """MLP from the backbone dimension to the shared embedding space: D → D → ReLU → 512."""

    def __init__(self, in_dim: int = 768, out_dim: int = 512, hidden: int | None = None):
        super().__init__()
        self.in_dim, self.out_dim = in_dim, out_dim
        hidden = hidden or in_dim
        self.mlp = nn.Sequential(nn.Linear(in_dim, hidden), nn.ReLU(), nn.Linear(hidden, out_dim))

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """(N, in_dim) backbone embeddings → (N, out_dim), not normalised."""
        return self.mlp(features)
