import json

import numpy as np
import pandas as pd
import pytest
from tests.helpers.synthetic_testdata import make_clustered_store

from geovario.ablation import summarize
from geovario.ablation.clusters import resolve_units
from geovario.ablation.selection import SelectionSplit, split_rows
from geovario.cli import main
from geovario.errors import GeovarioError
from geovario.geo import pairwise_km
from geovario.store import open_store


@pytest.fixture(scope="module")
def clustered(tmp_path_factory):
    """Clusters of 8 alike images within ~10 km: false negatives abound in every batch."""
    root = tmp_path_factory.mktemp("clustered")
    make_clustered_store(root / "train", clusters=200, per_cluster=8, seed=0)
    make_clustered_store(root / "test", clusters=200, per_cluster=2, seed=0)
    pd.DataFrame({"id": [f"c{i}" for i in range(400)],
                  "cluster": [str(i // 2) for i in range(400)]}).to_csv(root / "test.csv",
                                                                       index=False)
    return root


def argv(clustered, out, variants="infonce,prototype", *extra, test=True):
    return ["ablate", str(out), "--train-store", str(clustered / "train"),
            *(["--test-store", str(clustered / "test")] if test else []),
            "--seeds", "1", "--epochs", "1", "--batch-size", "64",
            "--queue-size", "128", "--variants", variants, "--resamples", "200",
            "--gallery", f"store:{clustered / 'train'}", "--init", "scratch",
            "--sigmas", "1,16", "--device", "cpu", "--quiet", *extra]


def test_summarize_is_mean_and_sample_std():
    results = {"a": [{"n": 3, "acc_25km": 0.2}, {"n": 3, "acc_25km": 0.4},
                     {"n": 3, "acc_25km": 0.9}]}
    mean, std = summarize(results)["a"]["acc_25km"]
    assert mean == pytest.approx(0.5)
    assert std == pytest.approx(np.sqrt(((0.3**2) + (0.1**2) + (0.4**2)) / 2))


def test_ablate_writes_the_report_resumes_and_refuses_runs_of_other_settings(clustered, capsys):
    out = clustered / "cli"
    assert main(argv(clustered, out, "infonce,prototype", "--clusters",
                     str(clustered / "test.csv"))) == 0
    table = capsys.readouterr().out
    assert "| infonce (GeoCLIP's InfoNCE (baseline)) |" in table and "prototype" in table
    assert "Paired difference to infonce" in table and "Scored on the test store" in table
    assert "200 clusters of the 'cluster' column resampled (400 images)" in table
    data = json.loads((out / "ablation.json").read_text())
    assert set(data["variants"]) == {"infonce", "prototype"}
    unit = data["paired"]["unit"]
    assert (unit["resampled"], unit["column"], unit["units"], unit["images"]) == \
        ("cluster", "cluster", 200, 400)
    assert data["paired"]["resamples"] == 200 and data["scored_on"]["role"] == "test"
    paired = data["paired"]["variants"]["prototype"]["acc_25km"]
    assert paired["ci_low"] <= paired["mean"] <= paired["ci_high"]
    raw = data["per_seed"]
    assert paired["per_seed"] == pytest.approx(
        [raw["prototype"][0]["acc_25km"] - raw["infonce"][0]["acc_25km"]])
    for name in ("accuracy.png", "paired.png"):
        assert (out / name).read_bytes()[:4] == b"\x89PNG"
    evaluation = out / "runs" / "infonce-seed0" / "evaluation.json"
    stamp = evaluation.stat().st_mtime_ns
    assert main(argv(clustered, out, "infonce,prototype")) == 0  # reuses the finished runs
    assert evaluation.stat().st_mtime_ns == stamp
    assert json.loads((out / "ablation.json").read_text())["paired"]["unit"]["resampled"] \
        == "image"  # the test store itself has no cluster column
    capsys.readouterr()
    assert main(argv(clustered, out, "infonce,prototype", "--hard-margin", "2")) == 2
    assert ("prototype-seed0 was trained with train.loss_options.hard_margin=0.0, not "
            "train.loss_options.hard_margin=2.0 as asked") in capsys.readouterr().err
    assert main(argv(clustered, out, "infonce", "--lr", "1e-3")) == 2
    assert "was trained with train.lr=" in capsys.readouterr().err
    (out / "runs" / "infonce-seed0" / "evaluation-settings.json").write_text(
        json.dumps({"test_store": "elsewhere", "gallery": "geoclip"}))
    assert main(argv(clustered, out, "infonce")) == 2
    assert "evaluation.json was evaluated with" in capsys.readouterr().err
    (out / "runs" / "infonce-seed0" / "evaluation-settings.json").unlink()
    assert main(argv(clustered, out, "infonce")) == 0  # no record: evaluated again
    assert evaluation.stat().st_mtime_ns != stamp
    assert main(argv(clustered, out, "nope")) == 2
    assert "unknown variants ['nope']" in capsys.readouterr().err


def test_selection_scores_a_held_out_part_of_the_training_store(clustered, capsys):
    out = clustered / "select"
    assert main(argv(clustered, out, "infonce,prototype", "--select-fraction", "0.2",
                     "--select-region-km", "300", "--select-regions", "8",
                     "--select-buffer-km", "100", test=False)) == 0
    table = capsys.readouterr().out
    assert "Scored on the selection set" in table and "The test store was not used" in table
    data = json.loads((out / "ablation.json").read_text())
    facts = data["scored_on"]["selection"]
    assert data["scored_on"]["role"] == "selection"
    assert facts["validation_places"] == 320
    train = open_store(out / "selection" / "train")
    val = open_store(out / "selection" / "validation")
    assert (len(train), len(val)) == (facts["training_places"], 320)
    assert facts["training_places"] + 320 + facts["dropped_within_buffer"] == 1600
    assert pairwise_km(train.coords, val.coords).min() > 100.0
    assert data["paired"]["unit"]["units"] == facts["validation_regions"] >= 8
    config = json.loads((out / "runs" / "infonce-seed0" / "config.json").read_text())
    assert config["train"]["train_store"].endswith("selection/train")
    # The selection never looks at a test store; another split in the same folder is refused.
    assert main(argv(clustered, out, "infonce", "--select-fraction", "0.2")) == 2
    assert "not both: selection never looks at the test set" in capsys.readouterr().err
    assert main(argv(clustered, out, "infonce", "--select-fraction", "0.3", test=False)) == 2
    assert "holds a selection split with fraction=0.2 but fraction=0.3" in \
        capsys.readouterr().err


def test_selection_regions_stay_within_their_disc_and_the_buffer_holds():
    rng = np.random.default_rng(0)
    coords = np.stack([rng.uniform(-60, 60, 3000), rng.uniform(-180, 180, 3000)], 1)
    train, val, region = split_rows(coords, SelectionSplit(0.1, 800.0, 10, 400.0),
                                    np.random.default_rng(1))
    assert len(val) == 300 and not set(train) & set(val)
    assert np.bincount(region).max() <= 30 and region.max() + 1 >= 10
    for r in np.unique(region):
        inside = coords[val[region == r]]
        assert pairwise_km(inside, inside).max() <= 800.0 + 1e-6
    assert pairwise_km(coords[train], coords[val]).min() > 400.0
    train, val, region = split_rows(coords, SelectionSplit(0.1, 0.0, 10, 0.0),
                                    np.random.default_rng(1))
    assert len(train) == 2700 and len(np.unique(region)) == 300
    with pytest.raises(GeovarioError, match="--select-fraction must be in"):
        SelectionSplit(1.5)


def test_cluster_column_auto_image_and_missing(clustered):
    assert resolve_units(clustered / "test").labels is None
    assert resolve_units(clustered / "test", "image").labels is None
    units = resolve_units(clustered / "test", "auto", clustered / "test.csv")
    assert units.column == "cluster" and units.labels["c3"] == "1"
    with pytest.raises(GeovarioError, match="has no column 'cell'.*extract the test set with"):
        resolve_units(clustered / "test", "cell")
