"""Process groups: what the launcher's environment says, and nothing collective alone."""

import pytest
import torch.distributed as dist

from geovario import distributed
from geovario.distributed import DistributedEnv, detect_env, init_distributed
from geovario.errors import GeovarioError


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


def test_auto_device_is_resolved(monkeypatch):
    for name in ("RANK", "WORLD_SIZE", "SLURM_PROCID", "SLURM_NTASKS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(distributed.torch.cuda, "is_available", lambda: False)
    assert str(init_distributed("auto")[1]) == "cpu"
