"""GeoCLIP's location encoder: Equal Earth → random Fourier features at several scales → MLPs.

For each scale σ a branch maps the projected point p ∈ R² through fixed Gaussian random
Fourier features, γ(p) = [cos 2πBp, sin 2πBp] with B ~ N(0, σ²) of shape (256, 2), then an
MLP 512 → 1024 → 1024 → 1024 (ReLU) and a linear head 1024 → 512. The branches' outputs are
summed (Vivanco Cepeda et al., NeurIPS 2023). Small σ captures continents, large σ streets.
"""

import math
from collections.abc import Sequence

import torch
from torch import nn

from geovario.geo.projection import equal_earth
from geovario.models.config import GEOCLIP_SIGMAS


class FourierBranch(nn.Module):
    """One scale: fixed random Fourier features of the projected point, then an MLP."""

    def __init__(self, sigma: float, *, frequencies: int = 256, hidden: int = 1024,
                 out_dim: int = 512, generator: torch.Generator | None = None):
        super().__init__()
        self.sigma = float(sigma)
        # Fixed, not trained: a buffer, saved with the weights so a checkpoint is complete.
        self.register_buffer("frequencies",
                             torch.randn(frequencies, 2, generator=generator) * self.sigma)
        self.mlp = nn.Sequential(
            nn.Linear(2 * frequencies, hidden), nn.ReLU(),
            nn.Linear(hidden, hidden), nn.ReLU(),
            nn.Linear(hidden, hidden), nn.ReLU(),
        )
        self.head = nn.Linear(hidden, out_dim)

    def forward(self, projected: torch.Tensor) -> torch.Tensor:
        """(N, 2) Equal Earth coordinates → (N, out_dim).

        The Fourier features are computed in float32 even under autocast: at σ = 256 the
        phase reaches ~6·10³ rad, where a bfloat16 product is off by tens of radians and
        points a kilometre apart would get the same embedding. The MLP after them may
        run in low precision: its inputs are cosines and sines, bounded by 1.
        """
        return self.head(self.mlp(self.fourier_features(projected)))

    def fourier_features(self, projected: torch.Tensor) -> torch.Tensor:
        """[cos 2πBp, sin 2πBp] in float32, whatever the autocast state."""
        with torch.autocast(projected.device.type, enabled=False):
            # (2πp)·Bᵀ in this order, as GeoCLIP: at σ = 256 float32 rounding of another
            # order shows in the embedding.
            phase = (2 * math.pi * projected.float()) @ self.frequencies.float().T
            return torch.cat([torch.cos(phase), torch.sin(phase)], dim=-1)


class LocationEncoder(nn.Module):
    """(N, 2) latitude/longitude in degrees → (N, out_dim) location embeddings (not normalised)."""

    def __init__(self, sigmas: Sequence[float] = GEOCLIP_SIGMAS, *, frequencies: int = 256,
                 hidden: int = 1024, out_dim: int = 512, seed: int = 0):
        super().__init__()
        generator = torch.Generator().manual_seed(seed)
        self.sigmas = tuple(float(s) for s in sigmas)
        self.out_dim = out_dim
        self.branches = nn.ModuleList(
            FourierBranch(s, frequencies=frequencies, hidden=hidden, out_dim=out_dim,
                          generator=generator)
            for s in self.sigmas
        )

    def forward(self, coords_deg: torch.Tensor) -> torch.Tensor:
        """Embed coordinates; projection and Fourier features run in float32 under autocast."""
        with torch.autocast(coords_deg.device.type, enabled=False):
            projected = equal_earth(coords_deg.float())
        out = self.branches[0](projected)
        for branch in self.branches[1:]:
            out = out + branch(projected)
        return out
