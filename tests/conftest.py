import pytest
import torch
from tests.serve.serve_testdata import make_run

from geovario.geo import uniform_sphere_points
from geovario.inference.images import load_run_backbone
from geovario.inference.predictor import Predictor

torch.set_num_threads(2)


@pytest.fixture
def sphere_points():
    return uniform_sphere_points


@pytest.fixture(scope="session")
def image_run(tmp_path_factory):
    """(run directory, gallery CSV) of an EfficientNet-Lite0 run."""
    return make_run(tmp_path_factory.mktemp("serve"))


@pytest.fixture(scope="session")
def image_predictor(image_run):
    run, gallery = image_run
    return Predictor(run, gallery=str(gallery), device="cpu")


@pytest.fixture(scope="session")
def image_backbone(image_predictor):
    return load_run_backbone(image_predictor)
