import pytest
from tests.helpers.synthetic_testdata import make_store

from geovario.models import ModelConfig
from geovario.train import TrainConfig, train

SMALL = dict(backbone="synthetic", feature_dim=32, init="scratch", sigmas=(1.0, 16.0),
             hidden=128, frequencies=32)


@pytest.fixture(scope="session")
def trained(tmp_path_factory):
    """A small run trained on a synthetic store, and a test store from the same world."""
    root = tmp_path_factory.mktemp("inference")
    make_store(root / "train", n=1024, seed=0)
    make_store(root / "test", n=200, seed=1)
    train(root / "run", ModelConfig(**SMALL),
          TrainConfig(train_store=str(root / "train"), epochs=3, batch_size=64,
                      queue_size=256, lr=1e-3, seed=0), progress=False)
    return root
