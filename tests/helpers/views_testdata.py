"""A tiny backbone with a real crop transform, for the TenCrop view tests."""

import numpy as np
import torch

from geovario.backbones.transform import ImageTransform


class CropBackbone:
    """The Backbone interface: a 4 x 4 centre crop of a 6 x 6 resize, then a fixed linear
    map to 5-d (a real ``ImageTransform``, so it can be wrapped for TenCrop views)."""

    name, dim, device = "crop-linear", 5, torch.device("cpu")
    transform = ImageTransform(resize=(6, 6), crop=(4, 4), mean=(0.0,) * 3, std=(1.0,) * 3,
                               interpolation="bilinear")
    preprocessing = {"resize": [6, 6], "center_crop": [4, 4]}
    weight = torch.from_numpy(np.random.default_rng(1).normal(size=(48, 5))).float()

    def embed(self, batch: torch.Tensor) -> torch.Tensor:
        assert batch.ndim == 4
        return batch.flatten(1) @ self.weight

    def embed_pixels(self, pixels: torch.Tensor) -> torch.Tensor:
        return self.embed(self.transform.normalize(pixels))
