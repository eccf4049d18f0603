"""A loss written for one's own experiment: one class, registered by name, no loop knowledge."""

import json

import torch
import torch.nn.functional as F
from tests.helpers.synthetic_testdata import make_store

from geovario.losses import LOSSES, ContrastiveInputs, ContrastiveLoss, list_losses
from geovario.models import ModelConfig
from geovario.train import TrainConfig, train


def test_a_registered_loss_trains_and_logs_its_statistics(tmp_path, monkeypatch):
    monkeypatch.setattr(LOSSES, "_entries", dict(LOSSES._entries))

    @LOSSES.register("smoothed")
    class SmoothedInfoNCE(ContrastiveLoss):
        """InfoNCE with label smoothing; compares places only, so needs no features."""

        def __init__(self, smoothing: float = 0.1):
            super().__init__()
            self.smoothing = smoothing

        def settings(self) -> dict:
            return {"smoothing": self.smoothing}

        def forward(self, logits: torch.Tensor, inputs: ContrastiveInputs) -> torch.Tensor:
            self.last_stats = {"candidates": float(logits.shape[1])}
            return F.cross_entropy(logits.float(), inputs.targets,
                                   label_smoothing=self.smoothing)

    assert "smoothed" in list_losses()
    make_store(tmp_path / "store", n=256, dim=16)
    train(tmp_path / "run",
          ModelConfig(backbone="synthetic", feature_dim=16, init="scratch", sigmas=(1.0, 16.0),
                      hidden=64, frequencies=16),
          TrainConfig(train_store=str(tmp_path / "store"), epochs=1, batch_size=32,
                      queue_size=64, loss="smoothed", loss_options={"smoothing": 0.2},
                      log_every=1, device="cpu"), progress=False)
    records = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").open()]
    assert records[0] == {"step": 0, "kind": "loss", "loss": "smoothed", "smoothing": 0.2}
    steps = [r for r in records if "candidates" in r and "kind" not in r]
    assert len(steps) == 8 and steps[-1]["candidates"] == 32 + 64  # batch + full queue
