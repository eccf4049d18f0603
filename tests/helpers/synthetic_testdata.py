"""A small feature store whose features are a smooth function of location plus noise."""

import numpy as np

from geovario.geo import uniform_sphere_points
from geovario.models import ModelConfig
from geovario.store import StoreWriter
from geovario.train import TrainConfig

sphere_points = uniform_sphere_points


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


def make_clustered_store(path, clusters: int, per_cluster: int, dim: int = 32,
                         spread_km: float = 10.0, seed: int = 0, feature_seed: int = 99):
    """Clusters of ``per_cluster`` images within ~``spread_km`` that look nearly alike.

    Every cluster's images share one feature vector (a smooth function of the cluster's
    place plus a cluster-specific random part) up to small noise: the images of one
    cluster are false negatives of each other in a contrastive batch.
    """
    rng = np.random.default_rng(seed)
    centres = sphere_points(clusters, seed + 1000)
    own = smooth_features(centres, dim, 0.0, seed) + np.random.default_rng(
        feature_seed + seed).normal(0, 1.0, (clusters, dim)).astype(np.float32)
    coords, features = [], []
    for centre, vector in zip(centres, own, strict=True):
        north = rng.normal(0, spread_km, per_cluster) / 111.2
        east = rng.normal(0, spread_km, per_cluster) / (111.2 * max(np.cos(np.radians(
            centre[0])), 0.05))
        points = np.stack([np.clip(centre[0] + north, -89.9, 89.9),
                           (centre[1] + east + 180) % 360 - 180], 1)
        coords.append(points)
        features.append(vector + rng.normal(0, 0.05, (per_cluster, dim)))
    coords, features = np.concatenate(coords), np.concatenate(features).astype(np.float32)
    with StoreWriter(path, backbone="synthetic", dim=dim) as writer:
        writer.append([f"c{i}" for i in range(len(coords))], coords, features)
    return coords, features


def small_model(**overrides) -> ModelConfig:
    """A GeoCLIP small enough to train in seconds on the synthetic stores' 32-d features."""
    return ModelConfig(**{**dict(backbone="synthetic", feature_dim=32, init="scratch",
                                 sigmas=(1.0, 16.0), hidden=128, frequencies=32), **overrides})


def small_config(store, **overrides) -> TrainConfig:
    """Training settings for :func:`small_model` on ``store``, logging every step."""
    return TrainConfig(**{**dict(train_store=str(store), epochs=2, batch_size=64,
                                 queue_size=256, lr=1e-3, log_every=1, checkpoint_every=5,
                                 seed=3), **overrides})

