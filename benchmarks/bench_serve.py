"""Load test of ``geovario serve`` on loopback: 8 client threads x 25 requests by default.

The server runs as the real command in a child process, bound to 127.0.0.1 on a free
port, on an untrained run of the demo's architecture (EfficientNet-Lite0 features,
GeoCLIP's location encoder warm-started from the published weights) against the
published 100K gallery: weights do not change the cost, so no training is needed. The
run (and its gallery cache, ~20 s to build once) is kept in --work for the next time;
--run uses an existing run instead.

Phases: one warm-up request; 10 requests one after another (latency without queueing);
then --threads client threads, each with its own connection, post --requests photos
each (distinct JPEGs of --size pixels). Reports latency p50/p90/p99, requests/s, the
server's own time per request and the number of errors; exits 1 on any error. Bounded:
loopback only, a fixed number of requests, a 60 s timeout per request and --max-seconds
overall.

Usage: python benchmarks/bench_serve.py [--threads 8] [--requests 25] [--size 1024x768]
       [--run RUN_DIR] [--gallery geoclip] [--work /tmp/geovario-bench-serve]
"""

import argparse
import os
import platform
import sys
import threading
import time
from pathlib import Path

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.serve.serve_testdata import ServerProcess, photo_bytes  # noqa: E402


def make_run(work: Path) -> Path:
    """An untrained run with the demo's architecture (reused when present)."""
    from geovario.checkpoint import save_weights
    from geovario.models import GeoCLIP, ModelConfig
    from geovario.rundir import WEIGHTS_NAME
    from geovario.train import TrainConfig, write_run_config

    run = work / "run"
    if not (run / WEIGHTS_NAME).exists():
        run.mkdir(parents=True, exist_ok=True)
        config = ModelConfig(backbone="efficientnet-lite0", feature_dim=1280, init="geoclip")
        save_weights(run / WEIGHTS_NAME, GeoCLIP(config), config.to_dict())
        write_run_config(run, config, TrainConfig())
    return run


def percentiles(latencies_s: list[float]) -> str:
    p50, p90, p99 = np.percentile(np.array(latencies_s) * 1000, [50, 90, 99])
    return f"p50 {p50:.0f} ms, p90 {p90:.0f} ms, p99 {p99:.0f} ms"


def load(url: str, photos: list[bytes], threads: int, requests: int,
         deadline: float) -> tuple[list[float], list[float], list[str], float]:
    """Every thread posts ``requests`` photos; returns latencies, server times, errors, wall."""
    latencies, server_ms, errors = [], [], []
    lock = threading.Lock()

    def client(thread: int) -> None:
        with httpx.Client(base_url=url, timeout=60) as session:
            for i in range(requests):
                if time.monotonic() > deadline:
                    with lock:
                        errors.append("deadline reached before the request was sent")
                    continue
                data = photos[(thread * requests + i) % len(photos)]
                start = time.perf_counter()
                try:
                    response = session.post("/predict", files={"image": ("p.jpg", data,
                                                                         "image/jpeg")})
                    elapsed = time.perf_counter() - start
                    ok = response.status_code == 200
                    detail = f"HTTP {response.status_code}: {response.text[:200]}"
                except httpx.HTTPError as error:
                    elapsed, ok, detail = time.perf_counter() - start, False, repr(error)
                with lock:
                    if ok:
                        latencies.append(elapsed)
                        server_ms.append(response.json()["elapsed_ms"])
                    else:
                        errors.append(detail)

    workers = [threading.Thread(target=client, args=(t,)) for t in range(threads)]
    start = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return latencies, server_ms, errors, time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--requests", type=int, default=25, help="per thread")
    parser.add_argument("--size", default="1024x768", help="photo size, WIDTHxHEIGHT")
    parser.add_argument("--run", type=Path, default=None)
    parser.add_argument("--gallery", default="geoclip")
    parser.add_argument("--work", type=Path, default=Path("/tmp/geovario-bench-serve"))
    parser.add_argument("--max-seconds", type=float, default=900)
    args = parser.parse_args()
    size = tuple(int(v) for v in args.size.split("x"))
    run = args.run or make_run(args.work)
    photos = [photo_bytes("JPEG", seed=seed, size=size) for seed in range(16)]
    print(f"machine: {os.cpu_count()} CPUs, {platform.machine()}, Python "
          f"{platform.python_version()}; load average {os.getloadavg()[0]:.1f}")
    print(f"run: {run}; gallery: {args.gallery}; photos: {size[0]} x {size[1]} JPEG, "
          f"{np.mean([len(p) for p in photos]) / 1024:.0f} KiB on average")
    started = time.perf_counter()
    server = ServerProcess(run, "--gallery", args.gallery, "--host", "127.0.0.1",
                           timeout_s=args.max_seconds)
    print(f"server ready in {time.perf_counter() - started:.1f} s at {server.url}")
    deadline = time.monotonic() + args.max_seconds
    try:
        load(server.url, photos[:1], 1, 1, deadline)  # warm-up
        serial, serial_server, serial_errors, _ = load(server.url, photos, 1, 10, deadline)
        latencies, server_ms, errors, wall = load(server.url, photos, args.threads,
                                                  args.requests, deadline)
    finally:
        code = server.stop()
    print(f"serial (1 client x 10): {percentiles(serial)}; server time "
          f"{np.mean(serial_server):.0f} ms per request")
    total = args.threads * args.requests
    print(f"load ({args.threads} clients x {args.requests} = {total} requests): "
          f"{len(latencies)} ok, {len(errors)} errors in {wall:.1f} s -> "
          f"{len(latencies) / wall:.2f} requests/s")
    if latencies:
        print(f"latency: {percentiles(latencies)}; max {max(latencies) * 1000:.0f} ms; "
              f"server time {np.mean(server_ms):.0f} ms per request (mean)")
    print(f"load average after: {os.getloadavg()[0]:.1f}; server exit code {code}")
    for error in (serial_errors + errors)[:5]:
        print("error:", error)
    return 1 if errors or serial_errors or code != 0 else 0


if __name__ == "__main__":
    sys.exit(main())
