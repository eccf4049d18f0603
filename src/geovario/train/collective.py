"""Collective operations that do nothing (and call nothing) in a single process."""

import torch
import torch.distributed as dist


def is_distributed() -> bool:
    """Whether a process group is up (torchrun with more than one process)."""
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def rank() -> int:
    """This process's rank (0 without a process group)."""
    return dist.get_rank() if is_distributed() else 0


def world_size() -> int:
    """Number of processes (1 without a process group)."""
    return dist.get_world_size() if is_distributed() else 1


def all_gather(tensor: torch.Tensor) -> torch.Tensor:
    """Concatenate every rank's equally shaped ``tensor`` along dim 0, without gradient."""
    if not is_distributed():
        return tensor
    parts = [torch.empty_like(tensor) for _ in range(dist.get_world_size())]
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
    if not is_distributed():
        return [tensor]
    return list(_GatherWithGrad.apply(tensor))


def setup(device: str = "auto") -> torch.device:
    """Join the process group when started by torchrun; return this process's device.

    ``auto`` picks CUDA (the local rank's GPU) when available, else the CPU; the backend
    is NCCL on CUDA and gloo on the CPU.
    """
    import os

    local_rank = int(os.environ.get("LOCAL_RANK", 0))
    wanted = "cuda" if device == "auto" and torch.cuda.is_available() else device
    wanted = "cpu" if wanted == "auto" else wanted
    dev = torch.device(f"cuda:{local_rank}" if wanted == "cuda" else wanted)
    if dev.type == "cuda":
        torch.cuda.set_device(dev)
    if int(os.environ.get("WORLD_SIZE", 1)) > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if dev.type == "cuda" else "gloo")
    return dev


def cleanup() -> None:
    """Leave the process group (before the interpreter exits, so gloo shuts down cleanly)."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def barrier() -> None:
    """Wait for every rank (no-op in one process)."""
    if is_distributed():
        dist.barrier()
