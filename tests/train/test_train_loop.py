import json

import numpy as np
import pytest
import torch
from tests.helpers.resume import assert_resume_after_an_epoch_is_exact, weights
from tests.helpers.synthetic_testdata import small_config, small_model

from geovario.checkpoint import load_weights
from geovario.errors import GeovarioError
from geovario.models import GeoCLIP
from geovario.store import open_store
from geovario.train import TrainConfig, train
from geovario.train.data import StoreBatches


def test_training_lowers_the_loss_and_beats_chance(store, tmp_path):
    summary = train(tmp_path / "run", small_model(),
                    small_config(store, epochs=4, val_fraction=0.125), progress=False)
    log = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text()
           .splitlines()]
    steps = [r for r in log if "loss" in r and "kind" not in r]
    first, last = steps[0]["loss"], summary["train_loss"]
    assert last < 0.6 * first
    assert {"lr", "samples_per_s"} <= set(steps[0])
    # Held-out images pick their own location among 64 far above chance (1/64).
    assert summary["val_batch_top1"] > 0.3
    assert [r["lr"] for r in log if r.get("kind") == "epoch"] == pytest.approx(
        [1e-3 * 0.87**e for e in range(4)])


def test_resume_after_an_epoch_is_exact(store, tmp_path):
    assert_resume_after_an_epoch_is_exact(store, tmp_path)


def test_resume_mid_epoch_after_a_crash_is_exact(store, tmp_path, monkeypatch):
    train(tmp_path / "straight", small_model(), small_config(store), progress=False)
    import geovario.train.loop as loop

    real_step, calls = loop.contrastive_step, {"n": 0}

    def crashing_step(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 23:  # epoch 2, after the checkpoint at step 20
            raise KeyboardInterrupt
        return real_step(*args, **kwargs)

    monkeypatch.setattr(loop, "contrastive_step", crashing_step)
    with pytest.raises(KeyboardInterrupt):
        train(tmp_path / "crashed", small_model(), small_config(store), progress=False)
    monkeypatch.setattr(loop, "contrastive_step", real_step)
    train(tmp_path / "crashed", resume=True, progress=False)
    a, b = weights(tmp_path / "straight"), weights(tmp_path / "crashed")
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=0, atol=0)
    steps = [json.loads(x)["step"] for x in (tmp_path / "crashed" / "metrics.jsonl")
             .read_text().splitlines() if "kind" not in x]
    assert steps == sorted(set(steps)), "the log has no duplicate steps after the resume"


def test_checkpoint_of_another_model_is_refused(store, tmp_path):
    train(tmp_path / "run", small_model(), small_config(store, epochs=1), progress=False)
    other = small_model(sigmas=(1.0, 16.0, 256.0))
    with pytest.raises(GeovarioError, match=r"model.safetensors: checkpoint was made for a "
                                            r"different model \(sigmas: \[1.0, 16.0\]"):
        load_weights(tmp_path / "run" / "model.safetensors", GeoCLIP(other), other.to_dict())


def test_bad_runs_and_configs(store, tmp_path):
    train(tmp_path / "run", small_model(), small_config(store, epochs=1), progress=False)
    with pytest.raises(GeovarioError, match="already holds a run; resume it with --resume"):
        train(tmp_path / "run", small_model(), small_config(store), progress=False)
    with pytest.raises(GeovarioError, match="holds 32-d features, the model expects "
                                            "feature_dim=768"):
        train(tmp_path / "run2", small_model(feature_dim=768), small_config(store),
              progress=False)
    with pytest.raises(GeovarioError, match="not a geovario run directory"):
        train(tmp_path / "empty", resume=True)
    with pytest.raises(GeovarioError, match="train: batch_size must be >= 2"):
        TrainConfig(batch_size=1)
    with pytest.raises(GeovarioError, match=r"fewer than one global batch of 2048 \(1 "
                                            r"process\(es\) × 2048\)"):
        train(tmp_path / "run3", small_model(), small_config(store, batch_size=2048),
              progress=False)


