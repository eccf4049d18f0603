"""Benchmark: OSV-5M metrics on 210,122 predictions (the OSV-5M test size).

Baselines, measured in the same run:
- distance metrics: GeoCLIP's evaluation (geopy ``geodesic`` in a Python loop, once per
  threshold, so 5 x n calls), timed on a subset and scaled linearly to n;
- admin metrics: OSV-5M's official ``reverse`` (``reverse_geocoder.search`` on a list of
  tuples, one Python string join per prediction and level), run in full with mode=1.

Usage: .venv/bin/python benchmarks/bench_metrics.py [--n 210122] [--subset 2000]
"""

import argparse
import contextlib
import io
import platform
import time

import numpy as np
import reverse_geocoder
from geopy.distance import geodesic

from geovario.metrics import THRESHOLDS_KM, admin_metrics, distance_metrics, predicted_labels


def random_pairs(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Truths uniform on the sphere; predictions at log-uniform offsets (0.001 to 30 deg)."""
    rng = np.random.default_rng(seed)
    true = np.stack([np.degrees(np.arcsin(rng.uniform(-1, 1, n))), rng.uniform(-180, 180, n)],
                    axis=1)
    scale = 10 ** rng.uniform(-3, 1.5, n)[:, None]
    pred = true + rng.normal(size=(n, 2)) * scale
    pred[:, 0] = np.clip(pred[:, 0], -90, 90)
    pred[:, 1] = (pred[:, 1] + 180) % 360 - 180
    return pred, true


def best_of(repeats: int, fn, *args) -> float:
    """Fastest wall time of several runs, in seconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn(*args)
        times.append(time.perf_counter() - start)
    return min(times)


def geoclip_style(pred: np.ndarray, true: np.ndarray) -> dict[int, float]:
    """GeoCLIP's distance_accuracy: one geodesic loop per threshold."""
    out = {}
    for radius in THRESHOLDS_KM:
        correct = 0
        for p, t in zip(pred, true, strict=True):
            if geodesic(tuple(p), tuple(t)).km <= radius:
                correct += 1
        out[radius] = correct / len(pred)
    return out


def official_admin(pred: np.ndarray, truth: dict) -> dict[str, float]:
    """OSV-5M's official reverse(): list of tuples, per-row dict lookups and joins."""
    with contextlib.redirect_stdout(io.StringIO()):
        places = reverse_geocoder.search([(lat, lon) for lat, lon in pred], mode=1)
    fields = {"unique_country": ("cc",), "unique_region": ("admin1", "cc"),
              "unique_sub-region": ("admin2", "admin1", "cc"),
              "unique_city": ("name", "admin2", "admin1", "cc")}
    out = {}
    for column, keys in fields.items():
        gt = np.array(truth[column])
        keep = gt != "nan"
        got = np.array(["_".join(place.get(k, "") for k in keys) for place in places])[keep]
        out[column] = float((got == gt[keep]).sum() / keep.sum())
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=210_122)
    parser.add_argument("--subset", type=int, default=2000)
    args = parser.parse_args()
    pred, true = random_pairs(args.n)
    sub = slice(0, args.subset)

    base_sub = best_of(1, geoclip_style, pred[sub], true[sub])
    base_full = base_sub * args.n / args.subset
    ours = best_of(5, distance_metrics, pred, true)

    start = time.perf_counter()
    truth = predicted_labels(true)  # realistic labels; the first call also loads GeoNames
    load_and_label = time.perf_counter() - start
    admin_warm = best_of(3, admin_metrics, pred, truth)
    admin_official = best_of(1, official_admin, pred, truth)

    print(f"# {platform.processor() or platform.machine()}, n = {args.n:,}, "
          f"GeoCLIP baseline timed on {args.subset:,} pairs and scaled")
    rows = [
        ("distance: GeoCLIP geodesic loop x5 (scaled)", base_full, base_full),
        ("distance: geovario distance_metrics", ours, base_full),
        ("admin: OSV-5M official reverse() (mode=1)", admin_official, admin_official),
        ("admin: geovario admin_metrics (warm)", admin_warm, admin_official),
        ("admin: first labelling, incl. GeoNames load", load_and_label, admin_official),
    ]
    print(f"{'step':<46}{'seconds':>10}{'speed-up':>12}")
    for name, seconds, baseline in rows:
        print(f"{name:<46}{seconds:>10.3f}{baseline / seconds:>11.1f}x")
    print("metrics:", {k: round(v, 4) for k, v in distance_metrics(pred, true).items()})
    print("admin:", {k: round(v, 4) for k, v in admin_metrics(pred, truth).items()})


if __name__ == "__main__":
    main()
