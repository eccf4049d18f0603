"""Distributed setup in one place: who am I, start the process group, wait, clean up.

Launchers describe the job in environment variables: ``torchrun`` (and any ``env://``
launcher) sets ``RANK``, ``WORLD_SIZE`` and ``LOCAL_RANK``; ``srun`` sets
``SLURM_PROCID``, ``SLURM_NTASKS`` and ``SLURM_LOCALID``. ``detect_env`` reads them
(torchrun's first) and ``init_distributed`` starts a process group only when the
world holds more than one process: gloo on the CPU, nccl on CUDA. With one plain
process every function here is a no-op that makes no distributed call, so the same
code runs on a laptop and under ``torchrun``.
"""

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

import torch
import torch.distributed as dist

from geovario.errors import GeovarioError

_TORCHRUN = ("RANK", "WORLD_SIZE", "LOCAL_RANK")
_SLURM = ("SLURM_PROCID", "SLURM_NTASKS", "SLURM_LOCALID")
#: What ``--device`` takes, as the messages spell it.
DEVICE_NAMES = "auto, cpu, cuda or cuda:N"


@dataclass(frozen=True)
class DistributedEnv:
    """This process's place in the job; ``launcher`` is "torchrun", "slurm" or "none"."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    launcher: str = "none"

    @property
    def is_distributed(self) -> bool:
        """Whether more than one process takes part."""
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """Whether this is rank 0, the process that writes shared outputs and prints."""
        return self.rank == 0


def _ints(environ: Mapping[str, str], names: tuple[str, ...], launcher: str) -> list[int]:
    try:
        return [int(environ.get(name, "0")) for name in names]
    except ValueError:
        found = {name: environ.get(name) for name in names}
        raise GeovarioError(f"distributed: {launcher} environment variables are not integers: "
                            f"{found}") from None


def detect_env(environ: Mapping[str, str] | None = None) -> DistributedEnv:
    """Read rank, world size and local rank from torchrun's or SLURM's variables.

    Raises:
        GeovarioError: "distributed: <launcher> environment variables are not integers ..." or
            "distributed: rank R is outside a world of size W".
    """
    environ = os.environ if environ is None else environ
    if "RANK" in environ and "WORLD_SIZE" in environ:
        rank, world, local = _ints(environ, _TORCHRUN, "torchrun")
        launcher = "torchrun"
    elif "SLURM_PROCID" in environ and "SLURM_NTASKS" in environ:
        rank, world, local = _ints(environ, _SLURM, "slurm")
        launcher = "slurm"
    else:
        return DistributedEnv()
    if world < 1 or not 0 <= rank < world:
        raise GeovarioError(f"distributed: rank {rank} is outside a world of size {world} "
                            f"({launcher} environment)")
    return DistributedEnv(rank=rank, world_size=world, local_rank=local, launcher=launcher)


def init_distributed(device: str | torch.device = "cpu", *,
                     timeout_s: float = 1800.0) -> tuple[DistributedEnv, torch.device]:
    """Join the job's process group if there is one; return the env and this rank's device.

    ``device="cuda"`` becomes ``cuda:<local rank>``; ``auto`` is resolved (and any name
    checked) first by :func:`resolve_device`. The group uses nccl on CUDA and gloo
    otherwise; ``timeout_s`` bounds every collective, barriers included, so give long jobs
    whose ranks may finish far apart a long one. Calling it twice is harmless.

    Raises:
        GeovarioError: from ``detect_env`` and ``resolve_device``; "distributed: SLURM job
            with N tasks but MASTER_ADDR/MASTER_PORT are not set ..." when srun starts the
            processes without a rendezvous address.
    """
    env = detect_env()
    device = torch.device(resolve_device(device) if isinstance(device, str) else device)
    if device.type == "cuda" and device.index is None:
        device = torch.device(resolve_device(f"cuda:{env.local_rank}"))
    if not env.is_distributed or dist.is_initialized():
        return env, device
    if env.launcher == "slurm":
        missing = [name for name in ("MASTER_ADDR", "MASTER_PORT") if name not in os.environ]
        if missing:
            raise GeovarioError(f"distributed: SLURM job with {env.world_size} tasks but "
                                f"{'/'.join(missing)} not set (export them in the batch script, "
                                "or launch with torchrun)")
    if device.type == "cuda":
        torch.cuda.set_device(device)
    dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo",
                            init_method="env://", rank=env.rank, world_size=env.world_size,
                            timeout=timedelta(seconds=timeout_s))
    return env, device


def resolve_device(device: str) -> str:
    """A ``--device`` value checked against this machine; ``auto`` becomes cuda or cpu.

    ``auto`` is ``cuda`` when a GPU is visible, else ``cpu``; ``cpu``, ``cuda``,
    ``cuda:N`` and ``mps`` stay as they are.

    Every command calls it before any work (through ``init_distributed``, the predictor
    or :func:`geovario.commands.options.check_device`), so a device that is not there
    ends in one line instead of a traceback from deep inside torch.

    Raises:
        GeovarioError: "--device gpu: not a device; use auto, cpu, cuda or cuda:N",
            "--device cuda: no CUDA device is visible here; use --device cpu or auto",
            "--device cuda:N: only K CUDA device(s) are visible here (cuda:0 ...)" or
            "--device mps: no Apple GPU (MPS) here; ...".
    """
    text = str(device).strip()
    if text == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    kind, _, index = text.partition(":")
    if kind not in ("cpu", "cuda", "mps") or (index and not (kind == "cuda" and index.isdigit())):
        raise GeovarioError(f"--device {text}: not a device; use {DEVICE_NAMES}")
    if kind == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise GeovarioError(f"--device {text}: no CUDA device is visible here; use "
                                "--device cpu or auto")
        if index and int(index) >= count:
            raise GeovarioError(f"--device {text}: only {count} CUDA device(s) are visible "
                                f"here (cuda:0 to cuda:{count - 1})")
    if kind == "mps" and not torch.backends.mps.is_available():
        raise GeovarioError(f"--device {text}: no Apple GPU (MPS) here; use --device cpu or "
                            "auto")
    return text


def barrier() -> None:
    """Wait for every rank; does nothing without a process group."""
    if dist.is_initialized():
        dist.barrier()


def cleanup() -> None:
    """Leave the process group, if one was started."""
    if dist.is_initialized():
        dist.destroy_process_group()


def rank() -> int:
    """This process's rank (0 without a process group)."""
    return dist.get_rank() if dist.is_initialized() else 0


