"""Deterministic rows and helpers shared by the store tests (and the SIGKILL child script)."""

from pathlib import Path

import numpy as np
import pandas as pd

from geovario.store import FeatureStore, StoreWriter

DIM = 8
BACKBONE = "test-backbone"
PREPROCESSING = {"resize": 224, "crop": "center", "mean": [0.5, 0.5, 0.5]}
LABELS = ("unique_country", "unique_city")
COUNTRIES = ("FR", "DE", "JP", "BR", "US")


MAX_ROWS = 1 << 15


def make_rows(n: int, *, seed: int = 0, prefix: str = "img"):
    """ids (str), coords (n, 2) float64, features (n, DIM) float32, labels {column: list}.

    Row k is the same whatever ``n`` (a prefix of one fixed table), as a rerun needs.
    """
    assert n <= MAX_ROWS
    rng = np.random.default_rng(seed)
    coords = np.column_stack([rng.uniform(-90, 90, MAX_ROWS), rng.uniform(-180, 180, MAX_ROWS)])
    features = rng.normal(size=(MAX_ROWS, DIM)).astype(np.float32)
    country = rng.integers(0, len(COUNTRIES), MAX_ROWS)[:n]
    city = rng.integers(0, 4, MAX_ROWS)[:n]
    labels = {"unique_country": [COUNTRIES[k] for k in country],
              "unique_city": [None if k == 0 else f"city{k}" for k in city]}
    return [f"{prefix}{i:06d}" for i in range(n)], coords[:n], features[:n], labels


def writer(path: Path, *, shard_size: int, **overrides) -> StoreWriter:
    """A StoreWriter with the test settings (overridable)."""
    settings = dict(backbone=BACKBONE, dim=DIM, preprocessing=PREPROCESSING,
                    label_columns=LABELS, shard_size=shard_size)
    settings.update(overrides)
    return StoreWriter(path, **settings)


def fill_store(path: Path, n: int, *, shard_size: int, batch: int = 5, seed: int = 0,
               prefix: str = "img") -> None:
    """Write rows 0..n-1 in batches the way an extraction loop does, skipping written ids."""
    ids, coords, features, labels = make_rows(n, seed=seed, prefix=prefix)
    with writer(path, shard_size=shard_size) as w:
        for start in range(0, n, batch):
            keep = [k for k in range(start, min(start + batch, n)) if ids[k] not in w.written_ids]
            if keep:
                w.append([ids[k] for k in keep], coords[keep], features[keep],
                         labels={c: [labels[c][k] for k in keep] for c in LABELS})


def assert_same_store(a: FeatureStore, b: FeatureStore) -> None:
    """Same settings, same index and bit-identical features, whatever the shard layout."""
    for field in ("backbone", "dim", "dtype", "preprocessing", "label_columns"):
        assert getattr(a, field) == getattr(b, field), field
    assert len(a) == len(b)
    pd.testing.assert_frame_equal(a.index, b.index)
    np.testing.assert_array_equal(a.load_features(np.float16).view(np.uint16),
                                  b.load_features(np.float16).view(np.uint16))
