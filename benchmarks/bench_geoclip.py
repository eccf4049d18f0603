"""GeoCLIP in geovario against the `geoclip` package on the same backbone features.

Three comparisons, each measured in this run (2 CPU threads unless --threads):

1. prediction latency for 1 and 256 images against the package's predict path, which
   re-encodes the 100K gallery on every call (target ≥ 50× for one image);
2. training throughput at batch 256, queue 4096 against the package's own training loop
   (``geoclip.train.train``) driving the same modules (target ≥ 1.0×), and the share of a
   step spent in the location encoder;
3. evaluation of 10,000 images against the 100K gallery including metrics, against the
   package's ``eval_images`` approach (gallery re-encoded per batch, geopy per threshold),
   timed on a subset and scaled.

Usage: python benchmarks/bench_geoclip.py [--quick]
"""

import argparse
import tempfile
import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

from common import timed
from geovario.geo import uniform_sphere_points

warnings.filterwarnings("ignore")
BATCH, QUEUE = 256, 4096



class PackageModel(nn.Module):
    """The geoclip package's GeoCLIP with its CLIP image encoder replaced by its own MLP head
    on cached features: its forward, queue and weights, as its training loop expects."""

    def __init__(self):
        from geoclip.model.GeoCLIP import GeoCLIP
        from geoclip.model.location_encoder import LocationEncoder
        from geoclip.model.misc import file_dir, load_gps_data

        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(768, 768), nn.ReLU(), nn.Linear(768, 512))
        self.mlp.load_state_dict(torch.load(f"{file_dir}/weights/image_encoder_mlp_weights.pth",
                                            weights_only=True))
        self.location_encoder = LocationEncoder()
        self.logit_scale = nn.Parameter(torch.load(f"{file_dir}/weights/logit_scale_weights.pth",
                                                   weights_only=True))
        self.gps_gallery = load_gps_data(f"{file_dir}/gps_gallery/coordinates_100K.csv")
        GeoCLIP._initialize_gps_queue(self, QUEUE)
        self._queue_methods = GeoCLIP

    def dequeue_and_enqueue(self, gps):
        return self._queue_methods.dequeue_and_enqueue(self, gps)

    def get_gps_queue(self):
        return self._queue_methods.get_gps_queue(self)

    def forward(self, features, location):
        images = nn.functional.normalize(self.mlp(features), dim=1)
        locations = nn.functional.normalize(self.location_encoder(location), dim=1)
        return self.logit_scale.exp() * images @ locations.T

    @torch.no_grad()
    def predict(self, features, top_k):
        probs = self(features, self.gps_gallery).softmax(dim=-1)
        top = torch.topk(probs, top_k, dim=1)
        return self.gps_gallery[top.indices], top.values



def make_store(path: Path, n: int, seed: int) -> np.ndarray:
    from geovario.store import StoreWriter

    coords = uniform_sphere_points(n, seed)
    features = np.random.default_rng(seed).normal(size=(n, 768)).astype(np.float32)
    with StoreWriter(path, backbone="clip:openai/clip-vit-large-patch14", dim=768) as writer:
        writer.append([str(i) for i in range(n)], coords, features)
    return features


def prediction_rows(run: Path, package: PackageModel) -> list[tuple]:
    from geovario.inference.predictor import Predictor

    predictor = Predictor(run, device="cpu")  # builds (and caches) the gallery once
    rows = []
    for n in (1, 256):
        features = torch.randn(n, 768)
        theirs = timed(lambda f=features: package.predict(f, 5), 1 if n > 1 else 2)
        ours = timed(lambda f=features: predictor.predict_features(f.numpy(), k=5), 3)
        rows.append((f"predict top-5, {n} image(s), 100K gallery", theirs, ours))
    return rows


