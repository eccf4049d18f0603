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


@pytest.mark.parametrize("device, gpus, expected", [
    ("auto", 0, "cpu"), ("auto", 2, "cuda"), ("cpu", 0, "cpu"), ("cuda", 2, "cuda"),
    ("cuda:1", 2, "cuda:1"),
    ("gpu", 2, r"^--device gpu: not a device; use auto, cpu, cuda or cuda:N$"),
    ("cuda:x", 2, r"^--device cuda:x: not a device"),
    ("cpu:0", 0, r"^--device cpu:0: not a device"),
    ("cuda", 0, r"^--device cuda: no CUDA device is visible here; use --device cpu or auto$"),
    ("cuda:2", 2, r"^--device cuda:2: only 2 CUDA device\(s\) are visible here \(cuda:0 to "
                  r"cuda:1\)$"),
])
def test_resolve_device_checks_the_name_and_the_machine(device, gpus, expected, monkeypatch):
    monkeypatch.setattr(distributed.torch.cuda, "is_available", lambda: gpus > 0)
    monkeypatch.setattr(distributed.torch.cuda, "device_count", lambda: gpus)
    if expected.startswith("^"):
        with pytest.raises(GeovarioError, match=expected):
            distributed.resolve_device(device)
    else:
        assert distributed.resolve_device(device) == expected


ARGS = {"train": ["RUN", "--store", "S"], "predict": ["RUN", "photo.jpg"],
        "evaluate": ["RUN", "--store", "S"], "serve": ["RUN"],
        "extract": ["--dataset", "csv", "--root", "R", "--backbone", "b", "--out", "O"],
        "variogram": ["--store", "S", "--out", "O"], "demo": [],
        "ablate": ["O", "--train-store", "A", "--test-store", "B"]}


@pytest.mark.parametrize("command", sorted(ARGS))
@pytest.mark.parametrize("device, message", [
    ("gpu", "--device gpu: not a device; use auto, cpu, cuda or cuda:N"),
    ("cuda", "--device cuda: no CUDA device is visible here; use --device cpu or auto"),
])
def test_every_command_refuses_a_missing_device_in_one_line_before_any_work(
        command, device, message, monkeypatch, capsys, tmp_path):
    from geovario.cli import main

    monkeypatch.chdir(tmp_path)  # nothing may be written here
    monkeypatch.setattr(distributed.torch.cuda, "is_available", lambda: False)
    assert main([command, *ARGS[command], "--device", device]) == 2
    assert capsys.readouterr().err == f"geovario {command}: error: {message}\n"
    assert list(tmp_path.iterdir()) == []
