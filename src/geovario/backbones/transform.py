"""Per-image preprocessing shared by every backbone: RGB, resize, center crop, normalise.

The operations and their rounding follow the torchvision backend of Hugging Face
image processors (transformers 5.x ``TorchvisionBackend``): the image becomes a
uint8 tensor, is resized with antialiasing as ``torchvision.transforms.v2`` resizes
(torch's own uint8 kernel, called directly: importing torchvision cost a second or more
of every extraction's start-up on two cores; tests check it against torchvision), center
cropped with the crop offset rounded down (zero padding when the image is smaller
than the crop), and only then turned into float32 and normalised as
``(x - mean / rescale) / (std / rescale)`` on pixel values in [0, 255]. Matching that
exactly lets ``Backbone.preprocess`` run per image in decoding threads and still
give the very pixels a CLIP processor would give for the whole batch.
"""

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from geovario.data.images import to_8bit

WHITE = (255, 255, 255, 255)


def to_rgb(image: Image.Image) -> Image.Image:
    """Return ``image`` as RGB, compositing any transparency onto white.

    Same rule as transformers' ``convert_to_rgb``, so images with alpha (RGBA, LA,
    palette with a transparent colour) give the pixels a Hugging Face processor sees.
    Grey deeper than 8 bits is first scaled by :func:`geovario.data.images.to_8bit`
    (Pillow's own conversion would clip it to white), so a backbone's ``preprocess``
    reads it right whoever decoded the image.
    """
    image = to_8bit(image)
    if "A" in image.getbands() or image.info.get("transparency") is not None:
        rgba = image.convert("RGBA")
        return Image.alpha_composite(Image.new("RGBA", rgba.size, WHITE), rgba).convert("RGB")
    return image.convert("RGB")


def shortest_side_size(height: int, width: int, shortest: int) -> tuple[int, int]:
    """Output (height, width) when the shorter side is resized to ``shortest``.

    The longer side is truncated, ``int(shortest * long / short)``, as both
    ``torchvision.transforms.Resize(int)`` and transformers'
    ``get_resize_output_image_size(default_to_square=False)`` do.
    """
    if width <= height:
        return int(shortest * height / width), shortest
    return shortest, int(shortest * width / height)


def center_crop(pixels: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Crop the (C, H, W) ``pixels`` to ``height`` x ``width`` around the center.

    An image smaller than the crop is first padded with zeros, the odd pixel going to
    the bottom/right. The offset is ``int((H - height) / 2)`` (rounded down) as in
    transformers; torchvision's own center crop rounds half to even, which moves the
    crop by one pixel for some sizes.
    """
    image_height, image_width = pixels.shape[-2:]
    if height > image_height or width > image_width:
        pad_w, pad_h = max(width - image_width, 0), max(height - image_height, 0)
        pixels = F.pad(pixels, [pad_w // 2, (pad_w + 1) // 2, pad_h // 2, (pad_h + 1) // 2])
        image_height, image_width = pixels.shape[-2:]
    top = int((image_height - height) / 2.0)
    left = int((image_width - width) / 2.0)
    return pixels[..., top : top + height, left : left + width]


def resize_uint8(pixels: torch.Tensor, size: tuple[int, int], interpolation: str) -> torch.Tensor:
    """Resize (3, H, W) uint8 pixels with antialiasing, exactly as torchvision v2 does.

    On a CPU torchvision hands bicubic uint8 images to torch's native uint8 kernel, and
    bilinear ones too where torch has its AVX2 kernel; so does this function. Other
    cases (nearest, bilinear without AVX2, a GPU tensor) go through torchvision itself.
    """
    if tuple(pixels.shape[-2:]) == tuple(size):
        return pixels
    native = pixels.device.type == "cpu" and (
        interpolation == "bicubic" or (interpolation == "bilinear" and
                                       torch.backends.cpu.get_cpu_capability() in ("AVX2",
                                                                                   "AVX512")))
    if not native:
        from torchvision.transforms.v2 import InterpolationMode
        from torchvision.transforms.v2 import functional as tvF

        return tvF.resize(pixels, list(size), interpolation=InterpolationMode(interpolation),
                          antialias=True)
    # As torchvision: a (1, C, H, W) view with channels-last strides, so the kernel
    # writes (and reads) the interleaved layout PIL's pixels come in.
    channels, height, width = pixels.shape
    batch = pixels.as_strided((1, channels, height, width), (pixels.numel(), *pixels.stride()))
    return F.interpolate(batch, size=list(size), mode=interpolation, align_corners=False,
                         antialias=True)[0]


@dataclass(frozen=True)
class ImageTransform:
    """PIL image → normalised (3, H, W) float32 tensor; small and picklable (no model).

    Attributes:
        resize: shorter side in pixels (``int``), exact ``(height, width)``, or None.
        crop: center crop ``(height, width)``, or None.
        mean: per-channel mean in units of ``rescale`` (e.g. 0.5 for pixel value 127.5).
        std: per-channel standard deviation in the same units.
        rescale: factor from pixel values in [0, 255] to the units of mean/std.
        interpolation: ``torchvision.transforms.v2.InterpolationMode`` value.
    """

    resize: int | tuple[int, int] | None
    crop: tuple[int, int] | None
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    rescale: float = 1 / 255
    interpolation: str = "bicubic"

    def __call__(self, image: Image.Image) -> torch.Tensor:
        """Preprocess one image into the model's float32 input; CPU only."""
        return self.normalize(self.pixels(image))

    def pixels(self, image: Image.Image) -> torch.Tensor:
        """The resized and cropped image as uint8 (3, H, W), before normalisation.

        What extraction's decoding threads hand to the model: a quarter of the bytes of
        the float32 input to stack (and pin, for a GPU); the model's device normalises.
        """
        pixels = torch.from_numpy(np.array(to_rgb(image), dtype=np.uint8)).permute(2, 0, 1)
        if self.resize is not None:
            size = (shortest_side_size(*pixels.shape[-2:], self.resize)
                    if isinstance(self.resize, int) else self.resize)
            pixels = resize_uint8(pixels, tuple(size), self.interpolation)
        if self.crop is not None:
            pixels = center_crop(pixels, *self.crop)
        return pixels

    def normalize(self, pixels: torch.Tensor) -> torch.Tensor:
        """uint8 pixels (..., 3, H, W), on any device → normalised float32, per channel."""
        mean = torch.tensor([m / self.rescale for m in self.mean], device=pixels.device)
        std = torch.tensor([s / self.rescale for s in self.std], device=pixels.device)
        return (pixels.to(torch.float32) - mean[:, None, None]) / std[:, None, None]

    def describe(self) -> dict:
        """JSON-able description for the feature store manifest."""
        resize = ({"resize_shortest": self.resize} if isinstance(self.resize, int)
                  else {"resize": None if self.resize is None else list(self.resize)})
        return {
            **resize,
            "interpolation": self.interpolation,
            "antialias": True,
            "center_crop": None if self.crop is None else list(self.crop),
            "rescale": self.rescale,
            "mean": list(self.mean),
            "std": list(self.std),
            "rgb": "transparency composited onto white",
        }
