import json

import numpy as np
import pytest
from tests.train.synthetic_testdata import make_clustered_store

from geovario.ablation import summarize
from geovario.cli import main


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
