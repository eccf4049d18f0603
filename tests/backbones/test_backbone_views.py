"""TenCrop views: torchvision's crops, in torchvision's order, one embedding per view."""

import dataclasses

import numpy as np
import pytest
import torch
from PIL import Image
from tests.helpers.views_testdata import CropBackbone
from torchvision.transforms import TenCrop

from geovario.backbones.efficientnet import TRANSFORM
from geovario.backbones.views import TTA_VIEWS, TenCropTransform, ten_crop, with_views
from geovario.errors import GeovarioError


@pytest.mark.parametrize(("height", "width", "crop"), [(256, 300, (224, 224)), (7, 9, (4, 5)),
                                                        (10, 10, (10, 10)), (9, 8, (6, 3))])
def test_ten_crop_is_torchvisions(height, width, crop):
    pixels = torch.randint(0, 256, (3, height, width), dtype=torch.uint8,
                           generator=torch.Generator().manual_seed(height))
    want = torch.stack(TenCrop(crop)(pixels))
    got = ten_crop(pixels, *crop)
    assert got.shape == (10, 3, *crop)
    assert torch.equal(got, want)
    # By hand: view 0 is the top-left corner, view 5 the mirror image's top-left corner,
    # which is the mirrored top-right corner of the original.
    assert torch.equal(got[0], pixels[:, :crop[0], :crop[1]])
    assert torch.equal(got[5], pixels[:, :crop[0], width - crop[1]:].flip(-1))


def test_ten_crop_refuses_a_crop_larger_than_the_image():
    with pytest.raises(GeovarioError, match="ten_crop: crop 8x8 is larger than the image 4x9"):
        ten_crop(torch.zeros(3, 4, 9), 8, 8)


def test_tencrop_transform_is_the_backbones_resize_then_ten_crops():
    image = Image.fromarray(np.random.default_rng(0).integers(0, 256, (200, 300, 3), np.uint8))
    views = TenCropTransform(TRANSFORM).pixels(image)
    resized = dataclasses.replace(TRANSFORM, crop=None).pixels(image)
    assert resized.shape == (3, 256, 384)
    assert torch.equal(views, torch.stack(TenCrop(224)(resized)))
    # Here the centre offsets are whole numbers: view 4 is the plain preprocessing.
    assert torch.equal(views[4], TRANSFORM.pixels(image))
    torch.testing.assert_close(TenCropTransform(TRANSFORM)(image),
                               TRANSFORM.normalize(views), rtol=0, atol=0)


def test_views_backbone_lays_each_views_embedding_side_by_side():
    inner = CropBackbone()
    assert with_views(inner, None) is inner
    views = with_views(inner, "tencrop")
    assert (views.name, views.dim, views.views) == ("crop-linear", 50, TTA_VIEWS["tencrop"])
    assert views.preprocessing == {"resize": [6, 6], "center_crop": [4, 4],
                                   "test_time_augmentation": "tencrop", "views": 10}
    images = [Image.fromarray(np.random.default_rng(s).integers(0, 256, (9, 7, 3), np.uint8))
              for s in range(3)]
    pixels = torch.stack([views.transform.pixels(image) for image in images])
    assert pixels.shape == (3, 10, 3, 4, 4)
    rows = views.embed_pixels(pixels)
    assert rows.shape == (3, 50)
    for i in range(3):
        for v in range(10):
            torch.testing.assert_close(rows[i, 5 * v:5 * v + 5],
                                       inner.embed_pixels(pixels[i, v:v + 1])[0])
    torch.testing.assert_close(views.embed(views.transform.normalize(pixels)), rows)
    with pytest.raises(GeovarioError, match=r"unknown test-time augmentation 'fivecrop' "
                                            r"\(choose from tencrop\)"):
        with_views(inner, "fivecrop")
