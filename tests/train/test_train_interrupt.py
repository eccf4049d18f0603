"""Ctrl-C and kill -9 in the middle of an epoch: resuming gives the uninterrupted run."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from tests.helpers import child_script
from tests.helpers.synthetic_testdata import make_store

from geovario.cli import main

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
STORE_ROWS = 512  # 8 batches of 64 per epoch
ARGS = ["--epochs", "3", "--batch-size", "64", "--queue-size", "128", "--init", "scratch",
        "--sigmas", "1,16", "--device", "cpu", "--log-every", "1", "--quiet",
        "--tensorboard", "off"]


def records(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


def epoch_losses(run: Path) -> list[float]:
    return [r["train_loss"] for r in records(run) if r.get("kind") == "epoch"]


def assert_same_weights(a: Path, b: Path) -> None:
    left, right = load_file(str(a / "model.safetensors")), load_file(str(b / "model.safetensors"))
    assert left.keys() == right.keys()
    for key in left:
        torch.testing.assert_close(left[key], right[key], rtol=0, atol=0)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    path = tmp_path_factory.mktemp("interrupt") / "store"
    make_store(path, n=STORE_ROWS, dim=16)
    return path


@pytest.fixture(scope="module")
def straight(store, tmp_path_factory):
    """The run that nobody interrupted."""
    from tests.helpers.train_child import small_configs

    import geovario.commands.train as command

    run = tmp_path_factory.mktemp("straight") / "run"
    with pytest.MonkeyPatch.context() as patch:  # the child's small model
        patch.setattr(command, "configs_from_args", small_configs)
        assert main(["train", str(run), "--store", str(store), *ARGS,
                     "--checkpoint-every", "3"]) == 0
    return run


def start_child(store: Path, run: Path, *extra: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
           "STEP_SLEEP_S": "0.15"}
    return subprocess.Popen([sys.executable, child_script("train_child.py"), str(run),
                             "--store", str(store), *ARGS, *extra], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


def wait_for_step(child: subprocess.Popen, run: Path, step: int) -> None:
    deadline = time.monotonic() + 300
    while not (run / "metrics.jsonl").is_file() or not any(
            r.get("step", 0) >= step for r in records(run)):
        assert child.poll() is None, child.communicate()
        assert time.monotonic() < deadline, f"the child did not reach step {step}"
        time.sleep(0.02)


def test_ctrl_c_saves_says_how_to_go_on_and_exits_130(store, straight, tmp_path):
    run = tmp_path / "run"
    child = start_child(store, run, "--checkpoint-every", "100")
    wait_for_step(child, run, 11)  # epoch 2 of 3 (steps 9 to 16)
    os.killpg(child.pid, signal.SIGINT)  # as Ctrl-C: the whole foreground group
    out, err = child.communicate(timeout=300)
    assert child.returncode == 130, err
    assert "Traceback" not in err
    stopped = max(r["step"] for r in records(run))
    assert 11 <= stopped < 16
    assert err == (f"train: stopped at step {stopped} (epoch 2/3) and saved; go on with: "
                   f"geovario train {run} --resume\n")
    assert out.splitlines() == [f"epoch 1/3  loss {epoch_losses(run)[0]:.3g}  "
                                + out.splitlines()[0].rsplit("  ", 1)[1]]

    assert main(["train", str(run), "--resume", "--quiet"]) == 0
    assert epoch_losses(run) == pytest.approx(epoch_losses(straight), rel=0, abs=1e-6)
    assert_same_weights(run, straight)


def test_kill_9_mid_epoch_then_resume_logs_the_uninterrupted_epoch(store, straight, tmp_path):
    run = tmp_path / "run"
    child = start_child(store, run, "--checkpoint-every", "3")
    wait_for_step(child, run, 13)  # epoch 2, after the checkpoint at step 12
    os.killpg(child.pid, signal.SIGKILL)
    child.communicate()
    assert len(epoch_losses(run)) == 1  # killed in epoch 2

    assert main(["train", str(run), "--resume", "--quiet"]) == 0
    # Epoch 2 averages steps 9-12 (before the kill) and 13-16 (after the resume).
    assert epoch_losses(run) == pytest.approx(epoch_losses(straight), rel=0, abs=1e-6)
    assert_same_weights(run, straight)
    steps = [r["step"] for r in records(run) if "kind" not in r]
    assert steps == list(range(1, 25))


def test_resuming_a_finished_run_says_so_in_one_line(straight, capsys):
    before = (straight / "metrics.jsonl").read_text()
    assert main(["train", str(straight), "--resume", "--quiet"]) == 0
    assert capsys.readouterr().out == (f"{straight} has finished all 3 epochs; add --epochs N "
                                       "(more than 3) to train further\n")
    assert main(["train", str(straight), "--resume", "--epochs", "2"]) == 0
    assert "has finished all 3 epochs" in capsys.readouterr().out
    assert (straight / "metrics.jsonl").read_text() == before
    assert json.loads((straight / "config.json").read_text())["train"]["epochs"] == 3
