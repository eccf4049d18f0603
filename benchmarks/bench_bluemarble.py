"""Benchmark: build the Blue Marble benchmark (default 45,000 train + 5,000 test patches).

Times each stage of ``build_bluemarble`` at the default patch size (300 km, 64 px):
place sampling + jitter + train/test separation, reverse geocoding + CSV writing,
patch sampling (incl. loading the image), JPEG encoding + zip writing. Target: under
2 minutes on 2 cores. The output goes to a temporary folder that is deleted afterwards.

Usage: .venv/bin/python benchmarks/bench_bluemarble.py [--train 45000] [--test 5000]
       [--pixels 64] [--patch-km 300]
"""

import argparse
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import PIL

from geovario.data.bluemarble import BuildConfig, build_bluemarble

STAGES = (("places", "place sampling + jitter + separation (KD-tree)"),
          ("labels", "reverse geocoding (reverse_geocoder, mode 1) + CSV writing"),
          ("patches", "patch sampling (tangent plane + bilinear, numpy), incl. image load"),
          ("jpeg_zip", "JPEG encoding (Pillow, q90 4:4:4) + zip writing"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=int, default=45_000)
    parser.add_argument("--test", type=int, default=5_000)
    parser.add_argument("--pixels", type=int, default=64)
    parser.add_argument("--patch-km", type=float, default=300.0)
    args = parser.parse_args()
    config = BuildConfig(train=args.train, test=args.test, pixels=args.pixels,
                         patch_km=args.patch_km)
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        result = build_bluemarble(Path(folder) / "bluemarble", config, progress=False)
        total = time.perf_counter() - start
        size = sum(p.stat().st_size for p in result.out.rglob("*") if p.is_file())
    n = args.train + args.test
    print(f"python {platform.python_version()}, numpy {np.__version__}, "
          f"pillow {PIL.__version__}, {platform.machine()}")
    print(f"{n:,} patches ({args.train:,} train + {args.test:,} test), "
          f"{args.patch_km:g} km, {args.pixels} px, separation "
          f"{result.config.min_separation_km:g} km; output {size / 2**20:.1f} MiB\n")
    print("| stage | seconds | share |\n|---|---:|---:|")
    for key, label in STAGES:
        print(f"| {label} | {result.seconds[key]:.2f} | {result.seconds[key] / total:.0%} |")
    rest = total - sum(result.seconds.values())
    print(f"| other (manifest, checks) | {rest:.2f} | {rest / total:.0%} |")
    print(f"| **total** | **{total:.1f}** | {n / total:,.0f} patches/s |")


if __name__ == "__main__":
    main()
