"""A tiny deterministic backbone and helpers shared by the extraction tests and child scripts."""

import io
import time
import types

import numpy as np
import pandas as pd
import torch
from PIL import Image

from geovario.store import FeatureStore

FAKE_NAME = "fake-pool"
DIM = 6


class FakeTransform:
    """RGB, 8 x 8 bilinear, [0, 1]."""

    def __call__(self, image: Image.Image) -> torch.Tensor:
        return self.normalize(self.pixels(image))

    def pixels(self, image: Image.Image) -> torch.Tensor:
        pixels = np.asarray(image.convert("RGB").resize((8, 8), Image.BILINEAR), np.uint8)
        return torch.from_numpy(pixels.copy()).permute(2, 0, 1).contiguous()

    def normalize(self, pixels: torch.Tensor) -> torch.Tensor:
        return pixels.to(torch.float32) / 255


class FakeBackbone:
    """The Backbone interface with a fixed random projection of 8 x 8 pixels; optional delay."""

    name = FAKE_NAME
    dim = DIM
    preprocessing = {"resize": [8, 8], "interpolation": "bilinear"}
    device = torch.device("cpu")

    def __init__(self, delay_s: float = 0.0) -> None:
        self.delay_s = delay_s
        self.transform = FakeTransform()
        self.weight = torch.from_numpy(np.random.default_rng(0).normal(size=(192, DIM))).float()
        self.batches: list[int] = []

    def preprocess(self, image: Image.Image) -> torch.Tensor:
        return self.transform(image)

    def embed(self, batch: torch.Tensor) -> torch.Tensor:
        self.batches.append(len(batch))
        time.sleep(self.delay_s)
        return batch.flatten(1) @ self.weight

    def embed_pixels(self, pixels: torch.Tensor) -> torch.Tensor:
        return self.embed(self.transform.normalize(pixels))


def fake_backbones_module(delay_s: float = 0.0) -> types.ModuleType:
    """A ``geovario.backbones`` stand-in whose load_backbone gives the fake (for sys.modules)."""
    module = types.ModuleType("geovario.backbones")

    def load_backbone(name, device="cpu", dtype=None):
        assert name == FAKE_NAME, name
        return FakeBackbone(delay_s)

    module.load_backbone = load_backbone
    return module


def expected_features(image_bytes: list[bytes]) -> np.ndarray:
    """The fake's embeddings computed one image at a time, straight from the bytes (oracle)."""
    backbone = FakeBackbone()
    rows = [backbone.embed(backbone.preprocess(Image.open(io.BytesIO(b)))[None])
            for b in image_bytes]
    return torch.cat(rows).numpy()


def assert_identical_stores(a: FeatureStore, b: FeatureStore) -> None:
    """Same manifest settings, same shards (row counts), same index, bit-identical features."""
    for field in ("backbone", "dim", "preprocessing", "label_columns"):
        assert getattr(a, field) == getattr(b, field), field
    assert [s.rows for s in a.manifest.shards] == [s.rows for s in b.manifest.shards]
    pd.testing.assert_frame_equal(a.index, b.index)
    np.testing.assert_array_equal(a.load_features(np.float16).view(np.uint16),
                                  b.load_features(np.float16).view(np.uint16))
