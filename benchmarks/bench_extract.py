"""Benchmark: extraction as a user runs it, against what the model attains on this machine.

One run prints, side by side:

- the machine's matrix rate (a 2048² float32 matmul, GFLOP/s) and the model's FLOPs per
  image, hence the images/s the matmul rate would allow;
- the *attainable* rate: a bare inference loop over preprocessed batches in the fastest
  configuration found (contiguous or channels-last tensors), in this process, with the
  OpenMP wait policy ``geovario extract`` uses (passive, unless OMP_WAIT_POLICY is set);
  the channels-last loop runs again after the whole-process runs, and the fastest of all
  counts, so a machine that got busier meanwhile lowers the ratio rather than raising it;
- ``geovario extract`` as a whole process (a subprocess: start-up, zip reading, JPEG
  decoding in threads, the model, store writes), with its user and system time and minor
  page faults, once as shipped and once with glibc's allocator left alone
  (``GEOVARIO_KEEP_FREED_MEMORY=0``), so that a loss both sides share cannot hide;
  with ``--baseline-src DIR``, also the package in DIR (an export of an earlier commit's
  ``src``), between the two, for a before/after comparison within one run;
- the pipeline alone (decoding threads, no model), to show its headroom;
- CPU seconds (user, system) for the same number of images: the bare loop's (the model
  alone, scaled from its timed runs), the pipeline's and a start-up's, whose sum is
  what a whole process cannot do without; on a shared machine, where a process's
  speed follows its share of the CPU, that sum against the whole process's CPU time
  says more than wall-clock ratios.

Images: smooth random JPEGs (quality 90) in OSV-5M layout, two zip shards. The target is a
whole-process rate of at least 0.7x the attainable one. The bare loops run the network
``embed`` runs (EfficientNet-Lite0 with its batch norms folded) and, for comparison, the
published module as loaded.

Usage: .venv/bin/python benchmarks/bench_extract.py [--n 1024] [--batch-size 64]
       [--workers 2] [--backbone efficientnet-lite0] [--device cpu] [--size 512x384]
       [--baseline-src DIR]
"""

import argparse
import io
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as ``geovario extract``; before torch
import numpy as np
import pandas as pd
import torch
from PIL import Image
from torch.utils.flop_counter import FlopCounterMode

from common import timed
from geovario.backbones import load_backbone
from geovario.data.images import decode_image
from geovario.data.osv5m import load_osv5m
from geovario.extract.loader import DecodedBatches


def make_dataset(root: Path, n: int, size: tuple[int, int], seed: int = 0) -> None:
    """n JPEGs in two zip shards plus train.csv, in OSV-5M layout."""
    rng = np.random.default_rng(seed)
    shards = root / "images" / "train"
    shards.mkdir(parents=True)
    ids = [f"{10**15 + k}" for k in range(n)]
    for number, part in enumerate(np.array_split(np.arange(n), 2)):
        with zipfile.ZipFile(shards / f"{number:02d}.zip", "w") as archive:
            for k in part:
                coarse = rng.integers(0, 256, (6, 8, 3), dtype=np.uint8)
                image = Image.fromarray(coarse).resize(size, Image.BICUBIC)
                noise = rng.integers(-12, 13, (size[1], size[0], 3))
                image = Image.fromarray(np.clip(np.asarray(image) + noise, 0, 255).astype(np.uint8))
                buffer = io.BytesIO()
                image.save(buffer, format="JPEG", quality=90)
                archive.writestr(f"{number:02d}/{ids[k]}.jpg", buffer.getvalue())
    pd.DataFrame({"id": ids, "latitude": rng.uniform(-60, 60, n),
                  "longitude": rng.uniform(-180, 180, n)}).to_csv(root / "train.csv", index=False)


def matmul_gflops(size: int = 2048, repeat: int = 5) -> float:
    """The machine's float32 matrix rate, GFLOP/s (best of ``repeat``)."""
    a, b = torch.randn(size, size), torch.randn(size, size)
    a @ b
    return 2 * size**3 / timed(lambda: a @ b, repeat) / 1e9


def model_gflop(backbone) -> float:
    """Forward FLOPs per image, GFLOP (torch's FLOP counter; a multiply-add is 2 FLOPs)."""
    counter = FlopCounterMode(display=False)
    with counter, torch.inference_mode():
        backbone.forward(torch.zeros(1, 3, 224, 224, device=backbone.device))
    return counter.get_total_flops() / 1e9


