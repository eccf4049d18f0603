"""A small feature store whose features are a smooth function of location plus noise."""

import numpy as np

from geovario.store import StoreWriter


def sphere_points(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.stack([np.degrees(np.arcsin(rng.uniform(-1, 1, n))), rng.uniform(-180, 180, n)], 1)


def smooth_features(coords: np.ndarray, dim: int, noise: float, seed: int) -> np.ndarray:
    """Random projection of multi-frequency functions of the unit vector, plus noise."""
    lat, lon = np.radians(coords[:, 0]), np.radians(coords[:, 1])
    u = np.stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)], 1)
    basis = np.concatenate([np.sin(u * k) for k in (1, 2, 4, 8)] +
                           [np.cos(u * k) for k in (1, 2, 4, 8)], 1)
    mixing = np.random.default_rng(1234).normal(size=(basis.shape[1], dim))
    rng = np.random.default_rng(seed)
    return (basis @ mixing + rng.normal(0, noise, (len(coords), dim))).astype(np.float32)


def make_store(path, n: int = 1024, dim: int = 32, noise: float = 0.1, seed: int = 0):
    coords = sphere_points(n, seed)
    features = smooth_features(coords, dim, noise, seed)
    with StoreWriter(path, backbone="synthetic", dim=dim) as writer:
        writer.append([f"s{i}" for i in range(n)], coords, features)
    return coords, features
