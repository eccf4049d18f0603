"""Benchmark: peak memory of ``geovario demo`` as a user runs it, stage by stage.

Runs the demo in a subprocess in a fresh folder (as shipped: no environment variable
changed) and polls its ``/proc/PID/status`` every few milliseconds. Each sample of the
resident set (VmRSS) is put to the stage the demo's log last announced
(``demo: <stage> ...``), so the table says which stage reaches the peak and by how much;
VmHWM (the kernel's own high-water mark, which a poll cannot miss) is read at each stage
change too. At the end ``wait4`` gives what ``/usr/bin/time -v`` would print: max RSS,
page faults, user and system time.

For scale, the floor is measured in the same run: a process that only imports torch and
the demo's modules (what every stage holds before it allocates anything).

Target: a peak of at most 2.5 GB for the full demo (``--quick`` for the small one).

``--retrieval`` measures instead what the evaluation stage allocates: top-k retrieval of
1,000 image embeddings among 100,000 unit vectors (the demo's test split against the
published gallery, 512-d), at the shipped gallery chunk and with the whole gallery in
one block (as before 2026-12-02 evening), each in a fresh process: the resident memory
it adds at its peak and its best-of-3 time, against the bare 1,000 x 100,000 matrix
product (the attainable rate) measured in the same process.

Usage: .venv/bin/python benchmarks/bench_demo_memory.py [--quick] [--out DIR] [--keep]
       [--interval-ms 10] | --retrieval
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

TARGET_GB = 2.5
STAGE_LINE = re.compile(r"^demo: (.+?)(?: \(reusing it\))? \.\.\.$")
FLOOR_CODE = (
    "import torch, geovario.demo.pipeline, geovario.inference.predictor, "
    "geovario.train\nprint(open('/proc/self/status').read())"
)


def status_kb(pid: int, field: str) -> int | None:
    """One ``kB`` field of ``/proc/PID/status``; None once the process is gone."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


class Sampler(threading.Thread):
    """Polls a process's VmRSS and keeps the largest sample per stage."""

    def __init__(self, pid: int, interval_s: float):
        super().__init__(daemon=True)
        self.pid, self.interval_s = pid, interval_s
        self.stage = "start-up"
        self.order: list[str] = [self.stage]
        self.peak_kb: dict[str, int] = {self.stage: 0}
        self.hwm_kb: dict[str, int | None] = {}
        self.start_kb: dict[str, int] = {self.stage: 0}
        self.started: dict[str, float] = {self.stage: time.perf_counter()}
        self.lock = threading.Lock()
        self.done = threading.Event()

    def enter(self, stage: str) -> None:
        """The demo announced ``stage``: samples from now on belong to it."""
        with self.lock:
            self.hwm_kb[self.stage] = status_kb(self.pid, "VmHWM")
            self.stage = stage
            self.order.append(stage)
            self.peak_kb[stage] = 0
            self.start_kb[stage] = status_kb(self.pid, "VmRSS") or 0
            self.started[stage] = time.perf_counter()

    def run(self) -> None:
        while not self.done.is_set():
            rss = status_kb(self.pid, "VmRSS")
            if rss is None:
                return
            with self.lock:
                self.peak_kb[self.stage] = max(self.peak_kb[self.stage], rss)
            time.sleep(self.interval_s)


def floor_gb() -> float:
    """Resident memory of a process that only imports torch and the demo's modules."""
    out = subprocess.run(
        [sys.executable, "-c", FLOOR_CODE], check=True, capture_output=True, text=True
    ).stdout
    return int(re.search(r"VmRSS:\s+(\d+)", out).group(1)) / 1024**2


def run_demo(out: Path, quick: bool, interval_s: float, log: Path) -> dict:
    """Run the demo once; per-stage peaks and the process's rusage."""
    command = [sys.executable, "-m", "geovario", "demo", str(out)] + (["--quick"] * quick)
    start = time.perf_counter()
    with open(log, "w") as errors:
        child = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=errors, text=True, bufsize=1
        )
        sampler = Sampler(child.pid, interval_s)
        sampler.start()
        ends: dict[str, float] = {}
        tail = []
        for line in child.stdout:
            tail.append(line.rstrip())
            match = STAGE_LINE.match(line.rstrip())
            if match:
                ends[sampler.stage] = time.perf_counter()
                sampler.enter(match.group(1))
        sampler.hwm_kb[sampler.stage] = status_kb(child.pid, "VmHWM")  # None once it exited
        ends[sampler.stage] = time.perf_counter()
        _, code, usage = os.wait4(child.pid, 0)
        sampler.done.set()
        sampler.join()
    if code != 0:
        raise SystemExit(f"demo failed (wait status {code}); see {log}")
    return {
        "sampler": sampler,
        "ends": ends,
        "usage": usage,
        "wall": time.perf_counter() - start,
        "tail": tail,
    }


