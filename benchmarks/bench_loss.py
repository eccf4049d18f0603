"""Training step time and peak memory: semivariogram loss against InfoNCE, same batch.

Batch 256, queue 4096 (full), 768-d backbone features, GeoCLIP's model, on the CPU.
The semivariogram loss adds B × (B + Q) distances, dot products and weights; the
target is a step at most 1.05× InfoNCE's. A region-wise variogram (8 regions, each its
own curve) adds a nearest-centroid lookup per anchor and one γ evaluation per region.
Each loss runs in its own process so peak memory (max RSS) is its own.

Usage: python benchmarks/bench_loss.py [--steps N]
"""

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from geovario.geo import uniform_sphere_points

BATCH, QUEUE, DIM = 256, 4096, 768



def child(loss_name: str, steps: int, variogram: str) -> None:
    from geovario.losses import build_loss
    from geovario.models import ModelConfig, build_model
    from geovario.models.queue import SampleQueue
    from geovario.train import TrainConfig
    from geovario.train.data import Batch
    from geovario.train.step import contrastive_step

    torch.set_num_threads(2)
    model = build_model(ModelConfig())
    options = {"variogram": variogram} if loss_name == "semivariogram" else {}
    loss_fn = build_loss(loss_name, **options)
    queue = SampleQueue(QUEUE, DIM)
    rng = np.random.default_rng(0)
    queue.enqueue(torch.from_numpy(uniform_sphere_points(QUEUE, 1).astype(np.float32)),
                  torch.from_numpy(rng.normal(size=(QUEUE, DIM)).astype(np.float32)))
    config = TrainConfig(batch_size=BATCH, queue_size=QUEUE)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-5)
    generator = torch.Generator().manual_seed(0)
    batch = Batch(torch.from_numpy(rng.normal(size=(BATCH, DIM)).astype(np.float32)),
                  torch.from_numpy(uniform_sphere_points(BATCH, 2).astype(np.float32)),
                  np.arange(BATCH))
    times = []
    for _ in range(steps + 1):  # the first step warms up
        start = time.perf_counter()
        out = contrastive_step(model, queue, loss_fn, batch, config, generator,
                               torch.device("cpu"))
        optimizer.zero_grad()
        out.loss.backward()
        optimizer.step()
        times.append(time.perf_counter() - start)
    start = time.perf_counter()
    for _ in range(steps):
        from geovario.losses.base import ContrastiveInputs

        logits = torch.randn(BATCH, BATCH + QUEUE, requires_grad=True)
        coords = torch.from_numpy(uniform_sphere_points(BATCH + QUEUE, 3))
        feats = torch.randn(BATCH + QUEUE, DIM)
        inputs = ContrastiveInputs(torch.arange(BATCH), coords[:BATCH], coords,
                                   feats[:BATCH], feats)
        loss_fn(logits, inputs).backward()
    loss_only = (time.perf_counter() - start) / steps
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    print(json.dumps({"step": float(np.median(times[1:])), "loss_only": loss_only,
                      "peak_gb": peak_gb}))


def measure(loss_name: str, steps: int, variogram: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", loss_name, "--steps", str(steps),
                          "--variogram", variogram], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--child")
    parser.add_argument("--variogram")
    args = parser.parse_args()
    if args.child:
        child(args.child, args.steps, args.variogram)
        return
    from geovario.variogram import FittedVariogram
    from geovario.variogram.regional import Region, RegionalVariogram

    with tempfile.TemporaryDirectory() as tmp:
        path, regional = Path(tmp) / "variogram.json", Path(tmp) / "regional.json"
        global_fit = FittedVariogram.single("stable", 0.15, 0.25, 2500.0, shape=1.1)
        global_fit.save(path)
        RegionalVariogram(global_fit, tuple(
            Region(lat, lon, 100, np.zeros(1, dtype=np.int64),
                   FittedVariogram.single("stable", 0.15, 0.25, 500.0 * (k + 1), shape=1.1))
            for k, (lat, lon) in enumerate(uniform_sphere_points(8, 4)))).save(regional)
        base = measure("infonce", args.steps, str(path))
        ours = measure("semivariogram", args.steps, str(path))
        regions = measure("semivariogram", args.steps, str(regional))
    print(f"batch {BATCH}, queue {QUEUE} (full), {DIM}-d features, CPU, 2 threads")
    print("| loss | step s (median) | loss fwd+bwd alone s | peak RSS GB |")
    print("|---|---:|---:|---:|")
    for name, m in (("infonce", base), ("semivariogram", ours),
                    ("semivariogram, 8 regions", regions)):
        print(f"| {name} | {m['step']:.3f} | {m['loss_only']:.4f} | {m['peak_gb']:.2f} |")
    print(f"| ratio | {ours['step'] / base['step']:.3f}× | | "
          f"{ours['peak_gb'] / base['peak_gb']:.2f}× |")
    print(f"| ratio, 8 regions | {regions['step'] / base['step']:.3f}× | | "
          f"{regions['peak_gb'] / base['peak_gb']:.2f}× |")


if __name__ == "__main__":
    main()