def training_rows(root: Path, package: PackageModel, steps: int) -> list[tuple]:
    """Steady state: geovario's queue starts empty and fills after QUEUE / BATCH steps, the
    package's starts full of placeholder points; so both are timed per step once full."""
    import json

    from geoclip.train.train import train as package_train

    from geovario.models import ModelConfig, build_model
    from geovario.train import TrainConfig, train

    warmup = QUEUE // BATCH
    n = BATCH * (warmup + steps)
    features = make_store(root / "train", n, 1)
    coords = torch.from_numpy(uniform_sphere_points(n, 1).astype(np.float32))
    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(torch.from_numpy(features[:BATCH * steps]),
                                       coords[:BATCH * steps]),
        batch_size=BATCH, shuffle=True, drop_last=True)
    optimizer = torch.optim.Adam(package.parameters(), lr=3e-5, weight_decay=1e-6)
    theirs = timed(lambda: package_train(loader, package, optimizer, 0, BATCH, "cpu")) / steps
    config = TrainConfig(train_store=str(root / "train"), epochs=1, batch_size=BATCH,
                         queue_size=QUEUE, checkpoint_every=10**9, log_every=1, device="cpu")
    train(root / "run-train", ModelConfig(), config, progress=False)
    log = [json.loads(line) for line in (root / "run-train" / "metrics.jsonl").read_text()
           .splitlines()]
    full = [r["samples_per_s"] for r in log if r.get("step", 0) > warmup and "loss" in r]
    ours = BATCH / float(np.median(full))
    encoder = build_model(ModelConfig()).location_encoder
    points = torch.from_numpy(uniform_sphere_points(BATCH + QUEUE, 2).astype(np.float32))
    encoder_s = timed(lambda: encoder(points).sum().backward(), 2)
    return [(f"train step, batch {BATCH}, queue {QUEUE} full, GPS noise on in geovario "
             f"(samples/s: package {BATCH / theirs:.0f}, geovario {BATCH / ours:.0f})",
             theirs, ours),
            ("location encoder forward+backward over batch + queue, share of a geovario step",
             ours, encoder_s)]


def evaluation_rows(run: Path, root: Path, package: PackageModel, subset: int) -> list[tuple]:
    from geopy.distance import geodesic

    from geovario.inference.evaluate import evaluate
    from geovario.inference.predictor import Predictor

    n = 10_000
    make_store(root / "test", n, 3)
    truth = uniform_sphere_points(n, 3)
    predictor = Predictor(run, device="cpu")
    ours = timed(lambda: evaluate(predictor, root / "test"))
    features = torch.from_numpy(np.random.default_rng(3).normal(size=(subset, 768))
                                .astype(np.float32))

    def package_eval():  # eval_images' work on `subset` images, batch 32, then geopy
        preds = []
        with torch.no_grad():
            for first in range(0, subset, 32):
                logits = package(features[first:first + 32], package.gps_gallery)
                preds.append(logits.softmax(-1).argmax(-1).numpy())
        preds = np.concatenate(preds)
        gallery = package.gps_gallery.numpy()
        for threshold in (2500, 750, 200, 25, 1):
            sum(geodesic(gallery[p], t).km <= threshold for p, t in zip(preds, truth, strict=False))

    theirs = timed(package_eval) * n / subset
    return [(f"evaluate 10,000 images, 100K gallery, with metrics (package timed on {subset} "
             "and scaled)", theirs, ours)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    from geovario.checkpoint import save_weights
    from geovario.models import ModelConfig, build_model
    from geovario.train import TrainConfig, write_run_config

    package = PackageModel()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        run = root / "published"  # a run directory holding the published weights
        model_config = ModelConfig()
        write_run_config(run, model_config, TrainConfig())
        save_weights(run / "model.safetensors", build_model(model_config),
                     model_config.to_dict())
        rows = prediction_rows(run, package)
        rows += training_rows(root, package, 2 if args.quick else 6)
        rows += evaluation_rows(run, root, package, 64 if args.quick else 256)
    print("| case | geoclip package s | geovario s | speed-up |")
    print("|---|---:|---:|---:|")
    for name, theirs, ours in rows:
        if name.startswith("location encoder"):
            print(f"| {name} | step {theirs:.2f} | encoder {ours:.2f} | "
                  f"share {ours / theirs:.0%} |")
        else:
            print(f"| {name} | {theirs:.3f} | {ours:.3f} | {theirs / ours:.1f}× |")


if __name__ == "__main__":
    main()
