"""Benchmark: extraction throughput from zip shards against the backbone's forward pass alone.

The data pipeline (zip read, JPEG decode, preprocess in DataLoader workers, store writes)
must not be the bottleneck: the target is extraction >= 0.8x the images/s of ``embed``
alone on the same batches, measured in the same run. Also reported: the pipeline alone
(workers decoding and preprocessing, no model), to show its headroom.

Images: smooth random JPEGs (quality 90) in OSV-5M layout, two zip shards. On a shared
machine the steps are interleaved and repeated, and the best run of each is reported.

Usage: .venv/bin/python benchmarks/bench_extract.py [--n 512] [--batch-size 64]
       [--workers 1,2] [--backbone efficientnet-lite0] [--device cpu] [--size 512x384]
       [--repeats 2]
"""

import argparse
import io
import platform
import shutil
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from PIL import Image

from geovario.backbones import load_backbone
from geovario.data.images import decode_image
from geovario.data.osv5m import load_osv5m
from geovario.extract import extract_features
from geovario.extract.loader import make_loader

FORWARD = "forward alone (embed on preprocessed batches)"
PIPELINE = "pipeline alone (zip read, decode, preprocess; no model)"
EXTRACTION = "extraction (geovario extract_features, store written)"


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


def forward_alone(backbone, samples, batch_size: int) -> float:
    """images/s of ``embed`` on the same batches, images preprocessed beforehand."""
    images = torch.stack([backbone.preprocess(decode_image(samples.reader.read(i)))
                          for i in range(len(samples))])
    backbone.embed(images[:batch_size])  # warm-up
    start = time.perf_counter()
    for k in range(0, len(images), batch_size):
        backbone.embed(images[k:k + batch_size])
    return len(images) / (time.perf_counter() - start)


def pipeline_alone(backbone, samples, batch_size: int, workers: int) -> float:
    """images/s of the DataLoader (read, decode, preprocess, collate) without the model."""
    rows = np.arange(len(samples))
    batches = [rows[k:k + batch_size] for k in range(0, len(rows), batch_size)]
    start = time.perf_counter()
    for _ in make_loader(samples.reader, backbone.transform, batches, workers=workers,
                         pin_memory=False):
        pass
    return len(rows) / (time.perf_counter() - start)


def extraction(backbone, samples, out: Path, batch_size: int, workers: int) -> tuple[float, float]:
    """images/s of ``extract_features`` end to end (store written, backbone already loaded),
    and the share of its wall time spent inside ``embed``."""
    shutil.rmtree(out, ignore_errors=True)
    embed, spent = backbone.embed, []

    def timed(batch):
        start = time.perf_counter()
        features = embed(batch)
        spent.append(time.perf_counter() - start)
        return features

    backbone.embed = timed
    start = time.perf_counter()
    try:
        report = extract_features(samples, backbone, out, batch_size=batch_size,
                                  workers=workers, progress=False)
    finally:
        del backbone.embed
    elapsed = time.perf_counter() - start
    assert report.embedded == len(samples), report.summary()
    return len(samples) / elapsed, sum(spent) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=512)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--backbone", default="efficientnet-lite0")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--size", default="512x384", help="image width x height")
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    size = tuple(int(v) for v in args.size.split("x"))
    workers = [int(w) for w in args.workers.split(",")]

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "osv"
        make_dataset(root, args.n, size)
        samples = load_osv5m(root, "train")
        backbone = load_backbone(args.backbone, device=args.device)
        gpu = torch.cuda.get_device_name() if args.device.startswith("cuda") else "none"
        print(f"machine: {platform.processor() or platform.machine()}, "
              f"{torch.get_num_threads()} torch threads, GPU: {gpu}; torch {torch.__version__}")
        print(f"{args.n} JPEGs {size[0]}x{size[1]} in 2 zip shards, backbone {backbone.name} "
              f"on {args.device}, batch {args.batch_size}\n")
        best: dict[tuple[str, int], float] = {}
        ratios: dict[int, list[float]] = {w: [] for w in workers}
        shares: dict[int, list[float]] = {w: [] for w in workers}

        def record(key: tuple[str, int], speed: float) -> float:
            best[key] = max(best.get(key, 0.0), speed)
            return speed

        for _ in range(args.repeats):
            for w in workers:  # back to back, so each ratio compares like with like
                forward = record((FORWARD, 0), forward_alone(backbone, samples, args.batch_size))
                speed, share = extraction(backbone, samples, Path(tmp) / "store",
                                          args.batch_size, w)
                ratios[w].append(record((EXTRACTION, w), speed) / forward)
                shares[w].append(share)
                record((PIPELINE, w), pipeline_alone(backbone, samples, args.batch_size, w))
        print("| step | workers | images/s (best) | x forward alone (median of back-to-back "
              "pairs) | wall time inside embed (median) |")
        print("|---|---:|---:|---:|---:|")
        for (name, w), speed in best.items():
            ratio = f"{np.median(ratios[w]):.2f}" if name == EXTRACTION else "-"
            share = f"{np.median(shares[w]):.1%}" if name == EXTRACTION else "-"
            print(f"| {name} | {w if name != FORWARD else '-'} | {speed:,.1f} | {ratio} | "
                  f"{share} |")

if __name__ == "__main__":
    main()
