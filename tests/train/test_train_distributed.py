"""torchrun on the CPU (gloo): two ranks × B/2 must equal one rank × B."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from tests.helpers import child_script

ROOT = Path(__file__).resolve().parents[2]
WORKER = child_script("ddp_step_child.py")


def run(args, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    done = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]


def torchrun(n):
    return [sys.executable, "-m", "torch.distributed.run", "--standalone",
            f"--nproc_per_node={n}"]


@pytest.mark.slow
def test_two_ranks_give_the_loss_and_gradients_of_one(tmp_path):
    run([sys.executable, str(WORKER), str(tmp_path / "one.pt")], tmp_path)
    run([*torchrun(2), str(WORKER), str(tmp_path / "two.pt")], tmp_path)
    one, two = (torch.load(tmp_path / f"{n}.pt") for n in ("one", "two"))
    assert one["candidates"] == two["candidates"] == 32 + 90
    torch.testing.assert_close(two["loss"], one["loss"], rtol=1e-5, atol=1e-6)
    for name, grad in one["grads"].items():
        torch.testing.assert_close(two["grads"][name], grad, rtol=1e-4, atol=1e-6,
                                   msg=f"gradient of {name}")
    for name, value in one["queue"].items():  # every rank enqueued the global batch
        torch.testing.assert_close(two["queue"][name], value)


@pytest.mark.slow
def test_train_command_runs_under_torchrun(tmp_path):
    from tests.helpers.synthetic_testdata import make_store

    make_store(tmp_path / "store", n=256, dim=16)
    common = ["--store", str(tmp_path / "store"), "--epochs", "1", "--batch-size", "32",
              "--queue-size", "64", "--init", "scratch", "--sigmas", "1,16", "--quiet",
              "--device", "cpu"]
    run([*torchrun(2), "-m", "geovario.cli", "train", str(tmp_path / "two"), *common],
        tmp_path)
    assert (tmp_path / "two" / "model.safetensors").is_file()
    assert (tmp_path / "two" / "checkpoint.safetensors").is_file()
    saved = json.loads((tmp_path / "two" / "config.json").read_text())
    assert (saved["world_size"], saved["global_batch_size"]) == (2, 64)
