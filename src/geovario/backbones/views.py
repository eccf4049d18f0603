"""Test-time augmentation: several views of each image, one embedding per view.

GeoCLIP evaluates with ten crops per image and averages their logits. ``tencrop`` follows
``torchvision.transforms.TenCrop(size)``: after the backbone's own resize, the four
corner crops and the centre crop at the backbone's crop size, then the same five of the
horizontally flipped image, in torchvision's order (top-left, top-right, bottom-left,
bottom-right, centre; then flipped). The centre offset is rounded as torchvision rounds
(half to even), which can put it one pixel from the plain centre crop (rounded down, as
transformers). Where the crop is the whole resized image (CLIP on a square photo) the
ten views are that image five times and its mirror five times.

:func:`with_views` wraps a backbone so that each image gives ``views`` embeddings, laid
side by side in one row of ``views * dim`` numbers: the feature store stays one row per
image, and its manifest says ``"views": 10``. Averaging the logits is left to
prediction (:mod:`geovario.inference.predictor`), where the image head runs per view.
"""

import dataclasses

import torch
from PIL import Image

from geovario.backbones.transform import ImageTransform
from geovario.errors import GeovarioError

#: Test-time augmentations by name, and how many views each gives.
TTA_VIEWS = {"tencrop": 10}


def ten_crop(pixels: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """(..., C, H, W) → (..., 10, C, height, width): ``torchvision``'s TenCrop, hflip variant.

    Raises:
        GeovarioError: "ten_crop: crop HxW is larger than the image HxW".
    """
    image_height, image_width = pixels.shape[-2:]
    if height > image_height or width > image_width:
        raise GeovarioError(f"ten_crop: crop {height}x{width} is larger than the image "
                            f"{image_height}x{image_width}")
    top = int(round((image_height - height) / 2.0))
    left = int(round((image_width - width) / 2.0))

    def five(image: torch.Tensor) -> list[torch.Tensor]:
        return [image[..., :height, :width], image[..., :height, image_width - width:],
                image[..., image_height - height:, :width],
                image[..., image_height - height:, image_width - width:],
                image[..., top:top + height, left:left + width]]

    return torch.stack(five(pixels) + five(pixels.flip(-1)), dim=-4)


@dataclasses.dataclass(frozen=True)
class TenCropTransform:
    """PIL image → (10, 3, h, w) views of a backbone's transform; small and picklable."""

    transform: ImageTransform

    def pixels(self, image: Image.Image) -> torch.Tensor:
        """The backbone's resize, then ten crops at its crop size, uint8 (10, 3, h, w)."""
        resized = dataclasses.replace(self.transform, crop=None).pixels(image)
        height, width = self.transform.crop or resized.shape[-2:]
        return ten_crop(resized, height, width)

    def normalize(self, pixels: torch.Tensor) -> torch.Tensor:
        """uint8 views (..., 3, h, w) → normalised float32, as the backbone normalises."""
        return self.transform.normalize(pixels)

    def __call__(self, image: Image.Image) -> torch.Tensor:
        """Preprocess one image into its ten normalised views."""
        return self.normalize(self.pixels(image))


class ViewsBackbone:
    """A backbone that embeds every image as ``views`` embeddings side by side.

    It reads as the backbone it wraps (``name``, ``device``), so a store of views belongs
    to the runs trained on that backbone; ``dim`` is ``views * backbone.dim``.
    """

    def __init__(self, backbone, tta: str):
        if tta not in TTA_VIEWS:
            raise GeovarioError(f"unknown test-time augmentation {tta!r} (choose from "
                                f"{', '.join(TTA_VIEWS)})")
        self.inner = backbone
        self.views = TTA_VIEWS[tta]
        self.name = backbone.name
        self.dim = self.views * backbone.dim
        self.device = backbone.device
        self.transform = TenCropTransform(backbone.transform)
        self.preprocessing = {**backbone.preprocessing, "test_time_augmentation": tta,
                              "views": self.views}

    def preprocess(self, image: Image.Image) -> torch.Tensor:
        """One image → its normalised views, (views, 3, h, w)."""
        return self.transform(image)

    def embed(self, batch: torch.Tensor) -> torch.Tensor:
        """(B, views, 3, h, w) normalised views → (B, views * dim) float32 on the CPU."""
        return self.inner.embed(batch.flatten(0, 1)).reshape(len(batch), self.dim)

    def embed_pixels(self, pixels: torch.Tensor) -> torch.Tensor:
        """(B, views, 3, h, w) uint8 views → (B, views * dim), normalised on the device."""
        return self.inner.embed_pixels(pixels.flatten(0, 1)).reshape(len(pixels), self.dim)


def with_views(backbone, tta: str | None):
    """``backbone`` itself for ``tta=None``, else the backbone that embeds each view.

    Raises:
        GeovarioError: "unknown test-time augmentation 'x' (choose from tencrop)".
    """
    return backbone if tta is None else ViewsBackbone(backbone, tta)
