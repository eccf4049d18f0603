"""TensorBoard logs: the same numbers as metrics.jsonl, also across a crash and resume."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tests.helpers.synthetic_testdata import small_config, small_model

import geovario.train.loop as loop
from geovario.cli import main
from geovario.errors import GeovarioError
from geovario.train import train
from geovario.train.tensorboard import _hint_once

ROOT = Path(__file__).resolve().parents[2]
MODEL = small_model(hidden=64, frequencies=16)
STORE_ROWS = 320  # the rows of the module's synthetic store (tests/train/conftest.py)


def config(store, **overrides):
    return small_config(store, **{"queue_size": 128, "checkpoint_every": 3,
                                  "val_fraction": 0.2, "seed": 0, **overrides})


def records(run):
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


def events(run) -> EventAccumulator:
    accumulator = EventAccumulator(str(run / "tensorboard"))
    accumulator.Reload()
    return accumulator


def test_events_hold_the_log_once_per_step_after_a_crash_and_resume(store, tmp_path,
                                                                     monkeypatch):
    real_step, calls = loop.contrastive_step, {"n": 0}

    def crashing_step(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 6:  # epoch 2 (4 steps each), step 6: steps 5 is logged, not saved
            raise KeyboardInterrupt
        return real_step(*args, **kwargs)

    run = tmp_path / "run"
    monkeypatch.setattr(loop, "contrastive_step", crashing_step)
    with pytest.raises(KeyboardInterrupt):
        train(run, MODEL, config(store, loss="semivariogram"), progress=False,
              tensorboard=True)
    monkeypatch.setattr(loop, "contrastive_step", real_step)
    train(run, resume=True, progress=False, tensorboard=True)

    log = records(run)
    steps = [r for r in log if "kind" not in r]
    board = events(run)
    scalars = set(board.Tags()["scalars"])
    assert {"train/loss", "train/lr", "train/logit_scale", "train/samples_per_s",
            "train/hard_share", "train/false_share", "train/hard_mean_weight",
            "train/false_mean_weight", "epoch/train_loss", "epoch/val_loss",
            "epoch/val_batch_top1", "epoch/lr"} <= scalars
    for tag, key, rows in (("train/loss", "loss", steps),
                           ("train/hard_share", "hard_share", steps),
                           ("train/logit_scale", "logit_scale", steps),
                           ("epoch/val_loss", "val_loss", [r for r in log
                                                           if r.get("kind") == "epoch"])):
        drawn = board.Scalars(tag)
        assert [e.step for e in drawn] == [r["step"] for r in rows], tag  # step 5 once
        assert [e.value for e in drawn] == pytest.approx([r[key] for r in rows], rel=1e-6)
    assert [e.step for e in board.Images("variogram")] == [0]
    assert board.Tags()["tensors"] == ["loss/text_summary"]


def test_without_tensorboard_training_runs_and_says_so_once(store, tmp_path, monkeypatch,
                                                              capsys):
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)  # import fails
    _hint_once.cache_clear()
    for name in ("a", "b"):
        train(tmp_path / name, MODEL, config(store, epochs=1), progress=False)
    assert capsys.readouterr().err.count("train: no TensorBoard logs (pip install "
                                         "tensorboard for them") == 1
    assert records(tmp_path / "b")[-1]["kind"] == "epoch"
    assert not (tmp_path / "a" / "tensorboard").exists()
    with pytest.raises(GeovarioError, match=r"^train: TensorBoard logs need the tensorboard "
                       r"package \(pip install tensorboard\)$"):
        train(tmp_path / "c", MODEL, config(store), tensorboard=True)
    assert not (tmp_path / "c" / "config.json").exists()


@pytest.mark.parametrize("flag, tensorboard", [([], None), (["--tensorboard", "auto"], None),
                                               (["--tensorboard", "on"], True),
                                               (["--tensorboard", "off"], False)])
def test_tensorboard_flag_reaches_train(store, tmp_path, monkeypatch, flag, tensorboard):
    import geovario.train

    given = {}
    monkeypatch.setattr(geovario.train, "train", lambda *a, **kw: given.update(kw) or {})
    assert main(["train", str(tmp_path / "run"), "--store", str(store), *flag]) == 0
    assert given["tensorboard"] is tensorboard


@pytest.mark.slow
def test_only_rank_zero_writes_under_torchrun(store, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
         "-m", "geovario.cli", "train", str(tmp_path / "two"), "--store", str(store),
         "--epochs", "1", "--batch-size", "64", "--queue-size", "128", "--init", "scratch",
         "--sigmas", "1,16", "--log-every", "1", "--quiet", "--device", "cpu",
         "--tensorboard", "on"], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert len(list((tmp_path / "two" / "tensorboard").glob("events.out.tfevents.*"))) == 1
    steps = [r["step"] for r in records(tmp_path / "two") if "kind" not in r]
    assert [e.step for e in events(tmp_path / "two").Scalars("train/loss")] == steps
