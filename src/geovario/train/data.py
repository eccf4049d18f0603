"""Batches of cached features and coordinates from a feature store, sharded by rank.

The order of an epoch is a permutation drawn from (seed, epoch), so it can be replayed
exactly on resume; every rank draws the same permutation and takes its own contiguous
slice of each global batch, so N ranks × B/N see exactly what 1 rank × B sees.
"""

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch

from geovario.errors import GeovarioError
from geovario.store import FeatureStore


def split_rows(n: int, val_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Deterministic train/validation split of n rows (sorted row numbers)."""
    order = np.random.default_rng(seed).permutation(n)
    n_val = int(round(n * val_fraction))
    return np.sort(order[n_val:]), np.sort(order[:n_val])


@dataclass
class Batch:
    """One rank's share of a global batch."""

    features: torch.Tensor
    coords: torch.Tensor
    rows: np.ndarray


class StoreBatches:
    """Global batches of ``batch_size`` rows per process (the last partial batch is dropped).

    Process ``rank`` takes its slice of each global batch of ``batch_size × world_size``
    rows, so one process with batch B × W sees the same batches as W processes with B.
    """

    def __init__(self, store: FeatureStore, rows: np.ndarray, batch_size: int, seed: int,
                 rank: int = 0, world_size: int = 1):
        self.global_size = batch_size * world_size
        if len(rows) < self.global_size:
            raise GeovarioError(f"train: {store.path} has {len(rows)} training rows, fewer than "
                                f"one global batch of {self.global_size} ({world_size} "
                                f"process(es) × {batch_size})")
        self.store, self.rows, self.seed = store, rows, seed
        self.rank, self.local_size = rank, batch_size
        self.coords = torch.from_numpy(store.coords.astype(np.float32))

    def __len__(self) -> int:
        return len(self.rows) // self.global_size

    def epoch(self, epoch: int, start: int = 0) -> Iterator[Batch]:
        """Batches of ``epoch`` from batch number ``start`` on."""
        generator = np.random.default_rng([self.seed, epoch])
        order = self.rows[generator.permutation(len(self.rows))]
        for b in range(start, len(self)):
            first = b * self.global_size + self.rank * self.local_size
            rows = order[first:first + self.local_size]
            yield self.load(rows)

    def load(self, rows: np.ndarray) -> Batch:
        """Features (float32) and coordinates of the given store rows."""
        features = torch.from_numpy(self.store.features(rows, dtype=np.float32))
        return Batch(features, self.coords[torch.from_numpy(rows)], rows)