def cpu_seconds(who: int = resource.RUSAGE_SELF) -> np.ndarray:
    """(user, system) CPU seconds so far of this process, or of its waited-for children."""
    usage = resource.getrusage(who)
    return np.array([usage.ru_utime, usage.ru_stime])


def bare_loop(backbone, images: torch.Tensor, batch_size: int, channels_last: bool,
              folded: bool = True) -> tuple[float, np.ndarray]:
    """images/s of the model alone on preprocessed batches, in one memory layout, and its
    (user, system) CPU seconds per image.

    ``folded``: the network ``embed`` runs (batch norms folded into the convolutions);
    otherwise the published module as loaded, for comparison with earlier tables.
    """
    layout = torch.channels_last if channels_last else torch.contiguous_format
    network = getattr(backbone, "inference", backbone.model) if folded else backbone.model
    network.to(memory_format=layout)  # in place
    batches = [images[k:k + batch_size].contiguous(memory_format=layout)
               for k in range(0, len(images), batch_size)]

    def run():
        with torch.inference_mode():
            for batch in batches:
                if folded:
                    backbone.forward(batch)
                else:  # EfficientNet-Lite0's published module
                    network._avg_pooling(network.extract_features(batch)).flatten(1)

    run()  # warm-up
    cpu = cpu_seconds()
    seconds = timed(run, 2)
    cpu = (cpu_seconds() - cpu) / (2 * len(images))
    network.to(memory_format=backbone._layout)
    return len(images) / seconds, cpu


def pipeline_alone(backbone, samples, batch_size: int, workers: int) -> tuple[float, np.ndarray]:
    """images/s of the decoding threads (read, decode, preprocess, stack) without the model,
    and their (user, system) CPU seconds for all the images."""
    rows = np.arange(len(samples))
    batches = [rows[k:k + batch_size] for k in range(0, len(rows), batch_size)]
    cpu, start = cpu_seconds(), time.perf_counter()
    with DecodedBatches(samples.reader, backbone.transform.pixels, batches,
                        threads=workers) as loaded:
        for _ in loaded:
            pass
    return len(rows) / (time.perf_counter() - start), cpu_seconds() - cpu


def whole_process(root: Path, out: Path, args, keep_freed_memory: bool,
                  src: str | None = None) -> dict[str, float]:
    """``geovario extract`` in a subprocess: wall, user and system seconds, minor faults.

    ``src``: run the package found there instead of this one.
    """
    shutil.rmtree(out, ignore_errors=True)
    env = {**os.environ, "GEOVARIO_KEEP_FREED_MEMORY": "1" if keep_freed_memory else "0"}
    if src:
        env["PYTHONPATH"] = os.pathsep.join([src, env.get("PYTHONPATH", "")])
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "geovario.cli", "extract", "--dataset", "osv5m",
                    "--root", str(root), "--split", "train", "--backbone", args.backbone,
                    "--out", str(out), "--batch-size", str(args.batch_size), "--workers",
                    str(args.workers), "--device", args.device, "--quiet"],
                   check=True, env=env, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"wall": wall, "user": after.ru_utime - before.ru_utime,
            "sys": after.ru_stime - before.ru_stime, "faults": after.ru_minflt - before.ru_minflt}


