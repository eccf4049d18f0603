import numpy as np
import pytest
import torch
from PIL import Image
from torchvision.transforms import v2
from transformers import CLIPImageProcessor, SiglipImageProcessor

from geovario.backbones.clip import transform_from_processor
from geovario.backbones.transform import ImageTransform, center_crop, shortest_side_size, to_rgb
from geovario.errors import GeovarioError


def noise(size, mode="RGB", seed=0):
    channels = {"RGB": 3, "RGBA": 4, "L": 1, "LA": 2}[mode]
    array = np.random.default_rng(seed).integers(0, 256, (size[1], size[0], channels), np.uint8)
    return Image.fromarray(array.squeeze(-1) if channels == 1 else array, mode=mode)


def images():
    palette = noise((30, 41)).convert("P")
    palette.info["transparency"] = 0
    return [noise((45, 37)), noise((39, 32), seed=1), noise((33, 64), "RGBA", 2),
            noise((50, 40), "L", 3), noise((20, 70), "LA", 4), palette, noise((17, 12), seed=5)]


@pytest.mark.parametrize("height, width", [(37, 45), (64, 33), (32, 39), (100, 100), (12, 17)])
def test_shortest_side_matches_torchvision_resize(height, width):
    resized = v2.Resize(32)(torch.zeros(1, height, width, dtype=torch.uint8))
    assert shortest_side_size(height, width, 32) == tuple(resized.shape[-2:])


def test_center_crop_rounds_the_offset_down_and_pads_small_images():
    pixels = torch.arange(7 * 9).reshape(1, 7, 9)
    # H 7 -> 4: offset int(1.5) = 1; W 9 -> 2: offset int(3.5) = 3 (torchvision would take 4).
    assert torch.equal(center_crop(pixels, 4, 2), pixels[:, 1:5, 3:5])
    padded = center_crop(pixels, 10, 12)  # 3 rows and 3 columns of zeros: 1 before, 2 after
    assert padded.shape == (1, 10, 12)
    assert torch.equal(padded[:, 1:8, 1:10], pixels)
    assert padded[:, 0].eq(0).all() and padded[:, 8:].eq(0).all() and padded[:, :, 10:].eq(0).all()


def test_to_rgb_composites_transparency_on_white():
    rgba = Image.new("RGBA", (2, 1))
    rgba.putpixel((0, 0), (10, 20, 30, 0))
    rgba.putpixel((1, 0), (10, 20, 30, 255))
    assert np.asarray(to_rgb(rgba)).tolist() == [[[255, 255, 255], [10, 20, 30]]]
    assert to_rgb(Image.new("L", (1, 1), 7)).getpixel((0, 0)) == (7, 7, 7)


def test_to_rgb_scales_16_bit_grey_instead_of_clipping_it():
    ramp = np.arange(0, 256, dtype=np.uint16).reshape(16, 16)
    deep = Image.fromarray(ramp * 257)  # 16-bit grey: each 8-bit value x stored as x·257
    assert deep.mode.startswith("I;16")
    assert np.asarray(deep.convert("RGB"))[..., 0].mean() > 250  # Pillow alone: near white
    np.testing.assert_array_equal(np.asarray(to_rgb(deep))[..., 0], ramp)


@pytest.mark.parametrize("processor", [
    CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}),
    CLIPImageProcessor(size={"shortest_edge": 24}, crop_size={"height": 30, "width": 28}),
    SiglipImageProcessor(size={"height": 40, "width": 24}),
    CLIPImageProcessor(size={"height": 20, "width": 20}, crop_size={"height": 16, "width": 16},
                       do_normalize=False, resample=2),
], ids=["clip", "crop-larger-than-resize", "siglip", "bilinear-no-normalise"])
def test_per_image_transform_equals_the_batch_processor(processor):
    transform = transform_from_processor(processor, "test")
    ours = torch.stack([transform(image) for image in images()])
    theirs = processor(images=images(), return_tensors="pt")["pixel_values"]
    assert ours.shape == theirs.shape
    torch.testing.assert_close(ours, theirs, atol=1e-5, rtol=0)


def test_describe_is_json_ready():
    transform = ImageTransform(resize=(20, 30), crop=None, mean=(0.5,) * 3, std=(0.5,) * 3,
                               interpolation="bilinear")
    assert transform.describe() == {
        "resize": [20, 30], "interpolation": "bilinear", "antialias": True, "center_crop": None,
        "rescale": 1 / 255, "mean": [0.5] * 3, "std": [0.5] * 3,
        "rgb": "transparency composited onto white"}


def test_unsupported_processor_size():
    processor = CLIPImageProcessor(size={"shortest_edge": 32})
    processor.size = {"longest_edge": 64}
    with pytest.raises(GeovarioError, match=r"backbone: CLIP model 'm': unsupported image "
                                            r"processor size \{'longest_edge': 64\}"):
        transform_from_processor(processor, "m")


def test_workers_uint8_pixels_normalised_later_equal_the_float_input():
    from geovario.backbones.efficientnet import TRANSFORM

    image = Image.fromarray(np.random.default_rng(3).integers(0, 256, (300, 400, 3),
                                                              dtype=np.uint8))
    pixels = TRANSFORM.pixels(image)
    assert pixels.dtype == torch.uint8 and pixels.shape == (3, 224, 224)
    batch = torch.stack([pixels, pixels])
    assert torch.equal(TRANSFORM.normalize(batch)[1], TRANSFORM(image))
    expected = (pixels.float() - 127) / 128  # EfficientNet-Lite's mean 127, std 128
    torch.testing.assert_close(TRANSFORM(image), expected, rtol=0, atol=1e-6)


@pytest.mark.parametrize("interpolation", ["bicubic", "bilinear"])
@pytest.mark.parametrize("seed", range(4))
def test_resize_is_bit_identical_to_torchvision(interpolation, seed):
    from torchvision.transforms.v2 import InterpolationMode
    from torchvision.transforms.v2 import functional as tvF

    from geovario.backbones.transform import resize_uint8

    rng = np.random.default_rng(seed)
    for _ in range(10):
        height, width = rng.integers(5, 300, 2)
        image = noise((int(width), int(height)), seed=int(rng.integers(1000)))
        pixels = tvF.pil_to_tensor(image)
        for size in (shortest_side_size(height, width, int(rng.integers(8, 260))),
                     (int(rng.integers(8, 260)), int(rng.integers(8, 260)))):
            expected = tvF.resize(pixels, list(size), antialias=True,
                                  interpolation=InterpolationMode(interpolation))
            ours = resize_uint8(torch.from_numpy(np.array(image)).permute(2, 0, 1), size,
                                interpolation)
            assert torch.equal(ours, expected)


def test_loading_a_backbone_does_not_import_torchvision(modules_loaded_by):
    loaded = modules_loaded_by("from geovario.backbones import load_backbone\n"
                               "load_backbone('efficientnet-lite0')", ("torchvision",))
    assert loaded == []
