"""Benchmark: TenCrop test-time augmentation, its cost and its effect, paired image by image.

Extracts the test split of a Blue Marble build twice with ``geovario extract`` as a user
runs it, plain and with ``--tta tencrop`` (whole processes, timed: images per second),
then evaluates one trained run on both stores against the same gallery and prints every
metric for both, and the paired difference (TenCrop − plain) of each distance metric
with its 95 % bootstrap interval over the test places (``geovario.ablation.paired``; one
run, so the interval covers the test set only).

Usage: .venv/bin/python benchmarks/bench_tta.py --build DIR --run RUN --out OUT
       [--gallery geoclip] [--backbone efficientnet-lite0] [--batch-size 32]
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from geovario.ablation.paired import paired_differences
from geovario.geo import haversine_km
from geovario.inference.evaluate import evaluate
from geovario.inference.predictor import Predictor
from geovario.store import open_store


def extract(build: Path, out: Path, backbone: str, batch_size: int, tta: str | None) -> float:
    """Seconds of one whole ``geovario extract`` process over the test split."""
    command = [sys.executable, "-m", "geovario.cli", "extract", "--dataset", "bluemarble",
               "--root", str(build), "--split", "test", "--backbone", backbone,
               "--batch-size", str(batch_size), "--out", str(out), "--quiet"]
    if tta:
        command += ["--tta", tta]
    began = time.perf_counter()
    subprocess.run(command, check=True, env=os.environ)
    return time.perf_counter() - began


def errors(predictions_csv: Path) -> np.ndarray:
    table = np.genfromtxt(predictions_csv, delimiter=",", names=True, dtype=None,
                          encoding="utf-8")
    return haversine_km(table["latitude"], table["longitude"], table["true_latitude"],
                        table["true_longitude"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", type=Path, required=True)
    parser.add_argument("--run", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--gallery", default="geoclip")
    parser.add_argument("--backbone", default="efficientnet-lite0")
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    stores = {"plain": args.out / "test-plain", "tencrop": args.out / "test-tencrop"}
    seconds = {name: extract(args.build, store, args.backbone, args.batch_size,
                             None if name == "plain" else name)
               for name, store in stores.items()}
    predictor = Predictor(args.run, device="cpu", gallery=args.gallery, progress=False)
    metrics, errs = {}, {}
    for name, store in stores.items():
        began = time.perf_counter()
        metrics[name] = evaluate(predictor, store, predictions_csv=args.out / f"{name}.csv")
        metrics[name]["evaluate_s"] = time.perf_counter() - began
        errs[name] = errors(args.out / f"{name}.csv")
    n = len(open_store(stores["plain"]))
    print(f"test images: {n}; gallery {predictor.gallery.name} ({len(predictor.gallery)})")
    for name in stores:
        print(f"extract {name}: {seconds[name]:.1f} s, {n / seconds[name]:.1f} images/s; "
              f"evaluate {metrics[name]['evaluate_s']:.1f} s")
    print("\n| metric | plain | TenCrop | TenCrop − plain [95 % interval] |\n|---|---|---|---|")
    paired = paired_differences([errs["plain"]], [errs["tencrop"]])
    for key in metrics["plain"]:
        if key in ("n", "evaluate_s"):
            continue
        scale = 100 if key.startswith("acc_") else 1  # accuracies in percentage points
        row = (f"| {key} | {scale * metrics['plain'][key]:.2f} | "
               f"{scale * metrics['tencrop'][key]:.2f} |")
        if key in paired:
            d = {k: scale * paired[key][k] for k in ("mean", "ci_low", "ci_high")}
            row += f" {d['mean']:+.2f} [{d['ci_low']:+.2f}, {d['ci_high']:+.2f}] |"
        else:
            row += " |"
        print(row)
    (args.out / "bench_tta.json").write_text(json.dumps(
        {"seconds": seconds, "metrics": metrics, "paired": paired}, indent=1, default=float))


if __name__ == "__main__":
    main()
