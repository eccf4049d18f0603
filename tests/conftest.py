import numpy as np
import pytest
import torch

torch.set_num_threads(2)


def random_sphere_points(n: int, seed: int) -> np.ndarray:
    """Points uniform on the sphere, as (N, 2) latitude/longitude in degrees."""
    rng = np.random.default_rng(seed)
    lat = np.degrees(np.arcsin(rng.uniform(-1, 1, n)))
    lon = rng.uniform(-180, 180, n)
    return np.stack([lat, lon], axis=1)


@pytest.fixture
def sphere_points():
    return random_sphere_points
