"""A first-in-first-out queue of past samples' coordinates (and, optionally, features).

GeoCLIP contrasts each image against its batch's locations and a queue of recent
locations (default 4096), re-encoded every step so they never go stale. The queue keeps
raw coordinates; a feature column lets a loss know what the queued images looked like.
"""

import torch
from torch import nn


class SampleQueue(nn.Module):
    """Ring buffer of the last ``size`` samples; ``valid`` returns only slots written so far."""

    def __init__(self, size: int, feature_dim: int = 0):
        super().__init__()
        if size < 0:
            raise ValueError(f"SampleQueue: size must be >= 0, got {size}")
        self.size = size
        self.register_buffer("coords", torch.zeros(size, 2))
        self.register_buffer("features", torch.zeros(size, feature_dim))
        self.register_buffer("pointer", torch.zeros((), dtype=torch.long))
        self.register_buffer("seen", torch.zeros((), dtype=torch.long))

    @property
    def is_full(self) -> bool:
        """Whether every slot has been written at least once."""
        return int(self.seen) >= self.size

    def valid(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(coords, features) of the written slots, in slot order."""
        n = min(int(self.seen), self.size)
        return self.coords[:n], self.features[:n]

    @torch.no_grad()
    def enqueue(self, coords: torch.Tensor, features: torch.Tensor | None = None) -> None:
        """Write a batch over the oldest slots, wrapping around the end of the buffer."""
        if self.size == 0:
            return
        n = len(coords)
        if n >= self.size:  # only the newest `size` samples survive
            coords = coords[-self.size:]
            features = None if features is None else features[-self.size:]
        slots = (int(self.pointer) + torch.arange(len(coords))) % self.size
        slots = slots.to(self.coords.device)
        self.coords[slots] = coords.to(self.coords)
        if self.features.shape[1] and features is not None:
            self.features[slots] = features.to(self.features)
        self.pointer.fill_((int(self.pointer) + n) % self.size)
        self.seen.add_(n)
