import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch.distributed as dist
from tests.data.osv5m_testdata import make_osv5m
from tests.extract.extract_testdata import FAKE_NAME, FakeBackbone, assert_identical_stores

from geovario import distributed
from geovario.data.osv5m import load_osv5m
from geovario.distributed import DistributedEnv, detect_env, init_distributed
from geovario.errors import GeovarioError
from geovario.extract import SKIP_LOG_NAME, extract_features
from geovario.store import open_store

CHILD = Path(__file__).resolve().parent / "extract_child.py"


@pytest.mark.parametrize("environ, expected", [
    ({}, DistributedEnv()),
    ({"RANK": "3", "WORLD_SIZE": "4", "LOCAL_RANK": "1"}, DistributedEnv(3, 4, 1, "torchrun")),
    ({"SLURM_PROCID": "5", "SLURM_NTASKS": "8", "SLURM_LOCALID": "1"},
     DistributedEnv(5, 8, 1, "slurm")),
    ({"RANK": "0", "WORLD_SIZE": "2", "SLURM_PROCID": "7", "SLURM_NTASKS": "8"},
     DistributedEnv(0, 2, 0, "torchrun")),  # torchrun inside a SLURM allocation
    ({"SLURM_PROCID": "0", "SLURM_NTASKS": "1"}, DistributedEnv(0, 1, 0, "slurm")),
])
def test_detect_env(environ, expected):
    env = detect_env(environ)
    assert env == expected
    assert env.is_distributed == (expected.world_size > 1) and env.is_main == (env.rank == 0)


@pytest.mark.parametrize("environ, match", [
    ({"RANK": "x", "WORLD_SIZE": "2"}, r"distributed: torchrun environment variables are not "
                                       r"integers: \{'RANK': 'x'"),
    ({"RANK": "2", "WORLD_SIZE": "2"}, r"distributed: rank 2 is outside a world of size 2 "
                                       r"\(torchrun environment\)"),
])
def test_detect_env_errors(environ, match):
    with pytest.raises(GeovarioError, match=match):
        detect_env(environ)


def test_one_plain_process_makes_no_distributed_call(monkeypatch):
    for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "SLURM_PROCID", "SLURM_NTASKS"):
        monkeypatch.delenv(name, raising=False)

    def forbidden(*args, **kwargs):
        raise AssertionError("no distributed call in a single process")

    for name in ("init_process_group", "barrier", "destroy_process_group"):
        monkeypatch.setattr(dist, name, forbidden)
    env, device = init_distributed("cpu")
    assert env == DistributedEnv() and str(device) == "cpu"
    assert distributed.rank() == 0 and distributed.world_size() == 1
    distributed.barrier()
    distributed.cleanup()
    assert not dist.is_initialized()


def test_slurm_without_rendezvous_address_is_a_clear_error(monkeypatch):
    for name in ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SLURM_PROCID", "0")
    monkeypatch.setenv("SLURM_NTASKS", "2")
    with pytest.raises(GeovarioError, match=r"^distributed: SLURM job with 2 tasks but "
                       r"MASTER_ADDR/MASTER_PORT not set"):
        init_distributed("cpu")


@pytest.mark.slow
def test_torchrun_two_ranks_equal_one_process(tmp_path):
    root = tmp_path / "osv"
    make_osv5m(root)
    single = extract_features(load_osv5m(root, "train"), FakeBackbone(), tmp_path / "single",
                              batch_size=2, workers=0, chunk_size=3, progress=False)
    out = tmp_path / "two"
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK")}
    done = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
         str(CHILD), "extract", "--dataset", "osv5m", "--root", str(root), "--backbone",
         FAKE_NAME, "--out", str(out), "--batch-size", "2", "--workers", "1",
         "--shard-size", "3", "--quiet"],
        env={**env, "OMP_NUM_THREADS": "1"}, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.count("extract: 9 embedded, 3 skipped (1 corrupt image, 1 missing "
                             "image, 1 invalid coordinates)") == 1  # printed by rank 0 only
    assert_identical_stores(open_store(out), open_store(tmp_path / "single"))
    assert (out / SKIP_LOG_NAME).read_bytes() == (tmp_path / "single" / SKIP_LOG_NAME).read_bytes()
    assert not (out / "parts").exists()
    assert single.rows == 9

    again = extract_features(load_osv5m(root, "train"), FakeBackbone(), out, batch_size=2,
                             workers=0, chunk_size=3, progress=False)
    assert again.embedded == 0 and again.rows == 9
