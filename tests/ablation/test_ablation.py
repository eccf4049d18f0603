import json

import numpy as np
import pytest
from tests.train.synthetic_store import make_clustered_store

from geovario.ablation import run_ablation, summarize
from geovario.cli import main
from geovario.models import ModelConfig
from geovario.train import TrainConfig

MODEL = ModelConfig(backbone="synthetic", feature_dim=32, init="scratch",
                    sigmas=(1.0, 16.0, 256.0), hidden=128, frequencies=32)


@pytest.fixture(scope="module")
def clustered(tmp_path_factory):
    """Clusters of 8 alike images within ~10 km: false negatives abound in every batch."""
    root = tmp_path_factory.mktemp("clustered")
    make_clustered_store(root / "train", clusters=200, per_cluster=8, seed=0)
    make_clustered_store(root / "test", clusters=200, per_cluster=2, seed=0)
    return root


def test_summarize_is_mean_and_sample_std():
    results = {"a": [{"n": 3, "acc_25km": 0.2}, {"n": 3, "acc_25km": 0.4},
                     {"n": 3, "acc_25km": 0.9}]}
    mean, std = summarize(results)["a"]["acc_25km"]
    assert mean == pytest.approx(0.5)
    assert std == pytest.approx(np.sqrt(((0.3**2) + (0.1**2) + (0.4**2)) / 2))


@pytest.mark.slow
def test_semivariogram_loss_is_not_worse_at_fine_scales(clustered):
    config = TrainConfig(train_store=str(clustered / "train"), epochs=4, batch_size=64,
                         queue_size=256, lr=1e-3, device="cpu", batch_noise_m=0,
                         queue_noise_m=0)
    results = run_ablation(clustered / "ablation", config, MODEL,
                           test_store=clustered / "test", variants=["infonce", "both"],
                           seeds=3, gallery=f"store:{clustered / 'train'}", progress=False)
    summary = summarize(results)
    for key in ("acc_25km", "acc_200km"):
        ours, base = summary["both"][key][0], summary["infonce"][key][0]
        # Seeds scatter by ~1 point; the means of 3 seeds by ~0.6: a 3-point margin is
        # about 3.5 standard errors of the difference, so only a real loss fails it.
        assert ours >= base - 0.03, (key, ours, base)
    assert summary["infonce"]["acc_25km"][0] > 0.5  # the task is learnable at all


def test_ablate_command_writes_the_report_and_resumes(clustered, capsys):
    out = clustered / "cli"

    def argv(variants):
        return ["ablate", "--train-store", str(clustered / "train"), "--test-store",
                str(clustered / "test"), "--out", str(out), "--seeds", "1", "--epochs", "1",
                "--batch-size", "64", "--queue-size", "128", "--variants", variants,
                "--gallery", f"store:{clustered / 'train'}", "--init", "scratch",
                "--sigmas", "1,16", "--device", "cpu", "--quiet"]

    assert main(argv("infonce,prototype")) == 0
    table = capsys.readouterr().out
    assert "| infonce (GeoCLIP's InfoNCE (baseline)) |" in table and "prototype" in table
    assert "Paired difference to infonce" in table
    data = json.loads((out / "ablation.json").read_text())
    assert set(data["variants"]) == {"infonce", "prototype"}
    paired = data["paired"]["prototype"]["acc_25km"]
    assert paired["ci_low"] <= paired["mean"] <= paired["ci_high"]
    raw = data["per_seed"]
    assert paired["per_seed"] == pytest.approx(
        [raw["prototype"][0]["acc_25km"] - raw["infonce"][0]["acc_25km"]])
    for name in ("accuracy.png", "paired.png"):
        assert (out / name).read_bytes()[:4] == b"\x89PNG"
    stamp = (out / "runs" / "infonce-seed0" / "evaluation.json").stat().st_mtime_ns
    assert main(argv("infonce,prototype")) == 0  # the rerun reuses the finished runs
    assert (out / "runs" / "infonce-seed0" / "evaluation.json").stat().st_mtime_ns == stamp
    assert main(argv("nope")) == 2
    assert "unknown variants ['nope']" in capsys.readouterr().err