def world_size() -> int:
    """Number of processes (1 without a process group)."""
    return dist.get_world_size() if dist.is_initialized() else 1


def all_gather(tensor: torch.Tensor) -> torch.Tensor:
    """Every rank's equally shaped ``tensor`` concatenated along dim 0, without gradient."""
    if world_size() == 1:
        return tensor
    parts = [torch.empty_like(tensor) for _ in range(world_size())]
    dist.all_gather(parts, tensor.contiguous())
    return torch.cat(parts)


class _GatherWithGrad(torch.autograd.Function):
    """all_gather whose backward sums every rank's gradient for this rank's share."""

    @staticmethod
    def forward(ctx, tensor: torch.Tensor) -> tuple[torch.Tensor, ...]:
        parts = [torch.empty_like(tensor) for _ in range(dist.get_world_size())]
        dist.all_gather(parts, tensor.contiguous())
        return tuple(parts)

    @staticmethod
    def backward(ctx, *grads: torch.Tensor) -> torch.Tensor:
        grad = torch.stack(grads).contiguous()
        dist.all_reduce(grad)
        return grad[dist.get_rank()]


def all_gather_with_grad(tensor: torch.Tensor) -> list[torch.Tensor]:
    """Every rank's equally shaped ``tensor``; gradients flow back to the rank that made each."""
    if world_size() == 1:
        return [tensor]
    return list(_GatherWithGrad.apply(tensor))
