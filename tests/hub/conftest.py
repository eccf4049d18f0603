"""A small trained run (and another with other weights) and the fake Hub, for tests/hub."""

import shutil

import huggingface_hub
import huggingface_hub.constants
import pytest
import torch
from tests.helpers.fake_hub import FakeHub
from tests.helpers.synthetic_testdata import make_store

from geovario.checkpoint import save_weights
from geovario.fileio import write_json_atomic
from geovario.inference import Predictor, evaluate
from geovario.models import GeoCLIP, ModelConfig
from geovario.rundir import EVALUATION_NAME, WEIGHTS_NAME
from geovario.train import TrainConfig, train

SMALL = ModelConfig(backbone="synthetic", feature_dim=32, init="scratch", sigmas=(1.0, 16.0),
                    hidden=64, frequencies=16)


@pytest.fixture(scope="session")
def runs(tmp_path_factory):
    """A small semivariogram run with its evaluation, another with other weights, stores."""
    root = tmp_path_factory.mktemp("hub-runs")
    make_store(root / "train", n=512, seed=0)
    make_store(root / "test", n=64, seed=1)
    train(root / "run", SMALL, TrainConfig(train_store=str(root / "train"), epochs=1,
                                           batch_size=64, queue_size=128, lr=1e-3,
                                           loss="semivariogram"), progress=False)
    gallery = f"store:{root / 'train'}"
    metrics = evaluate(Predictor(root / "run", gallery=gallery, device="cpu", cache=False),
                       root / "test")
    write_json_atomic(root / "run" / EVALUATION_NAME, metrics)
    shutil.copytree(root / "run", root / "other")
    torch.manual_seed(1)
    save_weights(root / "other" / WEIGHTS_NAME, GeoCLIP(SMALL), SMALL.to_dict())
    return root


@pytest.fixture
def hub(tmp_path, monkeypatch):
    """The fake Hub, and a Hugging Face cache and geovario user cache of this test's own."""
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hf-cache"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf-cache"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-cache"))
    fake = FakeHub()
    monkeypatch.setattr(huggingface_hub, "HfApi", fake.api)
    monkeypatch.setattr(huggingface_hub, "snapshot_download", fake.snapshot_download)
    return fake
