"""Keep freed memory in the process, so batch after batch reuses it instead of faulting it in.

glibc's malloc hands every allocation above a dynamic threshold (at most 32 MiB) to
``mmap`` and returns it to the kernel on ``free``; a convolution network's activations are
tens of MiB per batch, so each batch then pays for millions of page faults: on two cores,
EfficientNet-Lite0 spent more time in the kernel than in the model. Raising glibc's mmap
and trim thresholds once, at start-up, keeps those buffers in the heap for reuse (the
same effect as ``GLIBC_TUNABLES=glibc.malloc.mmap_threshold=...:glibc.malloc.trim_threshold=...``).
The mmap threshold must exceed the largest activation: EfficientNet-Lite0 at batch 64
allocates blocks of ~300 MB, so at 256 MiB extraction still faulted 1.9 M pages per 320
images; at 512 MiB, 0.65 M. The price is memory held between batches: up to the trim
threshold stays with the process (the quick demo's peak: 2.2 GB with glibc's defaults,
2.5 GB at 256/512 MiB, 2.6 GB at 512/1024 MiB, while its page faults fell from 2.7 M to
0.9 M; benchmarks/RESULTS.md). ``GEOVARIO_MMAP_THRESHOLD_MB`` and
``GEOVARIO_TRIM_THRESHOLD_MB`` move the two thresholds; ``GEOVARIO_KEEP_FREED_MEMORY=0``
leaves glibc's defaults alone (as benchmarks do to measure the difference).
"""

import ctypes
import ctypes.util
import functools
import os
import platform

# mallopt's parameters (malloc.h).
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
#: Blocks up to this size come from the heap and are reused; larger ones (rare) are still
#: mapped and unmapped, so they never stay behind.
MMAP_THRESHOLD = int(os.environ.get("GEOVARIO_MMAP_THRESHOLD_MB", 512)) << 20
#: Free memory at the top of the heap beyond this is returned to the kernel.
TRIM_THRESHOLD = int(os.environ.get("GEOVARIO_TRIM_THRESHOLD_MB", 1024)) << 20


@functools.cache
def _glibc() -> "ctypes.CDLL | None":
    """The C library when it is glibc on Linux (mallopt and malloc_trim are glibc's)."""
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return None
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None


def keep_freed_memory() -> bool:
    """Raise glibc's mmap and trim thresholds (512 and 1024 MiB); True if it took effect.

    Idempotent and cheap; does nothing (returns False) off Linux, on another C library or
    with ``GEOVARIO_KEEP_FREED_MEMORY=0``.
    """
    if os.environ.get("GEOVARIO_KEEP_FREED_MEMORY") == "0":
        return False
    libc = _glibc()
    if libc is None:
        return False
    return bool(libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and \
        bool(libc.mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))


def release_freed_memory() -> bool:
    """Hand the heap's free memory back to the kernel now (glibc's ``malloc_trim``).

    Between stages of a long job (the demo's extraction, training, gallery) the memory
    kept for reuse by :func:`keep_freed_memory` is no longer reused; releasing it keeps
    the next stage's peak from stacking on it. True if it took effect.
    """
    libc = _glibc()
    if libc is None:
        return False
    return bool(libc.malloc_trim(0))