def retrieval_child(gallery_chunk: int) -> None:
    """Print one retrieval row: chunk, MB added at the peak, best seconds, bare matmul s."""
    import torch

    from common import timed
    from geovario.inference.gallery import top_k

    generator = torch.Generator().manual_seed(0)
    gallery = torch.nn.functional.normalize(torch.randn(100_000, 512, generator=generator), dim=1)
    images = torch.nn.functional.normalize(torch.randn(1000, 512, generator=generator), dim=1)
    before = status_kb(os.getpid(), "VmRSS")
    top_k(images, gallery, 30.0, 5, gallery_chunk=gallery_chunk)
    added_mb = (status_kb(os.getpid(), "VmHWM") - before) / 1024
    seconds = timed(lambda: top_k(images, gallery, 30.0, 5, gallery_chunk=gallery_chunk), 3)
    bare = timed(lambda: images @ gallery.T, 3)
    print(f"{gallery_chunk} {added_mb:.0f} {seconds:.3f} {bare:.3f}")


def retrieval(rounds: int = 2) -> None:
    """The shipped gallery chunk against the whole gallery at once, alternated."""
    print(
        "| gallery chunk | memory added at the peak | top-k s (best of 3) | bare matmul s "
        "| x attainable |"
    )
    print("|---|---:|---:|---:|---:|")
    for _ in range(rounds):
        for chunk in (16384, 100_000):
            out = subprocess.run(
                [sys.executable, __file__, "--retrieval-child", str(chunk)],
                check=True,
                capture_output=True,
                text=True,
            ).stdout.split()
            added, seconds, bare = float(out[1]), float(out[2]), float(out[3])
            print(
                f"| {int(out[0]):,} | {added:.0f} MB | {seconds:.2f} | {bare:.2f} "
                f"| {bare / seconds:.2f} |"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", type=Path, help="demo folder (default: a fresh temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep the demo folder")
    parser.add_argument("--interval-ms", type=float, default=10.0)
    parser.add_argument("--retrieval", action="store_true", help="top-k retrieval alone")
    parser.add_argument("--retrieval-child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.retrieval_child:
        return retrieval_child(args.retrieval_child)
    if args.retrieval:
        return retrieval()
    scratch = Path(tempfile.mkdtemp(prefix="geovario-demo-mem-"))
    out = args.out or scratch / "demo-out"
    try:
        floor = floor_gb()
        result = run_demo(out, args.quick, args.interval_ms / 1000, scratch / "stderr.log")
    finally:
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)
            if args.out is not None and not args.keep:
                shutil.rmtree(args.out, ignore_errors=True)
    sampler, usage = result["sampler"], result["usage"]
    print(
        f"# geovario demo{' --quick' if args.quick else ''}, fresh folder, as shipped; "
        f"load average at the end {os.getloadavg()[0]:.1f}"
    )
    print(
        "\n| stage | wall s | RSS at its start GiB | peak RSS in it GiB (sampled) "
        "| VmHWM at its end GiB |"
    )
    print("|---|---:|---:|---:|---:|")
    for stage in sampler.order:
        seconds = result["ends"].get(stage, 0.0) - sampler.started[stage]
        hwm = sampler.hwm_kb.get(stage)
        print(
            f"| {stage} | {seconds:.1f} | {sampler.start_kb[stage] / 1024**2:.2f} | "
            f"{sampler.peak_kb[stage] / 1024**2:.2f} | "
            f"{f'{hwm / 1024**2:.2f}' if hwm else '-'} |"
        )
    peak = usage.ru_maxrss / 1024**2
    print(
        f"\nwall {result['wall']:.1f} s, user {usage.ru_utime:.1f} s, system "
        f"{usage.ru_stime:.1f} s, minor faults {usage.ru_minflt:,}, major faults "
        f"{usage.ru_majflt:,}"
    )
    print(
        f"max RSS {peak:.2f} GiB (target <= {TARGET_GB} GiB: "
        f"{'met' if peak <= TARGET_GB else 'NOT met'}); floor (torch and the demo's "
        f"modules imported) {floor:.2f} GiB, peak/floor {peak / floor:.1f}x"
    )
    print(
        "\n".join(
            line
            for line in result["tail"]
            if line.startswith("demo: done") or "median error" in line
        )
    )


if __name__ == "__main__":
    main()
