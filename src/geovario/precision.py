"""Where bfloat16 pays: ``--amp auto`` turns it on only where the hardware multiplies it natively.

On CUDA devices with bfloat16 support, and on CPUs with AVX512-BF16 or AMX, bfloat16
matrix products run 3-4x faster than float32 (the location encoder's MLPs, which are
most of training and of embedding a gallery; benchmarks/RESULTS.md). Elsewhere a CPU
emulates them and float32 is faster, so ``auto`` keeps float32 there.
"""

import functools
from pathlib import Path

from geovario.errors import GeovarioError

AMP_MODES = ("auto", "bf16", "off")
#: CPU flags (Linux /proc/cpuinfo) of native bfloat16 dot products.
NATIVE_BF16_FLAGS = frozenset({"avx512_bf16", "amx_bf16"})


@functools.cache
def cpu_flags() -> frozenset[str]:
    """The CPU's feature flags as Linux reports them (empty elsewhere)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return frozenset()
    for line in text.splitlines():
        if line.startswith("flags"):
            return frozenset(line.partition(":")[2].split())
    return frozenset()


def native_bf16(device_type: str) -> bool:
    """Whether ``device_type`` ("cpu", "cuda", ...) multiplies bfloat16 in hardware."""
    if device_type == "cuda":
        import torch

        return torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    if device_type == "cpu":
        return bool(cpu_flags() & NATIVE_BF16_FLAGS)
    return False


def use_bf16(amp: str, device_type: str) -> bool:
    """Whether ``amp`` (auto, bf16 or off) means bfloat16 autocast on ``device_type``."""
    if amp not in AMP_MODES:
        raise GeovarioError(f"amp must be one of {', '.join(AMP_MODES)}, got {amp!r}")
    return amp == "bf16" or (amp == "auto" and native_bf16(device_type))
