"""Freed memory stays in the process: repeated large buffers stop costing page faults."""

import os
import platform
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(
    platform.system() != "Linux" or platform.libc_ver()[0] != "glibc",
    reason="the allocator setting is glibc's")

PROGRAM = """
import resource, sys
import numpy as np
from geovario.allocator import keep_freed_memory
assert keep_freed_memory() == (sys.argv[1] == "keep")
np.ones(64 << 17)  # 64 MiB once, so the heap holds it
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(20):
    np.ones(64 << 17)  # 64 MiB, written (so every page is touched) and freed
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def page_faults(mode: str) -> int:
    env = {**os.environ, "GEOVARIO_KEEP_FREED_MEMORY": "1" if mode == "keep" else "0"}
    out = subprocess.run([sys.executable, "-c", PROGRAM, mode], capture_output=True, text=True,
                         check=True, env=env)
    return int(out.stdout.split()[-1])


def test_repeated_large_buffers_reuse_memory():
    # By default glibc returns each buffer to the kernel and the next one faults in again
    # (in 2 MiB pages where numpy asks for huge pages, 4 KiB ones otherwise).
    default = page_faults("default")
    assert default >= 20 * (64 << 20) // (2 << 20)
    # Kept: the later buffers reuse the first one's pages.
    assert page_faults("keep") < default / 50


RELEASE = """
import numpy as np
from geovario.allocator import keep_freed_memory, release_freed_memory

def rss_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024

assert keep_freed_memory()
blocks = [np.ones(16 << 17) for _ in range(16)]  # 16 x 16 MiB from the heap, touched
del blocks
kept = rss_mb()
assert release_freed_memory()
print(kept - rss_mb())
"""


def test_release_returns_the_kept_memory_to_the_kernel():
    out = subprocess.run([sys.executable, "-c", RELEASE], capture_output=True, text=True,
                         check=True)
    assert float(out.stdout) > 200  # of the 256 MiB kept after ``del``
