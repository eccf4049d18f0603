"""Keep freed memory in the process, so batch after batch reuses it instead of faulting it in.

glibc's malloc hands every allocation above a dynamic threshold (at most 32 MiB) to
``mmap`` and returns it to the kernel on ``free``; a convolution network's activations are
tens of MiB per batch, so each batch then pays for millions of page faults: on two cores,
EfficientNet-Lite0 spent more time in the kernel than in the model. Raising glibc's mmap
and trim thresholds once, at start-up, keeps those buffers in the heap for reuse (the
same effect as ``GLIBC_TUNABLES=glibc.malloc.mmap_threshold=...:glibc.malloc.trim_threshold=...``).
The process's peak memory is unchanged; it no longer shrinks between batches. Set
``GEOVARIO_KEEP_FREED_MEMORY=0`` to leave glibc's defaults alone (as benchmarks do to
measure the difference).
"""

import ctypes
import ctypes.util
import functools
import os
import platform

# mallopt's parameters (malloc.h) and its argument limit: ``int value``.
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_LARGEST_INT = 2**31 - 1


@functools.cache
def keep_freed_memory() -> bool:
    """Raise glibc's mmap and trim thresholds to 2 GiB; True if it took effect.

    Idempotent and cheap; does nothing (returns False) off Linux, on another C library or
    with ``GEOVARIO_KEEP_FREED_MEMORY=0``.
    """
    if os.environ.get("GEOVARIO_KEEP_FREED_MEMORY") == "0":
        return False
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return False
    return bool(libc.mallopt(_M_MMAP_THRESHOLD, _LARGEST_INT)) and \
        bool(libc.mallopt(_M_TRIM_THRESHOLD, _LARGEST_INT))
