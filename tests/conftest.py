import pytest
import torch

from geovario.geo import uniform_sphere_points

torch.set_num_threads(2)


@pytest.fixture
def sphere_points():
    return uniform_sphere_points