def test_batches_are_per_process_and_make_the_same_global_batches(store):
    features = open_store(store)
    rows = np.arange(len(features))
    one = StoreBatches(features, rows, 64, seed=3)
    ranks = [StoreBatches(features, rows, 16, seed=3, rank=r, world_size=4) for r in range(4)]
    assert one.global_size == ranks[0].global_size == 64 and len(one) == len(ranks[0])
    for whole, *parts in zip(one.epoch(1), *(r.epoch(1) for r in ranks), strict=True):
        np.testing.assert_array_equal(whole.rows, np.concatenate([p.rows for p in parts]))


def test_the_run_records_its_global_batch_and_resumes_only_with_as_many_processes(store,
                                                                                 tmp_path):
    train(tmp_path / "run", small_model(), small_config(store, epochs=1), progress=False)
    saved = json.loads((tmp_path / "run" / "config.json").read_text())
    assert (saved["world_size"], saved["global_batch_size"]) == (1, 64)
    saved["world_size"] = 2
    (tmp_path / "run" / "config.json").write_text(json.dumps(saved))
    with pytest.raises(GeovarioError, match=r"trained by 2 process\(es\) \(global batch "
                                            r"128\); resume it with the same number, not 1"):
        train(tmp_path / "run", resume=True, epochs=2, progress=False)


def test_semivariogram_loss_with_refits_resumes_exactly(store, tmp_path):
    sv = dict(loss="semivariogram", refit_every=4, refit_sample=256, refit_smoothing=0.5)
    assert_resume_after_an_epoch_is_exact(store, tmp_path, **sv)
    # The variogram was fitted from the store (no file given) and logged shares appear.
    assert (tmp_path / "straight" / "variogram.json").is_file()
    log = [json.loads(x) for x in (tmp_path / "straight" / "metrics.jsonl").read_text()
           .splitlines()]
    assert any("hard_share" in r for r in log)
    with pytest.raises(GeovarioError, match="refit_every needs a loss that uses a variogram; "
                       "'infonce' does not"):
        train(tmp_path / "plain", small_model(), small_config(store, refit_every=3),
              progress=False)
    assert not (tmp_path / "plain").exists()


def test_a_loss_of_ones_own_that_needs_a_variogram_trains_refits_and_resumes(store, tmp_path,
                                                                            monkeypatch):
    """Training names no loss: any registered loss that asks for a variogram gets the run's."""
    from geovario.checkpoint import read_metadata
    from geovario.losses import LOSSES, VariogramGuidedLoss
    from geovario.variogram import FittedVariogram

    monkeypatch.setattr(LOSSES, "_entries", dict(LOSSES._entries))

    @LOSSES.register("range-margin")
    class RangeMargin(VariogramGuidedLoss):
        """InfoNCE with the own location's logit lowered by range/10,000 km: the variogram
        moves every gradient, so a resume from the wrong variogram would show."""

        def forward(self, logits, inputs):
            margin = self.variogram.range_km / 10_000
            own = torch.nn.functional.one_hot(inputs.targets, logits.shape[1])
            self.last_stats = {"range_km": float(self.variogram.range_km)}
            return torch.nn.functional.cross_entropy(logits.float() - margin * own,
                                                     inputs.targets)

    mine = dict(loss="range-margin", refit_every=4, refit_sample=256, refit_smoothing=0.5)
    assert_resume_after_an_epoch_is_exact(store, tmp_path, **mine)
    run = tmp_path / "straight"
    assert json.loads((run / "config.json").read_text())["train"]["variogram"] == \
        "variogram.json"
    ranges = {r["range_km"] for r in map(json.loads, (run / "metrics.jsonl").open())
              if "range_km" in r and "kind" not in r}
    assert len(ranges) > 1  # the refits reached the loss
    saved = [read_metadata(r / "checkpoint.safetensors")["position"]["loss_state"]
             for r in (run, tmp_path / "split")]
    assert saved[0] == saved[1]  # the checkpoint holds the loss's last (refitted) variogram
    refitted = FittedVariogram.from_dict(saved[0]["variogram"])
    assert refitted.range_km != FittedVariogram.load(run / "variogram.json").range_km