def startup_seconds(backbone: str, device: str) -> tuple[float, np.ndarray]:
    """Wall time and (user, system) CPU seconds of a process that only imports geovario
    and loads the backbone."""
    cpu, start = cpu_seconds(resource.RUSAGE_CHILDREN), time.perf_counter()
    subprocess.run([sys.executable, "-c", "from geovario.backbones import load_backbone; "
                    f"load_backbone({backbone!r}, device={device!r})"], check=True,
                   stderr=subprocess.DEVNULL)
    return time.perf_counter() - start, cpu_seconds(resource.RUSAGE_CHILDREN) - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1024)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--backbone", default="efficientnet-lite0")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--size", default="512x384", help="image width x height")
    parser.add_argument("--baseline-src", help="also run the geovario package in this folder")
    args = parser.parse_args()
    size = tuple(int(v) for v in args.size.split("x"))

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "osv"
        make_dataset(root, args.n, size)
        samples = load_osv5m(root, "train")
        backbone = load_backbone(args.backbone, device=args.device)
        gpu = torch.cuda.get_device_name() if args.device.startswith("cuda") else "none"
        print(f"machine: {platform.processor() or platform.machine()}, "
              f"{torch.get_num_threads()} torch threads, GPU: {gpu}; torch {torch.__version__}")
        print(f"{args.n} JPEGs {size[0]}x{size[1]} in 2 zip shards, backbone {backbone.name} "
              f"on {args.device}, batch {args.batch_size}, {args.workers} decoding threads; "
              f"OMP_WAIT_POLICY={os.environ['OMP_WAIT_POLICY']}\n")
        gflops, flop = matmul_gflops(), model_gflop(backbone)
        images = torch.stack([backbone.preprocess(decode_image(samples.reader.read(i)))
                              for i in range(min(len(samples), 8 * args.batch_size))])
        loops = {layout: bare_loop(backbone, images, args.batch_size, layout == "channels-last")
                 for layout in ("contiguous", "channels-last")}
        if hasattr(backbone, "inference"):
            loops["channels-last, published module (batch norms not folded)"] = bare_loop(
                backbone, images, args.batch_size, True, folded=False)
        runs = {"as shipped": whole_process(root, Path(tmp) / "a", args, True)}
        if args.baseline_src:
            runs[f"baseline {args.baseline_src}"] = whole_process(
                root, Path(tmp) / "c", args, True, src=args.baseline_src)
        runs["glibc allocator defaults"] = whole_process(root, Path(tmp) / "b", args, False)
        loops["channels-last, again after the whole-process runs"] = bare_loop(
            backbone, images, args.batch_size, True)
        attainable = max(speed for speed, _ in loops.values())
        pipeline, decoding_cpu = pipeline_alone(backbone, samples, args.batch_size, args.workers)
        startup, startup_cpu = startup_seconds(args.backbone, args.device)
        model_cpu = loops["channels-last"][1] * args.n
        cores = len(os.sched_getaffinity(0))
        # Decoding and the model share the cores: their CPU seconds per image add up.
        shared = 1 / (1 / attainable + 1 / (pipeline * min(args.workers, cores) / cores))
        print(f"matmul: {gflops:,.0f} GFLOP/s; model: {flop:.3f} GFLOP/image, so at most "
              f"{gflops / flop:,.0f} images/s at the matmul rate")
        print(f"start-up (import, load the backbone): {startup:.1f} s; model and decoding "
              f"sharing {cores} cores allow at most {shared:,.1f} images/s "
              f"({shared / attainable:.2f} x attainable)")
        ceiling = args.n / (args.n / shared + startup)
        print(f"with the start-up, a whole process of {args.n} images can reach at most "
              f"{ceiling:,.1f} images/s ({ceiling / attainable:.2f} x attainable): the "
              "ceiling the whole-process rows below are bounded by")
        parts = {"start-up": startup_cpu, "model (bare loop)": model_cpu,
                 "decoding": decoding_cpu}
        print(f"CPU seconds (user + system) for {args.n} images: "
              + ", ".join(f"{name} {u:.1f} + {s:.1f}" for name, (u, s) in parts.items())
              + f"; together {sum(parts.values()).sum():.1f}\n")
        print("| step | images/s | x attainable | user s | system s | minor faults |")
        print("|---|---:|---:|---:|---:|---:|")
        for layout, (speed, cpu) in loops.items():
            user, system = cpu * args.n
            print(f"| bare inference loop, {layout} | {speed:,.1f} | {speed / attainable:.2f} "
                  f"| {user:.1f} | {system:.1f} | - |")
        for name, r in runs.items():
            speed, steady = args.n / r["wall"], args.n / max(r["wall"] - startup, 1e-9)
            print(f"| geovario extract, whole process, {name} | {speed:,.1f} | "
                  f"{speed / attainable:.2f} | {r['user']:.1f} | {r['sys']:.1f} | "
                  f"{r['faults']:,.0f} |")
            print(f"| the same after start-up | {steady:,.1f} | {steady / attainable:.2f} | - "
                  "| - | - |")
        print(f"| pipeline alone (zip, decode, preprocess; no model) | {pipeline:,.1f} | - | "
              f"{decoding_cpu[0]:.1f} | {decoding_cpu[1]:.1f} | - |")


if __name__ == "__main__":
    main()
