"""Variogram engine speed and memory against GSTools and against the matrix-product floor.

Prints one table; each ratio compares two timings measured in this same run:

- scalar field, 15 great-circle bins, N = 1,000 and 10,000: GSTools ``vario_estimate``
  (latlon, Cython backend) against geovario (target ≥ 20× at 10,000);
- 768-d cosine features at N = 10,000 against one 10,000 × 10,000 × 768 float32 matrix
  product (the physical floor; target within 2×);
- N = 100,000 exact in tiles, and N = 1,000,000 with 10⁸ sampled pairs: time and peak
  memory (must fit in 24 GB);
- whole processes at N = 5,000 (``--whole``): ``geovario variogram FEATURES.npy
  COORDS.csv`` (read, estimate, fit every model, print) against a Python process that
  reads the same files and runs GSTools' ``vario_estimate`` (target ≥ 5×), alternated,
  best of three each, with user and system CPU seconds; and the pair pass alone in
  numpy and in torch, in this process.

Usage: python benchmarks/bench_variogram.py [--quick] [--whole 5000]
"""

import argparse
import resource
import subprocess
import sys
import time

import numpy as np
import torch

from common import timed
from geovario.geo import uniform_sphere_points

EDGES_KM = np.linspace(0, 10000, 16)
GSTOOLS_PROCESS = """
import sys
import gstools as gs
import numpy as np
z = np.load(sys.argv[1])
coords = np.loadtxt(sys.argv[2], delimiter=",", skiprows=1)
edges = np.linspace(0, 10000, 16)
gs.vario_estimate((coords[:, 0], coords[:, 1]), z, edges, latlon=True, geo_scale=gs.KM_SCALE)
"""


def run_process(command: list[str]) -> tuple[float, float, float]:
    """Wall, user and system seconds of one child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime - before.ru_utime, after.ru_stime - before.ru_stime


def whole_rows(n: int, folder) -> list[str]:
    """geovario variogram vs a GSTools process on the same files; numpy vs torch pass."""
    from geovario.variogram import empirical_variogram

    coords = uniform_sphere_points(n, 0)
    z = np.random.default_rng(0).normal(size=n)
    np.save(f"{folder}/z.npy", z)
    np.savetxt(f"{folder}/c.csv", coords, delimiter=",", header="latitude,longitude",
               comments="")
    ours_cmd = [sys.executable, "-m", "geovario", "variogram", f"{folder}/z.npy",
                f"{folder}/c.csv", "--dissimilarity", "euclidean", "--bins", "15",
                "--max-km", "10000", "--quiet"]
    theirs_cmd = [sys.executable, "-c", GSTOOLS_PROCESS, f"{folder}/z.npy", f"{folder}/c.csv"]
    runs = {"ours": [], "theirs": []}
    for _ in range(3):
        runs["ours"].append(run_process(ours_cmd))
        runs["theirs"].append(run_process(theirs_cmd))
    ours, theirs = min(runs["ours"]), min(runs["theirs"])
    passes = {backend: timed(lambda b=backend: empirical_variogram(
        coords, z, bin_edges_km=EDGES_KM, dissimilarity="euclidean", backend=b), 2)
        for backend in ("numpy", "torch")}
    return [
        f"| whole process, N = {n:,}: GSTools vario_estimate vs `geovario variogram` "
        f"(estimate + fit of every model) | {theirs[0]:.2f} | {ours[0]:.2f} | "
        f"{theirs[0] / ours[0]:.2f}× |",
        f"| (user + system CPU s of those processes) | {theirs[1] + theirs[2]:.2f} | "
        f"{ours[1] + ours[2]:.2f} | |",
        f"| pair pass alone, N = {n:,}, in process: torch vs numpy | {passes['torch']:.3f} | "
        f"{passes['numpy']:.3f} | {passes['torch'] / passes['numpy']:.2f}× |",
    ]


def scalar_rows(n: int) -> tuple[str, float, float]:
    import gstools as gs

    from geovario.variogram import empirical_variogram

    coords = uniform_sphere_points(n, 0)
    z = np.random.default_rng(0).normal(size=n)
    ours = timed(lambda: empirical_variogram(coords, z, bin_edges_km=EDGES_KM,
                                             dissimilarity="euclidean"), 2)
    theirs = timed(lambda: gs.vario_estimate((coords[:, 0], coords[:, 1]), z, EDGES_KM.copy(),
                                             latlon=True, geo_scale=gs.KM_SCALE))
    return f"scalar field, N = {n:,} (GSTools latlon vs geovario)", theirs, ours


def cosine_row(n: int, dim: int) -> tuple[str, float, float]:
    from geovario.variogram import empirical_variogram

    coords = uniform_sphere_points(n, 1)
    features = np.random.default_rng(1).normal(size=(n, dim)).astype(np.float32)
    a = torch.from_numpy(features)
    floor = timed(lambda: a @ a.T, 2)
    ours = timed(lambda: empirical_variogram(coords, features, bin_edges_km=EDGES_KM), 2)
    return f"{dim}-d cosine, N = {n:,} (one {n:,}²×{dim} matmul vs geovario)", floor, ours


def child(n: int, pairs: int | None) -> None:
    """Run one large estimate in a fresh process and print seconds and peak RSS."""
    from geovario.variogram import empirical_variogram

    coords = uniform_sphere_points(n, 2)
    features = np.random.default_rng(2).normal(size=(n, 768)).astype(np.float32)
    start = time.perf_counter()
    empirical_variogram(coords, features, bin_edges_km=EDGES_KM, pairs=pairs)
    seconds = time.perf_counter() - start
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    print(f"{seconds} {peak_gb}")


def large_row(n: int, pairs: int | None) -> str:
    out = subprocess.run([sys.executable, __file__, "--child", str(n), str(pairs or 0)],
                         capture_output=True, text=True, check=True).stdout.split()
    seconds, peak = float(out[0]), float(out[1])
    how = "exact" if pairs is None else f"{pairs:,} sampled pairs"
    return f"| 768-d cosine, N = {n:,}, {how} | {seconds:.1f} s | peak RSS {peak:.1f} GB |"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="skip the N = 100,000+ rows")
    parser.add_argument("--child", nargs=2, type=int)
    parser.add_argument("--whole", type=int, default=0,
                        help="only the whole-process comparison at this N")
    args = parser.parse_args()
    torch.set_num_threads(2)
    if args.child:
        child(args.child[0], args.child[1] or None)
        return
    print("| case | baseline s | geovario s | ratio (baseline / geovario) |")
    print("|---|---:|---:|---:|")
    if args.whole:
        import tempfile

        with tempfile.TemporaryDirectory() as folder:
            print("\n".join(whole_rows(args.whole, folder)))
        return
    for name, base, ours in (scalar_rows(1000), scalar_rows(10000), cosine_row(10000, 768)):
        print(f"| {name} | {base:.3f} | {ours:.3f} | {base / ours:.2f}× |")
    if not args.quick:
        print()
        print("| large case | time | memory |")
        print("|---|---:|---:|")
        print(large_row(100_000, None))
        print(large_row(1_000_000, 100_000_000))


if __name__ == "__main__":
    main()
